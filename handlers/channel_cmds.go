package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// post: post to #channel: <text>
func (h *Handlers) post(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	if len(inv.args) < 2 || !strings.EqualFold(inv.args[0].Text, "to") {
		return nil, runbook.Errorf(runbook.EINVALID, "Say where to post: post to #channel: your message.")
	}
	target := inv.args[1]
	if target.Kind != Channel && !strings.HasPrefix(target.Text, "#") {
		return nil, runbook.Errorf(runbook.EINVALID, "“%s” is not a channel; write it as #channel.", slackui.Escape(target.Text))
	}
	text := textAfterColon(inv.req.Text)
	if text == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "Nothing to post: put the message after a colon, as in post to #ops: deploy paused.")
	}
	channel, name, err := h.channelFor(ctx, inv, target)
	if err != nil {
		return nil, err
	}
	msg := runbook.Message{Channel: channel, Text: slackui.Neutralize(text) + fmt.Sprintf("\n_— posted for <@%s>_", inv.req.UserID)}
	if err := h.postOnce(ctx, inv.req, msg); err != nil {
		return nil, channelError(name, err)
	}
	return slackui.PrivateText(fmt.Sprintf(":incoming_envelope: Posted to %s.", name)), nil
}

// postOnce posts msg for req unless the channel already shows a message posted for
// it — by a first attempt at the request that a crash interrupted before it was
// recorded as done. A channel the bot cannot read (a public one it is not in) is
// posted to without looking.
func (h *Handlers) postOnce(ctx context.Context, req *runbook.Request, msg runbook.Message) error {
	if req.ID != "" {
		tag := slackui.PostTag(req.ID)
		_, found, err := runbook.FindTagged(ctx, h.Slack, msg.Channel, tag)
		if err != nil {
			h.log.Debug("cannot look for an earlier post", "request", req.ID, "channel", msg.Channel, "err", err)
		}
		if found {
			h.log.Info("already posted for this request", "request", req.ID, "channel", msg.Channel)
			return nil
		}
		msg.Metadata = &tag
	}
	_, err := h.Slack.PostMessage(ctx, msg)
	return err
}

// textAfterColon returns what follows the first ": " (or ":" at the end of the
// channel), as Slack sent it, so mentions and links in it survive.
func textAfterColon(raw string) string {
	i := strings.Index(raw, ":")
	for i >= 0 && i+1 < len(raw) && raw[i+1] != ' ' && raw[i+1] != '\t' {
		// a colon inside a link (<https://…>) or an emoji (:fire:) is not the separator
		next := strings.Index(raw[i+1:], ":")
		if next < 0 {
			return ""
		}
		i += next + 1
	}
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(raw[i+1:])
}

// show: show recent messages in #channel
func (h *Handlers) show(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	words := inv.args
	if len(words) < 2 || !strings.EqualFold(words[0].Text, "recent") {
		return nil, runbook.Errorf(runbook.EINVALID, "Say which channel: show recent messages in #channel.")
	}
	target := words[len(words)-1]
	if target.Kind != Channel && !strings.HasPrefix(target.Text, "#") {
		return nil, runbook.Errorf(runbook.EINVALID, "“%s” is not a channel; write it as #channel.", slackui.Escape(target.Text))
	}
	channel, name, err := h.channelFor(ctx, inv, target)
	if err != nil {
		return nil, err
	}
	history, err := h.Slack.History(ctx, channel, 10)
	if err != nil {
		return nil, channelError(name, err)
	}
	if len(history) == 0 {
		return slackui.PrivateText(fmt.Sprintf("%s has no messages yet.", name)), nil
	}
	var lines []string
	for i := len(history) - 1; i >= 0; i-- { // oldest first, as in Slack
		m := history[i]
		who := mentionOr(m.User, "a bot")
		lines = append(lines, fmt.Sprintf("%s: %s", who, slackui.Truncate(slackui.Neutralize(m.Text), 300)))
	}
	return slackui.List(fmt.Sprintf("Latest messages in %s", name), lines), nil
}

// channelFor resolves the channel someone names for show or post. A private channel
// counts only for its members: to anyone else it is answered exactly as a channel that
// does not exist, so that the refusal does not reveal it, and the refusal is audited.
func (h *Handlers) channelFor(ctx context.Context, inv *invocation, t Token) (id, name string, err error) {
	ref := strings.TrimSuffix(t.Text, ":")
	if t.Kind == Channel {
		ref = t.ID
	}
	typed := slackui.Escape(strings.TrimSuffix(t.Text, ":"))
	conv, err := h.Slack.ChannelInfo(ctx, ref)
	if err != nil {
		return "", "", channelError(typed, err)
	}
	if conv.Private {
		member, err := h.Slack.IsMember(ctx, conv.ID, inv.req.UserID)
		if err != nil {
			return "", "", fmt.Errorf("check who may use %s: %w", conv.ID, err)
		}
		if !member {
			h.refused(ctx, inv, fmt.Sprintf("%s in private channel %s, which they are not a member of", inv.verb, conv.ID))
			return "", "", channelError(typed, &runbook.SlackError{Method: "conversations.members", Code: "channel_not_found"})
		}
	}
	return conv.ID, slackui.ChannelRef(conv.ID), nil
}

// refused writes a refused command to the audit log: who asked, what, and why.
func (h *Handlers) refused(ctx context.Context, inv *invocation, detail string) {
	e := runbook.AuditEntry{Actor: inv.req.UserID, Action: runbook.AuditRefused, Detail: detail}
	if err := h.Audit.Record(runbook.RefusalAuditContext(ctx), e); err != nil {
		h.log.Error("audit a refusal", "user", inv.req.UserID, "err", err)
	}
}

// channelError says, in a sentence, why a channel cannot be used.
func channelError(name string, err error) error {
	switch runbook.SlackCode(err) {
	case "channel_not_found":
		return runbook.Errorf(runbook.EINVALID, "I can't see %s: it does not exist, or it is private and I'm not in it. Invite me with `/invite @Runbook`.", name)
	case "not_in_channel":
		return runbook.Errorf(runbook.EINVALID, "I'm not in %s. Invite me with `/invite @Runbook`.", name)
	case "is_archived":
		return runbook.Errorf(runbook.EINVALID, "%s is archived.", name)
	case "msg_too_long":
		return runbook.Errorf(runbook.EINVALID, "That message is longer than Slack's 40,000 characters.")
	}
	return err
}
