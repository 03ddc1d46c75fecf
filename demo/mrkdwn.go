package demo

import (
	"regexp"
	"strings"

	"github.com/runbookhq/runbook/slackfake"
)

// botName is how the transcript names the bot, as Slack shows its app.
const botName = "Runbook"

// names shows Slack ids as people read them, looking them up in the emulator.
type names struct {
	srv    *slackfake.Server
	users  map[string]string // user id → handle (the bot → botName)
	ids    []string          // the people's ids, in the order they were added
	groups map[string]string // user group id → handle
}

// user names a user id: "alice", "Runbook", or the id itself when unknown.
func (n *names) user(id string) string {
	if name, ok := n.users[id]; ok {
		return name
	}
	if u, ok := n.srv.User(id); ok {
		return u.Name
	}
	return id
}

// channel names a channel id: "#ops", "DM with alice", or the id when unknown.
func (n *names) channel(id string) string {
	c, ok := n.srv.Channel(id)
	switch {
	case !ok:
		return id
	case c.IM:
		return "DM with " + n.user(c.User)
	case c.MPIM:
		return "group DM"
	}
	return "#" + c.Name
}

var (
	angleRe = regexp.MustCompile(`<([^<>\n]+)>`)
	boldRe  = regexp.MustCompile(`\*([^*\n]+)\*`)
	emojiRe = regexp.MustCompile(`:([a-z0-9_+\-]+):`)
	// entities are the three characters Slack escapes in text.
	entities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// emoji are the shortcodes Runbook uses; others are shown as typed.
var emoji = map[string]string{
	"rotating_light": "🚨", "white_check_mark": "✅", "x": "❌", "warning": "⚠️",
	"red_circle": "🔴", "large_orange_circle": "🟠", "large_yellow_circle": "🟡",
	"large_green_circle": "🟢", "white_circle": "⚪", "arrow_forward": "▶️",
	"raised_hand": "✋", "pencil2": "✏️", "hourglass": "⌛", "no_entry": "⛔",
	"information_source": "ℹ️", "pushpin": "📌", "memo": "📝", "mag": "🔍",
	"no_entry_sign": "🚫", "hourglass_flowing_sand": "⏳", "lock": "🔒", "bell": "🔔",
}

// mrkdwn renders Slack's mrkdwn as plain text: mentions and links by name, dates
// by their fallback, *bold* without its stars, code blocks as `code`, known emoji
// as emoji, and Slack's escapes undone.
func (n *names) mrkdwn(s string) string {
	s = angleRe.ReplaceAllStringFunc(s, func(m string) string { return n.ref(m[1 : len(m)-1]) })
	s = strings.ReplaceAll(s, "```", "`")
	s = boldRe.ReplaceAllString(s, "$1")
	s = emojiRe.ReplaceAllStringFunc(s, func(m string) string {
		if e, ok := emoji[m[1:len(m)-1]]; ok {
			return e
		}
		return m
	})
	return entities.Replace(s)
}

// ref renders what Slack writes between < and >: <@U1>, <#C1|name>,
// <!subteam^S1|@oncall>, <!here>, <!date^…|fallback>, <https://…|label>.
func (n *names) ref(inner string) string {
	target, label, hasLabel := strings.Cut(inner, "|")
	switch {
	case strings.HasPrefix(target, "@"):
		return "@" + n.user(target[1:])
	case strings.HasPrefix(target, "#"):
		if hasLabel {
			return "#" + label
		}
		return n.channel(target[1:])
	case strings.HasPrefix(target, "!subteam^"):
		if hasLabel {
			return label
		}
		return "@" + n.groups[strings.TrimPrefix(target, "!subteam^")]
	case hasLabel && strings.HasPrefix(target, "!"):
		return label
	case strings.HasPrefix(target, "!"):
		return "@" + target[1:]
	case hasLabel:
		return label + " (" + target + ")"
	}
	return target
}
