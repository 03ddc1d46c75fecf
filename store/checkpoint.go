package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// WAL checkpoints.
//
// In WAL mode every commit appends pages to the -wal file, and a checkpoint copies them
// back into the database file so that the WAL can start over. By default SQLite runs
// that checkpoint itself, inside the commit that takes the WAL past 1,000 pages, on the
// connection that made it. Here that is the store's only writer connection, so every
// ~1,000 pages (every ~170 envelopes at 500 commands/s) one commit also copied the pages
// and fsynced the WAL and the database file, and every write queued behind it waited:
// the ack p99 at 500/s was 6–8 ms for a median of 0.6–0.7 ms (BENCHMARKS.md, (b)).
//
// So the writer has automatic checkpoints turned off (wal_autocheckpoint=0, set on every
// connection the writer pool opens, not once, because database/sql may replace it), and
// a goroutine owned by DB checkpoints instead:
//
//   - Every checkpointEvery, a PASSIVE checkpoint from a connection of its own. It takes
//     no lock that a writer or a reader waits for: it copies what no reader still needs,
//     and its fsyncs are not part of any commit.
//   - Passive checkpoints alone do not bound the WAL. It only starts over when a writer
//     begins with every frame copied and no reader in it, and a checkpoint takes a few
//     milliseconds (two fsyncs), during which the next commit usually lands: at 500
//     commands/s it never started over, and grew by ~12 MB a second. So when the WAL
//     holds more than walLimit after a passive checkpoint, a RESTART checkpoint follows
//     on the writer's connection: it copies the few frames committed since, waits for
//     the readers still in the WAL (for at most checkpointBusy, not the writer's 5 s),
//     and the next commit writes from the start of the file again. Writes queue behind
//     it, as they did behind every automatic checkpoint, but it is every ~64 MB instead
//     of every 4 MB and copies little (at 500/s: 6–14 ms every ~5.7 s). It runs on the
//     writer's connection, taking its turn like a write, because from another
//     connection it would have to win the write lock from a writer that lets go of it
//     for microseconds between transactions (SQLite's busy handler polls; in a test
//     writing without pause it waited ~400 ms while the WAL grew 30 MB).
//   - RESTART, not TRUNCATE: the file keeps its size and is written over. Truncating
//     it gives the blocks back, and on the benchmark machine (ext4 mounted with
//     discard) a TRUNCATE of 64 MB held the writer for ~45 ms.
//   - journal_size_limit on the writer (twice walLimit) shrinks a WAL file that grew
//     past that, when the WAL starts over; in steady use the file stays at about
//     walLimit.
//   - Starting over costs the write that does it: SQLite writes a new WAL header and
//     fsyncs it inside that commit (~1–2 ms here). Under load that is one commit in
//     thousands; in a quiet hour, with a checkpoint between any two commands, it was
//     nearly every command's first write — the claim of a declare took 1.1 ms at the
//     median instead of 0.4. So when a passive checkpoint has copied the whole WAL,
//     the checkpointer starts it over at once, with a write of its own (the one row of
//     wal_restarts), and the next request appends to a WAL started over already. A
//     tick with no request written since a checkpoint that copied everything does
//     nothing, so an idle bot stays idle and the checkpointer's own write is not taken
//     for news.
//   - Close stops the goroutine and runs a last TRUNCATE checkpoint, so a closed database
//     is one file.
//
// A checkpoint that fails, or a WAL past walLimit that the RESTART checkpoint could not
// start over, is logged (DB.SetLogger) when it starts and when checkpoints recover, and
// CheckpointErr reports it meanwhile. It does not fail Ping, which /healthz calls: a
// long read holding the WAL is no reason to restart the bot, and a restart would not
// help. The last checkpoint's error is returned by Close.
const (
	checkpointEvery = 250 * time.Millisecond
	walLimit        = 64 << 20 // bytes
	checkpointBusy  = time.Second
)

// checkpointConfig is the checkpointer's settings; tests use smaller ones.
type checkpointConfig struct {
	every    time.Duration // 0: no background checkpoints (tests call tick)
	walLimit int64         // bytes of WAL after a passive checkpoint that call for a RESTART one
	busy     time.Duration // how long a RESTART or the last checkpoint waits for readers
}

var defaultCheckpoints = checkpointConfig{every: checkpointEvery, walLimit: walLimit, busy: checkpointBusy}

