// Package store keeps Runbook's state in SQLite: the envelopes it has handled, and (as
// they are added) incidents, runs, approvals and the audit log. It is the only package
// that speaks SQL.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/runbookhq/runbook"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open Runbook database. Writes go through one connection, so that SQLite
// never answers "database is locked" to two writers racing; reads use a small pool.
//
// Checkpoints of the write-ahead log do not run on the writer but on a goroutine of the
// DB's own (checkpoint.go); another watches that the files are still the ones it
// opened (filewatch.go). Close stops both.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	ckpt  *checkpointer
	watch *fileWatch
	// Now is the clock; tests replace it.
	Now func() time.Time
	// inbox batches the inbox's writes (groupcommit.go).
	inbox groupCommit

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at path and applies any migrations the
// binary carries that the file has not seen yet.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, defaultCheckpoints, defaultWatch)
}

func open(ctx context.Context, path string, cp checkpointConfig, wc watchConfig) (*DB, error) {
	return openWrapped(ctx, path, cp, wc, func(c driver.Connector) driver.Connector { return c })
}

// openWrapped is open with the writer's and the readers' connections made through wrap,
// so that the query-plan test can see every statement the store prepares.
func openWrapped(ctx context.Context, path string, cp checkpointConfig, wc watchConfig, wrap func(driver.Connector) driver.Connector) (*DB, error) {
	if path == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "store.path is empty")
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := checkRescued(path); err != nil {
		return nil, err
	}
	write := sql.OpenDB(wrap(newWriterConnector(dsn(path, false), cp.walLimit)))
	write.SetMaxOpenConns(1)
	read := sql.OpenDB(wrap(writerConnector{dsn: dsn(path, true), driver: &sqlite3.SQLiteDriver{}}))
	read.SetMaxOpenConns(4)
	ckpt, err := newCheckpointer(path, write, cp)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{path: path, write: write, read: read, ckpt: ckpt, watch: newFileWatch(path, wc), Now: time.Now}
	ckpt.lost = db.watch.Lost
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.watch.record(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.ckpt.start()
	db.watch.start()
	return db, nil
}

// dsn builds go-sqlite3's connection string: WAL so readers never block the writer,
// a busy timeout so a briefly locked file waits instead of failing, immediate
// transactions so a read-then-write transaction takes the write lock up front,
// foreign keys on, and each connection keeping the statements it ran prepared: the
// store runs the same few dozen statements over and over, and compiling each anew was a
// fifth of an inbox write's CPU under a burst.
func dsn(path string, readOnly bool) string {
	return dsnBusy(path, readOnly, busyTimeout)
}

// busyTimeout is how long a connection waits for a lock before SQLite answers "database
// is locked".
const busyTimeout = 5 * time.Second

// stmtCacheSize is how many prepared statements a connection keeps (go-sqlite3 keeps
// the most recently used); the store has fewer distinct statements than this.
const stmtCacheSize = 128

