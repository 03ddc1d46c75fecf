package bot

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// Observer hears what the bot does, for metrics. Every method must be cheap and safe
// for concurrent use.
type Observer interface {
	Envelope(typ string)
	Acked(d time.Duration)
	HandlerError(kind string)
	Reconnected()
	// ReplyUndelivered counts a reply Slack refused for good, by reason.
	ReplyUndelivered(reason string)
	// HTTPRefused counts a request to the HTTP receiver turned away before it was
	// read, by reason (RefusedReasons).
	HTTPRefused(reason string)
	// Busy counts a request answered "busy — try again in a minute" instead of taken.
	Busy()
}

type noObserver struct{}

func (noObserver) Envelope(string)         {}
func (noObserver) Acked(time.Duration)     {}
func (noObserver) HandlerError(string)     {}
func (noObserver) Reconnected()            {}
func (noObserver) ReplyUndelivered(string) {}
func (noObserver) HTTPRefused(string)      {}
func (noObserver) Busy()                   {}

// Liveness notes when bytes last arrived from Slack on the socket. Slack pings every
// few seconds, so a socket that has been silent for longer than the ping interval is
// dead even if no one has noticed yet.
type Liveness struct {
	lastRead atomic.Int64 // unix nanoseconds
}

// LastRead is when Slack last sent anything; zero before the first connection.
func (l *Liveness) LastRead() time.Time {
	n := l.lastRead.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

type watchedConn struct {
	net.Conn
	l *Liveness
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.l.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// Serving reports whether Run is taking requests: Slack's auth.test passed and the
// workers are up.
func (b *Bot) Serving() bool { return b.serving.Load() }

// Healthy says whether the bot is connected and Slack was heard from within window.
// Without Socket Mode there is no connection to be up and Slack is silent between
// requests: the bot is healthy once it serves (auth.test passed at start).
func (b *Bot) Healthy(window time.Duration) error {
	if b.newSocket == nil {
		if !b.serving.Load() {
			return errors.New("not taking Slack's requests (starting or stopping)")
		}
		return nil
	}
	if !b.Connected() {
		return errors.New("not connected to Slack")
	}
	if b.opts.Liveness != nil {
		if last := b.opts.Liveness.LastRead(); time.Since(last) > window {
			return errors.New("no word from Slack for " + time.Since(last).Round(time.Second).String())
		}
	}
	return nil
}
