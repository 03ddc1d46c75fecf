package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
)

// CastVote records a person's approve or deny vote on a pending request and decides the
// request when the vote completes it: once the required number of distinct people have
// approved, or at the first denial. It all happens in one write transaction, so that
// double clicks, racing approvers and redelivered clicks decide a request exactly once;
// VoteResult.Decided tells the one caller that decided it.
//
// A repeated approval by the same person is reported (Repeat), not counted. A person who
// approved and then denies changes their vote: a denial always stops the request.
// A request that is no longer pending is returned as it is; one past its expiry is
// reported Overdue and left for the caller to expire.
func (s *Approvals) CastVote(ctx context.Context, approvalID int64, user string, approve bool, note string) (runbook.VoteResult, error) {
	if user == "" {
		return runbook.VoteResult{}, runbook.Errorf(runbook.EINVALID, "A vote needs the person who cast it.")
	}
	now := s.db.Now()
	var res runbook.VoteResult
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		a, err := approvalTx(ctx, tx, approvalID)
		if err != nil {
			return err
		}
		res.Approval = a
		if a.State != runbook.ApprovalPending {
			return nil
		}
		if !now.Before(a.ExpiresAt) {
			res.Overdue = true
			return nil
		}
		return s.vote(ctx, tx, a, user, approve, note, now, &res)
	})
	if err != nil {
		return runbook.VoteResult{}, fmt.Errorf("vote on %s: %w", runbook.ApprovalKey(approvalID), err)
	}
	return res, nil
}

// vote inserts the vote, counts the approvals and decides the request if the vote
// completes it.
func (s *Approvals) vote(ctx context.Context, tx *sql.Tx, a *runbook.Approval, user string, approve bool, note string,
	now time.Time, res *runbook.VoteResult) error {
	counted, err := insertVote(ctx, tx, a.ID, user, approve, note, now)
	if err != nil {
		return err
	}
	res.Repeat = !counted
	if res.Approvers, err = approversOf(ctx, tx, a.ID); err != nil {
		return err
	}
	if approve && len(res.Approvers) < a.Required {
		return nil
	}
	to := runbook.ApprovalApproved
	if !approve {
		to = runbook.ApprovalDenied
	}
	if res.Decided, err = decideTx(ctx, tx, a.ID, to, user, note, now); err != nil {
		return err
	}
	res.Approval, err = approvalTx(ctx, tx, a.ID)
	return err
}

// insertVote stores a vote; it reports false for a repeated approval, which changes
// nothing. A denial replaces the person's earlier approval.
func insertVote(ctx context.Context, tx *sql.Tx, id int64, user string, approve bool, note string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO approval_votes (approval_id, user, approve, note, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (approval_id, user) DO UPDATE SET approve = 0, note = excluded.note, at = excluded.at
		WHERE excluded.approve = 0 AND approve = 1`, id, user, approve, note, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("insert vote: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// approversOf lists who has approved a request, in the order they did.
func approversOf(ctx context.Context, tx *sql.Tx, id int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT user FROM approval_votes WHERE approval_id = ? AND approve = 1 ORDER BY at, rowid", id)
	if err != nil {
		return nil, fmt.Errorf("count approvals: %w", err)
	}
	defer rows.Close()
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("scan vote: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// decideTx is the conditional update every decision goes through.
func decideTx(ctx context.Context, tx *sql.Tx, id int64, to runbook.ApprovalState, by, note string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, note = ?
		WHERE id = ? AND state = 'pending'`, string(to), by, now.UnixMilli(), note, id)
	if err != nil {
		return false, fmt.Errorf("decide: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func approvalTx(ctx context.Context, tx *sql.Tx, id int64) (*runbook.Approval, error) {
	a, err := scanApproval(tx.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "%s does not exist.", runbook.ApprovalKey(id))
	}
	return a, err
}

// UnsettledApprovals lists requests decided (or expired, or cancelled) at or before the
// given time whose follow-up was never recorded as done — a crash interrupted it, or
// something other than the approvals service decided them — or whose request message
// was recorded after the follow-up and so was never updated to show the decision.
// Oldest first.
func (s *Approvals) UnsettledApprovals(ctx context.Context, decidedBefore time.Time) ([]*runbook.Approval, error) {
	// Two selects rather than one OR, so that each uses its partial index.
	before := decidedBefore.UnixMilli()
	// Each half searches its partial index (approvals_unsettled,
	// approvals_message_unsettled), which holds only the few requests a crash left
	// unsettled, by decided_at: a condition on the column itself, not
	// COALESCE(decided_at, 0) — every decision sets decided_at with the state, so no
	// decided request lacks it. INDEXED BY because, to merge the halves in id order
	// without sorting, the planner would rather read the whole table twice.
	return s.query(ctx, "unsettled approvals", `WHERE id IN (
		SELECT id FROM approvals INDEXED BY approvals_unsettled
			WHERE state <> 'pending' AND settled_at IS NULL AND decided_at <= ?
		UNION
		SELECT id FROM approvals INDEXED BY approvals_message_unsettled
			WHERE state <> 'pending' AND message_ts <> '' AND message_settled_at IS NULL AND decided_at <= ?) ORDER BY id`, before, before)
}

// SettleApproval records that a decided request has been followed up, together with
// the audit entry and the incident timeline entry (nil: none) that say how it ended,
// in one transaction, unless it was already recorded: settled reports whether this call
// did it. A follow-up repeated after a crash, or by two callers at once, so writes
// them once. The timeline entry is left out if its incident no longer exists.
func (s *Approvals) SettleApproval(ctx context.Context, id int64, audit runbook.AuditEntry, timeline *runbook.TimelineEntry) (bool, error) {
	now := s.db.Now()
	var settled bool
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE approvals SET settled_at = ? WHERE id = ? AND state <> 'pending' AND settled_at IS NULL",
			now.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("mark settled: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		settled = true
		if err := insertAudit(ctx, tx, audit, now); err != nil {
			return err
		}
		return settleTimeline(ctx, tx, timeline, now)
	})
	if err != nil {
		return false, fmt.Errorf("settle %s: %w", runbook.ApprovalKey(id), err)
	}
	return settled, nil
}

// settleTimeline adds a settled request's timeline entry, if it has one and its
// incident still exists: a vanished incident must not keep the request unsettled.
func settleTimeline(ctx context.Context, tx *sql.Tx, e *runbook.TimelineEntry, now time.Time) error {
	if e == nil {
		return nil
	}
	if err := incidentExists(ctx, tx, e.IncidentID); runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = now
	}
	return addTimeline(ctx, tx, *e)
}

// SettleApprovalMessage records that the request message at ts was updated to show the
// decision. It changes nothing if the request's message is no longer at ts, so that a
// message recorded meanwhile is still updated.
func (s *Approvals) SettleApprovalMessage(ctx context.Context, id int64, ts string) error {
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE approvals SET message_settled_at = ?
			WHERE id = ? AND state <> 'pending' AND message_ts = ? AND message_ts <> '' AND message_settled_at IS NULL`,
			s.db.Now().UnixMilli(), id, ts)
		return err
	})
	if err != nil {
		return fmt.Errorf("settle the message of %s: %w", runbook.ApprovalKey(id), err)
	}
	return nil
}

// ApprovedBy lists the people whose approvals of a request count, in the order they
// gave them.
func (s *Approvals) ApprovedBy(ctx context.Context, id int64) ([]string, error) {
	tx, err := s.db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	users, err := approversOf(ctx, tx, id)
	if err != nil {
		return nil, fmt.Errorf("approvers of %s: %w", runbook.ApprovalKey(id), err)
	}
	return users, nil
}
