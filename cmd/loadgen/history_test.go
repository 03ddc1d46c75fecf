package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/store"
)

// The history is written through the store's schema, opens as a bot's database would,
// and is the same every time for the same --now.
func TestHistoryIsDeterministicAndOpens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var outs []string
	for _, name := range []string{"a.db", "b.db"} {
		var out, progress bytes.Buffer
		args := []string{"--db", filepath.Join(dir, name), "--incidents", "60", "--audit", "200", "--envelopes", "100", "--now", "2026-11-30T17:00:00Z"}
		if code := runHistory(ctx, args, &out, &progress); code != 0 {
			t.Fatalf("exit code %d\n%s", code, progress.String())
		}
		outs = append(outs, strings.SplitN(out.String(), "\n", 2)[1]) // the first line names the file and the time taken
	}
	if outs[0] != outs[1] || !strings.Contains(outs[0], "runs                      120") {
		t.Fatalf("counts differ or are wrong:\n%s\n%s", outs[0], outs[1])
	}

	dbs := map[string]*store.DB{}
	for _, name := range []string{"a.db", "b.db"} {
		db, err := store.Open(ctx, filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[name] = db
	}
	for _, id := range []int64{1, 30, 60} {
		a, errA := dbs["a.db"].Incidents().Incident(ctx, id)
		b, errB := dbs["b.db"].Incidents().Incident(ctx, id)
		if errA != nil || errB != nil || a.Title != b.Title || !a.CreatedAt.Equal(b.CreatedAt) || a.Channel != b.Channel {
			t.Fatalf("INC-%d differs: %+v %v / %+v %v", id, a, errA, b, errB)
		}
	}
	counts, err := dbs["a.db"].Runs().StateCounts(ctx)
	if err != nil || counts["succeeded"]+counts["failed"] != 120 {
		t.Fatalf("run state counts = %v, %v; want 120 runs", counts, err)
	}
	if inc, err := dbs["a.db"].Incidents().IncidentByChannel(ctx, "CH00000007"); err != nil || inc.ID != 7 {
		t.Fatalf("incident by channel = %+v, %v", inc, err)
	}
}

// TestHistoryTimesAreInOrderAtFullSize: at the sizes the benchmark uses, incidents
// fall in the year before now in order, and envelopes in the 23 hours before it (or
// 25–48 hours before, with --old-envelopes), so that the bot's first prune deletes
// none of them (all of them).
func TestHistoryTimesAreInOrderAtFullSize(t *testing.T) {
	now := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	h := history{now: now, incidents: 100_000, envelopes: 1_000_000}
	yearAgo := now.Add(-365 * 24 * time.Hour).UnixMilli()
	last := int64(0)
	for _, i := range []int{0, 1, 50_000, 92_000, 99_999} {
		at := h.at(i)
		if at < yearAgo || at > now.UnixMilli() || at < last {
			t.Fatalf("incident %d at %s: outside the year before %s, or before the one listed before it", i, time.UnixMilli(at).UTC(), now)
		}
		last = at
	}
	for _, old := range []bool{false, true} {
		h.oldEnvelopes = old
		from, to := now.Add(-23*time.Hour), now
		if old {
			from, to = now.Add(-48*time.Hour), now.Add(-25*time.Hour)
		}
		last = 0
		for _, i := range []int{0, 1, 111_393, 500_000, 999_999} {
			received := h.envelope(i)[3].(int64)
			if received < from.UnixMilli() || received > to.UnixMilli() || received < last {
				t.Fatalf("envelope %d (old=%v) received %s, outside %s–%s or out of order", i, old, time.UnixMilli(received).UTC(), from, to)
			}
			last = received
		}
	}
}
