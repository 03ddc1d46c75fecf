package bot

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// Payloads as Slack sends them over Socket Mode.
const (
	slashJSON = `{"token":"x","team_id":"T1","team_domain":"acme","channel_id":"C1","channel_name":"ops",
		"user_id":"U1","user_name":"alice","command":"/runbook","text":"status INC-4","api_app_id":"A1",
		"is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/T1/1/x","trigger_id":"1.2.3"}`
	mentionJSON = `{"token":"x","team_id":"T1","api_app_id":"A1","event":{"type":"app_mention","user":"U1",
		"text":"<@UBOT> declare sev1 &lt;checkout&gt;","ts":"1700000000.000100","channel":"C1","event_ts":"1700000000.000100"},
		"type":"event_callback","event_id":"Ev123","event_time":1700000000}`
	// An edited mention, as slack-go PR #1256 captured it: the same ts, an "edited"
	// field and a new event id.
	editedMentionJSON = `{"token":"x","team_id":"T1","api_app_id":"A1","event":{"client_msg_id":"c1","type":"app_mention",
		"text":"<@UBOT> declare sev1 checkout","user":"U1","ts":"1700000000.000100","team":"T1",
		"edited":{"user":"U1","ts":"1700000042.000000"},"channel":"C1","event_ts":"1700000042.000000"},
		"type":"event_callback","event_id":"Ev456","event_time":1700000042}`
	// reaction_added as docs.slack.dev/reference/events/reaction_added shows it, with
	// the 📌 this bot acts on.
	reactionJSON = `{"token":"x","team_id":"T1","api_app_id":"A1","event":{"type":"reaction_added","user":"U2",
		"reaction":"pushpin","item_user":"U1","item":{"type":"message","channel":"C1","ts":"1700000000.000100","channel_type":"channel"},
		"event_ts":"1700000100.000200"},"type":"event_callback","event_id":"EvPin1","event_time":1700000100}`
	clickJSON = `{"type":"block_actions","user":{"id":"U2","username":"bob","team_id":"T1"},"team":{"id":"T1"},
		"container":{"type":"message","message_ts":"1700000000.000200","channel_id":"C1"},"channel":{"id":"C1","name":"ops"},
		"trigger_id":"9.9","response_url":"https://hooks.slack.com/actions/T1/2/y","is_enterprise_install":false,
		"actions":[{"action_id":"approval.approve","block_id":"b1","value":"apr_42","type":"button"}]}`
	viewJSON = `{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},"trigger_id":"7.7",
		"view":{"id":"V1","callback_id":"declare","private_metadata":"C1","state":{"values":{
		"title":{"title":{"type":"plain_text_input","value":"Checkout down"}},
		"sev":{"sev":{"type":"static_select","selected_option":{"value":"sev1"}}}}}}}`
)

