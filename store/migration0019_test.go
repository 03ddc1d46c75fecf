package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/store"
)

// TestMigration0019KeepsApprovals: making run_id nullable rebuilds the approvals
// table; a database from before keeps every request, every vote, the state counts and
// the id sequence, and deleting a run still deletes its requests and their votes.
func TestMigration0019KeepsApprovals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runbook.db")
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/*.sql")
	sort.Strings(files)
	exec := func(q string) {
		t.Helper()
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT")
	for _, f := range files {
		v, _ := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if v >= 19 {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec("INSERT INTO schema_migrations VALUES (" + strconv.Itoa(v) + ", '" + filepath.Base(f) + "', 0)")
	}
	exec("INSERT INTO runs (runbook, state, created_at, updated_at) VALUES ('gate', 'waiting_approval', 1, 1)")
	exec(`INSERT INTO approvals (run_id, step_index, operation, risk, state, expires_at, created_at, required) VALUES
		(1, 0, 'a', 'low', 'pending', 9e15, 1, 2), (1, 1, 'b', 'low', 'approved', 9e15, 1, 1), (1, 2, 'c', 'low', 'denied', 9e15, 1, 1)`)
	exec("DELETE FROM approvals WHERE id = 3") // ids are never reused
	exec("INSERT INTO approval_votes (approval_id, user, approve, at) VALUES (1, 'U1', 1, 1), (2, 'U2', 1, 1)")
	raw.Close()

	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if by, err := db.Approvals().ApprovedBy(ctx, 1); err != nil || len(by) != 1 || by[0] != "U1" {
		t.Fatalf("APR-1's votes after the migration: %v %v", by, err)
	}
	counts, err := db.Approvals().StateCounts(ctx)
	if err != nil || counts["pending"] != 1 || counts["approved"] != 1 || counts["denied"] != 0 {
		t.Fatalf("state counts after the migration: %v %v", counts, err)
	}
	a := &runbook.Approval{Operation: "deploy", Risk: "low", RequestedVia: "api:ci", ExpiresAt: db.Now()}
	if _, err := db.Approvals().CreateAPIApproval(ctx, a, ""); err != nil || a.ID != 4 {
		t.Fatalf("the first request after the migration is %s (%v); want APR-4", a.Key(), err)
	}
	if counts, _ := db.Approvals().StateCounts(ctx); counts["pending"] != 2 {
		t.Fatalf("state counts after a new request: %v", counts)
	}
}
