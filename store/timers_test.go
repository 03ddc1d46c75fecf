package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// A due timer is claimed once however many try at once; the claim records the firing
// (undone, with a token) and moves the timer on, and a timer not yet due is not claimed.
func TestClaimTimerOnce(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	inc := MustCreateIncident(t, db.Incidents(), "Checkout is down")
	ts := db.Timers()
	now := time.UnixMilli(time.Now().UnixMilli())
	if err := ts.SetTimer(ctx, runbook.TimerReminder, inc.ID, "", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	timers, err := ts.IncidentTimers(ctx, inc.ID)
	if err != nil || len(timers) != 1 {
		t.Fatalf("timers = %v, %v", timers, err)
	}
	tm := timers[0]
	if _, claimed, err := ts.ClaimTimer(ctx, tm.ID, tm.Seq, now, now.Add(2*time.Minute)); err != nil || claimed {
		t.Fatalf("a timer not due was claimed: %v, %v", claimed, err)
	}

	later := now.Add(time.Minute)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, claimed, err := ts.ClaimTimer(ctx, tm.ID, tm.Seq, later, later.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if claimed {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims won, want 1", wins.Load())
	}
	undone, err := ts.UndoneFirings(ctx)
	if err != nil || len(undone) != 1 || undone[0].Seq != 1 || undone[0].Token == "" || undone[0].Key() != "timer/1/1" {
		t.Fatalf("undone = %+v, %v", undone, err)
	}
	if next, ok, err := ts.NextDue(ctx); err != nil || !ok || !next.Equal(later.Add(time.Minute)) {
		t.Errorf("next due = %v %v %v, want %v", next, ok, err, later.Add(time.Minute))
	}
	if err := ts.FiringDone(ctx, tm.ID, 1, "C1", "1.2"); err != nil {
		t.Fatal(err)
	}
	if undone, _ := ts.UndoneFirings(ctx); len(undone) != 0 {
		t.Errorf("a done firing is still undone: %+v", undone)
	}
	// Resolving deletes the timers; the firing stays, for clicks on what it posted.
	if err := ts.DeleteIncidentTimers(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	if f, err := ts.Firing(ctx, tm.ID, 1); err != nil || f.Channel != "C1" || f.TS != "1.2" || !f.Done {
		t.Errorf("firing = %+v, %v", f, err)
	}
	if _, ok, _ := ts.NextDue(ctx); ok {
		t.Error("a deleted timer is still due")
	}
}
