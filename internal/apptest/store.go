package apptest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/store"
)

// OpenStore opens the store at path for a test — the database a bot uses, or one of
// the test's own — and closes it when the test ends.
func OpenStore(tb TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("open the store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Count runs a COUNT(*) query on the database at path, read-only and beside the bot
// that may hold it open, failing the test on error.
func Count(tb TB, path, query string, args ...any) int {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.ToSlash(path)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// WaitRun waits until a run is in one of states, reading it from db, and returns it
// as stored then.
func (k *Kit) WaitRun(db *store.DB, id int64, states ...runbook.RunState) *runbook.Run {
	k.tb.Helper()
	var run *runbook.Run
	k.WaitFor(fmt.Sprintf("%s to be %v", runbook.RunKey(id), states), func() bool {
		r, err := db.Runs().Run(context.Background(), id)
		if err != nil {
			return false
		}
		run = r
		return slices.Contains(states, r.State)
	})
	return run
}

// Runbook is a runbook the running bot has loaded; the test fails if there is none.
func (k *Kit) Runbook(name string) *runbooks.Runbook {
	k.tb.Helper()
	a := k.App()
	if a == nil {
		k.tb.Fatalf("no bot is running to have loaded %s", name)
		return nil
	}
	rb, ok := a.Catalog().Get(name)
	if !ok {
		k.tb.Fatalf("the bot has not loaded a runbook %s; it has %v", name, a.Catalog().Names())
	}
	return rb
}
