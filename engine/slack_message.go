package engine

import (
	"context"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// slackActions are the steps that talk in Slack: messages and channels.
type slackActions struct{ incidents ChannelClaimer }

// ChannelClaimer records a channel a run created as its incident's own channel.
type ChannelClaimer interface {
	// ClaimChannel sets the incident's channel, unless it has one already.
	ClaimChannel(ctx context.Context, incidentID int64, ch runbook.Conversation) error
}

// SlackActions posts messages and creates, sets up and archives channels; a channel
// created for an incident becomes its channel through incidents.
func SlackActions(incidents ChannelClaimer) Family { return slackActions{incidents: incidents} }

func (f slackActions) register(e *Executor) {
	e.handle("slack.send_message", sendMessage)
	e.handle("slack.dm", directMessage)
	e.handle("slack.create_channel", f.createChannel)
	e.handle("slack.invite", invite)
	e.handle("slack.set_topic", setTopic)
	e.handle("slack.archive_channel", archiveChannel)
}

// sendMessage posts text and/or blocks to a channel, optionally in the thread of an
// earlier step's message, and pins it if asked.
func sendMessage(ctx context.Context, s *stepRun) (map[string]any, error) {
	channel, err := s.channel(ctx)
	if err != nil {
		return nil, err
	}
	thread := ""
	if ref := s.str("thread"); ref != "" {
		thread = stepOutput(s, ref, "ts")
	}
	return post(ctx, s, channel, thread, s.flag("pin"))
}

// directMessage sends a direct message to one user: an id, an @handle, or
// "commander", the incident's commander, found as slack.invite finds them.
func directMessage(ctx context.Context, s *stepRun) (map[string]any, error) {
	user, err := s.dmUser(ctx)
	if err != nil {
		return nil, err
	}
	channel, err := s.e.d.Slack.OpenDM(ctx, user)
	if err != nil {
		return nil, err
	}
	out, err := post(ctx, s, channel, "", false)
	if err != nil {
		return nil, err
	}
	delete(out, "permalink")
	return out, nil
}

// dmUser is the one person a slack.dm step writes to. "commander" is the incident's
// commander; a run without an incident, or an incident nobody commands yet, fails the
// step with a sentence rather than Slack's user_not_found.
func (s *stepRun) dmUser(ctx context.Context) (string, error) {
	ref := s.str("user")
	if !strings.EqualFold(ref, "commander") {
		return s.e.d.Slack.ResolveUser(ctx, ref)
	}
	if s.run.IncidentID == 0 {
		return "", runbook.Errorf(runbook.EINVALID, "user is “commander”, but this run is not about an incident; start it with an incident id")
	}
	inc, err := s.incident(ctx)
	if err != nil {
		return "", err
	}
	if inc.Commander == "" {
		return "", runbook.Errorf(runbook.EINVALID, "user is “commander”, but %s has no commander yet; set one with update %s commander=@someone", inc.Key(), inc.Key())
	}
	return inc.Commander, nil
}

// post posts the step's message once: a retry adopts the message an earlier attempt
// posted, found by its metadata.
func post(ctx context.Context, s *stepRun, channel, thread string, pin bool) (map[string]any, error) {
	blocks, err := slackui.ParseBlocks(s.in["blocks"])
	if err != nil {
		return nil, err
	}
	ts, found, err := s.posted(ctx, channel, thread)
	if err != nil {
		return nil, err
	}
	if !found {
		msg := runbook.Message{Channel: channel, Text: s.str("text"), Blocks: blocks, ThreadTS: thread, Metadata: s.marker()}
		posted, err := s.e.d.Slack.PostMessage(ctx, msg)
		if err != nil {
			return nil, err
		}
		channel, ts = posted.Channel, posted.TS
	}
	link, err := s.e.d.Slack.Permalink(ctx, channel, ts, thread)
	if err != nil {
		link = "" // a missing permalink is no reason to fail a posted message
	}
	out := map[string]any{"channel": channel, "ts": ts, "permalink": link}
	if pin {
		if err := s.pin(ctx, out, channel, ts); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pin pins a posted message. Slack refusing (restricted_action where only admins may
// pin, not_pinnable, too many pins) leaves the message posted and the run going, with
// pinned: false and a warning; only a failure to reach Slack fails the step, whose
// retry adopts the message.
func (s *stepRun) pin(ctx context.Context, out map[string]any, channel, ts string) error {
	err := s.e.d.Slack.Pin(ctx, channel, ts)
	code := runbook.SlackCode(err)
	if err != nil && code == "" {
		return err
	}
	out["pinned"] = err == nil
	if err != nil {
		s.warn(out, "the message was posted but Slack would not pin it ("+code+")")
	}
	return nil
}

// stepOutput returns an output of an earlier step of the run, by step id.
func stepOutput(s *stepRun, stepID, output string) string {
	for i, st := range s.run.Steps {
		if st.StepID == stepID && i < s.index {
			if v, ok := st.Outputs[output].(string); ok {
				return v
			}
		}
	}
	return ""
}
