package runbooks

import (
	"context"

	"github.com/runbookhq/runbook"
)

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

// directMessage sends a direct message to one user.
func directMessage(ctx context.Context, s *stepRun) (map[string]any, error) {
	user, err := s.e.d.Slack.ResolveUser(ctx, s.str("user"))
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

// post posts the step's message once: a retry adopts the message an earlier attempt
// posted, found by its metadata.
func post(ctx context.Context, s *stepRun, channel, thread string, pin bool) (map[string]any, error) {
	blocks, err := s.blocks("blocks")
	if err != nil {
		return nil, err
	}
	ts, found, err := s.posted(ctx, channel)
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
	if pin {
		if err := s.e.d.Slack.Pin(ctx, channel, ts); err != nil {
			return nil, err
		}
	}
	link, err := s.e.d.Slack.Permalink(ctx, channel, ts)
	if err != nil {
		link = "" // a missing permalink is no reason to fail a posted message
	}
	return map[string]any{"channel": channel, "ts": ts, "permalink": link}, nil
}

// historyDepth is how far back a retry looks for the message an earlier attempt
// posted: one page of history, which a crash-and-restart does not outrun.
const historyDepth = 100

// FindTagged looks in a channel's recent history for a message tagged with metadata
// of tag's event type and payload, as posted by an attempt that was interrupted before
// it could record the message, so that a retry adopts it instead of posting again.
// channel is an id or a "#name".
func FindTagged(ctx context.Context, slack runbook.Channels, channel string, tag runbook.MessageMetadata) (runbook.PostedMessage, bool, error) {
	id, err := slack.ResolveChannel(ctx, channel)
	if err != nil {
		return runbook.PostedMessage{}, false, err
	}
	history, err := slack.History(ctx, id, historyDepth)
	if err != nil {
		return runbook.PostedMessage{}, false, err
	}
	for _, m := range history {
		if m.Tagged(tag) {
			return runbook.PostedMessage{Channel: id, TS: m.TS}, true, nil
		}
	}
	return runbook.PostedMessage{}, false, nil
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
