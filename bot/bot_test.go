package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/store"
)

// rig is a bot with a test handler, connected to the emulator through the real
// slack-go client, on a store of its own; the emulator and the store come from the
// test kit.
type rig struct {
	t       *testing.T
	ws      *apptest.Workspace
	slack   *slackfake.Server
	db      *store.DB
	dbPath  string
	user    slackfake.User
	channel slackfake.Channel
	cancel  context.CancelFunc
	done    chan error
}

func newRig(t *testing.T, handler runbook.HandlerFunc, opts bot.Options) *rig {
	t.Helper()
	return newRigOn(t, slackfake.Options{AckTimeout: time.Second}, handler, opts)
}

// newRigOn is newRig on an emulator with the given options.
func newRigOn(t *testing.T, emulator slackfake.Options, handler runbook.Handler, opts bot.Options) *rig {
	t.Helper()
	ws := apptest.NewWorkspace(t, emulator)
	path := filepath.Join(t.TempDir(), "bot.db")
	r := &rig{t: t, ws: ws, slack: ws.Slack, db: apptest.OpenStore(t, path), dbPath: path}
	r.user = ws.Person("alice")
	r.channel = ws.Channel("ops", "alice")
	r.startHandler(handler, opts)
	return r
}

func (r *rig) start(handler runbook.HandlerFunc, opts bot.Options) { r.startHandler(handler, opts) }

// startHandler is start with any handler, e.g. one that is also a runbook.Reader.
func (r *rig) startHandler(handler runbook.Handler, opts bot.Options) {
	if opts.Connections == 0 {
		// Slack orders envelopes only within a connection; tests of what happens in
		// order (a full queue, a busy channel) hold one.
		opts.Connections = 1
	}
	api := slack.New(r.slack.BotToken(), slack.OptionAppLevelToken(r.slack.AppToken()), slack.OptionAPIURL(r.slack.APIURL()))
	b := bot.New(func(o ...socketmode.Option) *socketmode.Client { return socketmode.New(api, o...) }, slackapi.New(api, nil, nil), handler, r.db.Inbox(), opts)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- b.Run(ctx) }()
	r.t.Cleanup(r.stop)
	r.wait("connection", func() bool { return r.slack.Connections() > 0 })
}

// stop stops the bot and waits for Run to return.
func (r *rig) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		r.t.Errorf("Run: %v", err)
	}
}

// wait waits until cond holds, waking at every change in the emulator and every few
// milliseconds for the store; it fails the test after the kit's patience.
func (r *rig) wait(what string, cond func() bool) {
	r.t.Helper()
	if err := apptest.WaitWithin(apptest.Patience, r.slack, cond); err != nil {
		r.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waitEphemeral waits until the person sees text in an answer only they see: one the
// bot sent after the ack, through the response_url.
func (r *rig) waitEphemeral(text string) {
	r.t.Helper()
	r.wait("the answer "+strconv.Quote(text), func() bool {
		return slices.Contains(texts(r.slack.Ephemerals(r.channel.ID, r.user.ID)), text)
	})
}

// await waits for a signal from a handler.
func (r *rig) await(what string, ch <-chan struct{}) {
	r.t.Helper()
	select {
	case <-ch:
	case <-time.After(apptest.Patience):
		r.t.Fatalf("waiting for %s: timed out", what)
	}
}

func (r *rig) ack(d *slackfake.Delivery) slackfake.Ack {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), apptest.Patience)
	defer cancel()
	ack, err := d.WaitAck(ctx)
	if err != nil {
		r.t.Fatalf("no ack for %s: %v", d.EnvelopeID, err)
	}
	return ack
}

func (r *rig) slash(text string) *slackfake.Delivery {
	return r.slack.SlashCommand(r.user.ID, r.channel.ID, "/runbook", text)
}

func echo(_ context.Context, req *runbook.Request) (*runbook.Reply, error) {
	return &runbook.Reply{Text: "you said " + req.Text}, nil
}

func ackText(t *testing.T, ack slackfake.Ack) string {
	t.Helper()
	var m struct{ Text string }
	if len(ack.Payload) > 0 {
		if err := json.Unmarshal(ack.Payload, &m); err != nil {
			t.Fatal(err)
		}
	}
	return m.Text
}

func TestSlowAnswerIsAckedFirstThenSent(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		<-release
		return echo(ctx, req)
	}, bot.Options{AckBudget: 50 * time.Millisecond})
	d := r.slash("slow one")
	if ack := r.ack(d); len(ack.Payload) != 0 {
		t.Fatalf("ack carried %s before the handler answered", ack.Payload)
	}
	close(release)
	r.waitEphemeral("you said slow one")
}

