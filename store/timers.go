package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
)

// Timers is the SQLite implementation of runbook.TimerStore.
type Timers struct{ db *DB }

var _ runbook.TimerStore = (*Timers)(nil)

// Timers returns the timer store.
func (db *DB) Timers() *Timers { return &Timers{db: db} }

const timerColumns = "id, kind, incident_id, name, due_at, seq"

const firingColumns = "timer_id, seq, kind, incident_id, name, token, channel, ts, done, fired_at"

// SetTimer arms a timer at due, creating it if needed.
func (s *Timers) SetTimer(ctx context.Context, kind string, incidentID int64, name string, due time.Time) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO timers (kind, incident_id, name, due_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, incident_id, name) DO UPDATE SET due_at = excluded.due_at`,
			kind, incidentID, name, due.UnixMilli())
		if err != nil {
			return fmt.Errorf("set %s timer of %s: %w", kind, runbook.IncidentKey(incidentID), err)
		}
		return nil
	})
}

// EnsureTimer creates a timer due at due unless it exists.
func (s *Timers) EnsureTimer(ctx context.Context, kind string, incidentID int64, name string, due time.Time) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO timers (kind, incident_id, name, due_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, incident_id, name) DO NOTHING`, kind, incidentID, name, due.UnixMilli())
		if err != nil {
			return fmt.Errorf("create %s timer of %s: %w", kind, runbook.IncidentKey(incidentID), err)
		}
		return nil
	})
}

// MoveTimer moves an existing timer to due.
func (s *Timers) MoveTimer(ctx context.Context, kind string, incidentID int64, name string, due time.Time) (bool, error) {
	var moved bool
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE timers SET due_at = ? WHERE kind = ? AND incident_id = ? AND name = ?",
			due.UnixMilli(), kind, incidentID, name)
		if err != nil {
			return fmt.Errorf("move %s timer of %s: %w", kind, runbook.IncidentKey(incidentID), err)
		}
		n, _ := res.RowsAffected()
		moved = n == 1
		return nil
	})
	return moved, err
}

// DeleteTimer removes one timer.
func (s *Timers) DeleteTimer(ctx context.Context, id int64) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM timers WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete timer %d: %w", id, err)
		}
		return nil
	})
}

// DeleteIncidentTimers removes every timer of an incident.
func (s *Timers) DeleteIncidentTimers(ctx context.Context, incidentID int64) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM timers WHERE incident_id = ?", incidentID); err != nil {
			return fmt.Errorf("delete the timers of %s: %w", runbook.IncidentKey(incidentID), err)
		}
		return nil
	})
}

// DueTimers lists the timers due at or before now, soonest first.
func (s *Timers) DueTimers(ctx context.Context, now time.Time) ([]*runbook.Timer, error) {
	return s.timers(ctx, "list due timers", "due_at <= ? ORDER BY due_at, id", now.UnixMilli())
}

// IncidentTimers lists an incident's timers.
func (s *Timers) IncidentTimers(ctx context.Context, incidentID int64) ([]*runbook.Timer, error) {
	return s.timers(ctx, "list the timers of "+runbook.IncidentKey(incidentID), "incident_id = ? ORDER BY id", incidentID)
}

func (s *Timers) timers(ctx context.Context, what, where string, args ...any) ([]*runbook.Timer, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+timerColumns+" FROM timers WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []*runbook.Timer
	for rows.Next() {
		t, err := scanTimer(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func scanTimer(row scanner) (*runbook.Timer, error) {
	var t runbook.Timer
	var due int64
	if err := row.Scan(&t.ID, &t.Kind, &t.IncidentID, &t.Name, &due, &t.Seq); err != nil {
		return nil, err
	}
	t.DueAt = time.UnixMilli(due)
	return &t, nil
}

// NextDue is when the soonest timer is due.
func (s *Timers) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	if err := s.db.read.QueryRowContext(ctx, "SELECT MIN(due_at) FROM timers").Scan(&due); err != nil {
		return time.Time{}, false, fmt.Errorf("find the next timer: %w", err)
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(due.Int64), true, nil
}

// ClaimTimer records the next firing of a due timer and moves it to next, once.
func (s *Timers) ClaimTimer(ctx context.Context, id, seq int64, now, next time.Time) (*runbook.TimerFiring, bool, error) {
	var f *runbook.TimerFiring
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE timers SET seq = seq + 1, due_at = ? WHERE id = ? AND seq = ? AND due_at <= ?",
			next.UnixMilli(), id, seq, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("claim timer %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO timer_firings (timer_id, seq, kind, incident_id, name, token, fired_at)
			SELECT id, seq, kind, incident_id, name, ?, ? FROM timers WHERE id = ?`, newToken(), now.UnixMilli(), id); err != nil {
			return fmt.Errorf("record a firing of timer %d: %w", id, err)
		}
		f, err = scanFiring(tx.QueryRowContext(ctx, "SELECT "+firingColumns+" FROM timer_firings WHERE timer_id = ? AND seq = ?", id, seq+1))
		if err != nil {
			return fmt.Errorf("read a firing of timer %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return f, f != nil, nil
}

// UndoneFirings lists firings claimed but not done, oldest first.
func (s *Timers) UndoneFirings(ctx context.Context) ([]*runbook.TimerFiring, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+firingColumns+" FROM timer_firings WHERE done = 0 ORDER BY fired_at, timer_id, seq")
	if err != nil {
		return nil, fmt.Errorf("list undone timer firings: %w", err)
	}
	defer rows.Close()
	var out []*runbook.TimerFiring
	for rows.Next() {
		f, err := scanFiring(rows)
		if err != nil {
			return nil, fmt.Errorf("list undone timer firings: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list undone timer firings: %w", err)
	}
	return out, nil
}

// FiringDone records a firing as acted on.
func (s *Timers) FiringDone(ctx context.Context, timerID, seq int64, channel, ts string) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE timer_firings SET done = 1, channel = ?, ts = ? WHERE timer_id = ? AND seq = ?",
			channel, ts, timerID, seq)
		if err != nil {
			return fmt.Errorf("record firing %d/%d as done: %w", timerID, seq, err)
		}
		return nil
	})
}

// Firing returns one firing.
func (s *Timers) Firing(ctx context.Context, timerID, seq int64) (*runbook.TimerFiring, error) {
	f, err := scanFiring(s.db.read.QueryRowContext(ctx, "SELECT "+firingColumns+" FROM timer_firings WHERE timer_id = ? AND seq = ?", timerID, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "No such reminder.")
	}
	if err != nil {
		return nil, fmt.Errorf("read firing %d/%d: %w", timerID, seq, err)
	}
	return f, nil
}

func scanFiring(row scanner) (*runbook.TimerFiring, error) {
	var f runbook.TimerFiring
	var fired int64
	if err := row.Scan(&f.TimerID, &f.Seq, &f.Kind, &f.IncidentID, &f.Name, &f.Token, &f.Channel, &f.TS, &f.Done, &fired); err != nil {
		return nil, err
	}
	f.FiredAt = time.UnixMilli(fired)
	return &f, nil
}
