package faults

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// TestBadInput sends envelopes Slack would not (or should not) send: each is answered or
// dropped cleanly, nothing panics, and the bot keeps serving on the same connection.
func TestBadInput(t *testing.T) {
	w := newWorld(t, slackfake.Options{AckTimeout: time.Second, MaxRetries: 1}, nil)
	general := w.channel("general")
	w.Start()
	conns := w.Slack.ConnectCount()

	slash := func(fields map[string]any) map[string]any {
		p := map[string]any{"team_id": w.Slack.TeamID(), "channel_id": general.ID, "channel_name": "general",
			"user_id": w.alice.ID, "user_name": "alice", "command": "/runbook", "text": "help",
			"is_enterprise_install": "false"}
		for k, v := range fields {
			if v == nil {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		return p
	}
	long := strings.Repeat("x", 40_000)
	// answered: the person who typed it must hear back (a slash command with a user
	// and a channel); the others are acked and dropped. undecodable: Slack's framing
	// itself is broken, so there is no envelope id to ack.
	cases := []struct {
		name        string
		typ         string
		payload     any
		accepts     bool
		answered    bool
		undecodable bool
	}{
		{name: "MalformedJSON", typ: "slash_commands", payload: json.RawMessage(`{"user_id": "U1", "text": `), accepts: true, undecodable: true},
		{name: "MalformedEvent", typ: "events_api", payload: []byte(`{"type":"event_callback","event":{"type":"app_mention",`), undecodable: true},
		{name: "UnknownEnvelopeType", typ: "mystery_meat", payload: map[string]any{"hello": "world"}},
		{name: "PayloadNull", typ: "slash_commands", payload: json.RawMessage(`null`), accepts: true},
		{name: "PayloadNotAnObject", typ: "interactive", payload: json.RawMessage(`[1,2,3]`)},
		{name: "SlashWithoutUser", typ: "slash_commands", payload: slash(map[string]any{"user_id": nil}), accepts: true},
		{name: "SlashWithoutChannel", typ: "slash_commands", payload: slash(map[string]any{"channel_id": nil}), accepts: true},
		{name: "SlashFieldOfWrongType", typ: "slash_commands", payload: slash(map[string]any{"text": 42}), accepts: true},
		{name: "EventWithoutEvent", typ: "events_api", payload: map[string]any{"type": "event_callback", "event_id": "Ev1"}},
		{name: "MentionWithoutChannel", typ: "events_api", payload: map[string]any{"type": "event_callback", "event_id": "Ev2",
			"event": map[string]any{"type": "app_mention", "user": w.alice.ID, "text": "help", "ts": "1.000001"}}},
		{name: "BlockActionsWithoutActions", typ: "interactive", payload: map[string]any{"type": "block_actions",
			"user": map[string]any{"id": w.alice.ID}, "actions": []any{}}},
		{name: "ApproveButtonWithGarbageValue", typ: "interactive", payload: map[string]any{"type": "block_actions",
			"user": map[string]any{"id": w.alice.ID}, "channel": map[string]any{"id": general.ID},
			"actions": []any{map[string]any{"action_id": "approval.approve", "value": "'; DROP TABLE approvals; --"}}}},
		{name: "ViewSubmissionOfUnknownView", typ: "interactive", payload: map[string]any{"type": "view_submission",
			"user": map[string]any{"id": w.alice.ID}, "view": map[string]any{"callback_id": "nope", "state": map[string]any{"values": "not a map"}}}},
		// Typed for real (SlashCommand gives them a response_url): long texts.
		{name: "LongUnknownCommand", typ: "typed", payload: long, answered: true},
		{name: "LongDeclare", typ: "typed", payload: "declare sev3 " + long, answered: true},
		{name: "LongQuotedStatus", typ: "typed", payload: `status "` + long, answered: true},
		// Raw bytes that are not UTF-8 inside JSON strings (the emulator sends them as is).
		{name: "InvalidUTF8", typ: "slash_commands", accepts: true, answered: true,
			payload: []byte(`{"team_id":"T1","channel_id":"` + general.ID + `","user_id":"` + w.alice.ID +
				`","command":"/runbook","text":"status ` + "\xff\xfe\xfd" + ` INC-1","is_enterprise_install":"false"}`)},
		{name: "InvalidUTF8Mention", typ: "events_api", payload: []byte(`{"type":"event_callback","event_id":"EvUTF8","event":{"type":"app_mention","user":"` +
			w.alice.ID + `","channel":"` + general.ID + `","ts":"1700000000.000100","text":"<@` + w.Slack.BotUserID() + `> help ` + "\xc3\x28" + `"}}`)},
	}
	type sent struct {
		name        string
		d           *slackfake.Delivery
		answered    bool
		undecodable bool
		at          time.Time
	}
	var all []sent
	for _, c := range cases {
		before := len(w.Slack.Ephemerals(general.ID, w.alice.ID))
		var d *slackfake.Delivery
		if c.typ == "typed" {
			d = w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", c.payload.(string))
		} else {
			d = w.Slack.Send(c.typ, c.payload, c.accepts)
		}
		all = append(all, sent{c.name, d, c.answered, c.undecodable, time.Now()})
		// One at a time, so that an answer is known to belong to its case.
		if !c.undecodable {
			w.WaitFor(c.name+" to be acked", func() bool { return len(w.Slack.Acks(d.EnvelopeID)) > 0 })
		}
		if c.answered {
			answered := w.Eventually(func() bool {
				acks := w.Slack.Acks(d.EnvelopeID)
				return len(acks) > 0 && ackText(acks[0]) != "" || len(w.Slack.Ephemerals(general.ID, w.alice.ID)) > before
			})
			if !answered {
				all[len(all)-1].answered = false
				t.Errorf("%s: never answered: the person who typed it hears nothing (bot log: %s)", c.name,
					lastLine(w.Logs.String(), "cannot deliver reply"))
			}
		}
	}
	// The undecodable ones had their chance to be (wrongly) acked meanwhile.
	for _, s := range all {
		acks := w.Slack.Acks(s.d.EnvelopeID)
		switch {
		case s.undecodable && len(acks) > 0:
			t.Errorf("%s: an envelope that cannot be read was acked: %s", s.name, acks[0].Payload)
		case !s.undecodable && len(acks) == 0:
			t.Errorf("%s: not acked", s.name)
		case len(acks) > 0 && acks[0].At.Sub(s.at) > 3*time.Second:
			t.Errorf("%s: acked %s after it was sent, past Slack's deadline", s.name, acks[0].At.Sub(s.at))
		}
		if !s.answered || len(acks) == 0 {
			continue
		}
		answer := ackText(acks[0])
		if answer == "" {
			eph := w.Slack.Ephemerals(general.ID, w.alice.ID)
			answer = eph[len(eph)-1].Text
		}
		for _, dump := range []string{"panic", "goroutine", "runtime error", "sqlite", "invalid character", "json:"} {
			if strings.Contains(strings.ToLower(answer), dump) {
				t.Errorf("%s: the answer looks like an error dump (%q): %.300s", s.name, dump, answer)
			}
		}
		if len(answer) > 40_000 {
			t.Errorf("%s: the answer is %d characters, over Slack's limit", s.name, len(answer))
		}
	}
	// The mention carrying invalid UTF-8 is answered like any other (in the thread of a
	// message the emulator never stored, so as a top-level message).
	w.WaitFor("the reply to the mention with invalid UTF-8", func() bool {
		for _, m := range w.Slack.Messages(general.ID) {
			if m.BotID != "" {
				return true
			}
		}
		return false
	})

	// Still serving, on the same connection, and nothing panicked.
	ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "help"))
	if err != nil || !strings.Contains(ackText(ack), "Runbook commands") {
		t.Fatalf("help after the bad input: %v %q", err, ackText(ack))
	}
	if n := w.Slack.ConnectCount(); n != conns {
		t.Errorf("the bot reconnected %d times while reading bad input", n-conns)
	}
	if logs := w.Logs.String(); strings.Contains(logs, "panic") {
		t.Errorf("a panic was logged:\n%s", apptest.Tail(logs, 40))
	}
}
