package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/store"
)

// MustOpen opens a fresh database file in a temporary directory.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "runbook.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestOpen(t *testing.T) {
	t.Run("AppliesMigrationsOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "runbook.db")
		ctx := context.Background()
		for range 2 {
			db, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			v, err := db.SchemaVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v < 1 {
				t.Fatalf("schema version = %d, want at least 1", v)
			}
			if err := db.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}
	})
	t.Run("AppliesAMigrationNumberedBelowTheNewest", func(t *testing.T) {
		// As a database migrated by a build that had 0010 but not yet 0008 would be.
		path := filepath.Join(t.TempDir(), "runbook.db")
		ctx := context.Background()
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		raw, err := sql.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"DROP INDEX envelopes_undelivered", "ALTER TABLE envelopes DROP COLUMN delivery",
			"DELETE FROM schema_migrations WHERE version = 8"} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		raw.Close()

		db, err = store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Inbox().Undelivered(ctx); err != nil {
			t.Fatalf("after reopening, the missing migration is still missing: %v", err)
		}
	})
	t.Run("ErrPathRequired", func(t *testing.T) {
		_, err := store.Open(context.Background(), "")
		if runbook.ErrorCode(err) != runbook.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
	})
	t.Run("ErrUnwritableDirectory", func(t *testing.T) {
		_, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "missing", "dir", "runbook.db"))
		if err == nil {
			t.Fatal("opened a database in a directory that does not exist")
		}
	})
}

