package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// reader is a test handler that takes the commands starting with "look" for reads.
type reader struct{ runbook.HandlerFunc }

func (reader) ReadOnly(req *runbook.Request) bool { return strings.HasPrefix(req.Text, "look") }

// recorded counts the slash commands in the bot's inbox, read from its file.
func (r *rig) recorded() int {
	r.t.Helper()
	return apptest.Count(r.t, r.dbPath, "SELECT count(*) FROM envelopes WHERE type = 'slash_commands'")
}

// TestReadOnlyCommandIsAnsweredUnrecorded: a command that only reads is answered in
// its ack without a write to the inbox — Slack never sends a slash command again and
// there is nothing to do twice — while a command that changes something is recorded
// before its handler runs, as before.
func TestReadOnlyCommandIsAnsweredUnrecorded(t *testing.T) {
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{echo}, bot.Options{})
	if got := ackText(t, r.ack(r.slash("look at INC-1"))); got != "you said look at INC-1" {
		t.Fatalf("read answered %q", got)
	}
	if n := r.recorded(); n != 0 {
		t.Fatalf("a read left %d envelope(s) in the inbox, want none", n)
	}
	if got := ackText(t, r.ack(r.slash("change INC-1"))); got != "you said change INC-1" {
		t.Fatalf("change answered %q", got)
	}
	if n := r.recorded(); n != 1 {
		t.Fatalf("after a change the inbox holds %d slash command(s), want 1", n)
	}
}

// TestReadOnlyHandlerCannotWrite: a handler taken for a reader that writes anyway
// fails at its first write, and the person is told something went wrong, instead of
// the write happening without the record that keeps effects to once.
func TestReadOnlyHandlerCannotWrite(t *testing.T) {
	var r *rig
	r = newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		if _, err := r.db.Inbox().Claim(ctx, runbook.Envelope{ID: "smuggled", Type: "slash_commands", Payload: []byte(`{}`), ReceivedAt: time.Now()}); err != nil {
			return nil, err
		}
		return &runbook.Reply{Text: "wrote it"}, nil
	}}, bot.Options{})
	if got := ackText(t, r.ack(r.slash("look and write"))); !strings.Contains(got, "Something went wrong") {
		t.Fatalf("a reader that wrote was answered %q", got)
	}
	if n := r.recorded(); n != 0 {
		t.Fatalf("the write under a read went through: %d envelope(s)", n)
	}
}

// TestSlowReadIsRecordedAndDelivered: a read whose answer misses the ack is acked
// empty and recorded, as acked, before that ack — so a crash cannot lose the answer —
// and its answer follows through the response_url.
func TestSlowReadIsRecordedAndDelivered(t *testing.T) {
	release := make(chan struct{})
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		<-release
		return echo(ctx, req)
	}}, bot.Options{AckBudget: 50 * time.Millisecond})
	d := r.slash("look slowly")
	if ack := r.ack(d); len(ack.Payload) != 0 {
		t.Fatalf("ack carried %s before the handler answered", ack.Payload)
	}
	if n := r.recorded(); n != 1 {
		t.Fatalf("a read acked empty left %d envelope(s) in the inbox, want 1", n)
	}
	close(release)
	r.waitEphemeral("you said look slowly")
}

// TestLargeReadGoesThroughTheResponseURL: a read too large for an ack is delivered
// through the response_url, recorded as any other answer owed.
func TestLargeReadGoesThroughTheResponseURL(t *testing.T) {
	long := strings.Repeat("x", 25_000)
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{func(context.Context, *runbook.Request) (*runbook.Reply, error) {
		return &runbook.Reply{Text: long}, nil
	}}, bot.Options{})
	if ack := r.ack(r.slash("look at everything")); len(ack.Payload) != 0 {
		t.Fatalf("a %d-byte answer went in the ack", len(ack.Payload))
	}
	r.waitEphemeral(long)
	if n := r.recorded(); n != 1 {
		t.Fatalf("a read answered through the response_url left %d envelope(s), want 1", n)
	}
}

