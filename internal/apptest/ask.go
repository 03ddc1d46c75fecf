package apptest

import (
	"encoding/json"
)

// Ask sends a slash command as a person in a channel and returns the text (and blocks)
// of the answer only they see: the ack's, or the one the bot sends after the ack
// through the response_url.
func (k *Kit) Ask(userID, channelID, text string) string {
	k.tb.Helper()
	before := len(k.Slack.Ephemerals(channelID, userID))
	d := k.Slack.SlashCommand(userID, channelID, "/runbook", text)
	ack, err := d.WaitAck(k.Context())
	if err != nil {
		k.tb.Fatalf("no ack for /runbook %s: %v", text, err)
	}
	if len(ack.Payload) > 0 {
		var m struct {
			Text   string          `json:"text"`
			Blocks json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal(ack.Payload, &m); err != nil {
			k.tb.Fatalf("ack payload %s: %v", ack.Payload, err)
		}
		return m.Text + string(m.Blocks)
	}
	var got string
	k.WaitFor("the answer to /runbook "+text, func() bool {
		eph := k.Slack.Ephemerals(channelID, userID)
		if len(eph) == before {
			return false
		}
		got = eph[len(eph)-1].Text + string(eph[len(eph)-1].Blocks)
		return true
	})
	return got
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