func TestHandlerPanicIsAnsweredAndTheBotGoesOn(t *testing.T) {
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		if req.Text == "boom" {
			panic("kaboom")
		}
		return echo(ctx, req)
	}, bot.Options{})
	if got := ackText(t, r.ack(r.slash("boom"))); !strings.Contains(got, "Something went wrong") || strings.Contains(got, "kaboom") {
		t.Fatalf("answer to a panic = %q; want a generic sentence without internals", got)
	}
	if got := ackText(t, r.ack(r.slash("still there?"))); got != "you said still there?" {
		t.Fatalf("after a panic, answer = %q", got)
	}
}

func TestMalformedEnvelopesAreDroppedCleanly(t *testing.T) {
	r := newRig(t, echo, bot.Options{})
	bad := []struct {
		typ     string
		payload any
	}{
		{"slash_commands", map[string]any{"text": "no user or channel"}},
		{"slash_commands", "not an object"},
		{"interactive", map[string]any{"type": "block_actions", "user": map[string]any{"id": "U1"}}},
		{"events_api", map[string]any{"type": "event_callback", "event": map[string]any{"type": "reaction_added"}}},
		{"something_new", map[string]any{}},
	}
	for _, b := range bad {
		d := r.slack.Send(b.typ, b.payload, true)
		if ack := r.ack(d); len(ack.Payload) != 0 {
			t.Errorf("%s %v: acked with %s, want a plain ack", b.typ, b.payload, ack.Payload)
		}
	}
	if got := ackText(t, r.ack(r.slash("ok"))); got != "you said ok" {
		t.Fatalf("after malformed envelopes, answer = %q", got)
	}
}

func TestBusyBotSaysSo(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		started <- struct{}{}
		<-release
		return echo(ctx, req)
	}, bot.Options{Workers: 1, Queue: 1, AckBudget: 20 * time.Millisecond})
	defer close(release)
	r.ack(r.slash("first")) // taken by the one worker, acked after the budget
	// The handler runs apart from the ack: it may start after the ack is sent.
	r.await("the worker to be busy", started)
	r.slash("second") // waits in the queue
	third := r.slash("third")
	if got := ackText(t, r.ack(third)); !strings.Contains(got, "busy") {
		t.Fatalf("with every worker and slot taken, answer = %q; want a busy message", got)
	}
}

func TestShutdownFinishesInFlightWork(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		close(entered)
		<-release
		return echo(ctx, req)
	}, bot.Options{AckBudget: 2 * time.Second, ShutdownTimeout: 10 * time.Second})
	d := r.slash("in flight")
	r.await("the handler to start", entered)
	r.cancel()
	r.cancel = nil
	close(release)
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	if got := ackText(t, r.ack(d)); got != "you said in flight" {
		t.Fatalf("in-flight command answered %q after a stop signal", got)
	}
}

func TestShutdownTimeoutInterruptsAndResumesLater(t *testing.T) {
	entered := make(chan struct{}, 1)
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		entered <- struct{}{}
		<-ctx.Done() // never finishes on its own
		return nil, ctx.Err()
	}, bot.Options{AckBudget: 20 * time.Millisecond, ShutdownTimeout: 100 * time.Millisecond})
	d := r.slash("stuck")
	r.await("the handler to start", entered)
	r.ack(d) // acked empty once the budget ran out
	r.stop()
	if ephemerals := r.slack.Ephemerals(r.channel.ID, r.user.ID); len(ephemerals) != 0 {
		t.Fatalf("an interrupted command was answered: %+v", ephemerals)
	}

	// The next process finishes it, answering through the response_url.
	r.start(echo, bot.Options{})
	r.waitEphemeral("you said stuck")
}

// TestRefreshLosesNoCommand sends slash commands around Slack's refresh warning, with
// handlers slow enough to be in flight when it comes: each is answered in its ack, on
// the connection it came on (the emulator ignores an ack on any other).
func TestRefreshLosesNoCommand(t *testing.T) {
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		time.Sleep(200 * time.Millisecond)
		return echo(ctx, req)
	}, bot.Options{Connections: 2})
	r.wait("two connections", func() bool { return r.slack.Connections() == 2 })
	var sent []*slackfake.Delivery
	for round := range 3 {
		connects := r.slack.ConnectCount()
		for i := range 5 {
			sent = append(sent, r.slash(fmt.Sprintf("before %d %d", round, i)))
		}
		r.slack.Disconnect("warning", 500*time.Millisecond)
		for i := range 5 {
			sent = append(sent, r.slash(fmt.Sprintf("after %d %d", round, i)))
		}
		r.wait("the warned connections replaced and closed", func() bool {
			return r.slack.ConnectCount() >= connects+2 && r.slack.Connections() == 2
		})
	}
	for _, d := range sent {
		if got := ackText(t, r.ack(d)); !strings.HasPrefix(got, "you said ") {
			t.Errorf("slash command %s answered %q", d.EnvelopeID, got)
		}
	}
	if n := r.slack.IgnoredAcks(); n != 0 {
		t.Errorf("%d acks came on another connection than their envelope", n)
	}
}

