package slackapi

import (
	"context"
	"errors"
	"sync"
	"time"
)

// missTrust is how long a complete pass over a directory is trusted to say a name is
// not there. conversations.list and users.list are tier-2 methods (20 calls a minute)
// and a workspace of 10,000 people takes 10 pages of users.list: without this bound,
// every look-up of an unknown @handle — "@oncall" is tried as a user on every click —
// would page the whole workspace again. A person or channel added in Slack within this
// long of the last pass is found on the next one.
const missTrust = time.Minute

// directory is a whole list that Slack hands out only in pages — people by username,
// channels by name — read in one pass and shared: concurrent look-ups that miss wait
// for the same pass instead of each paging the workspace.
type directory[V any] struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry[V]
	// passed is when the last complete pass started: a name it did not hold was not in
	// Slack then.
	passed  time.Time
	running *pass
	waiting int // callers waiting for the running pass
}

type entry[V any] struct {
	value V
	at    time.Time
}

// pass is one paging through a directory; done is closed when it ends, with err set.
type pass struct {
	started time.Time
	done    chan struct{}
	err     error
}

func newDirectory[V any](now func() time.Time) *directory[V] {
	return &directory[V]{now: now, entries: map[string]entry[V]{}}
}

// find looks name up. An entry is trusted for lookupTTL. A miss is answered from a
// complete pass that started at or after since; otherwise find joins the pass under
// way, or runs list itself (in the caller's goroutine) while other callers wait for it.
// found is false, with a nil error, when such a pass did not hold the name.
func (d *directory[V]) find(ctx context.Context, name string, since time.Time,
	list func(context.Context) (map[string]V, error)) (value V, found bool, err error) {
	for {
		d.mu.Lock()
		now := d.now()
		if e, ok := d.entries[name]; ok && now.Sub(e.at) < lookupTTL {
			d.mu.Unlock()
			return e.value, true, nil
		}
		if !d.passed.IsZero() && !d.passed.Before(since) && now.Sub(d.passed) < lookupTTL {
			d.mu.Unlock()
			return value, false, nil
		}
		if p := d.running; p != nil {
			d.waiting++
			d.mu.Unlock()
			select {
			case <-p.done:
			case <-ctx.Done():
			}
			d.mu.Lock()
			d.waiting--
			d.mu.Unlock()
			if ctx.Err() != nil {
				return value, false, ctx.Err()
			}
			if p.err != nil && !(ctx.Err() == nil && (errors.Is(p.err, context.Canceled) || errors.Is(p.err, context.DeadlineExceeded))) {
				return value, false, p.err
			}
			// The pass may have started before since, or ended with its own caller's
			// deadline while this caller still has time: look again (and page, if
			// need be).
			continue
		}
		p := &pass{started: now, done: make(chan struct{})}
		d.running = p
		d.mu.Unlock()

		all, err := list(ctx)

		d.mu.Lock()
		d.running = nil
		if err == nil {
			fresh := make(map[string]entry[V], len(all))
			for k, v := range all {
				fresh[k] = entry[V]{value: v, at: p.started}
			}
			// Entries put during the pass (a channel just created) are newer than it.
			for k, e := range d.entries {
				if e.at.After(p.started) {
					fresh[k] = e
				}
			}
			d.entries, d.passed = fresh, p.started
		}
		p.err = err
		close(p.done)
		d.mu.Unlock()
		if err != nil {
			return value, false, err
		}
	}
}

// put remembers one entry learnt outside a pass (a channel the bot created).
func (d *directory[V]) put(name string, v V) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries[name] = entry[V]{value: v, at: d.now()}
}

// forget drops an entry found to be wrong (a renamed channel).
func (d *directory[V]) forget(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.entries, name)
}