// dsnBusy is dsn with another busy timeout.
func dsnBusy(path string, readOnly bool, busy time.Duration) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	q.Set("_stmt_cache_size", strconv.Itoa(stmtCacheSize))
	if readOnly {
		q.Set("mode", "ro")
		q.Del("_txlock")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close stops the background checkpoints, closes the readers and the writer, then
// checkpoints the whole WAL into the database file and truncates it, so that a closed
// database is one file. Calling it again returns the first call's result.
//
// If the database file was deleted or replaced (filewatch.go) — found now or earlier —
// Close first makes the rescue copy if none was made, and afterwards removes the lost
// database's -wal and -shm from beside the path instead of checkpointing.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.watch.stop()
		db.ckpt.stop()
		db.rescueAtClose()
		// The writer is closed before the last checkpoint so that nothing is written
		// after it. (A transaction still running keeps its connection until it ends;
		// the checkpoint waits for it for up to checkpointBusy, or leaves its pages in
		// the WAL, where the next Open finds them.)
		errs := []error{db.read.Close(), db.write.Close()}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errs = append(errs, db.ckpt.final(ctx)) // none after a loss

		errs = append(errs, db.ckpt.conn.Close())
		if db.watch.Lost() != nil {
			errs = append(errs, db.watch.removeStale())
		}
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Writable checks that a write can begin now: the file is writable and no one holds
// the write lock for longer than the wait allows, and it is still the file the store
// opened (Check). It writes nothing.
func (db *DB) Writable(ctx context.Context) error {
	if err := db.Check(); err != nil {
		return err
	}
	if err := db.update(ctx, func(*sql.Tx) error { return nil }); err != nil {
		return fmt.Errorf("database not writable: %w", err)
	}
	return nil
}

// CheckpointErr returns the last background WAL checkpoint's failure, until one
// succeeds.
func (db *DB) CheckpointErr() error { return db.ckpt.Err() }

// SetLogger makes the DB log what happens in its background: WAL checkpoints that
// start failing, and recover.
func (db *DB) SetLogger(l *slog.Logger) { db.ckpt.log.Store(l) }

// update runs fn in a write transaction and commits it if fn returns nil.
//
// Once the file is lost (Check) every write is refused: it would go to a file that is
// no longer at the path, and be gone when the process ends.
func (db *DB) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := refuseReadOnly(ctx); err != nil {
		return err
	}
	if err := db.watch.Lost(); err != nil {
		// A sentence, for a request that was being handled as the loss was found.
		return fmt.Errorf("write refused: %w: %w", runbook.Errorf(runbook.EUNAVAILABLE,
			"Runbook's database file changed under it while it was running, so it has stopped taking requests; nothing was recorded."), err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrapBusy(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return wrapBusy(err)
	}
	if err := tx.Commit(); err != nil {
		return wrapBusy(err)
	}
	db.ckpt.writes.Add(1)
	return nil
}

// errReadOnlyWrite is a write attempted while serving a request taken as read-only,
// which the bot did not record: done, it would happen without the record that keeps
// effects to once.
var errReadOnlyWrite = errors.New("write refused: the request was taken as read-only and is not recorded")

func refuseReadOnly(ctx context.Context) error {
	if runbook.IsReadOnly(ctx) {
		return errReadOnlyWrite
	}
	return nil
}

// wrapBusy turns SQLite's "database is locked" (the busy timeout ran out because another
// process held the file) into EUNAVAILABLE, which callers answer with "try again".
func wrapBusy(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[sqlite3.Error](err); ok && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return fmt.Errorf("%w: %w", runbook.Errorf(runbook.EUNAVAILABLE, "The database is busy; try again in a moment."), err)
	}
	return err
}

func (db *DB) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(files)
	return db.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied, err := appliedMigrations(ctx, tx)
		if err != nil {
			return err
		}
		// Every migration not yet applied is, in order, even one numbered below the
		// newest applied: branches that each add one land in either order.
		for _, f := range files {
			version, err := migrationVersion(f)
			if err != nil {
				return err
			}
			if applied[version] {
				continue
			}
			body, err := migrations.ReadFile(f)
			if err != nil {
				return fmt.Errorf("read %s: %w", f, err)
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("apply %s: %w", f, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				version, strings.TrimPrefix(f, "migrations/"), db.Now().UnixMilli()); err != nil {
				return fmt.Errorf("record %s: %w", f, err)
			}
		}
		return nil
	})
}

func appliedMigrations(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// migrationVersion reads the number a migration file's name starts with.
func migrationVersion(name string) (int, error) {
	base := strings.TrimPrefix(name, "migrations/")
	digits, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(digits)
	if !ok || err != nil || v <= 0 {
		return 0, fmt.Errorf("migration %s: name must start with a positive number and an underscore", base)
	}
	return v, nil
}

// SchemaVersion returns the newest migration applied to the file.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}
