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
