package handlers

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/slackui"
)

// note: note [INC-id] <text>, the text optionally starting with a kind
// ("hypothesis:", "root cause:", "remediation:", "action:").
func (h *Handlers) note(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	inc, used, err := h.textIncident(ctx, inv)
	if err != nil {
		return nil, err
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	text := slackui.Unescape(skipWords(inv.req.Text, 1+boolInt(used)))
	kind, err := h.Incidents.AddNote(ctx, inc.ID, incidents.Note{Text: text, By: inv.req.UserID, Key: inv.req.ID})
	if err != nil {
		return nil, err
	}
	what := "a note"
	if kind != runbook.TimelineNote {
		what = "a *" + kind + "*"
	}
	return slackui.PrivateText(fmt.Sprintf(":memo: Added %s to the timeline of *%s*.", what, inc.Key())), nil
}

// textIncident is the incident a note or a follow-up is about. In an incident's
// channel its text may well start with a number ("note 500s on checkout"): only a word
// written as an incident id ("INC-4", "#4") names another incident there.
func (h *Handlers) textIncident(ctx context.Context, inv *invocation) (*runbook.Incident, bool, error) {
	a := parseArgs(inv.args)
	if len(a.words) > 0 && looksLikeIncident(a.words[0].Text) {
		first := strings.ToUpper(a.words[0].Text)
		if !strings.HasPrefix(first, "INC-") && !strings.HasPrefix(first, "#") {
			if inc, err := h.store.IncidentByChannel(ctx, inv.req.ChannelID); err == nil {
				return inc, false, nil
			}
		}
	}
	return h.incidentArg(ctx, inv, a, 0)
}

// summary: summary [INC-id]. The summary is posted in the channel asked from, unless
// the incident's channel is private and that is another channel: then only its members
// may see it, and privately.
func (h *Handlers) summary(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, used, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	if extra := len(a.words) - boolInt(used); extra > 0 || len(a.opts) > 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "`summary` takes an incident id only, like `summary INC-42`.")
	}
	visibility, err := h.mayView(ctx, inv, inc)
	if err != nil {
		return nil, err
	}
	in, err := h.Incidents.SummaryOf(ctx, inc.ID, h.Runs)
	if err != nil {
		return nil, err
	}
	msg := slackui.Summary(in)
	return &runbook.Reply{Visibility: visibility, Text: msg.Text, Blocks: msg.Blocks}, nil
}

// followup: followup [INC-id] "text" [@owner]
func (h *Handlers) followup(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	inc, used, err := h.textIncident(ctx, inv)
	if err != nil {
		return nil, err
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	rest := inv.args[min(boolInt(used), len(inv.args)):]
	owner := ""
	if n := len(rest); n > 0 {
		last := rest[n-1]
		if last.Kind == User || last.Kind == Word && !last.Quoted && strings.HasPrefix(last.Text, "@") && n > 1 {
			if owner, err = h.resolveUser(ctx, last); err != nil {
				return nil, err
			}
			rest = rest[:n-1]
		}
	}
	var parts []string
	for _, t := range rest {
		parts = append(parts, tokenText(t))
	}
	f, err := h.Incidents.AddFollowUp(ctx, inc.ID, incidents.FollowUpRequest{Text: strings.Join(parts, " "),
		Owner: owner, By: inv.req.UserID, Key: inv.req.ID})
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf(":ballot_box_with_check: Added follow-up *%s* to *%s*: %s", f.Key(), inc.Key(), slackui.Escape(f.Text))
	if f.Owner != "" {
		text += " — owner " + slackui.Mention(f.Owner)
	}
	return slackui.PrivateText(text + fmt.Sprintf(". `%s done %s` when it is.", inv.prefix, f.Key())), nil
}

// followups: followups [INC-id]
func (h *Handlers) followups(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	inc, _, err := h.incidentArg(ctx, inv, parseArgs(inv.args), 0)
	if err != nil {
		return nil, err
	}
	if _, err := h.mayView(ctx, inv, inc); err != nil {
		return nil, err
	}
	list, err := h.store.FollowUps(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return slackui.PrivateText(fmt.Sprintf("*%s* has no follow-ups yet. Add one with `%s followup %s \"what needs doing\" @owner`.",
			inc.Key(), inv.prefix, inc.Key())), nil
	}
	var lines []string
	for _, f := range list {
		mark := ":white_large_square:"
		if f.Done() {
			mark = ":white_check_mark:"
		}
		line := fmt.Sprintf("%s *%s* %s", mark, f.Key(), slackui.Escape(slackui.Neutralize(f.Text)))
		if f.Owner != "" {
			line += " — " + slackui.Mention(f.Owner)
		}
		lines = append(lines, line)
	}
	return slackui.List(fmt.Sprintf("Follow-ups of %s %s", inc.Key(), slackui.Escape(inc.Title)), lines), nil
}

// done: done F-3
func (h *Handlers) done(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	if len(inv.args) != 1 {
		return nil, runbook.Errorf(runbook.EINVALID, "Say which follow-up is done, like `done F-3`; `followups` lists them.")
	}
	id, err := runbook.ParseFollowUpKey(inv.args[0].Text)
	if err != nil {
		return nil, err
	}
	f, err := h.store.FollowUp(ctx, id)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return nil, runbook.Errorf(runbook.EINVALID, "There is no follow-up %s; `followups INC-id` lists an incident's.", runbook.FollowUpKey(id))
	}
	if err != nil {
		return nil, err
	}
	if err := h.mayComplete(ctx, inv, f); err != nil {
		return nil, err
	}
	f, err = h.Incidents.CompleteFollowUp(ctx, id, inv.req.UserID, inv.req.ID)
	if err != nil {
		return nil, err
	}
	return slackui.PrivateText(fmt.Sprintf(":white_check_mark: Follow-up *%s* of *%s* is done: %s",
		f.Key(), runbook.IncidentKey(f.IncidentID), slackui.Escape(f.Text))), nil
}

// reaction handles a 📌 on a message: in an incident's channel, the message joins its
// timeline. Nothing is ever said back — a reaction is not a request for an answer — so
// whatever goes wrong is logged.
func (h *Handlers) reaction(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	if req.Reaction == nil {
		return nil, nil
	}
	pinned, err := h.Incidents.Pin(ctx, req.ChannelID, req.Reaction.MessageTS, req.UserID)
	if err != nil {
		h.log.Warn("cannot pin a message to the timeline", "channel", req.ChannelID, "ts", req.Reaction.MessageTS, "err", err)
		return nil, nil
	}
	if !pinned {
		h.log.Debug("pin not added", "channel", req.ChannelID, "ts", req.Reaction.MessageTS)
	}
	return nil, nil
}

// skipWords returns raw after its first n whitespace-separated words, as typed.
func skipWords(raw string, n int) string {
	s := strings.TrimSpace(raw)
	for range n {
		i := strings.IndexFunc(s, unicode.IsSpace)
		if i < 0 {
			return ""
		}
		s = strings.TrimSpace(s[i:])
	}
	return s
}

// tokenText is a token as it reads in a sentence: a mention, channel or group kept as
// Slack's reference, so that it is shown as one.
func tokenText(t Token) string {
	switch t.Kind {
	case User:
		return slackui.Mention(t.ID)
	case Channel:
		return slackui.ChannelRef(t.ID)
	case Special, Group:
		return "@" + strings.TrimPrefix(t.Text, "@")
	}
	return t.Text
}
