package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
)

// Approvals is the SQLite implementation of runbook.ApprovalStore.
type Approvals struct{ db *DB }

var (
	_ runbook.ApprovalStore    = (*Approvals)(nil)
	_ runbook.APIApprovalStore = (*Approvals)(nil)
)

// Approvals returns the approval store.
func (db *DB) Approvals() *Approvals { return &Approvals{db: db} }

const approvalColumns = `id, COALESCE(run_id, 0), step_index, COALESCE(incident_id, 0), operation, risk, rollback, reason, requested_by,
	approvers, required, channel, message_ts, state, decided_by, COALESCE(decided_at, 0), note, expires_at, created_at, token, outcome, offers_rollback, requested_via`

// CreateApproval stores a pending request, or returns the one stored for the step.
func (s *Approvals) CreateApproval(ctx context.Context, a *runbook.Approval) (bool, error) {
	now := s.db.Now()
	var created bool
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		approvers, err := json.Marshal(orNoStrings(a.Approvers))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO approvals (run_id, step_index, incident_id, operation, risk, rollback, reason,
			requested_by, approvers, required, channel, state, expires_at, created_at, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
			ON CONFLICT (run_id, step_index) DO NOTHING`,
			a.RunID, a.StepIndex, nullID(a.IncidentID), a.Operation, a.Risk, a.Rollback, a.Reason, a.RequestedBy,
			string(approvers), max(a.Required, 1), a.Channel, a.ExpiresAt.UnixMilli(), now.UnixMilli(), newToken())
		if err != nil {
			return fmt.Errorf("insert approval: %w", err)
		}
		n, _ := res.RowsAffected()
		created = n == 1
		got, err := scanApproval(tx.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE run_id = ? AND step_index = ?", a.RunID, a.StepIndex))
		if err != nil {
			return err
		}
		*a = *got
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("create approval for %s: %w", runbook.RunKey(a.RunID), err)
	}
	return created, nil
}

// CreateAPIApproval stores a pending request made through the API, or returns the one
// the same caller made with the same idempotency key.
func (s *Approvals) CreateAPIApproval(ctx context.Context, a *runbook.Approval, idempotencyKey string) (bool, error) {
	if a.RequestedVia == "" || a.RunID != 0 {
		return false, errors.New("CreateAPIApproval: a request made through the API names its caller and no run")
	}
	var key any // NULL: no key, no de-duplication
	if idempotencyKey != "" {
		key = idempotencyKey
	}
	now := s.db.Now()
	var created bool
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		approvers, err := json.Marshal(orNoStrings(a.Approvers))
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO approvals (run_id, step_index, incident_id, operation, risk, rollback, reason,
			requested_by, approvers, required, channel, state, expires_at, created_at, token, requested_via, idempotency_key)
			VALUES (NULL, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)
			ON CONFLICT (requested_via, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING id`,
			nullID(a.IncidentID), a.Operation, a.Risk, a.Rollback, a.Reason, a.RequestedBy, string(approvers), max(a.Required, 1),
			a.Channel, a.ExpiresAt.UnixMilli(), now.UnixMilli(), newToken(), a.RequestedVia, key).Scan(&id)
		switch {
		case err == nil:
			created = true
		case errors.Is(err, sql.ErrNoRows):
			err = tx.QueryRowContext(ctx, `SELECT id FROM approvals WHERE requested_via = ? AND idempotency_key = ?
				AND idempotency_key IS NOT NULL`, a.RequestedVia, idempotencyKey).Scan(&id)
			if err != nil {
				return fmt.Errorf("find the request made with this idempotency key: %w", err)
			}
		default:
			return fmt.Errorf("insert approval: %w", err)
		}
		got, err := scanApproval(tx.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = ?", id))
		if err != nil {
			return err
		}
		*a = *got
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("create approval for %s: %w", a.RequestedVia, err)
	}
	return created, nil
}

// Approval returns one approval request.
func (s *Approvals) Approval(ctx context.Context, id int64) (*runbook.Approval, error) {
	a, err := scanApproval(s.db.read.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "%s does not exist.", runbook.ApprovalKey(id))
	}
	return a, err
}