// TestReadsAreNotTurnedAwayBusy: past admission's bounds a command that would start
// work is answered busy, while a read — typed or mentioned — is still answered: it
// starts nothing, and during an overload it is how people see where things stand.
func TestReadsAreNotTurnedAwayBusy(t *testing.T) {
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{echo}, bot.Options{
		Admit: func(context.Context, string) error {
			return runbook.Errorf(runbook.EUNAVAILABLE, "%s", bot.BusyText)
		},
	})
	if got := ackText(t, r.ack(r.slash("look at INC-1"))); got != "you said look at INC-1" {
		t.Errorf("a read past the bounds was answered %q", got)
	}
	if got := ackText(t, r.ack(r.slash("change INC-1"))); !strings.Contains(got, bot.BusyText) {
		t.Errorf("a change past the bounds was answered %q; want busy", got)
	}
	r.slack.Mention(r.user.ID, r.channel.ID, "look here", "")
	r.wait("the mentioned read's answer", func() bool {
		for _, m := range r.slack.Messages(r.channel.ID) {
			if strings.Contains(m.Text, "you said") && strings.Contains(m.Text, "look here") {
				return true
			}
		}
		return false
	})
}

// TestReadCutByShutdownSaysSo: a read still running when shutdown gives up on it is
// answered "restarting, try again", not with an error about the cut.
func TestReadCutByShutdownSaysSo(t *testing.T) {
	entered := make(chan struct{}, 1)
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{func(ctx context.Context, _ *runbook.Request) (*runbook.Reply, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}}, bot.Options{AckBudget: time.Minute, ShutdownTimeout: 300 * time.Millisecond})
	d := r.slash("look forever")
	r.await("the handler to start", entered)
	r.stop()
	if got := ackText(t, r.ack(d)); !strings.Contains(got, "restarting") {
		t.Fatalf("a read cut by shutdown was answered %q", got)
	}
}

// TestReadsMeetTheBoundOnWorkOwedToSlack: a read may call Slack and owe a reply, so
// past the bound on work owed to Slack it is answered busy like any other command.
func TestReadsMeetTheBoundOnWorkOwedToSlack(t *testing.T) {
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{echo}, bot.Options{
		MaxOwed: 10, SlackPending: func() int { return 11 },
	})
	if got := ackText(t, r.ack(r.slash("look at INC-1"))); !strings.Contains(got, bot.BusyText) {
		t.Errorf("a read past the bound on work owed to Slack was answered %q; want busy", got)
	}
}

// TestReadWithNothingToSayIsAckedAndTheBotStops: a read that answers nothing is acked
// empty, and nothing is left waiting on it when the bot stops.
func TestReadWithNothingToSayIsAckedAndTheBotStops(t *testing.T) {
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{func(context.Context, *runbook.Request) (*runbook.Reply, error) {
		return nil, nil
	}}, bot.Options{ShutdownTimeout: 500 * time.Millisecond})
	if ack := r.ack(r.slash("look at nothing")); len(ack.Payload) != 0 {
		t.Errorf("a read with nothing to say acked %s", ack.Payload)
	}
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(apptest.Patience):
		t.Fatal("the bot did not stop after a read with nothing to say")
	}
	if n := r.recorded(); n != 0 {
		t.Errorf("a read with nothing to say left %d envelope(s)", n)
	}
}

// TestReadDeliveredTwiceIsAnsweredTwice: a second delivery of a read that is still
// being answered (Slack does not send one, but a replay may) gets its own answer, not
// silence: there is no record to ack it against, and nothing to keep to once.
func TestReadDeliveredTwiceIsAnsweredTwice(t *testing.T) {
	entered, release := make(chan struct{}, 2), make(chan struct{})
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, reader{func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		entered <- struct{}{}
		<-release
		return echo(ctx, req)
	}}, bot.Options{Connections: 1})
	d := r.slash("look twice")
	r.await("the first delivery's handler", entered)
	if err := r.slack.Redeliver(d.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	r.await("the second delivery's handler", entered)
	close(release)
	r.wait("both acks", func() bool { return len(r.slack.Acks(d.EnvelopeID)) >= 2 })
	for _, ack := range r.slack.Acks(d.EnvelopeID) {
		if got := ackText(t, ack); got != "you said look twice" {
			t.Errorf("a delivery of the read was acked %q", got)
		}
	}
}