// TestRefreshAtSlacksLimitKeepsEveryConnection: with all ten of Slack's connections in
// use, a refreshed connection's replacement waits for its slot instead of being refused
// as an eleventh, and the bot is back to ten once Slack closed the old one.
func TestRefreshAtSlacksLimitKeepsEveryConnection(t *testing.T) {
	r := newRig(t, echo, bot.Options{Connections: bot.MaxConnections})
	r.wait("ten connections", func() bool { return r.slack.Connections() == bot.MaxConnections })
	connects := r.slack.ConnectCount()
	if !r.slack.Refresh(100 * time.Millisecond) {
		t.Fatal("no connection to refresh")
	}
	r.wait("the refreshed connection replaced", func() bool {
		return r.slack.ConnectCount() == connects+1 && r.slack.Connections() == bot.MaxConnections
	})
	if n := r.slack.Refused(); n != 0 {
		t.Errorf("%d connections refused as more than Slack's %d", n, bot.MaxConnections)
	}
	if got := ackText(t, r.ack(r.slash("still here"))); got != "you said still here" {
		t.Errorf("after the refresh a command was answered %q", got)
	}
}

// TestEventIsAckedOnceRecorded: an event's ack carries nothing, so it goes out as soon
// as the event is recorded in the inbox, while its handler still runs; if the process
// stops before the handler is done, the next one handles it, once, and Slack never
// sends it again.
func TestEventIsAckedOnceRecorded(t *testing.T) {
	entered := make(chan struct{}, 1)
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		entered <- struct{}{}
		<-ctx.Done() // finishes only when shutdown gives up on it
		return nil, ctx.Err()
	}, bot.Options{AckBudget: time.Minute, ShutdownTimeout: 100 * time.Millisecond})
	d := r.slack.Mention(r.user.ID, r.channel.ID, "are you there", "")
	r.await("the handler to start", entered)
	if ack := r.ack(d); len(ack.Payload) != 0 {
		t.Fatalf("event acked with %s", ack.Payload)
	}
	r.stop()

	handled := make(chan string, 4)
	r.start(func(_ context.Context, req *runbook.Request) (*runbook.Reply, error) {
		handled <- req.ID
		return nil, nil
	}, bot.Options{})
	select {
	case <-handled:
	case <-time.After(apptest.Patience):
		t.Fatal("the next process did not handle the event the previous one acked")
	}
	r.stop()
	if len(handled) != 0 || d.Attempts() != 1 {
		t.Fatalf("event handled again (%d more) or sent again (%d attempts)", len(handled), d.Attempts())
	}
}

// TestRedeliveredEventRunsItsHandlerOnce: an event acked as soon as it is recorded is
// still handled once, however often Slack (or someone replaying it) sends it again —
// while its handler runs, and after it is done.
func TestRedeliveredEventRunsItsHandlerOnce(t *testing.T) {
	var calls atomic.Int32
	entered, release := make(chan struct{}, 4), make(chan struct{})
	r := newRig(t, func(context.Context, *runbook.Request) (*runbook.Reply, error) {
		calls.Add(1)
		entered <- struct{}{}
		<-release
		return nil, nil
	}, bot.Options{})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	d := r.slack.Mention(r.user.ID, r.channel.ID, "are you there", "")
	r.await("the handler to start", entered)
	for n := 2; n <= 3; n++ { // twice while the handler runs
		if err := r.slack.Redeliver(d.EnvelopeID); err != nil {
			t.Fatal(err)
		}
		r.wait("the redelivery's ack", func() bool { return len(r.slack.Acks(d.EnvelopeID)) >= n })
	}
	close(release)
	r.wait("the event recorded as handled", func() bool {
		unfinished, err := r.db.Inbox().Unfinished(context.Background())
		return err == nil && len(unfinished) == 0
	})
	if err := r.slack.Redeliver(d.EnvelopeID); err != nil { // and once after
		t.Fatal(err)
	}
	r.wait("the last redelivery's ack", func() bool { return len(r.slack.Acks(d.EnvelopeID)) >= 4 })
	r.stop() // a second run of the handler would have begun by the time the workers stop
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times for one event sent 4 times", n)
	}
}
