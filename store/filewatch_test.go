package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// openWatched opens a database whose file watch ticks when the test sends on the
// returned channel, and has recorded one envelope.
func openWatched(t *testing.T) (*DB, string, chan time.Time) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runbook.db")
	ticks := make(chan time.Time)
	db, err := open(context.Background(), path, checkpointConfig{walLimit: walLimit, busy: time.Second}, watchConfig{ticks: ticks})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Inbox().Claim(context.Background(), runbook.Envelope{ID: "before", Type: "slash_commands", Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	return db, path, ticks
}

// waitLost waits for the watch to find the loss: the tick is taken by the watching
// goroutine, which then closes LostC.
func waitLost(t *testing.T, db *DB, ticks chan<- time.Time) *FileLost {
	t.Helper()
	select {
	case <-db.LostC():
		t.Fatal("lost before any check")
	default:
	}
	ticks <- time.Time{}
	<-db.LostC()
	lost, ok := errors.AsType[*FileLost](db.Lost())
	if !ok {
		t.Fatalf("Lost = %v, want a *FileLost", db.Lost())
	}
	return lost
}

// A database file deleted under the open store is found by the periodic watch; writes
// are refused from then on, and Rescue copies what the store held from the deleted
// file to a new one beside the path.
func TestFileWatchFindsADeletedFile(t *testing.T) {
	db, path, ticks := openWatched(t)
	if err := db.Check(); err != nil {
		t.Fatalf("Check before any change = %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	lost := waitLost(t, db, ticks)
	if lost.Path != path || !lost.Deleted {
		t.Errorf("lost = %+v, want %s deleted", lost, path)
	}
	want := "the database file " + path + " was deleted while Runbook was running"
	if lost.Error() != want {
		t.Errorf("loss reads %q, want %q", lost.Error(), want)
	}
	if err := db.Writable(context.Background()); !errors.Is(err, ErrFileLost) {
		t.Errorf("Writable after the loss = %v, want the loss", err)
	}
	if _, err := db.Inbox().Claim(context.Background(), runbook.Envelope{ID: "after", Type: "slash_commands", Payload: []byte("{}")}); !errors.Is(err, ErrFileLost) {
		t.Errorf("a write after the loss = %v, want it refused with the loss", err)
	}

	rescued, err := db.Rescue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", "file:"+rescued+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow("SELECT COUNT(*) FROM envelopes WHERE id = 'before'").Scan(&n); err != nil || n != 1 {
		t.Errorf("the rescued copy holds %d of the envelope written before the loss (%v), want 1", n, err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("Close after the loss = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close made a new file at the deleted path (stat: %v); the next start must not find one there", err)
	}
}

// A database file replaced under the open store (a restore renamed over it) is found
// by a check, and Close leaves the new file as it was put there.
func TestFileWatchFindsAReplacedFile(t *testing.T) {
	db, path, _ := openWatched(t)
	restored := filepath.Join(filepath.Dir(path), "restored.db")
	if err := os.WriteFile(restored, []byte("not Runbook's"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(restored, path); err != nil {
		t.Fatal(err)
	}
	lost, ok := errors.AsType[*FileLost](db.Check())
	if !ok || lost.Path != path || lost.Deleted {
		t.Fatalf("Check after the replace = %v, want %s replaced", db.Check(), path)
	}
	if !errors.Is(db.Writable(context.Background()), ErrFileLost) {
		t.Error("Writable after the replace does not report it")
	}
	db.Close()
	if b, err := os.ReadFile(path); err != nil || string(b) != "not Runbook's" {
		t.Errorf("the replacing file after Close = %q, %v; want it untouched", b, err)
	}
}

// Deleting the -wal file loses every commit not yet checkpointed, as silently as
// deleting the database: it is found too.
func TestFileWatchFindsADeletedWAL(t *testing.T) {
	db, path, ticks := openWatched(t)
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	lost := waitLost(t, db, ticks)
	if lost.Path != path+"-wal" || !lost.Deleted {
		t.Errorf("lost = %+v, want %s-wal deleted", lost, path)
	}
}

// After a loss and its rescue, a start that finds no database at the path but the
// rescued copy beside it refuses, naming both, instead of creating an empty database
// a supervisor's restart would then run on.
func TestOpenRefusesAnEmptyStartBesideARescuedCopy(t *testing.T) {
	db, path, ticks := openWatched(t)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitLost(t, db, ticks)
	rescued, err := db.Rescue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), path)
	msg := runbook.ErrorMessage(err)
	if err == nil || !strings.Contains(msg, "the database file "+path+" is missing") || !strings.Contains(msg, rescued) {
		t.Fatalf("Open beside a rescued copy = %v, want the refusal naming %s and %s", err, path, rescued)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused Open created %s (stat: %v)", path, err)
	}
	if err := os.Rename(rescued, path); err != nil {
		t.Fatal(err)
	}
	again, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open of the rescued copy put back = %v", err)
	}
	defer again.Close()
	if prior, err := again.Inbox().Claim(context.Background(), runbook.Envelope{ID: "before", Type: "slash_commands", Payload: []byte("{}")}); err != nil || prior == nil {
		t.Errorf("the envelope recorded before the loss is not in the put-back copy: %v, %v", prior, err)
	}
}

// A deletion no check found before the store closes (a bot stopped within a second of
// it) is found by Close, which rescues what the store held, so that the next start
// refuses to begin empty rather than forgetting everything without a word.
func TestCloseRescuesADeletionFoundAsItStops(t *testing.T) {
	db, path, _ := openWatched(t)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if db.Lost() == nil {
		t.Fatal("Close did not find the deletion")
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || !strings.HasPrefix(names[0], "runbook.db"+rescuedSuffix) {
		t.Fatalf("beside the deleted database after Close: %v, want only the rescued copy", names)
	}
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("Open started an empty database beside the rescued copy")
	}
}
