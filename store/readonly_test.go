package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// TestReadOnlyContextRefusesWrites: under the context of a request taken as read-only
// (and so not recorded), every write — an ordinary one and one of the inbox's grouped
// writes — is refused and leaves nothing behind, while reads go on.
func TestReadOnlyContextRefusesWrites(t *testing.T) {
	db := MustOpen(t)
	ctx := runbook.ReadOnlyContext(context.Background())
	if err := db.Audit().Record(ctx, runbook.AuditEntry{Actor: "U1", Action: "x"}); err == nil {
		t.Error("an audit entry was written under a read-only request")
	}
	env := runbook.Envelope{ID: "e1", Type: "slash_commands", Payload: []byte(`{}`), ReceivedAt: time.Now()}
	if _, err := db.Inbox().Claim(ctx, env); err == nil {
		t.Error("an inbox claim was written under a read-only request")
	}
	entries, err := db.Audit().Audit(ctx, 0, 0)
	if err != nil || len(entries) != 0 {
		t.Fatalf("audit log = %v, %v; want empty, and reads allowed", entries, err)
	}
	if prior, err := db.Inbox().Claim(context.Background(), env); err != nil || prior != nil {
		t.Fatalf("the refused claim left %v (%v)", prior, err)
	}
}
