package bot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// MaxConnections is how many Socket Mode connections Slack lets one app hold.
const MaxConnections = 10

// SocketFactory makes a Socket Mode client with the given options added to its own;
// the bot makes one per connection.
type SocketFactory func(opts ...socketmode.Option) *socketmode.Client

// link is one Socket Mode connection: its own socketmode.Client, whose acks go out on
// the connection the envelope came on, and the goroutine draining its events.
type link struct {
	id     int
	socket *socketmode.Client
	ctx    context.Context
	stop   context.CancelFunc
	up     atomic.Bool
	// planned says the link is one of the bot's first or replaces a connection Slack
	// refreshed; connects counts its connections (slack-go redials a lost one).
	planned  bool
	connects atomic.Int32
	// retiring is set once Slack announced it will close the connection: the link
	// still acks what it received, and is stopped when the connection ends.
	retiring atomic.Bool
}

// linkEvent is what a link tells the pool.
type linkEvent struct {
	l      *link
	notice string // Slack announced a disconnect, for this reason
	ended  bool   // a retiring link's connection ended
	exited bool   // the link's client returned
	err    error
}

// links keeps the bot's Socket Mode connections: Options.Connections of them, each
// replaced when Slack announces it will close it, before it closes.
type links struct {
	b      *Bot
	events chan linkEvent
	up     atomic.Int64 // links with a live connection
	nextID int
	live   map[*link]bool
	wg     sync.WaitGroup
}

func newLinks(b *Bot) *links {
	return &links{b: b, events: make(chan linkEvent, 4*MaxConnections), live: map[*link]bool{}}
}

// connected reports whether any connection is up.
func (p *links) connected() bool { return p.up.Load() > 0 }

// run keeps the connections until ctx ends, then stops them all. It returns the error
// that ends Socket Mode for good (a rejected token), or nil.
func (p *links) run(ctx context.Context) error {
	defer p.wg.Wait()
	defer func() {
		for l := range p.live {
			l.stop()
		}
	}()
	p.fill(ctx, true)
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-p.events:
			if err := p.handle(ctx, e); err != nil {
				return err
			}
		}
	}
}

func (p *links) handle(ctx context.Context, e linkEvent) error {
	log := p.b.log.With("connection", e.l.id)
	switch {
	case e.exited:
		delete(p.live, e.l)
		if e.err != nil && !errors.Is(e.err, context.Canceled) {
			return e.err
		}
		if ctx.Err() == nil {
			// A retired link's replacement may have waited for its slot; a link that
			// ended unannounced is replaced, which is a reconnect.
			p.fill(ctx, e.l.retiring.Load())
		}
	case e.ended:
		log.Info("Slack closed a refreshed connection")
		e.l.stop()
	case e.notice != "":
		if !p.live[e.l] || e.l.retiring.Swap(true) {
			return nil
		}
		log.Info("Slack will close a connection; opening its replacement first", "reason", e.notice)
		p.fill(ctx, true)
		p.wg.Go(func() { p.retireLater(e.l) })
	}
	return nil
}

// retireLater stops a retiring link if Slack has not closed it within RetireAfter:
// by then its envelopes are long acked.
func (p *links) retireLater(l *link) {
	t := time.NewTimer(p.b.opts.RetireAfter)
	defer t.Stop()
	select {
	case <-t.C:
		p.b.log.Info("closing a refreshed connection Slack left open", "connection", l.id)
		l.stop()
	case <-l.ctx.Done():
	}
}

// fill opens links until Options.Connections of them are not retiring, within
// Slack's limit on open connections: with every slot taken, a replacement waits for a
// retiring link to close. planned says the new links are the bot's first or replace
// connections Slack refreshed, rather than ones that were lost.
func (p *links) fill(ctx context.Context, planned bool) {
	serving := 0
	for l := range p.live {
		if !l.retiring.Load() {
			serving++
		}
	}
	for ; serving < p.b.opts.Connections && len(p.live) < MaxConnections; serving++ {
		p.open(ctx, planned)
	}
}

// open starts a new link.
func (p *links) open(ctx context.Context, planned bool) {
	p.nextID++
	l := &link{id: p.nextID, planned: planned}
	l.ctx, l.stop = context.WithCancel(ctx)
	l.socket = p.b.newSocket(socketmode.OptionDialer(linkDialer(p.b.dialer, p.b.opts.Liveness, func(reason string) {
		p.tell(linkEvent{l: l, notice: reason})
	}, func() {
		// A connection Slack refreshed must not be redialled: stop before slack-go can.
		if l.retiring.Load() {
			l.stop()
		}
	})))
	p.live[l] = true
	exited := make(chan error, 1)
	p.wg.Go(func() { exited <- l.socket.RunContext(l.ctx) })
	p.wg.Go(func() {
		p.read(l, exited)
	})
}

// tell hands an event to the pool without blocking a connection's reader.
func (p *links) tell(e linkEvent) {
	select {
	case p.events <- e:
	case <-e.l.ctx.Done():
	}
}

// read drains a link's events until its client returns. It must never stall: slack-go
// stops reading the websocket while its event channel is full, and a connection that
// is not read misses Slack's pings and is dropped.
func (p *links) read(l *link, exited <-chan error) {
	for {
		select {
		case err := <-exited:
			p.setUp(l, false)
			p.events <- linkEvent{l: l, exited: true, err: err} // buffered beyond the links' number
			return
		case evt := <-l.socket.Events:
			if l.retiring.Load() && connectionEnded(evt.Type) {
				l.stop()
				p.setUp(l, false)
				p.tell(linkEvent{l: l, ended: true})
				continue
			}
			p.b.observe(l, evt)
		}
	}
}

// connectionEnded says whether a socket event means the connection it was on is gone.
func connectionEnded(t socketmode.EventType) bool {
	return t == socketmode.EventTypeConnecting || t == socketmode.EventTypeIncomingError ||
		t == socketmode.EventTypeDisconnect
}

func (p *links) setUp(l *link, up bool) {
	if l.up.Swap(up) != up {
		if up {
			p.up.Add(1)
		} else {
			p.up.Add(-1)
		}
	}
}
