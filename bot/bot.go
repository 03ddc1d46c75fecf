// Package bot owns how Slack's requests reach Runbook — its Socket Mode connections, or
// in HTTP mode the signed request URLs — and the one pipeline behind both: it acks
// every envelope within Slack's deadline, recognises redeliveries, turns envelopes
// into runbook.Requests and hands them to a bounded pool of workers, and shuts down
// without losing work.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runbookhq/runbook"
)

// Options tune the bot. Zero values take the defaults.
type Options struct {
	// Workers is how many requests are handled at once (default 8).
	Workers int
	// Queue is how many accepted requests may wait for a worker (default 256).
	Queue int
	// AckBudget is how long a handler may take to put its answer in the ack of a slash
	// command; slower answers are acked empty and sent afterwards (default 2 s, under
	// Slack's 3 s deadline).
	AckBudget time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take to finish after a stop
	// signal (default 10 s).
	ShutdownTimeout time.Duration
	// AckTimeout bounds how long an ack may wait for a connection (default 5 s); an ack
	// that cannot go out is redelivered by Slack and recognised then.
	AckTimeout time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
	// Observer hears envelopes, acks and failures (metrics); Liveness, when the socket
	// was dialled through its Dialer, says when Slack was last heard from.
	Observer Observer
	Liveness *Liveness
	// Connections is how many Socket Mode connections the bot holds at once (default 2,
	// at most MaxConnections). When Slack announces that it will close one, the bot opens
	// its replacement first and keeps the old one until Slack closes it, so that no
	// envelope in flight on it is lost.
	Connections int
	// RetireAfter is how long a connection Slack announced it will close may stay open
	// if Slack does not close it (default 30 s; Slack closes it about 10 s after).
	RetireAfter time.Duration
	// Refuse, when it returns an error, turns every new request away with that error's
	// sentence, before anything is recorded: the app's answer when its database can no
	// longer keep what the bot does.
	Refuse func() error
	// Admit, when it returns an error, answers a new command or mention with that
	// error's sentence instead of handling it (the executor's bounds: runs queued, a
	// person's runs under way); MaxOwed, when above 0, does the same while more
	// replies than that wait in the outbox or in the Slack adapter.
	Admit   func(ctx context.Context, userID string) error
	MaxOwed int
	// SlackPending counts the Slack calls waiting for their rate budget or in flight
	// (slackapi.Client.Pending), counted against MaxOwed with the outbox's replies.
	SlackPending func() int
}

