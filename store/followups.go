package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
)

// AddTimelineOnce appends e unless an entry was added under key already. The check
// and the insert share one write transaction, so two handlings racing add one entry.
func (s *Incidents) AddTimelineOnce(ctx context.Context, e runbook.TimelineEntry, key string) (bool, error) {
	if key == "" {
		return true, s.AddTimeline(ctx, e)
	}
	if e.At.IsZero() {
		e.At = s.db.Now()
	}
	added := false
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		if err := incidentExists(ctx, tx, e.IncidentID); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM incident_timeline WHERE entry_key = ?", key).Scan(&one)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look up timeline entry: %w", err)
		}
		if err := addKeyedTimeline(ctx, tx, e, key); err != nil {
			return err
		}
		added = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("add to timeline of %s: %w", runbook.IncidentKey(e.IncidentID), err)
	}
	return added, nil
}

const followUpColumns = `id, incident_id, text, owner, created_by, created_at, COALESCE(request_key, ''),
	done_by, done_at`

// AddFollowUp stores f and its timeline entry in one transaction, or finds the
// follow-up its request added already.
func (s *Incidents) AddFollowUp(ctx context.Context, f *runbook.FollowUp) error {
	if f.Text == "" {
		return runbook.Errorf(runbook.EINVALID, "A follow-up needs a text.")
	}
	now := millis(s.db.Now())
	var existing *runbook.FollowUp
	var id int64
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		if err := incidentExists(ctx, tx, f.IncidentID); err != nil {
			return err
		}
		if f.RequestKey != "" {
			found, err := scanFollowUp(tx.QueryRowContext(ctx, "SELECT "+followUpColumns+" FROM followups WHERE request_key = ?", f.RequestKey))
			if err == nil {
				existing = found
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO followups (incident_id, text, owner, created_by, created_at, request_key)
			VALUES (?, ?, ?, ?, ?, ?)`, f.IncidentID, f.Text, f.Owner, f.CreatedBy, now.UnixMilli(), nullString(f.RequestKey))
		if err != nil {
			return fmt.Errorf("insert follow-up: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return addTimeline(ctx, tx, runbook.TimelineEntry{IncidentID: f.IncidentID, At: now, Actor: f.CreatedBy,
			Kind: runbook.TimelineFollowUp, Text: runbook.FollowUpKey(id) + ": " + f.Text})
	})
	if err != nil {
		return fmt.Errorf("add follow-up to %s: %w", runbook.IncidentKey(f.IncidentID), err)
	}
	if existing != nil {
		*f = *existing
		return nil
	}
	f.ID, f.CreatedAt = id, now
	return nil
}

// FollowUp returns the follow-up numbered id.
func (s *Incidents) FollowUp(ctx context.Context, id int64) (*runbook.FollowUp, error) {
	f, err := findFollowUp(ctx, s.db.read, id)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func findFollowUp(ctx context.Context, q querier, id int64) (*runbook.FollowUp, error) {
	f, err := scanFollowUp(q.QueryRowContext(ctx, "SELECT "+followUpColumns+" FROM followups WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "There is no follow-up %s.", runbook.FollowUpKey(id))
	}
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", runbook.FollowUpKey(id), err)
	}
	return f, nil
}

// FollowUps returns an incident's follow-ups, oldest first.
func (s *Incidents) FollowUps(ctx context.Context, incidentID int64) ([]*runbook.FollowUp, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+followUpColumns+" FROM followups WHERE incident_id = ? ORDER BY id", incidentID)
	if err != nil {
		return nil, fmt.Errorf("list follow-ups of %s: %w", runbook.IncidentKey(incidentID), err)
	}
	defer rows.Close()
	var out []*runbook.FollowUp
	for rows.Next() {
		f, err := scanFollowUp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list follow-ups of %s: %w", runbook.IncidentKey(incidentID), err)
	}
	return out, nil
}

// CompleteFollowUp marks a follow-up done, with its timeline entry, once per key.
func (s *Incidents) CompleteFollowUp(ctx context.Context, id int64, by, key string) (*runbook.FollowUp, bool, error) {
	var out *runbook.FollowUp
	applied := false
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		f, err := findFollowUp(ctx, tx, id)
		if err != nil {
			return err
		}
		if f.Done() {
			var doneKey string
			if err := tx.QueryRowContext(ctx, "SELECT done_key FROM followups WHERE id = ?", id).Scan(&doneKey); err != nil {
				return fmt.Errorf("read %s: %w", f.Key(), err)
			}
			if key != "" && doneKey == key {
				out = f
				return nil
			}
			return runbook.Errorf(runbook.ECONFLICT, "%s is already done (<@%s>, %s).", f.Key(), f.DoneBy,
				f.DoneAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		now := millis(s.db.Now())
		if _, err := tx.ExecContext(ctx, "UPDATE followups SET done_by = ?, done_at = ?, done_key = ? WHERE id = ?",
			by, now.UnixMilli(), key, id); err != nil {
			return fmt.Errorf("mark %s done: %w", f.Key(), err)
		}
		f.DoneBy, f.DoneAt = by, now
		out, applied = f, true
		return addTimeline(ctx, tx, runbook.TimelineEntry{IncidentID: f.IncidentID, At: now, Actor: by,
			Kind: runbook.TimelineFollowUpDone, Text: f.Key() + " done: " + f.Text})
	})
	if err != nil {
		return nil, false, err
	}
	return out, applied, nil
}

func scanFollowUp(row scanner) (*runbook.FollowUp, error) {
	var f runbook.FollowUp
	var created int64
	var done sql.NullInt64
	if err := row.Scan(&f.ID, &f.IncidentID, &f.Text, &f.Owner, &f.CreatedBy, &created, &f.RequestKey, &f.DoneBy, &done); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan follow-up: %w", err)
	}
	f.CreatedAt = time.UnixMilli(created)
	if done.Valid {
		f.DoneAt = time.UnixMilli(done.Int64)
	}
	return &f, nil
}
