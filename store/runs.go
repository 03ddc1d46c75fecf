package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
	"github.com/runbookhq/runbook"
)

// Runs is the SQLite implementation of runbook.RunStore.
type Runs struct{ db *DB }

var _ runbook.RunStore = (*Runs)(nil)

// Runs returns the run store.
func (db *DB) Runs() *Runs { return &Runs{db: db} }

// CreateRun stores a new run, running, with every step pending. If run.RequestKey is
// set and a run was created under it already, nothing is written and run is set to
// that run.
func (s *Runs) CreateRun(ctx context.Context, run *runbook.Run) error {
	params, err := json.Marshal(orEmpty(run.Params))
	if err != nil {
		return fmt.Errorf("encode params: %w", err)
	}
	now := s.db.Now()
	var existing int64
	err = s.db.update(ctx, func(tx *sql.Tx) error {
		// Looked up in the write transaction, so two handlings of one request racing
		// still create one run.
		found, err := runIDByRequestKey(ctx, tx, run.RequestKey)
		if err != nil || found != 0 {
			existing = found
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (runbook, incident_id, params, state, started_by, channel, thread_ts, request_key, rollback_of, created_at, updated_at)
			VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
			run.Runbook, nullID(run.IncidentID), string(params), run.StartedBy, run.Channel, run.ThreadTS, nullString(run.RequestKey),
			nullID(run.RollbackOf), now.UnixMilli(), now.UnixMilli())
		if isUniqueViolation(err, "rollback_of") {
			return runbook.Errorf(runbook.ECONFLICT, "%s is already being rolled back, or was.", runbook.RunKey(run.RollbackOf))
		}
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if run.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for i, st := range run.Steps {
			if _, err := tx.ExecContext(ctx, `INSERT INTO run_steps (run_id, idx, step_id, action, state, undoes) VALUES (?, ?, ?, ?, 'pending', ?)`,
				run.ID, i, st.StepID, st.Action, undoes(run, st)); err != nil {
				return fmt.Errorf("insert step %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create run of %s: %w", run.Runbook, err)
	}
	if existing != 0 {
		found, err := s.Run(ctx, existing)
		if err != nil {
			return err
		}
		*run = *found
		return nil
	}
	run.State, run.CreatedAt, run.UpdatedAt = runbook.RunRunning, now, now
	for i := range run.Steps {
		run.Steps[i].Index, run.Steps[i].State = i, runbook.StepPending
	}
	return nil
}

// RunByRequestKey returns the run created under a request key.
func (s *Runs) RunByRequestKey(ctx context.Context, key string) (*runbook.Run, error) {
	id, err := runIDByRequestKey(ctx, s.db.read, key)
	if err != nil {
		return nil, fmt.Errorf("find run by request: %w", err)
	}
	if id == 0 {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "No run was started by this request.")
	}
	return s.Run(ctx, id)
}

// runIDByRequestKey returns the id of the run created under key, or 0.
func runIDByRequestKey(ctx context.Context, q querier, key string) (int64, error) {
	if key == "" {
		return 0, nil
	}
	var id int64
	err := q.QueryRowContext(ctx, "SELECT id FROM runs WHERE request_key = ?", key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// Run returns a run with its steps.
func (s *Runs) Run(ctx context.Context, id int64) (*runbook.Run, error) {
	runs, err := s.query(ctx, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "%s does not exist.", runbook.RunKey(id))
	}
	return runs[0], nil
}

// ActiveRuns lists runs that are running or waiting for an approval, oldest first.
func (s *Runs) ActiveRuns(ctx context.Context) ([]*runbook.Run, error) {
	return s.query(ctx, "WHERE state IN ('running', 'waiting_approval') ORDER BY id")
}

// ActiveRunIDs lists the ids of runs running or waiting for an approval, oldest first,
// after the id after and at most limit of them: the executor reads its backlog a page
// at a time, so that a large one is never in memory at once.
func (s *Runs) ActiveRunIDs(ctx context.Context, after int64, limit int) ([]int64, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id FROM runs WHERE state IN ('running', 'waiting_approval') AND id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list active runs: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan active run: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RunsUnderWay counts the runs in state running — of one person, or of everyone when
// by is "" — up to limit: the count is only ever compared with a bound. A person's are
// counted in their part of a partial index, which admission keeps near that bound.
func (s *Runs) RunsUnderWay(ctx context.Context, by string, limit int) (int, error) {
	var n int
	var err error
	if by == "" {
		// Kept by triggers as states change (migration 0017): no rows are read.
		err = s.db.read.QueryRowContext(ctx, `SELECT COALESCE((SELECT n FROM run_state_counts WHERE state = 'running'), 0)`).Scan(&n)
	} else {
		err = s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE state = 'running' AND started_by = ?`, by).Scan(&n)
	}
	n = min(n, limit)
	if err != nil {
		return 0, fmt.Errorf("count runs under way: %w", err)
	}
	return n, nil
}

// ListRuns lists the newest runs, of one incident when incidentID is not 0.
func (s *Runs) ListRuns(ctx context.Context, incidentID int64, limit int) ([]*runbook.Run, error) {
	if limit <= 0 {
		limit = 20
	}
	if incidentID != 0 {
		return s.query(ctx, "WHERE incident_id = ? ORDER BY id DESC LIMIT ?", incidentID, limit)
	}
	return s.query(ctx, "ORDER BY id DESC LIMIT ?", limit)
}

// StartStep marks a step running and counts the attempt.
func (s *Runs) StartStep(ctx context.Context, runID int64, index int) (int, error) {
	var attempts int
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE run_steps SET state = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, ?)
			WHERE run_id = ? AND idx = ? AND state IN ('pending', 'running')
			AND (SELECT state FROM runs WHERE id = ?) = 'running'
			RETURNING attempts`, s.db.Now().UnixMilli(), runID, index, runID).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return runbook.Errorf(runbook.ECONFLICT, "step %d of %s cannot start now", index+1, runbook.RunKey(runID))
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start step %d of %s: %w", index, runbook.RunKey(runID), err)
	}
	return attempts, nil
}

// FinishStep records how a step ended.
func (s *Runs) FinishStep(ctx context.Context, runID int64, index int, state runbook.StepState, outputs map[string]any, errMsg string) error {
	out, err := json.Marshal(orEmpty(outputs))
	if err != nil {
		return fmt.Errorf("encode outputs: %w", err)
	}
	now := s.db.Now().UnixMilli()
	return s.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE run_steps SET state = ?, outputs = ?, error = ?, finished_at = ? WHERE run_id = ? AND idx = ?`,
			string(state), string(out), errMsg, now, runID, index)
		if err != nil {
			return fmt.Errorf("finish step %d of %s: %w", index, runbook.RunKey(runID), err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return runbook.Errorf(runbook.ENOTFOUND, "%s has no step %d", runbook.RunKey(runID), index+1)
		}
		_, err = tx.ExecContext(ctx, "UPDATE runs SET updated_at = ? WHERE id = ?", now, runID)
		return err
	})
}

// SetRunState moves a run from one of the given states to another, once.
func (s *Runs) SetRunState(ctx context.Context, runID int64, from []runbook.RunState, to runbook.RunState, errMsg string) (bool, error) {
	if len(from) == 0 {
		return false, errors.New("SetRunState: no from states")
	}
	args := []any{string(to), errMsg, s.db.Now().UnixMilli(), runID}
	for _, f := range from {
		args = append(args, string(f))
	}
	var changed bool
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET state = ?, error = ?, updated_at = ? WHERE id = ? AND state IN (?`+
			strings.Repeat(", ?", len(from)-1)+")", args...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		changed = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("set %s to %s: %w", runbook.RunKey(runID), to, err)
	}
	return changed, nil
}

func (s *Runs) query(ctx context.Context, where string, args ...any) ([]*runbook.Run, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, runbook, COALESCE(incident_id, 0), params, state, started_by, channel, thread_ts,
		COALESCE(request_key, ''), error, created_at, updated_at, COALESCE(rollback_of, 0), result_channel, result_ts
		FROM runs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query runs: %w", err)
	}
	var runs []*runbook.Run
	for rows.Next() {
		var r runbook.Run
		var params string
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.Runbook, &r.IncidentID, &params, &r.State, &r.StartedBy, &r.Channel, &r.ThreadTS, &r.RequestKey, &r.Error, &created, &updated,
			&r.RollbackOf, &r.ResultChannel, &r.ResultTS); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan run: %w", err)
		}
		if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode params of %s: %w", runbook.RunKey(r.ID), err)
		}
		r.CreatedAt, r.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
		runs = append(runs, &r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.steps(ctx, runs); err != nil {
		return nil, err
	}
	return runs, nil
}

