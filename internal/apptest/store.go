package apptest

import (
	"context"

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
