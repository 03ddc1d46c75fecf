package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
)

// AuditLog is the SQLite implementation of runbook.AuditStore.
type AuditLog struct{ db *DB }

var _ runbook.AuditStore = (*AuditLog)(nil)

// Audit returns the audit log.
func (db *DB) Audit() *AuditLog { return &AuditLog{db: db} }

// Record appends an entry to the audit log.
func (s *AuditLog) Record(ctx context.Context, e runbook.AuditEntry) error {
	err := s.db.update(ctx, func(tx *sql.Tx) error { return insertAudit(ctx, tx, e, s.db.Now()) })
	if err != nil {
		return fmt.Errorf("record audit entry %s: %w", e.Action, err)
	}
	return nil
}

// insertAudit appends an entry to the audit log inside a transaction, so that an entry
// can be written together with the change it records; now stands in for a zero At.
func insertAudit(ctx context.Context, tx *sql.Tx, e runbook.AuditEntry, now time.Time) error {
	if e.Action == "" || e.Actor == "" {
		return fmt.Errorf("actor and action are required (got %q, %q)", e.Actor, e.Action)
	}
	if e.At.IsZero() {
		e.At = now
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, incident_id, run_id, approval_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.At.UnixMilli(), e.Actor, e.Action,
		nullID(e.IncidentID), nullID(e.RunID), nullID(e.ApprovalID), e.Detail)
	if err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	return nil
}

// Audit returns the newest entries about an incident (0: about anything), newest first.
func (s *AuditLog) Audit(ctx context.Context, incidentID int64, limit int) ([]runbook.AuditEntry, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	const cols = `SELECT id, at, actor, action, COALESCE(incident_id, 0), COALESCE(run_id, 0), COALESCE(approval_id, 0), detail FROM audit_log `
	var rows *sql.Rows
	var err error
	if incidentID != 0 {
		rows, err = s.db.read.QueryContext(ctx, cols+"WHERE incident_id = ? ORDER BY id DESC LIMIT ?", incidentID, limit)
	} else {
		rows, err = s.db.read.QueryContext(ctx, cols+"ORDER BY id DESC LIMIT ?", limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []runbook.AuditEntry
	for rows.Next() {
		var e runbook.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.IncidentID, &e.RunID, &e.ApprovalID, &e.Detail); err != nil {
			return nil, fmt.Errorf("scan audit entry: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
