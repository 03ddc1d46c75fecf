package demo

import (
	"fmt"
	"strings"

	"github.com/runbookhq/runbook/slackfake"
)

const (
	indent      = "    "         // continuation lines of a message
	replyMarker = "      ↳ "     // before a thread reply, after the channel
	replyIndent = "            " // continuation lines of a thread reply
)

// render turns an event into transcript lines. The caller holds t.mu.
func (t *transcript) render(e event) []string {
	if e.kind == evHTTP {
		return exchangeLines(e.http)
	}
	if e.kind == evForm {
		return []string{fmt.Sprintf("(%s opened a form for %s: “%s”; the demo cannot fill in forms)",
			botName, t.n.user(e.view.UserID), e.view.Title)}
	}
	m := e.msg
	ch := t.n.channel(m.Channel)
	if m.SubType != "" && m.SubType != "thread_broadcast" && e.kind == evPosted {
		return []string{ch + "  " + t.system(m)}
	}
	lead, cont := ch+"  ", indent
	if isReply(m) {
		lead, cont = ch+replyMarker, replyIndent
	}
	switch e.kind {
	case evPinned:
		return []string{lead + botName + " pinned a message: " + t.body(m, false)[0]}
	case evDeleted:
		return []string{lead + botName + " deleted a message: " + t.body(m, false)[0]}
	}
	lines, who := t.body(m, true), t.who(m)
	if e.kind == evEdited {
		return append([]string{lead + who + " edited a message:"}, prefixed(cont, lines)...)
	}
	return append([]string{lead + who + ": " + lines[0]}, prefixed(cont, lines[1:])...)
}

// who names the author of a message, saying to whom an ephemeral one was shown.
func (t *transcript) who(m slackfake.Message) string {
	name := t.n.user(m.User)
	if m.BotID != "" {
		name = botName
	}
	if m.Ephemeral {
		name += " (only visible to " + t.n.user(m.To) + ")"
	}
	return name
}

// body renders a message's blocks (its text when it has none). With showButtons
// its buttons are listed for `click N`, numbered in the order they are shown.
func (t *transcript) body(m slackfake.Message, showButtons bool) []string {
	var lines []string
	var buttons []button
	if m.BotID != "" && len(m.Blocks) > 0 {
		lines, buttons, _ = t.n.blocks(m.Blocks)
	}
	if len(lines) == 0 {
		lines = splitLines(t.n.mrkdwn(m.Text))
	}
	if len(lines) == 0 {
		lines = []string{"(no text)"}
	}
	if !showButtons {
		return lines
	}
	var numbers []string
	for _, b := range buttons {
		b.Channel, b.TS = m.Channel, m.TS
		t.buttons = append(t.buttons, b)
		numbers = append(numbers, fmt.Sprintf("click %d = [%s]", len(t.buttons), b.Label))
	}
	if t.numbered && len(numbers) > 0 {
		lines = append(lines, "("+strings.Join(numbers, ", ")+")")
	}
	return lines
}

// system renders Slack's system messages: joins, topic and description changes,
// archiving.
func (t *transcript) system(m slackfake.Message) string {
	who := t.n.user(m.User)
	switch m.SubType {
	case "channel_join":
		if c, ok := t.srv.Channel(m.Channel); ok && c.Creator == m.User {
			return who + " created the channel"
		}
		return who + " joined the channel"
	case "channel_topic":
		return who + " set the channel topic: " + t.n.mrkdwn(strings.TrimPrefix(m.Text, "set the channel topic: "))
	case "channel_purpose":
		return who + " set the channel description: " + t.n.mrkdwn(strings.TrimPrefix(m.Text, "set the channel description: "))
	case "channel_archive":
		return who + " archived the channel"
	case "channel_unarchive":
		return who + " un-archived the channel"
	}
	return who + ": " + t.n.mrkdwn(m.Text)
}

func isReply(m slackfake.Message) bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

func prefixed(prefix string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = prefix + l
	}
	return out
}

// apiName labels the stand-in deploy API's lines, where a channel's name would be.
const apiName = "deploy API"

// maxShownBody is the most of a request or answer body the transcript shows.
const maxShownBody = 500

// exchangeLines show a request the stand-in deploy API received — method, URL, the
// headers that matter (the token masked) and the body — and its answer.
func exchangeLines(x exchange) []string {
	lines := []string{apiName + "  received: " + x.Method + " " + x.URL}
	if x.Authorization != "" {
		lines = append(lines, indent+"Authorization: "+x.Authorization)
	}
	if x.IdempotencyKey != "" {
		lines = append(lines, indent+"Idempotency-Key: "+x.IdempotencyKey)
	}
	if len(x.Body) > 0 {
		lines = append(lines, indent+shownBody(x.Body))
	}
	answered := fmt.Sprintf("%s  answered: %d %s", apiName, x.Status, shownBody(x.Answer))
	if x.Replayed {
		answered += "  (the first answer to this Idempotency-Key again; nothing was scaled)"
	}
	return append(lines, answered)
}

// shownBody is a body on one line, cut when long.
func shownBody(b []byte) string {
	s := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(strings.ToValidUTF8(string(b), "�"))
	if len(s) > maxShownBody {
		s = strings.ToValidUTF8(s[:maxShownBody], "") + "…"
	}
	return s
}
