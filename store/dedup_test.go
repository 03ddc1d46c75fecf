package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

func alertIncident(requestKey string) *runbook.Incident {
	return &runbook.Incident{Title: "HighErrorRate", Severity: "sev1", Status: "detected",
		CreatedBy: "api:alerts", RequestKey: requestKey, DedupKey: "alerts:alertmanager:{}:{alertname=\"HighErrorRate\"}"}
}

// TestDedupKeyOneOpenIncident: declarations racing under one key make one incident,
// each finding it; after it is resolved the key declares a new one.
func TestDedupKeyOneOpenIncident(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	const racers = 8
	got := make([]*runbook.Incident, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inc := alertIncident(fmt.Sprintf("req-%d", i))
			if err := s.CreateIncident(ctx, inc); err != nil {
				t.Error(err)
			}
			got[i] = inc
		}()
	}
	wg.Wait()
	for _, inc := range got {
		if inc.ID != got[0].ID {
			t.Fatalf("racing declarations made %s and %s", got[0].Key(), inc.Key())
		}
	}
	if list, _ := s.ListIncidents(ctx, runbook.IncidentFilter{}); len(list) != 1 {
		t.Fatalf("%d incidents stored, want 1", len(list))
	}
	if _, err := s.UpdateIncident(ctx, got[0].ID, func(i *runbook.Incident) error { i.ResolvedAt = time.Now(); return nil }); err != nil {
		t.Fatal(err)
	}
	next := alertIncident("req-after")
	if err := s.CreateIncident(ctx, next); err != nil {
		t.Fatal(err)
	}
	if next.ID == got[0].ID || next.DedupKey != got[0].DedupKey {
		t.Fatalf("after resolving %s the key declared %s (key %q)", got[0].Key(), next.Key(), next.DedupKey)
	}
	// The declarations that found INC-1 spent no incident numbers.
	if next.Key() != "INC-2" {
		t.Fatalf("the next incident is %s, want INC-2", next.Key())
	}
}

// TestReopeningGivesUpATakenDedupKey: reopening an incident whose key a newer open
// incident holds is not refused; the newer one keeps the key.
func TestReopeningGivesUpATakenDedupKey(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	first := alertIncident("req-1")
	if err := s.CreateIncident(ctx, first); err != nil {
		t.Fatal(err)
	}
	resolve := func(i *runbook.Incident) error { i.Status, i.ResolvedAt = "resolved", time.Now(); return nil }
	reopen := func(i *runbook.Incident) error { i.Status, i.ResolvedAt = "detected", time.Time{}; return nil }
	if _, err := s.UpdateIncident(ctx, first.ID, resolve); err != nil {
		t.Fatal(err)
	}
	second := alertIncident("req-2")
	if err := s.CreateIncident(ctx, second); err != nil {
		t.Fatal(err)
	}
	reopened, err := s.UpdateIncident(ctx, first.ID, reopen)
	if err != nil {
		t.Fatalf("reopening %s: %v", first.Key(), err)
	}
	if reopened.DedupKey != "" {
		t.Errorf("reopened %s kept key %q that %s holds", reopened.Key(), reopened.DedupKey, second.Key())
	}
	again := alertIncident("req-3")
	if err := s.CreateIncident(ctx, again); err != nil || again.ID != second.ID {
		t.Fatalf("the key found %s (%v), want %s", again.Key(), err, second.Key())
	}
	// Reopened with nobody else holding it, an incident keeps its key.
	if _, err := s.UpdateIncident(ctx, second.ID, resolve); err != nil {
		t.Fatal(err)
	}
	back, err := s.UpdateIncident(ctx, second.ID, reopen)
	if err != nil || back.DedupKey != second.DedupKey {
		t.Fatalf("reopened alone: key %q (%v), want %q", back.DedupKey, err, second.DedupKey)
	}
}
