package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
)

// holdWriter makes a write that leads a batch and holds the writer until release is
// called, and makes the writes that queue behind it report the queue's length on the
// returned channel: they are then committed together, as one batch, once released.
func holdWriter(t *testing.T, db *DB) (queued <-chan int, release func()) {
	t.Helper()
	q := make(chan int, 64)
	db.inbox.mu.Lock()
	db.inbox.queued = func(n int) { q <- n }
	db.inbox.mu.Unlock()
	started, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.inbox.write(context.Background(), db, func(context.Context, *sql.Tx) error {
			close(started)
			<-hold
			return nil
		})
	}()
	<-started
	<-q // the holder itself
	return q, func() {
		close(hold)
		if err := <-done; err != nil {
			t.Errorf("holding write: %v", err)
		}
	}
}

func openGroupDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "runbook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Writes that queue together commit together, yet each is as if alone: a claim is
// committed when it returns, the second claim of an id in the same batch finds the
// first, and one write's failure is not its neighbours'.
func TestGroupedInboxWritesStayIndependent(t *testing.T) {
	db := openGroupDB(t)
	inbox := db.Inbox()
	ctx := context.Background()
	queued, release := holdWriter(t, db)

	type result struct {
		name  string
		prior *runbook.Envelope
		err   error
	}
	results := make(chan result, 8)
	var wg sync.WaitGroup
	claim := func(name, id string, ctx context.Context) {
		wg.Go(func() {
			prior, err := inbox.Claim(ctx, runbook.Envelope{ID: id, Type: "slash_commands", Payload: []byte(`{}`)})
			results <- result{name, prior, err}
		})
		<-queued // in the queue before the next one joins: the batch's order is known
	}
	boom := errors.New("disk on fire")
	claim("first", "E1", ctx)
	wg.Go(func() {
		err := db.inbox.write(ctx, db, func(context.Context, *sql.Tx) error { return boom })
		results <- result{name: "failing", err: err}
	})
	<-queued
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	claim("cancelled", "E3", cancelled)
	claim("again", "E1", ctx)
	claim("other", "E2", ctx)
	release()
	wg.Wait()
	close(results)

	got := map[string]result{}
	for r := range results {
		got[r.name] = r
	}
	if r := got["first"]; r.err != nil || r.prior != nil {
		t.Errorf("first claim of E1 = %+v, %v; want recorded as new", r.prior, r.err)
	}
	if r := got["again"]; r.err != nil || r.prior == nil || r.prior.ID != "E1" {
		t.Errorf("second claim of E1 in the same batch = %+v, %v; want the first's record", r.prior, r.err)
	}
	if r := got["other"]; r.err != nil || r.prior != nil {
		t.Errorf("claim of E2 = %+v, %v; want recorded as new despite a neighbour's failure", r.prior, r.err)
	}
	if r := got["failing"]; !errors.Is(r.err, boom) {
		t.Errorf("failing write returned %v, want its own error", r.err)
	}
	if r := got["cancelled"]; !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled claim returned %v, want context.Canceled", r.err)
	}
	// What each caller was told is what a reader sees.
	for id, want := range map[string]bool{"E1": true, "E2": true, "E3": false} {
		var n int
		if err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM envelopes WHERE id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != want {
			t.Errorf("envelope %s recorded: %v, want %v", id, n == 1, want)
		}
	}
}

// A caller that joined a batch returns only once the batch is committed: what its
// write did is visible to every reader by then.
func TestGroupedClaimIsCommittedWhenItReturns(t *testing.T) {
	db := openGroupDB(t)
	inbox := db.Inbox()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			id := "E" + string(rune('A'+i))
			if _, err := inbox.Claim(ctx, runbook.Envelope{ID: id, Type: "events_api", Payload: []byte(`{}`)}); err != nil {
				errs <- err
				return
			}
			var n int
			if err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM envelopes WHERE id = ?", id).Scan(&n); err != nil {
				errs <- err
				return
			}
			if n != 1 {
				errs <- errors.New("claim " + id + " returned before it was committed")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A write that panics fails itself, not the group: the writes queued beside it commit,
// and the writes after it are not left waiting for a leader that never hands over.
func TestGroupedWriteThatPanicsFailsAlone(t *testing.T) {
	db := openGroupDB(t)
	queued, release := holdWriter(t, db)
	results := make(chan error, 2)
	go func() {
		results <- db.inbox.write(context.Background(), db, func(context.Context, *sql.Tx) error { panic("a bug") })
	}()
	<-queued
	go func() {
		results <- db.inbox.write(context.Background(), db, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `CREATE TABLE survived (x)`)
			return err
		})
	}()
	<-queued
	release()
	var failed, ok int
	for range 2 {
		if err := <-results; err != nil {
			failed++
		} else {
			ok++
		}
	}
	if failed != 1 || ok != 1 {
		t.Fatalf("%d writes failed and %d succeeded; want the panicking one failed and its neighbour written", failed, ok)
	}
	if err := db.inbox.write(context.Background(), db, func(context.Context, *sql.Tx) error { return nil }); err != nil {
		t.Fatalf("a write after the panic: %v", err)
	}
}