// writerConnector opens the writer pool's connections: go-sqlite3's DSN has no
// parameter for wal_autocheckpoint or journal_size_limit, so they are set by a
// ConnectHook on each new connection. The readers' pool uses it without a hook, as a
// connector that a test can wrap.
type writerConnector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func newWriterConnector(dsn string, walLimit int64) writerConnector {
	return writerConnector{dsn: dsn, driver: &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			for _, pragma := range []string{
				"PRAGMA wal_autocheckpoint = 0", // the checkpointer does it, off the commit path
				fmt.Sprintf("PRAGMA journal_size_limit = %d", 2*walLimit),
			} {
				if _, err := c.Exec(pragma, nil); err != nil {
					return fmt.Errorf("%s: %w", pragma, err)
				}
			}
			return nil
		},
	}}
}

func (c writerConnector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c writerConnector) Driver() driver.Driver                        { return c.driver }

// checkpointer runs the WAL checkpoints: passive ones on a connection of its own (the
// read pool is read-only, and SQLite does not checkpoint from a read-only connection),
// restarting ones on the writer's.
type checkpointer struct {
	conn  *sql.DB
	write *sql.DB
	cfg   checkpointConfig

	cancel context.CancelFunc // stops the goroutine, and interrupts a checkpoint waiting for locks
	done   chan struct{}      // closed when the goroutine has returned; nil if it never started

	mu  sync.Mutex
	err error // the last background checkpoint's failure; nil once one succeeds

	log atomic.Pointer[slog.Logger]

	// lost reports that the database file was deleted or replaced (filewatch.go):
	// background checkpoints stop then, since the next connection SQLite opens may
	// pair the new file at the path with the old WAL.
	lost func() error

	passive, restart atomic.Int64 // checkpoints run, for tests

	// writes counts the store's committed write transactions (DB.update). The
	// checkpointer's goroutine alone reads it against settledAt: the count when a
	// checkpoint last copied the whole WAL (-1: not since it started).
	writes    atomic.Int64
	settledAt int64
	// startedOver counts the checkpointer's own writes that started the WAL over.
	startedOver atomic.Int64
	// afterPassive, if set, runs after each passive checkpoint (tests: a write landing
	// while it ran).
	afterPassive func()
}

func newCheckpointer(path string, write *sql.DB, cfg checkpointConfig) (*checkpointer, error) {
	conn, err := sql.Open("sqlite3", dsnBusy(path, false, cfg.busy))
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	return &checkpointer{conn: conn, write: write, cfg: cfg, settledAt: -1}, nil
}

// start starts the background checkpoints, if cfg.every is set.
func (c *checkpointer) start() {
	if c.cfg.every <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go c.run(ctx)
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(c.cfg.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.tick(ctx)
	}
}

// fileLost says whether the database file was deleted or replaced: then no checkpoint
// may run. Its connection may open only then, on whatever the path holds — a new
// empty file where one was deleted, a restored one paired with the old WAL where one
// was replaced — and copy the old WAL into it.
func (c *checkpointer) fileLost() bool { return c.lost != nil && c.lost() != nil }

// passiveNow copies what it can of the WAL into the database file now, off the writer,
// unless the file is lost. A failure only means the WAL grows for now: the background
// checkpoints report their own.
func (c *checkpointer) passiveNow(ctx context.Context) {
	if !c.fileLost() {
		_, _ = runCheckpoint(ctx, c.conn, "PASSIVE")
	}
}

// tick runs one background checkpoint and keeps its outcome for Ping.
func (c *checkpointer) tick(ctx context.Context) {
	if c.fileLost() {
		return
	}
	err := c.checkpoint(ctx)
	if ctx.Err() != nil {
		return // interrupted by Close, which checkpoints last
	}
	c.mu.Lock()
	was := c.err
	c.err = err
	c.mu.Unlock()
	log := c.log.Load()
	switch {
	case log == nil:
	case err != nil && was == nil:
		log.Warn("WAL checkpoints are failing; the WAL file grows until they succeed", "err", err)
	case err == nil && was != nil:
		log.Info("WAL checkpoints succeed again")
	}
}

