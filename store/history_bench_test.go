package store_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/store"
)

// BenchmarkCommandReads measures the store's share of each command — the calls its
// handler makes — on a new database, or with RUNBOOK_BENCH_DB=PATH on a copy of a
// large one (`loadgen history --db PATH`), so that the two can be set side by side.
// Besides ns/op it reports the 99th percentile of the calls (p99-ns), the figure
// the issue sets a bound on.
//
//	go test -run '^$' -bench CommandReads ./store
//	RUNBOOK_BENCH_DB=/tmp/large.db go test -run '^$' -bench CommandReads ./store
func BenchmarkCommandReads(b *testing.B) {
	db := openBenchDB(b)
	ctx := context.Background()
	inc := db.Incidents()
	// The newest incident, as a command typed about a current incident would name it,
	// and one in a channel of its own.
	recent, err := inc.ListIncidents(ctx, runbook.IncidentFilter{Limit: 1})
	if err != nil || len(recent) == 0 {
		b.Fatalf("no incident to ask about: %v", err)
	}
	id := recent[0].ID
	open := true
	seq := 0
	cases := []struct {
		name string
		call func() error
	}{
		{"status", func() error { _, err := inc.Incident(ctx, id); return err }},
		{"list", func() error {
			_, err := inc.ListIncidents(ctx, runbook.IncidentFilter{Open: &open, Limit: 20})
			return err
		}},
		{"list_all", func() error { _, err := inc.ListIncidents(ctx, runbook.IncidentFilter{Limit: 20}); return err }},
		{"timeline", func() error { _, err := inc.Timeline(ctx, id); return err }},
		{"audit", func() error { _, err := db.Audit().Audit(ctx, 0, 30); return err }},
		{"runs", func() error {
			// In a channel that is no incident's: the look-up finds none, then the
			// newest runs of all.
			if _, err := inc.IncidentByChannel(ctx, "C0GENERAL"); runbook.ErrorCode(err) != runbook.ENOTFOUND {
				return fmt.Errorf("incident by channel: %v", err)
			}
			_, err := db.Runs().ListRuns(ctx, 0, 15)
			return err
		}},
		{"approvals", func() error { _, err := db.Approvals().PendingApprovals(ctx); return err }},
		{"unsettled_sweep", func() error { _, err := db.Approvals().UnsettledApprovals(ctx, time.Now()); return err }},
		{"metrics_state_counts", func() error {
			if _, err := db.Runs().StateCounts(ctx); err != nil {
				return err
			}
			_, err := db.Approvals().StateCounts(ctx)
			return err
		}},
		{"declare", func() error {
			seq++
			return inc.CreateIncident(ctx, &runbook.Incident{Title: "bench", Severity: "sev3", Status: "investigating",
				Channel: fmt.Sprintf("CBENCH%d", seq), RequestKey: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), seq), CreatedBy: "U1"})
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				began := time.Now()
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(began))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100]), "p99-ns")
		})
	}
}

// openBenchDB opens a new database, or a copy of RUNBOOK_BENCH_DB.
func openBenchDB(b *testing.B) *store.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "runbook.db")
	if from := os.Getenv("RUNBOOK_BENCH_DB"); from != "" {
		if err := copyFile(from, path); err != nil {
			b.Fatal(err)
		}
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if os.Getenv("RUNBOOK_BENCH_DB") == "" {
		// Something for status, timeline and audit to read on a new database.
		ctx := context.Background()
		inc := &runbook.Incident{Title: "Checkout errors", Severity: "sev1", Status: "investigating", CreatedBy: "U1"}
		if err := db.Incidents().CreateIncident(ctx, inc); err != nil {
			b.Fatal(err)
		}
		if err := db.Audit().Record(ctx, runbook.AuditEntry{Actor: "U1", Action: "incident.declare", IncidentID: inc.ID}); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	// On disk before the benchmark: a commit's fsync would otherwise wait for the copy.
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
