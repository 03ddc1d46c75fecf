package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestAddTimelineOnce(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := db.Incidents()
	inc := MustCreateIncident(t, s, "cache is cold")
	// Two handlings racing add one entry.
	var wg sync.WaitGroup
	added := make([]bool, 8)
	for i := range added {
		wg.Go(func() {
			var err error
			added[i], err = s.AddTimelineOnce(ctx, runbook.TimelineEntry{IncidentID: inc.ID, Actor: "U1", Kind: runbook.TimelinePinned, Text: "look"}, "pin/C1/1.1")
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, a := range added {
		if a {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d handlings reported adding the entry, want 1", n)
	}
	if ok, err := s.AddTimelineOnce(ctx, runbook.TimelineEntry{IncidentID: inc.ID, Kind: runbook.TimelineNote, Text: "x"}, "note/Ev2"); err != nil || !ok {
		t.Fatalf("another key: %v, %v", ok, err)
	}
	entries, err := s.Timeline(ctx, inc.ID)
	if err != nil || len(entries) != 3 { // declared, pinned, note
		t.Fatalf("timeline %+v, %v; want 3 entries", entries, err)
	}
	if _, err := s.AddTimelineOnce(ctx, runbook.TimelineEntry{IncidentID: 99, Kind: runbook.TimelineNote}, "k"); runbook.ErrorCode(err) != runbook.ENOTFOUND {
		t.Errorf("an entry for a missing incident: %v, want ENOTFOUND", err)
	}
}

func TestFollowUps(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := db.Incidents()
	inc := MustCreateIncident(t, s, "cache is cold")
	f := &runbook.FollowUp{IncidentID: inc.ID, Text: "alert on TTL", Owner: "U2", CreatedBy: "U1", RequestKey: "Ev1"}
	if err := s.AddFollowUp(ctx, f); err != nil || f.ID != 1 || f.Key() != "F-1" {
		t.Fatalf("add: %+v, %v", f, err)
	}
	again := &runbook.FollowUp{IncidentID: inc.ID, Text: "alert on TTL", CreatedBy: "U1", RequestKey: "Ev1"}
	if err := s.AddFollowUp(ctx, again); err != nil || again.ID != 1 || again.Owner != "U2" {
		t.Fatalf("the same request again: %+v, %v; want F-1 as first stored", again, err)
	}
	if list, err := s.FollowUps(ctx, inc.ID); err != nil || len(list) != 1 {
		t.Fatalf("follow-ups %+v, %v; want 1", list, err)
	}
	done, applied, err := s.CompleteFollowUp(ctx, 1, "U2", "Ev2")
	if err != nil || !applied || !done.Done() || done.DoneBy != "U2" {
		t.Fatalf("complete: %+v, %v, %v", done, applied, err)
	}
	if _, applied, err := s.CompleteFollowUp(ctx, 1, "U2", "Ev2"); err != nil || applied {
		t.Errorf("the same request again: applied %v, %v; want not applied, no error", applied, err)
	}
	if _, _, err := s.CompleteFollowUp(ctx, 1, "U3", "Ev3"); runbook.ErrorCode(err) != runbook.ECONFLICT {
		t.Errorf("done again by another request: %v, want ECONFLICT", err)
	}
	if _, _, err := s.CompleteFollowUp(ctx, 7, "U3", "Ev4"); runbook.ErrorCode(err) != runbook.ENOTFOUND {
		t.Errorf("an unknown follow-up: %v, want ENOTFOUND", err)
	}
	entries, _ := s.Timeline(ctx, inc.ID)
	kinds := map[string]int{}
	for _, e := range entries {
		kinds[e.Kind]++
	}
	if kinds[runbook.TimelineFollowUp] != 1 || kinds[runbook.TimelineFollowUpDone] != 1 {
		t.Errorf("timeline kinds %v, want one followup and one followup done", kinds)
	}
}