func (o *Options) setDefaults() {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.AckBudget <= 0 {
		o.AckBudget = 2 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	if o.Connections <= 0 {
		o.Connections = 2
	}
	o.Connections = min(o.Connections, MaxConnections)
	if o.RetireAfter <= 0 {
		o.RetireAfter = 30 * time.Second
	}
}

// ackFlushGrace is how long the connection stays open after the last worker finished.
const ackFlushGrace = 250 * time.Millisecond

// Bot is a running Socket Mode bot.
type Bot struct {
	newSocket SocketFactory
	dialer    socketDialer // under every Socket Mode connection
	links     *links
	slack     runbook.Slack
	handler   runbook.Handler
	inbox     runbook.Inbox
	opts      Options
	log       *slog.Logger

	identity runbook.Identity
	// out delivers what acks cannot carry; it exists while Run runs.
	out *outbox

	// mu guards sends on jobs against its close when draining begins.
	mu       sync.RWMutex
	jobs     chan job
	draining bool

	inflightMu sync.Mutex
	inflight   map[string]bool

	// serving is set while Run takes requests: the identity is known and the workers
	// are up. The HTTP receiver turns requests away before and after.
	serving atomic.Bool

	// acks tracks acks sent outside a worker, so that shutdown waits for them.
	acks sync.WaitGroup
}

// job is one envelope waiting for a worker. Resumed jobs were acked by an earlier
// process, which died before finishing them.
type job struct {
	env envelope
	// via is the way back to Slack of the transport it came by — the Socket Mode
	// connection, which alone can ack it, or the HTTP request waiting for its
	// response; nil if resumed. Nothing else in the pipeline knows the transport.
	via      acker
	resumed  bool
	received time.Time
}

// New returns a bot that reads envelopes from the Socket Mode clients newSocket makes,
// answers through slack, and remembers envelopes in inbox. With a nil newSocket it
// opens no Socket Mode connection: requests come only through its HTTPReceiver.
func New(newSocket SocketFactory, slack runbook.Slack, handler runbook.Handler, inbox runbook.Inbox, opts Options) *Bot {
	opts.setDefaults()
	b := &Bot{
		newSocket: newSocket,
		dialer:    environmentDialer(),
		slack:     slack,
		handler:   handler,
		inbox:     inbox,
		opts:      opts,
		log:       opts.Logger,
		jobs:      make(chan job, opts.Queue),
		inflight:  make(map[string]bool),
	}
	b.links = newLinks(b)
	return b
}

// Connected reports whether a Socket Mode connection is up.
func (b *Bot) Connected() bool { return b.links.connected() }

// Identity is who the bot is; it is known once Run has started.
func (b *Bot) Identity() runbook.Identity { return b.identity }

// Run connects and serves until ctx is cancelled, then stops taking work, lets
// in-flight requests finish within the shutdown timeout, and returns nil. It returns an
// error if Slack rejects the tokens.
func (b *Bot) Run(ctx context.Context) error {
	id, err := b.slack.Identify(ctx)
	if err != nil {
		return fmt.Errorf("check bot token: %w", err)
	}
	b.identity = id
	b.log.Info("starting", "team", id.Team, "bot_user", id.BotUserID)

	// The connection and the workers outlive ctx: they are stopped in order below, so
	// that in-flight work can still ack after the stop signal.
	connCtx, stopConn := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConn()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	outCtx, stopOut := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOut()
	b.out = newOutbox(outCtx, b.slack, b.inbox, b.log, b.opts.Observer, b.opts.Now)

	var workers sync.WaitGroup
	for range b.opts.Workers {
		workers.Go(func() {
			for j := range b.jobs {
				b.process(workCtx, j)
			}
		})
	}
	b.resumeUndelivered(ctx)
	b.resumeUnfinished(ctx)
	b.serving.Store(true)

	var background sync.WaitGroup
	socketErr := make(chan error, 1)
	if b.newSocket != nil {
		background.Go(func() { socketErr <- b.links.run(connCtx) })
	}
	background.Go(func() { b.prune(connCtx) })

	var runErr error
	select {
	case <-ctx.Done():
		b.log.Info("stopping: finishing in-flight requests", "timeout", b.opts.ShutdownTimeout)
	case err := <-socketErr:
		runErr = explainSocketError(err)
	}
	// The last ack needs a moment to flush after the work ends: the work gets what
	// remains of the shutdown timeout after that moment.
	deadline := time.Now().Add(max(b.opts.ShutdownTimeout-ackFlushGrace, 0))
	b.drain(&workers, stopWork, deadline)
	b.acks.Wait()
	// slack-go's Ack returns once the ack is queued, not once it is written, and its
	// sender drops the queue when the connection closes: give it a moment to flush the
	// last acks so that handled slash commands do not end as dispatch_failed. Replies
	// still queued are sent meanwhile.
	flushed := time.After(ackFlushGrace)
	b.out.wait(deadline, stopOut)
	if runErr == nil {
		<-flushed
	}
	stopConn()
	background.Wait()
	return runErr
}

// drain stops taking envelopes and waits for the workers, cancelling their context if
// they outlast the deadline.
func (b *Bot) drain(workers *sync.WaitGroup, stopWork context.CancelFunc, deadline time.Time) {
	b.serving.Store(false)
	b.mu.Lock()
	b.draining = true
	close(b.jobs)
	b.mu.Unlock()

	waitOrCancel(workers, deadline, func() {
		b.log.Warn("shutdown timeout: cancelling in-flight requests")
		stopWork()
	})
}

// waitOrCancel waits for wg; if it is not done by deadline, it calls cancel, which must
// make what wg waits for return soon, and goes on waiting.
func waitOrCancel(wg *sync.WaitGroup, deadline time.Time, cancel func()) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
		cancel()
	}
	<-done
}

// enqueue hands an envelope to the workers without blocking the reader. It reports
// false when the queue is full or the bot is stopping.
func (b *Bot) enqueue(j job) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.draining {
		return false
	}
	select {
	case b.jobs <- j:
		return true
	default:
		return false
	}
}

// begin marks a request as being handled in this process; it reports false if it is
// already, e.g. when Slack redelivers an envelope whose handler is still running.
func (b *Bot) begin(id string) bool {
	b.inflightMu.Lock()
	defer b.inflightMu.Unlock()
	if b.inflight[id] {
		return false
	}
	b.inflight[id] = true
	return true
}

