package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// TestAPIApprovalIdempotency: a retried request with the same key finds the request
// already made, and only the caller that made it does.
func TestAPIApprovalIdempotency(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	apr := db.Approvals()
	ask := func(via, key string) (*runbook.Approval, bool) {
		t.Helper()
		a := &runbook.Approval{Operation: "deploy api v2", Risk: "high", RequestedVia: via, RequestedBy: "U1",
			Approvers: []string{"U2"}, Required: 1, ExpiresAt: db.Now().Add(time.Hour)}
		created, err := apr.CreateAPIApproval(ctx, a, key)
		if err != nil {
			t.Fatal(err)
		}
		return a, created
	}
	first, created := ask("api:ci", "build-41")
	if !created || first.ID == 0 || first.RunID != 0 || first.RequestedVia != "api:ci" || first.Token == "" || first.State != runbook.ApprovalPending {
		t.Fatalf("first request: created %v, %+v", created, first)
	}
	again, created := ask("api:ci", "build-41")
	if created || again.ID != first.ID || again.Token != first.Token {
		t.Fatalf("retry made %s (created %v), want %s again", again.Key(), created, first.Key())
	}
	if other, created := ask("api:deploy", "build-41"); !created || other.ID == first.ID {
		t.Fatalf("another caller's key found %s; keys are per caller", other.Key())
	}
	a, created := ask("api:ci", "")
	b, created2 := ask("api:ci", "")
	if !created || !created2 || a.ID == b.ID {
		t.Fatal("requests without a key were taken for one another")
	}
	got, err := apr.Approval(ctx, first.ID)
	if err != nil || got.RunID != 0 || got.RequestedVia != "api:ci" || got.Approvers[0] != "U2" {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if _, err := apr.CreateAPIApproval(ctx, &runbook.Approval{Operation: "x", Risk: "low", ExpiresAt: db.Now()}, ""); err == nil {
		t.Fatal("a request through the API without its caller was stored")
	}
}
