package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"

	"github.com/runbookhq/runbook"
)

// groupCommit lets writes that arrive together share one transaction. SQLite has one
// writer; under a burst every worker's inbox write queued for it, and each paid a
// transaction of its own (begin, statement, commit: most of an envelope's cost).
// Here the first writer to find the writer free commits, in one transaction, every
// write that queued while the previous transaction ran, and wakes their callers only
// after the commit: each write is as durable, when its call returns, as it was alone.
//
// No goroutine of its own: the caller that finds no commit running leads one, and on
// finishing hands the lead to the oldest write still queued, so a caller never commits
// more than the one batch it joined.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupWrite
	leading bool // a caller is committing a batch
	// queued, if set, hears the queue's length each time a write joins it (tests).
	queued func(n int)
}

// groupWrite is one caller's write, waiting for a batch.
type groupWrite struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *sql.Tx) error
	err error
	// wake receives true when the write is to lead the next batch, false once its batch
	// has committed or failed (err).
	wake chan bool
}

// maxGroup bounds a batch, so that a transaction holds the writer for a bounded time
// and a caller that queued behind a full batch waits for one batch, not all.
const maxGroup = 64

// write runs fn in a write transaction shared with the writes queued beside it and
// returns once that transaction has committed. An error that fn returns fails only its
// own write when it is ENOTFOUND (nothing was changed); any other error fails the
// batch, whose writes are then run again one transaction each, so that one write's
// failure is never another's.
func (g *groupCommit) write(ctx context.Context, db *DB, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := refuseReadOnly(ctx); err != nil {
		return err
	}
	w := &groupWrite{ctx: ctx, fn: unpanicked(fn), wake: make(chan bool, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.queued != nil {
		g.queued(len(g.queue))
	}
	if g.leading {
		g.mu.Unlock()
		if lead := <-w.wake; !lead {
			return w.err
		}
		g.mu.Lock()
	}
	g.leading = true
	g.mu.Unlock()
	// Let the goroutines that are ready to run reach their own writes first. Under a
	// burst the bot is short of CPU, not of the writer: without this yield a batch held
	// 1.2 writes on average, with it 6, and a burst of 4,000 commands took ~25 % less
	// time (BENCHMARKS.md). With nothing else to run it returns at once.
	runtime.Gosched()
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	db.commitGroup(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].wake <- true // it leads the next batch; leading stays set
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	for _, other := range batch {
		if other != w {
			other.wake <- false
		}
	}
	return w.err
}

// commitGroup runs a batch in one transaction, setting each write's err. A write whose
// context ended while it queued is not run.
func (db *DB) commitGroup(batch []*groupWrite) {
	// The transaction is not any one caller's: a caller giving up must not roll back
	// the others' writes.
	ctx := context.Background()
	err := db.update(ctx, func(tx *sql.Tx) error {
		for _, w := range batch {
			w.err = nil
			if err := w.ctx.Err(); err != nil {
				w.err = fmt.Errorf("not written: %w", err)
				continue
			}
			if err := w.fn(ctx, tx); err != nil {
				if runbook.ErrorCode(err) != runbook.ENOTFOUND {
					return err
				}
				w.err = err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	if len(batch) == 1 {
		batch[0].err = err
		return
	}
	for _, w := range batch {
		if cerr := w.ctx.Err(); cerr != nil {
			w.err = fmt.Errorf("not written: %w", cerr)
			continue
		}
		w.err = db.update(w.ctx, func(tx *sql.Tx) error { return w.fn(w.ctx, tx) })
	}
}

// unpanicked turns a panic in fn into its error. fn may run on another caller's
// goroutine, the batch's leader: a panic there would unwind past the hand-off to the
// next leader and leave every later write waiting for ever.
func unpanicked(fn func(ctx context.Context, tx *sql.Tx) error) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic in a grouped write: %v", r)
			}
		}()
		return fn(ctx, tx)
	}
}