func TestDecodeRequest(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		env  envelope
		want runbook.Request
	}{
		{"SlashCommandWithStringEnterpriseFlag", envelope{EnvelopeID: "e1", Type: typeSlashCommands, Payload: json.RawMessage(slashJSON)},
			runbook.Request{Kind: runbook.KindCommand, ID: "e1", TeamID: "T1", UserID: "U1", UserName: "alice", ChannelID: "C1",
				ChannelName: "ops", Command: "/runbook", Text: "status INC-4", ResponseURL: "https://hooks.slack.com/commands/T1/1/x", TriggerID: "1.2.3"}},
		{"MentionKeyedByEventID", envelope{EnvelopeID: "e2", Type: typeEventsAPI, Payload: json.RawMessage(mentionJSON)},
			runbook.Request{Kind: runbook.KindMention, ID: "Ev123", TeamID: "T1", UserID: "U1", ChannelID: "C1",
				Text: "declare sev1 &lt;checkout&gt;", ThreadTS: "1700000000.000100"}},
		{"EditedMentionIsMarked", envelope{EnvelopeID: "e5", Type: typeEventsAPI, Payload: json.RawMessage(editedMentionJSON)},
			runbook.Request{Kind: runbook.KindMention, ID: "Ev456", TeamID: "T1", UserID: "U1", ChannelID: "C1",
				Text: "declare sev1 checkout", ThreadTS: "1700000000.000100", Edited: true}},
		{"PushpinReaction", envelope{EnvelopeID: "e6", Type: typeEventsAPI, Payload: json.RawMessage(reactionJSON)},
			runbook.Request{Kind: runbook.KindReaction, ID: "EvPin1", TeamID: "T1", UserID: "U2", ChannelID: "C1",
				Reaction: &runbook.Reaction{Name: "pushpin", MessageTS: "1700000000.000100", ItemUser: "U1"}}},
		{"ButtonClick", envelope{EnvelopeID: "e3", Type: typeInteractive, Payload: json.RawMessage(clickJSON)},
			runbook.Request{Kind: runbook.KindAction, ID: "e3", TeamID: "T1", UserID: "U2", UserName: "bob", ChannelID: "C1",
				ChannelName: "ops", ResponseURL: "https://hooks.slack.com/actions/T1/2/y", TriggerID: "9.9",
				Action: &runbook.Action{ActionID: "approval.approve", BlockID: "b1", Value: "apr_42", MessageTS: "1700000000.000200"}}},
		{"ViewSubmission", envelope{EnvelopeID: "e4", Type: typeInteractive, Payload: json.RawMessage(viewJSON)},
			runbook.Request{Kind: runbook.KindViewSubmission, ID: "e4", TeamID: "T1", UserID: "U1", TriggerID: "7.7",
				View: &runbook.ViewSubmission{ViewID: "V1", CallbackID: "declare", PrivateMetadata: "C1",
					Values: map[string]map[string]string{"title": {"title": "Checkout down"}, "sev": {"sev": "sev1"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRequest(tt.env, "UBOT", now)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.ReceivedAt = now
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestDecodeRequestRejects(t *testing.T) {
	tests := []struct {
		name    string
		env     envelope
		ignored bool
	}{
		{"NoEnvelopeID", envelope{Type: typeSlashCommands, Payload: json.RawMessage(slashJSON)}, false},
		{"UnknownType", envelope{EnvelopeID: "e", Type: "hello_world", Payload: json.RawMessage(`{}`)}, true},
		{"OtherEvent", envelope{EnvelopeID: "e", Type: typeEventsAPI, Payload: json.RawMessage(`{"type":"event_callback","event":{"type":"message"}}`)}, true},
		{"MentionByABot", envelope{EnvelopeID: "e", Type: typeEventsAPI, Payload: json.RawMessage(`{"type":"event_callback","event":{"type":"app_mention","bot_id":"B1","user":"U9","channel":"C1","ts":"1.1"}}`)}, true},
		{"MentionWithoutChannel", envelope{EnvelopeID: "e", Type: typeEventsAPI, Payload: json.RawMessage(`{"type":"event_callback","event":{"type":"app_mention","user":"U9","ts":"1.1"}}`)}, false},
		{"OtherReaction", envelope{EnvelopeID: "e", Type: typeEventsAPI, Payload: json.RawMessage(`{"type":"event_callback","event":{"type":"reaction_added","user":"U2","reaction":"thumbsup","item":{"type":"message","channel":"C1","ts":"1.1"}}}`)}, true},
		{"PinOnAFile", envelope{EnvelopeID: "e", Type: typeEventsAPI, Payload: json.RawMessage(`{"type":"event_callback","event":{"type":"reaction_added","user":"U2","reaction":"pushpin","item":{"type":"file","file":"F1"}}}`)}, true},
		{"PinByTheBot", envelope{EnvelopeID: "e", Type: typeEventsAPI, Payload: json.RawMessage(`{"type":"event_callback","event":{"type":"reaction_added","user":"UBOT","reaction":"pushpin","item":{"type":"message","channel":"C1","ts":"1.1"}}}`)}, true},
		{"PinWithoutTS", envelope{EnvelopeID: "e", Type: typeEventsAPI, Payload: json.RawMessage(`{"type":"event_callback","event":{"type":"reaction_added","user":"U2","reaction":"pushpin","item":{"type":"message","channel":"C1"}}}`)}, false},
		{"SlashWithoutUser", envelope{EnvelopeID: "e", Type: typeSlashCommands, Payload: json.RawMessage(`{"channel_id":"C1"}`)}, false},
		{"PayloadNotObject", envelope{EnvelopeID: "e", Type: typeSlashCommands, Payload: json.RawMessage(`"x"`)}, false},
		{"ClickWithoutActions", envelope{EnvelopeID: "e", Type: typeInteractive, Payload: json.RawMessage(`{"type":"block_actions","user":{"id":"U1"}}`)}, false},
		{"ViewClosed", envelope{EnvelopeID: "e", Type: typeInteractive, Payload: json.RawMessage(`{"type":"view_closed","user":{"id":"U1"}}`)}, true},
		{"Oversized", envelope{EnvelopeID: "e", Type: typeSlashCommands, Payload: make(json.RawMessage, maxEnvelope+1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeRequest(tt.env, "UBOT", time.Now())
			if err == nil {
				t.Fatal("accepted")
			}
			if got := errors.Is(err, errIgnored); got != tt.ignored {
				t.Fatalf("ignored = %v (%v), want %v", got, err, tt.ignored)
			}
		})
	}
}

func TestAfterMention(t *testing.T) {
	tests := []struct{ text, bot, want string }{
		{"<@UBOT> help", "UBOT", "help"},
		{"<@UBOT|runbook>   status INC-4 ", "UBOT", "status INC-4"},
		{"hey <@UBOT> help", "UBOT", "help"},
		{"<@UALICE> and <@UBOT> run x", "UBOT", "run x"},
		{"<@UBOT>", "UBOT", ""},
		{"<@UX> help", "", "help"},
		{"no mention", "UBOT", "no mention"},
		{"<@UBOT broken", "UBOT", "<@UBOT broken"},
	}
	for _, tt := range tests {
		if got := afterMention(tt.text, tt.bot); got != tt.want {
			t.Errorf("afterMention(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// FuzzDecodeEnvelope feeds whole websocket messages, as the bot reads them, through
// decoding: it must never panic, and whatever it accepts must be a usable request.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, p := range []struct{ typ, payload string }{
		{typeSlashCommands, slashJSON}, {typeEventsAPI, mentionJSON}, {typeEventsAPI, reactionJSON},
		{typeInteractive, clickJSON}, {typeInteractive, viewJSON},
	} {
		msg, _ := json.Marshal(map[string]any{"envelope_id": "e1", "type": p.typ, "payload": json.RawMessage(p.payload), "accepts_response_payload": true})
		f.Add(msg)
	}
	f.Add([]byte(`{"envelope_id":"e","type":"slash_commands","payload":{"user_id":"\xff","channel_id":"C"}}`))
	// Real payloads, as Slack's SDKs and documentation captured them, are the shapes
	// the fuzzer should start from.
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	for _, path := range files {
		msg, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var env envelope
		if json.Unmarshal(msg, &env) != nil {
			return
		}
		req, err := decodeRequest(env, "UBOT", time.Now())
		if err != nil {
			return
		}
		if req.ID == "" || req.UserID == "" || req.Kind == "" {
			t.Fatalf("accepted a request without id, user or kind: %+v", req)
		}
		if req.Kind == runbook.KindAction && req.Action == nil || req.Kind == runbook.KindViewSubmission && req.View == nil ||
			req.Kind == runbook.KindReaction && (req.Reaction == nil || req.Reaction.MessageTS == "" || req.ChannelID == "") {
			t.Fatalf("accepted a %s without its body", req.Kind)
		}
	})
}
