package slackfake

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func TestHelloAndSlashCommand(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops", ChannelMembers(alice.ID))

	var (
		mu    sync.Mutex
		hello *socketmode.Request
		cmd   slack.SlashCommand
	)
	startBot(t, srv, func(b *bot, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeHello:
			mu.Lock()
			hello = evt.Request
			mu.Unlock()
		case socketmode.EventTypeSlashCommand:
			mu.Lock()
			cmd = evt.Data.(slack.SlashCommand)
			mu.Unlock()
			b.ack(evt, map[string]any{"text": "status: all good"})
		}
	})
	if err := srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	d := srv.SlashCommand(alice.ID, ops.ID, "/runbook", "status")
	ack, err := d.WaitAck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ack.EnvelopeID != d.EnvelopeID || ack.Connection != 1 || !contains(string(ack.Payload), "all good") {
		t.Errorf("ack = %+v", ack)
	}
	if d.Attempts() != 1 || len(srv.Acks(d.EnvelopeID)) != 1 {
		t.Errorf("attempts %d, acks %d", d.Attempts(), len(srv.Acks(d.EnvelopeID)))
	}

	mu.Lock()
	defer mu.Unlock()
	if hello == nil || hello.ConnectionInfo.AppID != srv.AppID() || hello.NumConnections != 1 || hello.DebugInfo.Host == "" {
		t.Errorf("hello = %+v", hello)
	}
	if cmd.Command != "/runbook" || cmd.Text != "status" || cmd.UserID != alice.ID || cmd.UserName != "alice" ||
		cmd.ChannelID != ops.ID || cmd.ChannelName != "ops" || cmd.TeamID != srv.TeamID() ||
		cmd.APIAppID != srv.AppID() || cmd.TriggerID == "" || cmd.ResponseURL != d.ResponseURL || cmd.IsEnterpriseInstall {
		t.Errorf("slash command = %+v", cmd)
	}
	var raw map[string]any
	_ = json.Unmarshal(d.Payload, &raw)
	if raw["is_enterprise_install"] != "false" {
		t.Errorf("is_enterprise_install = %#v, want the string \"false\"", raw["is_enterprise_install"])
	}
	// The ack payload is shown to the user, ephemerally.
	if e := srv.Ephemerals(ops.ID, alice.ID); len(e) != 1 || e[0].Text != "status: all good" {
		t.Errorf("ephemerals = %+v", e)
	}
}

func TestMentionEvent(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops")

	got := make(chan *slackevents.AppMentionEvent, 2)
	startBot(t, srv, func(b *bot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeEventsAPI {
			b.ack(evt, nil)
			outer := evt.Data.(slackevents.EventsAPIEvent)
			got <- outer.InnerEvent.Data.(*slackevents.AppMentionEvent)
		}
	})
	parent := srv.Mention(alice.ID, ops.ID, "help", "")
	ev := <-got
	if ev.Text != "<@"+srv.BotUserID()+"> help" || ev.User != alice.ID || ev.Channel != ops.ID ||
		ev.TimeStamp != parent.TS || ev.ThreadTimeStamp != "" || len(ev.Blocks.BlockSet) != 1 {
		t.Errorf("app_mention = %+v", ev)
	}
	reply := srv.Mention(alice.ID, ops.ID, "again", parent.TS)
	if ev := <-got; ev.ThreadTimeStamp != parent.TS || ev.TimeStamp != reply.TS {
		t.Errorf("threaded app_mention = %+v", ev)
	}
	if _, err := reply.WaitAck(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages(ops.ID)
	if len(msgs) != 2 || msgs[0].User != alice.ID || msgs[1].ThreadTS != parent.TS {
		t.Errorf("stored mentions = %+v", msgs)
	}

	// No event for a channel the bot is not in.
	out := srv.AddChannel("elsewhere", ChannelWithoutBot())
	d := srv.Mention(alice.ID, out.ID, "hi", "")
	if _, err := d.WaitAck(ctx); !errors.Is(err, ErrNotSent) || len(srv.Messages(out.ID)) != 1 {
		t.Errorf("mention outside the bot's channels: %+v, %v", d, err)
	}
}

func TestRedelivery(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{AckTimeout: 200 * time.Millisecond})
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops", ChannelMembers(alice.ID))

	var (
		mu      sync.Mutex
		retries []int
		reasons []string
	)
	startBot(t, srv, func(b *bot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeEventsAPI {
			return
		}
		mu.Lock()
		retries = append(retries, evt.Request.RetryAttempt)
		reasons = append(reasons, evt.Request.RetryReason)
		mu.Unlock()
		if evt.Request.RetryAttempt > 0 { // ignore the first delivery
			b.ack(evt, nil)
		}
	})
	d := srv.Mention(alice.ID, ops.ID, "help", "")
	ack, err := d.WaitAck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ack.EnvelopeID != d.EnvelopeID || d.Attempts() != 2 {
		t.Errorf("ack %+v after %d attempts", ack, d.Attempts())
	}
	mu.Lock()
	if !slices.Equal(retries, []int{0, 1}) || !slices.Equal(reasons, []string{"", "timeout"}) {
		t.Errorf("retry_attempt %v, retry_reason %q", retries, reasons)
	}
	mu.Unlock()

	// Slash commands are not redelivered: they time out.
	s := srv.Send(EnvelopeSlashCommands, map[string]string{"command": "/x"}, true)
	if err := srv.Wait(ctx, s.TimedOut); err != nil {
		t.Fatal(err)
	}
	if s.Attempts() != 1 {
		t.Errorf("slash command sent %d times", s.Attempts())
	}
	// Redeliver resends anything by hand.
	if err := srv.Redeliver(s.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(ctx, func() bool { return s.Attempts() == 2 }); err != nil {
		t.Fatal(err)
	}
	if err := srv.Redeliver("nope"); err == nil {
		t.Error("Redeliver of an unknown envelope succeeded")
	}
}

func TestRetriesGiveUp(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{AckTimeout: 50 * time.Millisecond, MaxRetries: 2})
	startBot(t, srv, nil) // never acks
	d := srv.Send(EnvelopeEventsAPI, json.RawMessage(`{"type":"event_callback","event":{"type":"x"}}`), false)
	if err := srv.Wait(ctx, d.TimedOut); err != nil {
		t.Fatal(err)
	}
	if d.Attempts() != 3 {
		t.Errorf("attempts = %d, want 1 + 2 retries", d.Attempts())
	}
}

