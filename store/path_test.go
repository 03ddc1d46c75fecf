//go:build unix

package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/store"
)

// skipIfRoot skips a test of file permissions: root is not held back by them.
func skipIfRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		t.Skip("running as root, which file permissions do not stop: run as another user to test them")
	}
}

// openFails opens the database at path, expecting an error that says each of want.
func openFails(t *testing.T, path string, want ...string) {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err == nil {
		db.Close()
		t.Fatalf("Open(%s) succeeded", path)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Open(%s) = %q, want it to say %q", path, err, w)
		}
	}
}

func TestOpenSaysWhatIsWrong(t *testing.T) {
	t.Run("ErrDirectoryReadOnly", func(t *testing.T) {
		skipIfRoot(t)
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		openFails(t, filepath.Join(dir, "runbook.db"), "permission denied", dir)
	})
	t.Run("ErrFileReadOnly", func(t *testing.T) {
		skipIfRoot(t)
		path := filepath.Join(t.TempDir(), "runbook.db")
		db := mustOpenAt(t, path)
		db.Close()
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		openFails(t, path, "permission denied", path)
	})
	t.Run("ErrDirectoryMissing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nowhere")
		openFails(t, filepath.Join(dir, "runbook.db"), dir+" does not exist")
	})
}

func mustOpenAt(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