func TestInbox(t *testing.T) {
	ctx := context.Background()
	env := runbook.Envelope{ID: "Ev1", Type: "events_api", Payload: []byte(`{"x":1}`)}

	t.Run("ClaimOnce", func(t *testing.T) {
		inbox := MustOpen(t).Inbox()
		if got, err := inbox.Claim(ctx, env); err != nil || got != nil {
			t.Fatalf("first claim = %v, %v; want new", got, err)
		}
		got, err := inbox.Claim(ctx, env)
		if err != nil || got == nil {
			t.Fatalf("second claim = %v, %v; want the existing envelope", got, err)
		}
		if got.Done || got.Acked || string(got.Payload) != `{"x":1}` {
			t.Fatalf("existing envelope = %+v", got)
		}
	})

	t.Run("CompleteKeepsReply", func(t *testing.T) {
		inbox := MustOpen(t).Inbox()
		inbox.Claim(ctx, env)
		if err := inbox.Complete(ctx, env.ID, []byte(`{"text":"hi"}`), nil); err != nil {
			t.Fatal(err)
		}
		got, _ := inbox.Claim(ctx, env)
		if got == nil || !got.Done || string(got.Reply) != `{"text":"hi"}` {
			t.Fatalf("after complete, claim = %+v; want done with reply", got)
		}
	})

	t.Run("UnfinishedListsAckedNotDone", func(t *testing.T) {
		inbox := MustOpen(t).Inbox()
		for _, id := range []string{"a", "b", "c"} {
			inbox.Claim(ctx, runbook.Envelope{ID: id, Type: "slash_commands", Payload: []byte("{}")})
		}
		inbox.MarkAcked(ctx, "a", nil)
		inbox.MarkAcked(ctx, "b", nil)
		inbox.Complete(ctx, "b", nil, nil)
		got, err := inbox.Unfinished(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != "a" {
			t.Fatalf("unfinished = %+v; want only a", got)
		}
	})

	t.Run("AckedWithAnswerIsUnfinishedWithIt", func(t *testing.T) {
		inbox := MustOpen(t).Inbox()
		inbox.Claim(ctx, runbook.Envelope{ID: "a", Type: "slash_commands", Payload: []byte("{}")})
		if err := inbox.MarkAcked(ctx, "a", []byte(`{"text":"Declared"}`)); err != nil {
			t.Fatal(err)
		}
		// Acked again without an answer (a redelivery acked in flight): the answer stays.
		if err := inbox.MarkAcked(ctx, "a", nil); err != nil {
			t.Fatal(err)
		}
		got, err := inbox.Unfinished(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != "a" || !got[0].Acked || got[0].Done || string(got[0].Reply) != `{"text":"Declared"}` {
			t.Fatalf("unfinished = %+v; want a, acked with its answer, not done", got)
		}
		if err := inbox.MarkAcked(ctx, "nope", nil); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("mark acked (unknown) = %v, want ENOTFOUND", err)
		}
	})

	t.Run("DeliveryOwedUntilDelivered", func(t *testing.T) {
		inbox := MustOpen(t).Inbox()
		for _, id := range []string{"a", "b", "c"} {
			inbox.Claim(ctx, runbook.Envelope{ID: id, Type: "events_api", Payload: []byte("{}")})
		}
		inbox.Complete(ctx, "a", nil, []byte(`{"text":"to a"}`))
		inbox.Complete(ctx, "b", nil, []byte(`{"text":"to b"}`))
		inbox.Complete(ctx, "c", nil, nil)
		if err := inbox.Delivered(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		got, err := inbox.Undelivered(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != "b" || string(got[0].Delivery) != `{"text":"to b"}` {
			t.Fatalf("undelivered = %+v; want only b with its delivery", got)
		}
		if err := inbox.Delivered(ctx, "nope"); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("delivered(unknown) = %v, want ENOTFOUND", err)
		}
	})

	t.Run("ErrCompleteUnknown", func(t *testing.T) {
		inbox := MustOpen(t).Inbox()
		if err := inbox.Complete(ctx, "nope", nil, nil); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("err = %v, want ENOTFOUND", err)
		}
	})

	t.Run("PruneForgetsOldDone", func(t *testing.T) {
		db := MustOpen(t)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		inbox := db.Inbox()
		inbox.Claim(ctx, runbook.Envelope{ID: "old", Type: "t", Payload: []byte("{}")})
		inbox.Complete(ctx, "old", nil, nil)
		inbox.Claim(ctx, runbook.Envelope{ID: "old-open", Type: "t", Payload: []byte("{}")})
		now = now.Add(48 * time.Hour)
		inbox.Claim(ctx, runbook.Envelope{ID: "new", Type: "t", Payload: []byte("{}")})
		inbox.Complete(ctx, "new", nil, nil)
		n, err := inbox.Prune(ctx, now.Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("prune = %d, %v; want 1", n, err)
		}
		if got, _ := inbox.Claim(ctx, runbook.Envelope{ID: "old", Type: "t", Payload: []byte("{}")}); got != nil {
			t.Fatal("pruned envelope is still remembered")
		}
		if got, _ := inbox.Claim(ctx, runbook.Envelope{ID: "old-open", Type: "t", Payload: []byte("{}")}); got == nil {
			t.Fatal("an unfinished envelope was pruned")
		}
	})

	// A prune of more than one batch (Inbox.Prune deletes 500 per transaction) goes on
	// until none is left, and counts them all.
	t.Run("PruneInBatches", func(t *testing.T) {
		db := MustOpen(t)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		inbox := db.Inbox()
		const old = 1203
		for i := range old + 10 {
			if i == old {
				now = now.Add(48 * time.Hour)
			}
			id := fmt.Sprintf("env-%d", i)
			if _, err := inbox.Claim(ctx, runbook.Envelope{ID: id, Type: "t", Payload: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
			if err := inbox.Complete(ctx, id, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		n, err := inbox.Prune(ctx, now.Add(-24*time.Hour))
		if err != nil || n != old {
			t.Fatalf("prune = %d, %v; want %d", n, err, old)
		}
		if n, err := inbox.Prune(ctx, now.Add(-24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("second prune = %d, %v; want 0", n, err)
		}
	})
}

// TestInboxConcurrentClaims shows that many goroutines claiming the same envelope get
// exactly one "new", the property the bot's exactly-once handling rests on.
func TestInboxConcurrentClaims(t *testing.T) {
	inbox := MustOpen(t).Inbox()
	ctx := context.Background()
	const n = 32
	results := make(chan bool, n)
	for range n {
		go func() {
			got, err := inbox.Claim(ctx, runbook.Envelope{ID: "same", Type: "t", Payload: []byte("{}")})
			if err != nil {
				t.Error(err)
			}
			results <- got == nil
		}()
	}
	fresh := 0
	for range n {
		if <-results {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d claims saw the envelope as new, want exactly 1", fresh)
	}
}
