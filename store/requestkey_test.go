package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestIncidents_RequestKey(t *testing.T) {
	ctx := context.Background()
	declare := func(key, title string) *runbook.Incident {
		return &runbook.Incident{Title: title, Severity: "sev1", Status: "detected", CreatedBy: "U1", RequestKey: key}
	}

	t.Run("OK", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		first := declare("Ev1", "Checkout is down")
		if err := s.CreateIncident(ctx, first); err != nil {
			t.Fatal(err)
		}
		got, err := s.IncidentByRequestKey(ctx, "Ev1")
		if err != nil || got.ID != first.ID || got.RequestKey != "Ev1" {
			t.Fatalf("by key = %+v, %v; want %s", got, err, first.Key())
		}
	})
	t.Run("SameKeyReturnsTheFirst", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		first := declare("Ev1", "Checkout is down")
		if err := s.CreateIncident(ctx, first); err != nil {
			t.Fatal(err)
		}
		again := declare("Ev1", "a different title")
		if err := s.CreateIncident(ctx, again); err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || again.Title != "Checkout is down" || !again.CreatedAt.Equal(first.CreatedAt) {
			t.Fatalf("second create = %+v; want the first incident %+v", again, first)
		}
		list, _ := s.ListIncidents(ctx, runbook.IncidentFilter{})
		timeline, _ := s.Timeline(ctx, first.ID)
		if len(list) != 1 || len(timeline) != 1 {
			t.Fatalf("%d incidents, %d timeline entries; want 1 and 1", len(list), len(timeline))
		}
	})
	t.Run("RacingCreatesMakeOne", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		ids := make([]int64, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				inc := declare("Ev1", "Checkout is down")
				if err := s.CreateIncident(ctx, inc); err != nil {
					t.Error(err)
				}
				ids[i] = inc.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("ids = %v, want one incident", ids)
			}
		}
	})
	t.Run("NoKeyNeverMatches", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		a, b := declare("", "one"), declare("", "two")
		if err := s.CreateIncident(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateIncident(ctx, b); err != nil {
			t.Fatal(err)
		}
		if a.ID == b.ID {
			t.Fatal("two keyless declarations made one incident")
		}
		if _, err := s.IncidentByRequestKey(ctx, ""); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("by empty key: %v, want ENOTFOUND", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		if _, err := s.IncidentByRequestKey(ctx, "Ev404"); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("err = %v, want ENOTFOUND", err)
		}
	})
	t.Run("KeySurvivesUpdates", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		inc := declare("Ev1", "Checkout is down")
		if err := s.CreateIncident(ctx, inc); err != nil {
			t.Fatal(err)
		}
		got, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
			i.Status, i.RequestKey = "mitigating", "changed"
			return nil
		})
		if err != nil || got.RequestKey != "Ev1" {
			t.Fatalf("after update: %+v, %v", got, err)
		}
		if found, err := s.IncidentByRequestKey(ctx, "Ev1"); err != nil || found.Status != "mitigating" {
			t.Fatalf("by key after update = %+v, %v", found, err)
		}
	})
}

func TestIncidents_UpdateIncidentOnce(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	inc := MustCreateIncident(t, s, "Checkout is down")
	calls := 0
	bump := func(i *runbook.Incident) error {
		calls++
		i.Fields["bumps"] += "x"
		return nil
	}
	got, applied, err := s.UpdateIncidentOnce(ctx, inc.ID, "Ev1", bump)
	if err != nil || !applied || got.Fields["bumps"] != "x" {
		t.Fatalf("first = %+v, %v, %v", got, applied, err)
	}
	got, applied, err = s.UpdateIncidentOnce(ctx, inc.ID, "Ev1", bump)
	if err != nil || applied || got.Fields["bumps"] != "x" || calls != 1 {
		t.Fatalf("second = %+v, applied %v, %v, %d calls; want the incident unchanged", got, applied, err, calls)
	}
	if _, applied, _ = s.UpdateIncidentOnce(ctx, inc.ID, "Ev2", bump); !applied {
		t.Fatal("another request's change was not applied")
	}
	for range 2 {
		if _, applied, _ = s.UpdateIncidentOnce(ctx, inc.ID, "", bump); !applied {
			t.Fatal("a change without a key was not applied")
		}
	}
	if got, _ := s.Incident(ctx, inc.ID); got.Fields["bumps"] != "xxxx" {
		t.Fatalf("bumps = %q, want 4", got.Fields["bumps"])
	}
	// A refused change is not remembered: the request may be tried again.
	refuse := func(*runbook.Incident) error { return runbook.Errorf(runbook.ECONFLICT, "no") }
	if _, _, err := s.UpdateIncidentOnce(ctx, inc.ID, "Ev3", refuse); runbook.ErrorCode(err) != runbook.ECONFLICT {
		t.Fatalf("refused change: %v", err)
	}
	if _, applied, _ := s.UpdateIncidentOnce(ctx, inc.ID, "Ev3", bump); !applied {
		t.Fatal("a change refused once was remembered as applied")
	}
	if _, _, err := s.UpdateIncidentOnce(ctx, 404, "Ev4", bump); runbook.ErrorCode(err) != runbook.ENOTFOUND {
		t.Fatalf("unknown incident: %v", err)
	}
}

func TestRuns_RequestKey(t *testing.T) {
	ctx := context.Background()
	newRun := func(key string) *runbook.Run {
		return &runbook.Run{Runbook: "kickoff", StartedBy: "U1", RequestKey: key,
			Steps: []runbook.StepRun{{StepID: "a", Action: "slack.send_message"}}}
	}

	t.Run("SameKeyReturnsTheFirst", func(t *testing.T) {
		runs := MustOpen(t).Runs()
		first := newRun("Ev1")
		if err := runs.CreateRun(ctx, first); err != nil {
			t.Fatal(err)
		}
		if _, err := runs.StartStep(ctx, first.ID, 0); err != nil {
			t.Fatal(err)
		}
		again := newRun("Ev1")
		if err := runs.CreateRun(ctx, again); err != nil {
			t.Fatal(err)
		}
		// The run as it stands, not as it would have been created.
		if again.ID != first.ID || again.RequestKey != "Ev1" || len(again.Steps) != 1 || again.Steps[0].State != runbook.StepRunning {
			t.Fatalf("second create = %+v; want R-%d as stored", again, first.ID)
		}
		got, err := runs.RunByRequestKey(ctx, "Ev1")
		if err != nil || got.ID != first.ID {
			t.Fatalf("by key = %+v, %v", got, err)
		}
		if list, _ := runs.ListRuns(ctx, 0, 10); len(list) != 1 {
			t.Fatalf("%d runs, want 1", len(list))
		}
	})
	t.Run("NoKeyNeverMatches", func(t *testing.T) {
		runs := MustOpen(t).Runs()
		a, b := newRun(""), newRun("")
		runs.CreateRun(ctx, a)
		runs.CreateRun(ctx, b)
		if a.ID == 0 || a.ID == b.ID {
			t.Fatalf("ids %d, %d; want two runs", a.ID, b.ID)
		}
		if got, _ := runs.Run(ctx, a.ID); got.RequestKey != "" {
			t.Fatalf("key = %q, want none", got.RequestKey)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		runs := MustOpen(t).Runs()
		if _, err := runs.RunByRequestKey(ctx, "Ev404"); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("err = %v, want ENOTFOUND", err)
		}
	})
}
