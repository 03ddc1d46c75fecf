package slackfake

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestMetadataNeedsAnEventPayload(t *testing.T) {
	srv := newServer(t, Options{})
	ops := srv.AddChannel("ops")
	ts := ""
	for _, c := range []struct{ name, metadata, code string }{
		{"NoPayload", `{"event_type":"incident"}`, "invalid_metadata_schema"},
		{"NullPayload", `{"event_type":"incident","event_payload":null}`, "invalid_metadata_schema"},
		{"StringPayload", `{"event_type":"incident","event_payload":"42"}`, "invalid_metadata_schema"},
		{"PayloadWithoutType", `{"event_payload":{"id":"42"}}`, "invalid_metadata_schema"},
		{"NotJSON", `{"event_type":`, "invalid_metadata_format"},
		{"Valid", `{"event_type":"incident","event_payload":{"id":"42"}}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, post := rawCall(t, srv, "chat.postMessage", url.Values{"token": {srv.BotToken()}, "channel": {ops.ID}, "text": {"hi"}, "metadata": {c.metadata}})
			if got, _ := post["error"].(string); got != c.code {
				t.Fatalf("chat.postMessage answered %v; want error %q", post, c.code)
			}
			if c.code == "" {
				ts, _ = post["ts"].(string)
				return
			}
			if ts == "" {
				_, first := rawCall(t, srv, "chat.postMessage", url.Values{"token": {srv.BotToken()}, "channel": {ops.ID}, "text": {"hi"}})
				ts, _ = first["ts"].(string)
			}
			_, upd := rawCall(t, srv, "chat.update", url.Values{"token": {srv.BotToken()}, "channel": {ops.ID}, "ts": {ts}, "text": {"edited"}, "metadata": {c.metadata}})
			if got, _ := upd["error"].(string); got != c.code {
				t.Fatalf("chat.update answered %v; want error %q", upd, c.code)
			}
		})
	}
	// slack-go sends an empty metadata object on every chat.update; Slack takes it as none.
	_, upd := rawCall(t, srv, "chat.update", url.Values{"token": {srv.BotToken()}, "channel": {ops.ID}, "ts": {ts}, "text": {"x"},
		"metadata": {`{"event_type":"","event_payload":null}`}})
	if upd["ok"] != true {
		t.Fatalf("chat.update with slack-go's empty metadata answered %v", upd)
	}
	if m, _ := srv.Message(ops.ID, ts); !strings.Contains(string(m.Metadata), `"event_payload":{"id":"42"}`) {
		t.Fatalf("metadata after an update without metadata = %s", m.Metadata)
	}
}

func TestDeliverKeepsThePayloadButSlacksOwnURLs(t *testing.T) {
	srv := newServer(t, Options{})
	if err := srv.AdoptBotUserID("W111"); err != nil {
		t.Fatal(err)
	}
	if srv.BotUserID() != "W111" {
		t.Fatalf("bot user id = %s", srv.BotUserID())
	}
	if u, ok := srv.User("W111"); !ok || !u.IsBot {
		t.Fatalf("bot user = %+v %v", u, ok)
	}
	if _, err := srv.InstallUser("W222", "someone"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.InstallUser("W222", "again"); err == nil {
		t.Fatal("a taken user id was installed twice")
	}
	c, err := srv.InstallChannel("C111", "random", ChannelMembers("W222"))
	if err != nil || c.Private || len(c.Members) != 2 {
		t.Fatalf("channel = %+v %v", c, err)
	}
	if _, err := srv.InstallChannel("C222", "random"); err == nil {
		t.Fatal("a taken channel name was installed twice")
	}
	dm, err := srv.InstallDM("D111", "W222")
	if err != nil || !dm.IM || dm.User != "W222" {
		t.Fatalf("dm = %+v %v", dm, err)
	}

	slash := json.RawMessage(`{"token":"x","team_id":"T111","channel_id":"C111","channel_name":"random","user_id":"W222",` +
		`"command":"/hello","text":"<@W111|bot> hi","response_url":"https://hooks.slack.com/commands/T111/1/x","trigger_id":"1.2.x"}`)
	d, err := srv.Deliver(EnvelopeSlashCommands, slash)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(d.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got["text"] != "<@W111|bot> hi" || got["user_id"] != "W222" || got["token"] != "x" {
		t.Errorf("payload changed: %s", d.Payload)
	}
	if got["response_url"] != d.ResponseURL || !strings.HasPrefix(d.ResponseURL, srv.base) {
		t.Errorf("response_url = %q, want the emulator's own (%q)", got["response_url"], d.ResponseURL)
	}
	if got["trigger_id"] == "1.2.x" || got["trigger_id"] != d.TriggerID {
		t.Errorf("trigger_id = %q, want a fresh one", got["trigger_id"])
	}

	mention := json.RawMessage(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","user":"W222",` +
		`"text":"<@W111> help","ts":"1515449522.000016","channel":"C111","event_ts":"1515449522.000016"}}`)
	d, err = srv.Deliver(EnvelopeEventsAPI, mention)
	if err != nil || string(d.Payload) != string(mention) {
		t.Fatalf("events_api payload = %s %v; want it verbatim", d.Payload, err)
	}
	msgs := srv.Messages("C111")
	if d.TS != "1515449522.000016" || len(msgs) == 0 || msgs[0].TS != d.TS || msgs[0].Text != "<@W111> help" {
		t.Fatalf("the mentioned message was not stored first in its channel: %q %+v", d.TS, msgs)
	}
	if _, err := srv.Deliver(EnvelopeEventsAPI, json.RawMessage(`[]`)); err == nil {
		t.Fatal("a payload that is not an object was queued")
	}
}