func (b *Bot) end(id string) {
	b.inflightMu.Lock()
	defer b.inflightMu.Unlock()
	delete(b.inflight, id)
}

// resumeUndelivered queues the replies an earlier process owed but did not send.
func (b *Bot) resumeUndelivered(ctx context.Context) {
	envs, err := b.inbox.Undelivered(ctx)
	if err != nil {
		b.log.Error("list undelivered replies", "err", err)
		return
	}
	for _, e := range envs {
		d, err := decodeDelivery(e.ID, e.Delivery)
		if err != nil {
			b.log.Error("dropping a reply that cannot be read", "request", e.ID, "err", err)
			if err := b.inbox.Delivered(ctx, e.ID); err != nil {
				b.log.Warn("cannot forget an unreadable reply", "request", e.ID, "err", err)
			}
			continue
		}
		b.log.Info("resuming reply", "request", e.ID, "kind", d.Kind)
		d.resumed = true
		b.out.enqueue(d)
	}
}

// resumeUnfinished queues the envelopes an earlier process acked but did not finish.
func (b *Bot) resumeUnfinished(ctx context.Context) {
	envs, err := b.inbox.Unfinished(ctx)
	if err != nil {
		b.log.Error("list unfinished requests", "err", err)
		return
	}
	for _, e := range envs {
		b.log.Info("resuming request", "request", e.ID, "type", e.Type)
		j := job{env: envelope{EnvelopeID: e.ID, Type: e.Type, Payload: e.Payload}, resumed: true}
		select {
		case b.jobs <- j:
		case <-ctx.Done():
			return
		}
	}
}

// pruneAfter is how long a handled envelope is remembered. Slack redelivers an unacked
// event for about five minutes (at once, after ~1 min, after ~5 min); a day is far
// beyond that, and keeps the de-duplication table to a day's traffic.
const pruneAfter = 24 * time.Hour

// prune forgets handled envelopes once Slack can no longer redeliver them: once at
// start — a bot restarted more often than hourly would otherwise never prune — then
// hourly. It runs beside the connection, so it never delays serving.
func (b *Bot) prune(ctx context.Context) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		n, err := b.inbox.Prune(ctx, b.opts.Now().Add(-pruneAfter))
		switch {
		case err != nil && ctx.Err() == nil:
			b.log.Warn("prune handled envelopes", "err", err)
		case n > 0:
			b.log.Info("pruned handled envelopes", "count", n, "older_than", pruneAfter)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// acker acknowledges an envelope by the way it came, with an optional response
// payload: on the Socket Mode connection that carried it (Slack ignores an ack on any
// other), or as the body of the HTTP response Slack is waiting for.
type acker interface {
	ack(envelopeID string, payload []byte, timeout time.Duration) error
}

// ack acknowledges an envelope by the way it came. It never blocks for longer than the
// ack timeout: an ack that cannot go out makes Slack redeliver, and the redelivery is
// recognised.
func (b *Bot) ack(via acker, env envelope, payload []byte) {
	if via == nil {
		return // acked by an earlier process
	}
	if err := via.ack(env.EnvelopeID, payload, b.opts.AckTimeout); err != nil {
		b.log.Warn("ack failed; Slack will redeliver", "envelope", env.EnvelopeID, "err", err)
	}
}

// ack sends a Socket Mode ack on the link's connection.
func (l *link) ack(envelopeID string, payload []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	var body any
	if len(payload) > 0 {
		body = json.RawMessage(payload)
	}
	return l.socket.AckCtx(ctx, envelopeID, body)
}

// ackJob acks a job's envelope and records how long it waited.
func (b *Bot) ackJob(j job, payload []byte) {
	b.ack(j.via, j.env, payload)
	if !j.received.IsZero() {
		b.opts.Observer.Acked(time.Since(j.received))
	}
}

// explainSocketError turns the errors that end Socket Mode for good into sentences.
func explainSocketError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	switch err.Error() {
	case "invalid_auth", "not_authed":
		return errors.New("slack rejected the app-level token (invalid_auth): check slack.appToken (an xapp- token with connections:write)")
	case "account_inactive", "token_revoked":
		return fmt.Errorf("slack says the app-level token is no longer valid (%s): create a new one", err)
	}
	return fmt.Errorf("socket mode: %w", err)
}