// Err returns the last background checkpoint's error, if no checkpoint has succeeded
// since.
func (c *checkpointer) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// checkpoint runs a PASSIVE checkpoint and, if the WAL is still past the limit, a
// RESTART one on the writer's connection. It is an error if the WAL cannot start over.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	writes := c.writes.Load()
	if writes == c.settledAt {
		return nil // nothing written since the WAL was copied whole
	}
	wal, err := runCheckpoint(ctx, c.conn, "PASSIVE")
	if err != nil {
		return err
	}
	c.passive.Add(1)
	if c.afterPassive != nil {
		c.afterPassive()
	}
	// Whole only if nothing was written while it ran: PASSIVE reports the WAL as it was
	// when it began, and under sustained writes "all copied" is its usual answer.
	if !wal.busy && wal.frames > 0 && wal.copied == wal.frames && c.writes.Load() == writes {
		c.settledAt = writes
		c.startOver(ctx)
		return nil
	}
	size, err := c.walBytes(ctx, wal.frames)
	if err != nil || size <= c.cfg.walLimit {
		return err
	}
	wal, err = c.restartOnWriter(ctx)
	if err != nil {
		return err
	}
	c.restart.Add(1)
	if wal.busy {
		size, err := c.walBytes(ctx, wal.frames)
		return errors.Join(err, fmt.Errorf("WAL checkpoint: the WAL holds %d MiB (limit %d MiB) and could not start over: a reader or another process held the database for more than %s",
			size>>20, c.cfg.walLimit>>20, c.cfg.busy))
	}
	c.settledAt = writes
	c.startOver(ctx)
	return nil
}

// startOver makes the WAL, copied whole, start over now: the writer's first frame
// after a complete checkpoint goes at the start of the file, behind a new header that
// SQLite fsyncs. A failure is no loss: the next request's write starts it over.
func (c *checkpointer) startOver(ctx context.Context) {
	if _, err := c.write.ExecContext(ctx, "UPDATE wal_restarts SET n = n + 1 WHERE id = 1"); err != nil {
		if log := c.log.Load(); log != nil && ctx.Err() == nil {
			log.Debug("start the WAL over", "err", err)
		}
		return
	}
	c.startedOver.Add(1)
}

// restartOnWriter runs a RESTART checkpoint on the writer's connection, waiting for
// readers for at most cfg.busy.
func (c *checkpointer) restartOnWriter(ctx context.Context) (wal walState, err error) {
	conn, err := c.write.Conn(ctx) // in the queue with the writes
	if err != nil {
		return wal, fmt.Errorf("WAL checkpoint: %w", err)
	}
	setBusy := func(ctx context.Context, d time.Duration) error {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", d.Milliseconds()))
		return err
	}
	defer func() {
		// Not ctx: Close may have cancelled it, and the writer must get its 5 s back.
		if rerr := setBusy(context.Background(), busyTimeout); rerr != nil {
			// A writer that gives up on locks after cfg.busy is not to be used: discard it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("WAL checkpoint: restore the writer's busy timeout: %w", rerr))
		}
		conn.Close()
	}()
	if err := setBusy(ctx, c.cfg.busy); err != nil {
		return wal, fmt.Errorf("WAL checkpoint: set busy timeout: %w", err)
	}
	return runCheckpoint(ctx, conn, "RESTART")
}

// final is Close's checkpoint: everything into the database file and the WAL truncated.
// If a connection still open elsewhere keeps it from finishing, that is not an error:
// the WAL keeps the data, and the next checkpoint or open copies it.
func (c *checkpointer) final(ctx context.Context) error {
	if c.fileLost() {
		return nil
	}
	_, err := runCheckpoint(ctx, c.conn, "TRUNCATE")
	return err
}

// walState is SQLite's report of a checkpoint. busy says it could not finish (for
// PASSIVE, because a reader or writer is still using the WAL; for RESTART and
// TRUNCATE, because the busy timeout ran out); frames is how many frames the WAL holds,
// as it was when the checkpoint began, and copied how many of them are now in the
// database file.
type walState struct {
	busy           bool
	frames, copied int64
}

// runCheckpoint runs one checkpoint.
func runCheckpoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, mode string) (walState, error) {
	var busy int64
	var wal walState
	if err := q.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &wal.frames, &wal.copied); err != nil {
		return walState{}, fmt.Errorf("WAL checkpoint (%s): %w", mode, err)
	}
	wal.busy = busy != 0
	return wal, nil
}

// walBytes is the size of a WAL of that many frames: a 32-byte header, then a 24-byte
// header and a page per frame.
func (c *checkpointer) walBytes(ctx context.Context, frames int64) (int64, error) {
	if frames <= 0 {
		return 0, nil
	}
	var pageSize int64
	if err := c.conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, fmt.Errorf("read page size: %w", err)
	}
	return 32 + frames*(24+pageSize), nil
}

// stop stops the background checkpoints and waits for the goroutine to return; a
// checkpoint waiting for locks is interrupted.
func (c *checkpointer) stop() {
	if c.done != nil {
		c.cancel()
		<-c.done
	}
}
