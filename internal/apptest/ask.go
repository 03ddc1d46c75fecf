package apptest

import (
	"encoding/json"

	"github.com/runbookhq/runbook/slackfake"
)

// Ask sends a slash command as a person in a channel and returns the text (and blocks)
// of the answer only they see: the ack's, or the one the bot sends after the ack
// through the response_url.
func (k *Kit) Ask(userID, channelID, text string) string {
	k.tb.Helper()
	fallback, blocks := k.answer(userID, channelID, text)
	return fallback + string(blocks)
}

// AskBlocks is Ask that returns the mrkdwn of each block of the answer — a section's
// text, a context's elements — as Slack would receive it, escapes and all.
func (k *Kit) AskBlocks(userID, channelID, text string) []string {
	k.tb.Helper()
	_, raw := k.answer(userID, channelID, text)
	var blocks []struct {
		Text     *struct{ Text string }  `json:"text"`
		Elements []struct{ Text string } `json:"elements"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &blocks); err != nil {
			k.tb.Fatalf("the blocks of the answer to /runbook %s: %v", text, err)
		}
	}
	var out []string
	for _, b := range blocks {
		if b.Text != nil {
			out = append(out, b.Text.Text)
		}
		for _, e := range b.Elements {
			out = append(out, e.Text)
		}
	}
	return out
}

// answer sends a slash command and returns the private answer's text and blocks.
func (k *Kit) answer(userID, channelID, text string) (string, json.RawMessage) {
	k.tb.Helper()
	before := len(k.Slack.Ephemerals(channelID, userID))
	d := k.Slack.SlashCommand(userID, channelID, "/runbook", text)
	ack, err := d.WaitAck(k.Context())
	if err != nil {
		k.tb.Fatalf("no ack for /runbook %s: %v", text, err)
	}
	k.WaitDone(d.EnvelopeID)
	if len(ack.Payload) > 0 {
		var m struct {
			Text   string          `json:"text"`
			Blocks json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal(ack.Payload, &m); err != nil {
			k.tb.Fatalf("ack payload %s: %v", ack.Payload, err)
		}
		return m.Text, m.Blocks
	}
	var got slackfake.Message
	k.WaitFor("the answer to /runbook "+text, func() bool {
		eph := k.Slack.Ephemerals(channelID, userID)
		if len(eph) == before {
			return false
		}
		got = eph[len(eph)-1]
		return true
	})
	return got.Text, got.Blocks
}

// Press sends the exact block_actions payload of a click on a button — actionID with
// value, on the message at ts in channelID — whether or not the message still shows
// it (a client that has not seen the update, or a button elsewhere), and returns the
// text of the private answer.
func (k *Kit) Press(userID, channelID, ts, actionID, value string) string {
	k.tb.Helper()
	team := k.Slack.TeamID()
	payload := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": userID, "team_id": team},
		"team": map[string]any{"id": team}, "channel": map[string]any{"id": channelID},
		"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": channelID},
		"trigger_id": "1.2.3", "is_enterprise_install": false,
		"actions": []any{map[string]any{"action_id": actionID, "block_id": "approval", "value": value, "type": "button"}},
	}
	before := len(k.Slack.Ephemerals(channelID, userID))
	if _, err := k.Slack.Send("interactive", payload, false).WaitAck(k.Context()); err != nil {
		k.tb.Fatalf("no ack for the click: %v", err)
	}
	var got string
	k.WaitFor("the answer to the click", func() bool {
		eph := k.Slack.Ephemerals(channelID, userID)
		if len(eph) > before {
			got = eph[len(eph)-1].Text
		}
		return len(eph) > before
	})
	return got
}

// WaitDone waits until the bot has finished the request sent as envelope id. A
// command answered first (a declaration: runbook.AnswerFirst) is finished after its
// ack, and a test goes on to read what it did.
func (k *Kit) WaitDone(id string) {
	k.tb.Helper()
	path := k.Config.Store.Path
	k.WaitFor("the bot to finish request "+id, func() bool {
		return Count(k.tb, path, "SELECT COUNT(*) FROM envelopes WHERE id = ? AND done = 0", id) == 0
	})
}
