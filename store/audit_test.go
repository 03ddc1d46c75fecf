package store_test

import (
	"context"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestAuditLog(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		db := MustOpen(t)
		now := fixedClock(db)
		log := db.Audit()
		inc := MustCreateIncident(t, db.Incidents(), "Checkout is down")
		entries := []runbook.AuditEntry{
			{Actor: "U1", Action: runbook.AuditApprovalRequested, IncidentID: inc.ID, RunID: 4, ApprovalID: 7, Detail: "scale"},
			{Actor: "U2", Action: runbook.AuditApprovalRefused, ApprovalID: 9, Detail: "there is no APR-9"},
			{Actor: "U3", Action: runbook.AuditApprovalDecided, IncidentID: inc.ID, RunID: 4, ApprovalID: 7, Detail: "approved"},
		}
		for _, e := range entries {
			if err := log.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		all, err := log.Audit(ctx, 0, 0)
		if err != nil || len(all) != 3 || all[0].Actor != "U3" || all[2].Actor != "U1" {
			t.Fatalf("all = %+v, %v; want 3, newest first", all, err)
		}
		if all[1].IncidentID != 0 || all[1].ApprovalID != 9 || !all[1].At.Equal(now.Truncate(1e6)) {
			t.Fatalf("entry = %+v", all[1])
		}
		mine, err := log.Audit(ctx, inc.ID, 1)
		if err != nil || len(mine) != 1 || mine[0].Action != runbook.AuditApprovalDecided || mine[0].RunID != 4 {
			t.Fatalf("incident entries = %+v, %v", mine, err)
		}
	})

	t.Run("OutlivesItsIncident", func(t *testing.T) {
		db := MustOpen(t)
		if err := db.Audit().Record(ctx, runbook.AuditEntry{Actor: "U1", Action: "x", IncidentID: 999}); err != nil {
			t.Fatalf("an entry about an incident that is gone was refused: %v", err)
		}
	})

	t.Run("ErrActorRequired", func(t *testing.T) {
		if err := MustOpen(t).Audit().Record(ctx, runbook.AuditEntry{Action: "x"}); err == nil {
			t.Fatal("recorded an entry without an actor")
		}
	})
}
