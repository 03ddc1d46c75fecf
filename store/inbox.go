package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
)

// Inbox is the SQLite implementation of runbook.Inbox.
type Inbox struct{ db *DB }

var _ runbook.Inbox = (*Inbox)(nil)

// Inbox returns the envelope store.
func (db *DB) Inbox() *Inbox { return &Inbox{db: db} }

// Claim records env as received — as acked too if env.Acked, for an ack that goes out
// once the claim is recorded — or returns the envelope already recorded under its id.
// The record is committed when Claim returns; claims and other inbox writes made at the
// same moment share the transaction (groupcommit.go).
func (s *Inbox) Claim(ctx context.Context, env runbook.Envelope) (*runbook.Envelope, error) {
	if env.ID == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "envelope has no id")
	}
	var existing *runbook.Envelope
	err := s.db.inbox.write(ctx, s.db, func(ctx context.Context, tx *sql.Tx) error {
		existing = nil
		res, err := tx.ExecContext(ctx, `INSERT INTO envelopes (id, type, payload, received_at, acked)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			env.ID, env.Type, env.Payload, s.db.Now().UnixMilli(), env.Acked)
		if err != nil {
			return fmt.Errorf("insert envelope: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		existing, err = findEnvelope(ctx, tx, env.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim envelope %s: %w", env.ID, err)
	}
	return existing, nil
}

// MarkAcked records that the envelope's ack went out before it was handled, with the
// answer it carried (nil: none, and one recorded before stays).
func (s *Inbox) MarkAcked(ctx context.Context, id string, reply []byte) error {
	return s.set(ctx, id, "UPDATE envelopes SET acked = 1, reply = COALESCE(?, reply) WHERE id = ?", reply, id)
}

// Complete records the envelope as handled, with the payload its ack carried and the
// delivery still owed for it.
func (s *Inbox) Complete(ctx context.Context, id string, reply, delivery []byte) error {
	return s.set(ctx, id, "UPDATE envelopes SET done = 1, acked = 1, reply = ?, delivery = ?, done_at = ? WHERE id = ?",
		reply, delivery, s.db.Now().UnixMilli(), id)
}

// Delivered forgets the envelope's owed delivery.
func (s *Inbox) Delivered(ctx context.Context, id string) error {
	return s.set(ctx, id, "UPDATE envelopes SET delivery = NULL WHERE id = ?", id)
}

func (s *Inbox) set(ctx context.Context, id, query string, args ...any) error {
	err := s.db.inbox.write(ctx, s.db, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return runbook.Errorf(runbook.ENOTFOUND, "no envelope %s", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update envelope %s: %w", id, err)
	}
	return nil
}

// Unfinished lists envelopes that were acked but not completed, oldest first: the
// process stopped while handling them and Slack will not send them again.
func (s *Inbox) Unfinished(ctx context.Context) ([]runbook.Envelope, error) {
	return s.list(ctx, "unfinished", "INDEXED BY envelopes_unfinished", "done = 0 AND acked = 1")
}

// Undelivered lists handled envelopes whose answer never reached Slack, oldest first:
// the process stopped before delivering it.
//
// INDEXED BY: both envelopes_undelivered (the few owed an answer) and envelopes_done
// (every handled envelope of the last day) are in received_at order, and without
// statistics the planner may take the one that holds a million rows.
func (s *Inbox) Undelivered(ctx context.Context) ([]runbook.Envelope, error) {
	return s.list(ctx, "undelivered", "INDEXED BY envelopes_undelivered", "done = 1 AND delivery IS NOT NULL")
}

func (s *Inbox) list(ctx context.Context, what, index, where string) ([]runbook.Envelope, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+envelopeColumns+`
		FROM envelopes `+index+` WHERE `+where+` ORDER BY received_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list %s envelopes: %w", what, err)
	}
	defer rows.Close()
	var out []runbook.Envelope
	for rows.Next() {
		env, err := scanEnvelope(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *env)
	}
	return out, rows.Err()
}

// Prune forgets completed envelopes received before the given time, and returns how
// many it forgot. Slack stops redelivering after minutes, so a day of memory is plenty.
//
// It deletes them oldest first, pruneBatch at a time, each batch in a write
// transaction of its own followed by a checkpoint and a pause: a day of a busy
// workspace is a million envelopes, and deleting them in one transaction held the only
// writer — and every ack waiting on it — for seconds. A batch holds it for a few
// milliseconds, and the writes queued meanwhile go before the next batch (database/sql
// hands a released connection to the longest waiter). The pages freed are reused by
// the envelopes that follow.
func (s *Inbox) Prune(ctx context.Context, before time.Time) (int, error) {
	total, batches := 0, 0
	var longest time.Duration
	began := time.Now()
	defer func() {
		// How long the writer was held at most is the figure that says whether a
		// prune delays acks; it is logged, not returned, as nothing acts on it.
		if log := s.db.ckpt.log.Load(); log != nil && batches > 0 {
			log.Debug("prune batches", "count", total, "batches", batches, "longest_batch", longest, "took", time.Since(began))
		}
	}()
	for {
		var n int64
		batchBegan := time.Now()
		err := s.db.update(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM envelopes WHERE rowid IN (
				SELECT rowid FROM envelopes WHERE done = 1 AND received_at < ? ORDER BY received_at LIMIT ?)`,
				before.UnixMilli(), pruneBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune envelopes (%d forgotten so far): %w", total, err)
		}
		batches++
		longest = max(longest, time.Since(batchBegan))
		total += int(n)
		if n < pruneBatch {
			return total, nil
		}
		// The batch's pages are copied into the database file before the next batch,
		// off the writer, so that the next write starts the WAL over. Left to the
		// background checkpoints, a million deletions grew the WAL past the size that
		// calls for a RESTART checkpoint on the writer, which held acks for up to 0.4 s.
		s.db.ckpt.passiveNow(ctx)
		if err := runbook.Sleep(ctx, prunePause); err != nil {
			return total, fmt.Errorf("prune envelopes (%d forgotten so far): %w", total, err)
		}
	}
}

// pruneBatch is how many envelopes one prune transaction deletes, and prunePause how
// long the prune leaves the writer to others after each batch and its checkpoint. On
// 1,000,000 envelopes in a 900 MB file a batch held the writer for 17 ms at most, and
// batch, checkpoint and pause took 12 ms on average (BENCHMARKS.md, (e)).
const (
	pruneBatch = 500
	prunePause = 5 * time.Millisecond
)

type scanner interface{ Scan(dest ...any) error }

const envelopeColumns = "id, type, payload, acked, done, reply, delivery, received_at"

func findEnvelope(ctx context.Context, tx *sql.Tx, id string) (*runbook.Envelope, error) {
	env, err := scanEnvelope(tx.QueryRowContext(ctx, `SELECT `+envelopeColumns+` FROM envelopes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "no envelope %s", id)
	}
	return env, err
}

func scanEnvelope(row scanner) (*runbook.Envelope, error) {
	var env runbook.Envelope
	var received int64
	if err := row.Scan(&env.ID, &env.Type, &env.Payload, &env.Acked, &env.Done, &env.Reply, &env.Delivery, &received); err != nil {
		return nil, fmt.Errorf("scan envelope: %w", err)
	}
	env.ReceivedAt = time.UnixMilli(received)
	return &env, nil
}