// steps reads the steps of every run listed in one statement: `runs` lists fifteen,
// and a statement per run cost more than the rest of the command.
func (s *Runs) steps(ctx context.Context, runs []*runbook.Run) error {
	if len(runs) == 0 {
		return nil
	}
	byID := make(map[int64]*runbook.Run, len(runs))
	ids := make([]any, 0, len(runs))
	for _, r := range runs {
		byID[r.ID] = r
		ids = append(ids, r.ID)
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT run_id, idx, step_id, action, state, outputs, error, attempts, COALESCE(started_at, 0), COALESCE(finished_at, 0),
		COALESCE(undoes, -1)
		FROM run_steps WHERE run_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY run_id, idx`, ids...)
	if err != nil {
		return fmt.Errorf("query steps of %d runs: %w", len(runs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var runID int64
		var st runbook.StepRun
		var outputs string
		var started, finished int64
		if err := rows.Scan(&runID, &st.Index, &st.StepID, &st.Action, &st.State, &outputs, &st.Error, &st.Attempts, &started, &finished, &st.Undoes); err != nil {
			return fmt.Errorf("scan step: %w", err)
		}
		if err := json.Unmarshal([]byte(outputs), &st.Outputs); err != nil {
			return fmt.Errorf("decode outputs of %s step %d: %w", runbook.RunKey(runID), st.Index, err)
		}
		st.StartedAt, st.FinishedAt = optionalTime(started), optionalTime(finished)
		r := byID[runID]
		r.Steps = append(r.Steps, st)
	}
	return rows.Err()
}

func optionalTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// RecordProgress saves a running step's partial outputs.
func (s *Runs) RecordProgress(ctx context.Context, runID int64, index int, progress map[string]any) error {
	out, err := json.Marshal(orEmpty(progress))
	if err != nil {
		return fmt.Errorf("encode progress: %w", err)
	}
	return s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE run_steps SET outputs = ? WHERE run_id = ? AND idx = ? AND state = 'running'", string(out), runID, index)
		return err
	})
}

// undoes is the undoes column of a step: the step it undoes in a rollback run, else
// NULL.
func undoes(run *runbook.Run, st runbook.StepRun) any {
	if run.RollbackOf == 0 || st.Undoes < 0 {
		return nil
	}
	return st.Undoes
}

// SetRunResult records where the message showing a run's result is.
func (s *Runs) SetRunResult(ctx context.Context, runID int64, channel, ts string) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE runs SET result_channel = ?, result_ts = ? WHERE id = ?", channel, ts, runID)
		if err != nil {
			return fmt.Errorf("record the result message of %s: %w", runbook.RunKey(runID), err)
		}
		return nil
	})
}

// RollbackOf returns the rollback of a run that is under way or done.
func (s *Runs) RollbackOf(ctx context.Context, runID int64) (*runbook.Run, error) {
	runs, err := s.query(ctx, "WHERE rollback_of = ? AND state IN ('running', 'waiting_approval', 'succeeded') ORDER BY id DESC LIMIT 1", runID)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "%s has not been rolled back.", runbook.RunKey(runID))
	}
	return runs[0], nil
}

// StateCounts counts runs by state, from the counts the store keeps as states change
// (migration 0017), not by reading every run.
func (s *Runs) StateCounts(ctx context.Context) (map[string]int, error) {
	return countBy(ctx, s.db, "SELECT state, n FROM run_state_counts")
}

func countBy(ctx context.Context, db *DB, query string) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}

// isUniqueViolation reports whether err is a UNIQUE constraint failure on a column.
func isUniqueViolation(err error, column string) bool {
	se, ok := errors.AsType[sqlite3.Error](err)
	return ok && se.ExtendedCode == sqlite3.ErrConstraintUnique && strings.Contains(se.Error(), column)
}