// ApprovalForStep returns the request a run's step made.
func (s *Approvals) ApprovalForStep(ctx context.Context, runID int64, step int) (*runbook.Approval, error) {
	a, err := scanApproval(s.db.read.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE run_id = ? AND step_index = ?", runID, step))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "%s step %d has asked for no approval.", runbook.RunKey(runID), step+1)
	}
	return a, err
}

// SetApprovalMessage records where the request message was posted. A message other
// than the one recorded before has not been updated to show any decision yet.
func (s *Approvals) SetApprovalMessage(ctx context.Context, id int64, channel, ts string) error {
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE approvals SET channel = ?, message_ts = ?,
			message_settled_at = CASE WHEN message_ts = ? THEN message_settled_at ELSE NULL END WHERE id = ?`, channel, ts, ts, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("record the message of %s: %w", runbook.ApprovalKey(id), err)
	}
	return nil
}

// DecideApproval moves a pending request to a final state, once.
func (s *Approvals) DecideApproval(ctx context.Context, id int64, to runbook.ApprovalState, by, note string) (bool, error) {
	if to == runbook.ApprovalPending {
		return false, errors.New("DecideApproval: pending is not a decision")
	}
	var decided bool
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, note = ?
			WHERE id = ? AND state = 'pending'`, string(to), by, s.db.Now().UnixMilli(), note, id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		decided = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("decide %s: %w", runbook.ApprovalKey(id), err)
	}
	return decided, nil
}

// PendingApprovals lists pending requests, oldest first.
//
// INDEXED BY: without it the planner walks the whole table in id order to spare itself
// sorting the few pending requests (and with it SQLite refuses the statement, rather
// than scan, if the index is ever dropped).
func (s *Approvals) PendingApprovals(ctx context.Context) ([]*runbook.Approval, error) {
	return s.query(ctx, "pending approvals", "INDEXED BY approvals_pending WHERE state = 'pending' ORDER BY id")
}

// query lists the approvals a WHERE clause selects; what names them in errors.
func (s *Approvals) query(ctx context.Context, what, where string, args ...any) ([]*runbook.Approval, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+approvalColumns+" FROM approvals "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	var out []*runbook.Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanApproval(row scanner) (*runbook.Approval, error) {
	var a runbook.Approval
	var decided, expires, created int64
	var approvers string
	err := row.Scan(&a.ID, &a.RunID, &a.StepIndex, &a.IncidentID, &a.Operation, &a.Risk, &a.Rollback, &a.Reason, &a.RequestedBy,
		&approvers, &a.Required, &a.Channel, &a.MessageTS, &a.State, &a.DecidedBy, &decided, &a.Note, &expires, &created, &a.Token, &a.Outcome, &a.OffersRollback, &a.RequestedVia)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(approvers), &a.Approvers); err != nil {
		return nil, fmt.Errorf("decode approvers of %s: %w", runbook.ApprovalKey(a.ID), err)
	}
	a.DecidedAt, a.ExpiresAt, a.CreatedAt = optionalTime(decided), time.UnixMilli(expires), time.UnixMilli(created)
	return &a, nil
}

// newToken is an approval request's button token: 128 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return base64.RawURLEncoding.EncodeToString(b)
}

func orNoStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SetApprovalOutcome records what became of the steps a request let run.
func (s *Approvals) SetApprovalOutcome(ctx context.Context, id int64, outcome string, offersRollback bool) error {
	return s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE approvals SET outcome = ?, offers_rollback = ? WHERE id = ?", outcome, offersRollback, id)
		if err != nil {
			return fmt.Errorf("record the outcome of %s: %w", runbook.ApprovalKey(id), err)
		}
		return nil
	})
}

// StateCounts counts approval requests by state, from the counts the store keeps as
// states change (migration 0017), not by reading every request.
func (s *Approvals) StateCounts(ctx context.Context) (map[string]int, error) {
	return countBy(ctx, s.db, "SELECT state, n FROM approval_state_counts")
}