func TestQueuedUntilConnected(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	d := srv.Send(EnvelopeSlashCommands, map[string]string{"command": "/x"}, true)
	if d.Attempts() != 0 {
		t.Fatalf("sent without a connection")
	}
	startBot(t, srv, acking)
	if _, err := d.WaitAck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestHeldEnvelopesWait(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	startBot(t, srv, acking)
	if err := srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.HoldEnvelopes(true)
	d := srv.Send(EnvelopeSlashCommands, map[string]string{"command": "/x"}, true)
	srv.dispatch() // what the dispatch loop does when kicked
	if d.Attempts() != 0 {
		t.Fatalf("a held envelope was sent %d times", d.Attempts())
	}
	srv.HoldEnvelopes(false)
	if _, err := d.WaitAck(ctx); err != nil {
		t.Fatalf("the released envelope was not sent: %v", err)
	}
}

func TestDisconnectReconnects(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	startBot(t, srv, acking)
	if err := srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.Disconnect("refresh_requested", time.Second)
	err := srv.Wait(ctx, func() bool { return srv.ConnectCount() == 2 && srv.Connections() == 1 })
	if err != nil {
		t.Fatal(err)
	}
	d := srv.Send(EnvelopeSlashCommands, map[string]string{"command": "/x"}, true)
	ack, err := d.WaitAck(ctx)
	if err != nil || ack.Connection != 2 {
		t.Errorf("ack after reconnect = %+v, %v", ack, err)
	}
}

func TestDropConnectionsReconnects(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	startBot(t, srv, acking)
	if err := srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	d := srv.Send(EnvelopeSlashCommands, map[string]string{"command": "/x"}, true)
	err := srv.Wait(ctx, func() bool { return srv.ConnectCount() == 2 && srv.Connections() == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := d.WaitAck(ctx); err != nil || ack.Connection != 2 {
		t.Errorf("ack after reconnect = %+v, %v", ack, err)
	}
}

func TestPausedPingsTimeOut(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{PingInterval: 20 * time.Millisecond})
	startBot(t, srv, acking, socketmode.OptionPingInterval(300*time.Millisecond))
	if err := srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.PausePings(true)
	if err := srv.Wait(ctx, func() bool { return srv.ConnectCount() >= 2 }); err != nil {
		t.Fatal(err)
	}
	srv.PausePings(false)
	if err := srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

func TestSeveralConnections(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	startBot(t, srv, acking)
	startBot(t, srv, acking)
	if err := srv.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	conns := map[int]bool{}
	for range 4 {
		ack, err := srv.Send(EnvelopeSlashCommands, map[string]string{"command": "/x"}, true).WaitAck(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns[ack.Connection] = true
	}
	if len(conns) != 2 {
		t.Errorf("envelopes went to connections %v, want both", conns)
	}
}
