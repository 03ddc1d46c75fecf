package bot

import (
	"encoding/json"
	"testing"
	"time"
)

// Payloads as Slack sends them over Socket Mode (the shapes slackfake produces), for
// the cost of turning one envelope into a request.
const (
	benchSlash = `{"token":"gIkuvaNzQIHg97ATvDxqgjtO","team_id":"T00000001","team_domain":"runbook-dev",
"channel_id":"C00000001","channel_name":"general","user_id":"U00000002","user_name":"alice","command":"/runbook",
"text":"status INC-1","api_app_id":"A00000001","is_enterprise_install":"false",
"response_url":"http://127.0.0.1:40000/response/4fD0a8b2c3d4e5f6a7b8c9d0","trigger_id":"13345224609.738474920.8088930838d88f008e0"}`
	benchMention = `{"token":"gIkuvaNzQIHg97ATvDxqgjtO","team_id":"T00000001","context_team_id":"T00000001",
"context_enterprise_id":null,"api_app_id":"A00000001","event":{"client_msg_id":"7a3f1c2e-5b4d-4e6f-8a9b-0c1d2e3f4a5b",
"type":"app_mention","text":"<@U00000001> status INC-1","user":"U00000002","ts":"1700000000.000100",
"blocks":[{"type":"rich_text","block_id":"Ab1Cd","elements":[{"type":"rich_text_section","elements":[
{"type":"user","user_id":"U00000001"},{"type":"text","text":" status INC-1"}]}]}],"team":"T00000001",
"channel":"C00000001","event_ts":"1700000000.000100"},"type":"event_callback","event_id":"Ev0A1B2C3D4E",
"event_time":1700000000,"authorizations":[{"enterprise_id":null,"team_id":"T00000001","user_id":"U00000001",
"is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":false,"event_context":"4-eyJ0aWQiOiJUMDAwMDAwMDEifQ"}`
	benchClick = `{"type":"block_actions","user":{"id":"U00000003","username":"bob","name":"bob","team_id":"T00000001"},
"api_app_id":"A00000001","token":"gIkuvaNzQIHg97ATvDxqgjtO","container":{"type":"message","message_ts":"1700000000.000200",
"channel_id":"C00000002","is_ephemeral":false},"trigger_id":"13345224609.738474920.8088930838d88f008e0",
"team":{"id":"T00000001","domain":"runbook-dev"},"enterprise":null,"is_enterprise_install":false,
"channel":{"id":"C00000002","name":"ops"},"state":{"values":{}},
"response_url":"http://127.0.0.1:40000/response/9zY8x7W6v5U4t3S2r1Q0p9O8",
"actions":[{"action_id":"approval.approve","block_id":"approval","text":{"type":"plain_text","text":"Approve","emoji":true},
"value":"7","style":"primary","type":"button","action_ts":"1700000000.000300"}]}`
)

func BenchmarkDecodeRequest(b *testing.B) {
	now := time.Now()
	for _, bb := range []struct {
		name string
		env  envelope
	}{
		{"SlashCommand", envelope{EnvelopeID: "e1", Type: typeSlashCommands, Payload: json.RawMessage(benchSlash), AcceptsResponsePayload: true}},
		{"Mention", envelope{EnvelopeID: "e2", Type: typeEventsAPI, Payload: json.RawMessage(benchMention)}},
		{"ButtonClick", envelope{EnvelopeID: "e3", Type: typeInteractive, Payload: json.RawMessage(benchClick)}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.env.Payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeRequest(bb.env, "U00000001", now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
