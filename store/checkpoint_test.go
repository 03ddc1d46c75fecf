package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// walSize is the size of the database's -wal file, 0 if there is none.
func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// fill writes n rows of 1 KiB, one transaction each, and calls each after every 100.
func fill(t *testing.T, db *DB, n int, each func()) {
	t.Helper()
	ctx := context.Background()
	if err := db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS ckpt_test (id INTEGER PRIMARY KEY, body BLOB NOT NULL) STRICT")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 1024)
	for i := range n {
		rand.Read(body)
		if err := db.update(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO ckpt_test (body) VALUES (?)", body)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 && each != nil {
			each()
		}
	}
}

// TestWriterDoesNotCheckpoint: the writer's commits must not run checkpoints (that
// stalled every ~1,000th page's commit, and every ack queued behind it).
func TestWriterDoesNotCheckpoint(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "runbook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.write.QueryRow("PRAGMA wal_autocheckpoint").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d, want 0", n)
	}
}

// walFrames is how many frames the WAL holds (since it last started over), by way of a
// passive checkpoint of the test's own.
func walFrames(t *testing.T, db *DB) int64 {
	t.Helper()
	wal, err := runCheckpoint(context.Background(), db.ckpt.conn, "PASSIVE")
	if err != nil {
		t.Fatal(err)
	}
	return wal.frames
}

// TestCheckpointKeepsWALUnderLimit: with the writer's automatic checkpoints off, each
// round of writes adds ~3 MB of WAL, past the 1 MiB limit. After each checkpoint the
// WAL must start over at the next commit (the passive checkpoint copies it, the
// restarting one lets the writer start at the beginning), and the file must be cut back
// to twice the limit.
func TestCheckpointKeepsWALUnderLimit(t *testing.T) {
	const limit = 1 << 20
	path := filepath.Join(t.TempDir(), "runbook.db")
	db, err := open(context.Background(), path, checkpointConfig{walLimit: limit, busy: time.Second}, watchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for round := range 10 {
		fill(t, db, 500, nil)
		before := walSize(t, path)
		if before <= limit {
			t.Fatalf("round %d: the writes left %d bytes of WAL, want more than the limit", round, before)
		}
		db.ckpt.tick(ctx)
		if err := db.CheckpointErr(); err != nil {
			t.Fatalf("round %d: checkpoint: %v", round, err)
		}
		fill(t, db, 1, nil)
		if frames := walFrames(t, db); frames > 4 {
			t.Fatalf("round %d: after the checkpoint and one commit the WAL holds %d frames, want a few", round, frames)
		}
		if after := walSize(t, path); after > 2*limit {
			t.Fatalf("round %d: WAL file %d bytes before the checkpoint, %d after, want at most %d", round, before, after, 2*limit)
		}
	}
	if db.ckpt.restart.Load()+db.ckpt.startedOver.Load() == 0 {
		t.Error("the checkpointer never started the WAL over")
	}
}

// walSequence is the checkpoint sequence number in the WAL's header (bytes 12–15,
// big-endian): SQLite adds one each time the WAL starts over.
func walSequence(t *testing.T, path string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path + "-wal")
	if err != nil || len(b) < 32 {
		t.Fatalf("read the WAL header: %v (%d bytes)", err, len(b))
	}
	return binary.BigEndian.Uint32(b[12:16])
}

