package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/slackfake"
)

// ackMessage decodes a slash command's ack payload.
func ackMessage(t *testing.T, ack slackfake.Ack) (responseType, text string) {
	t.Helper()
	var m struct {
		ResponseType string          `json:"response_type"`
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
	}
	if len(ack.Payload) == 0 {
		t.Fatalf("ack of %s carried no payload", ack.EnvelopeID)
	}
	if err := json.Unmarshal(ack.Payload, &m); err != nil {
		t.Fatalf("ack payload %s: %v", ack.Payload, err)
	}
	return m.ResponseType, m.Text + string(m.Blocks)
}

func TestSlashHelpIsAnsweredInTheAck(t *testing.T) {
	h := start(t)
	d := h.Slack.SlashCommand(h.alice.ID, h.general.ID, "/runbook", "help")
	ack, err := d.WaitAck(h.Context())
	if err != nil {
		t.Fatal(err)
	}
	rt, text := ackMessage(t, ack)
	if rt != "ephemeral" || !strings.Contains(text, "Runbook commands") || !strings.Contains(text, "/runbook help") {
		t.Fatalf("ack = %s %q; want an ephemeral usage message", rt, text)
	}
	if d.Attempts() != 1 || d.TimedOut() {
		t.Fatalf("the command was sent %d times; the ack missed Slack's deadline", d.Attempts())
	}
}

func TestUnknownSubcommandGetsAHint(t *testing.T) {
	h := start(t)
	ack, err := h.Slack.SlashCommand(h.alice.ID, h.general.ID, "/runbook", "stauts").WaitAck(h.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, text := ackMessage(t, ack)
	if !strings.Contains(text, "I don't know the command `stauts`") || !strings.Contains(text, "/runbook help") {
		t.Fatalf("ack text = %q; want a usage hint", text)
	}
}

func TestMentionHelpIsAnsweredInTheThread(t *testing.T) {
	h := start(t)
	d := h.Slack.Mention(h.alice.ID, h.general.ID, "help", "")
	h.WaitFor("a reply in the mention's thread", func() bool { return len(h.BotReplies(h.general.ID, d.TS)) > 0 })
	reply := h.BotReplies(h.general.ID, d.TS)[0]
	if !strings.Contains(reply.Text, "Runbook commands") || !strings.Contains(string(reply.Blocks), "@Runbook help") {
		t.Fatalf("thread reply = %q %s; want usage in the mention form", reply.Text, reply.Blocks)
	}
}

func TestRedeliveryIsHandledOnce(t *testing.T) {
	t.Run("Mention", func(t *testing.T) {
		h := start(t)
		d := h.Slack.Mention(h.alice.ID, h.general.ID, "help", "")
		h.WaitFor("the reply", func() bool { return len(h.BotReplies(h.general.ID, d.TS)) == 1 })
		if err := h.Slack.Redeliver(d.EnvelopeID); err != nil {
			t.Fatal(err)
		}
		h.WaitFor("the redelivery's ack", func() bool { return len(h.Slack.Acks(d.EnvelopeID)) >= 2 })
		// A second handler run would post a second reply before acking.
		if n := len(h.BotReplies(h.general.ID, d.TS)); n != 1 {
			t.Fatalf("%d replies after a redelivery, want 1", n)
		}
	})
	t.Run("SlashCommandRepeatsItsAnswer", func(t *testing.T) {
		h := start(t)
		d := h.Slack.SlashCommand(h.alice.ID, h.general.ID, "/runbook", "help")
		first, err := d.WaitAck(h.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Slack.Redeliver(d.EnvelopeID); err != nil {
			t.Fatal(err)
		}
		h.WaitFor("the redelivery's ack", func() bool { return len(h.Slack.Acks(d.EnvelopeID)) >= 2 })
		second := h.Slack.Acks(d.EnvelopeID)[1]
		if string(second.Payload) != string(first.Payload) {
			t.Fatalf("redelivery acked with %s, want the first answer %s", second.Payload, first.Payload)
		}
	})
	t.Run("AfterRestart", func(t *testing.T) {
		h := start(t)
		d := h.Slack.Mention(h.alice.ID, h.general.ID, "help", "")
		h.WaitFor("the reply", func() bool { return len(h.BotReplies(h.general.ID, d.TS)) == 1 })
		h.Stop()
		h.Start()
		if err := h.Slack.Redeliver(d.EnvelopeID); err != nil {
			t.Fatal(err)
		}
		h.WaitFor("the redelivery's ack", func() bool { return len(h.Slack.Acks(d.EnvelopeID)) >= 2 })
		if n := len(h.BotReplies(h.general.ID, d.TS)); n != 1 {
			t.Fatalf("%d replies after a restart and redelivery, want 1", n)
		}
	})
}

func TestReconnect(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault func(h *harness)
	}{
		{"RefreshRequested", func(h *harness) { h.Slack.Disconnect("refresh_requested", 0) }},
		{"Warning", func(h *harness) { h.Slack.Disconnect("warning", 0) }},
		{"Dropped", func(h *harness) { h.Slack.DropConnections() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t)
			before := h.Slack.ConnectCount()
			tt.fault(h)
			// Sent while the bot is reconnecting: Slack queues or redelivers events.
			var sent []*slackfake.Delivery
			for range 5 {
				sent = append(sent, h.Slack.Mention(h.alice.ID, h.general.ID, "help", ""))
			}
			h.WaitFor("a new connection", func() bool { return h.Slack.ConnectCount() > before })
			// Slash commands are never redelivered by Slack; one typed after the
			// reconnect must be answered on the new connection.
			sent = append(sent, h.Slack.SlashCommand(h.alice.ID, h.general.ID, "/runbook", "help"))
			for _, d := range sent {
				if _, err := d.WaitAck(h.Context()); err != nil {
					t.Fatalf("envelope %s (%s) was never acked: %v", d.EnvelopeID, d.Type, err)
				}
			}
			for _, d := range sent[:5] {
				h.WaitFor("a reply to each mention", func() bool { return len(h.BotReplies(h.general.ID, d.TS)) > 0 })
				if n := len(h.BotReplies(h.general.ID, d.TS)); n != 1 {
					t.Fatalf("mention %s got %d replies, want 1", d.TS, n)
				}
			}
		})
	}
}