// openTicked opens a database whose checkpoints run only when the test ticks, with a
// WAL limit it never reaches.
func openTicked(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runbook.db")
	db, err := open(context.Background(), path, checkpointConfig{walLimit: 1 << 30, busy: time.Second}, watchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// TestCheckpointStartsTheWALOverItself: after a checkpoint that copied the whole WAL,
// the checkpointer starts the WAL over with a write of its own, so that the next
// request's commit appends to it instead of writing and fsyncing a new header; and a
// checkpointer with nothing new to copy writes nothing, so an idle bot stays idle.
func TestCheckpointStartsTheWALOverItself(t *testing.T) {
	db, path := openTicked(t)
	ctx := context.Background()
	fill(t, db, 20, nil)
	before := walSequence(t, path)
	db.ckpt.tick(ctx)
	if n := db.ckpt.startedOver.Load(); n != 1 {
		t.Fatalf("after a checkpoint that copied everything the checkpointer started the WAL over %d times, want 1", n)
	}
	started := walSequence(t, path)
	if started == before {
		t.Fatal("the WAL did not start over")
	}
	fill(t, db, 1, nil)
	if seq := walSequence(t, path); seq != started {
		t.Fatalf("the request's commit started the WAL over (sequence %d → %d); the checkpointer had already", started, seq)
	}

	// Idle: the row just written is checkpointed and the WAL started over once more;
	// then ticks with nothing new do nothing.
	db.ckpt.tick(ctx)
	passive, over := db.ckpt.passive.Load(), db.ckpt.startedOver.Load()
	for range 3 {
		db.ckpt.tick(ctx)
	}
	if p, o := db.ckpt.passive.Load(), db.ckpt.startedOver.Load(); p != passive || o != over {
		t.Fatalf("idle ticks ran %d checkpoints and %d writes of their own, want none", p-passive, o-over)
	}
	var n int
	if err := db.read.QueryRow("SELECT n FROM wal_restarts").Scan(&n); err != nil || int64(n) != over {
		t.Fatalf("wal_restarts.n = %d (%v), want %d", n, err, over)
	}
}

// TestCheckpointWithWritesBesideItDoesNotSettle: a passive checkpoint reports the WAL
// as it was when it began, so "all copied" does not mean the WAL is whole when writes
// landed meanwhile: the checkpointer must neither take it as settled (and skip the
// next ticks, letting the WAL grow while writes go on) nor write to start it over.
func TestCheckpointWithWritesBesideItDoesNotSettle(t *testing.T) {
	db, _ := openTicked(t)
	ctx := context.Background()
	fill(t, db, 20, nil)
	db.ckpt.afterPassive = func() { fill(t, db, 1, nil) }
	db.ckpt.tick(ctx)
	db.ckpt.afterPassive = nil
	if n := db.ckpt.startedOver.Load(); n != 0 {
		t.Fatalf("the checkpointer started the WAL over %d times while a write landed beside its checkpoint", n)
	}
	passive := db.ckpt.passive.Load()
	db.ckpt.tick(ctx)
	if db.ckpt.passive.Load() == passive || db.ckpt.startedOver.Load() != 1 {
		t.Fatalf("the next tick ran %d checkpoints and started the WAL over %d times; want the write beside the last one copied, then one start-over",
			db.ckpt.passive.Load()-passive, db.ckpt.startedOver.Load())
	}
}

// TestCheckpointsInBackground writes ~12 MB without pause, one commit per row: without
// the checkpointer the WAL would keep all of it. With it, the WAL file is cut back soon
// after the writes slow down, Close leaves no WAL behind, and a new connection reads
// every row from the database file.
//
// (How large the WAL gets while writing depends on the disk: a checkpoint's fsync can
// take a few hundred milliseconds, and the writes go on meanwhile, as they should.)
func TestCheckpointsInBackground(t *testing.T) {
	const (
		rows  = 12_000
		limit = 1 << 20
	)
	path := filepath.Join(t.TempDir(), "runbook.db")
	db, err := open(context.Background(), path, checkpointConfig{every: 5 * time.Millisecond, walLimit: limit, busy: time.Second}, watchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var largest int64
	fill(t, db, rows, func() { largest = max(largest, walSize(t, path)) })
	t.Logf("WAL file at most %.1f MiB while writing; %d passive checkpoints, %d restarting",
		float64(largest)/(1<<20), db.ckpt.passive.Load(), db.ckpt.restart.Load())
	if db.ckpt.passive.Load() == 0 || db.ckpt.restart.Load() == 0 {
		t.Error("want passive checkpoints, and restarting ones: with commits back to back, the passive ones alone never let the WAL start over")
	}
	deadline := time.Now().Add(5 * time.Second)
	extra := 0
	for walSize(t, path) > 2*limit {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL file is still %d bytes 5 s after the writes slowed down, want at most %d", walSize(t, path), 2*limit)
		}
		time.Sleep(10 * time.Millisecond)
		fill(t, db, 1, nil) // the WAL starts over, and the file is cut, at a commit
		extra++
	}
	if err := db.CheckpointErr(); err != nil {
		t.Errorf("checkpoint: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("after Close the WAL is %d bytes, want none", n)
	}

	fresh, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var count int
	var check string
	if err := fresh.QueryRow("SELECT COUNT(*) FROM ckpt_test WHERE length(body) = 1024").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if want := rows + extra; count != want {
		t.Errorf("a new connection reads %d rows, want %d", count, want)
	}
	if err := fresh.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}

// TestCheckpointPinnedByReader: a reader that keeps an old snapshot keeps the WAL from
// starting over. CheckpointErr says so while it lasts; after it ends, the next checkpoint lets
// the WAL start over.
func TestCheckpointPinnedByReader(t *testing.T) {
	const limit = 256 << 10
	path := filepath.Join(t.TempDir(), "runbook.db")
	db, err := open(context.Background(), path, checkpointConfig{walLimit: limit, busy: 50 * time.Millisecond}, watchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	fill(t, db, 1, nil)

	reader, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback()
	var n int
	if err := reader.QueryRow("SELECT COUNT(*) FROM ckpt_test").Scan(&n); err != nil {
		t.Fatal(err)
	}
	fill(t, db, 500, nil)

	db.ckpt.tick(ctx)
	err = db.CheckpointErr()
	if err == nil || !strings.Contains(err.Error(), "could not start over") {
		t.Fatalf("checkpoint with a reader pinning the WAL: %v, want it to say the WAL could not start over", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("ping with a reader pinning the WAL: %v; a long read is no reason to fail health checks", err)
	}
	fill(t, db, 1, nil)
	if frames := walFrames(t, db); frames*4096 <= limit {
		t.Fatalf("the WAL holds %d frames with a reader pinning it, want more than the limit", frames)
	}

	reader.Rollback()
	db.ckpt.tick(ctx)
	if err := db.CheckpointErr(); err != nil {
		t.Fatalf("checkpoint after the reader ended: %v", err)
	}
	fill(t, db, 1, nil)
	if frames := walFrames(t, db); frames > 4 {
		t.Errorf("after the reader ended, a checkpoint and one commit, the WAL holds %d frames, want a few", frames)
	}
}

// TestCloseStopsCheckpointer: Close returns only after the goroutine has (go test -race
// also checks Close against a checkpoint running), and a second Close is harmless.
func TestCloseStopsCheckpointer(t *testing.T) {
	db, err := open(context.Background(), filepath.Join(t.TempDir(), "runbook.db"), checkpointConfig{every: time.Millisecond, walLimit: 1 << 20, busy: time.Second}, watchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db, 300, nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.ckpt.done:
	default:
		t.Fatal("the checkpoint goroutine is still running after Close")
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
