package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/engine"
)

// A request handled twice (redelivered, or finished again after a crash) carries the
// same key: it gets the run it started, and the runbook's steps happen once.
func TestStartRunTwiceWithOneKey(t *testing.T) {
	w := newWorld(t)
	rb := w.Runbook("sev1-kickoff")
	in := engine.RunInput{IncidentID: w.incident.ID, StartedBy: w.alice.ID, Channel: w.ops.ID, Key: "Ev1"}
	first, err := w.exec().StartRun(context.Background(), rb, in)
	if err != nil {
		t.Fatal(err)
	}
	w.waitRun(first.ID, runbook.RunSucceeded)
	again, err := w.exec().StartRun(context.Background(), rb, in)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Key() != "R-1" || again.RequestKey != "Ev1" {
		t.Fatalf("the second start gave %s (key %q), want R-1", again.Key(), again.RequestKey)
	}
	w.waitRun(again.ID, runbook.RunSucceeded)
	if runs, _ := w.db.Runs().ListRuns(context.Background(), 0, 10); len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	var incidentChannels []string
	for _, ch := range w.Slack.Channels() {
		if strings.HasPrefix(ch.Name, "inc-1") {
			incidentChannels = append(incidentChannels, ch.Name)
		}
	}
	if len(incidentChannels) != 1 {
		t.Fatalf("incident channels %v, want one", incidentChannels)
	}
	ch := w.channelNamed("inc-1-checkout")
	if msgs := w.botMessages(ch.ID); len(msgs) != 2 {
		t.Fatalf("%d messages in the incident channel, want 2", len(msgs))
	}

	// Another request is another run.
	in.Key = "Ev2"
	other, err := w.exec().StartRun(context.Background(), rb, in)
	if err != nil || other.ID == first.ID {
		t.Fatalf("another request started %v, %v; want a new run", other, err)
	}
	w.waitRun(other.ID, runbook.RunSucceeded)
}

func TestTriggerTwiceWithOneKey(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	first, err := w.exec().Trigger(ctx, runbook.EventIncidentDeclared, w.incident, w.alice.ID, "Ev1")
	if err != nil || len(first) != 1 {
		t.Fatalf("trigger started %v, %v", first, err)
	}
	if want := engine.TriggerKey("Ev1", runbook.EventIncidentDeclared, "sev1-kickoff"); first[0].RequestKey != want {
		t.Fatalf("run key = %q, want %q", first[0].RequestKey, want)
	}
	again, err := w.exec().Trigger(ctx, runbook.EventIncidentDeclared, w.incident, w.alice.ID, "Ev1")
	if err != nil || len(again) != 1 || again[0].ID != first[0].ID {
		t.Fatalf("second trigger gave %v, %v; want %s again", again, err, first[0].Key())
	}
	w.waitRun(first[0].ID, runbook.RunSucceeded)
	if runs, _ := w.db.Runs().ListRuns(ctx, 0, 10); len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	if _, ok := w.Slack.Channel("inc-1-checkout-2"); ok {
		t.Fatal("the kickoff made a second incident channel")
	}
}

func TestTriggerKey(t *testing.T) {
	if got := engine.TriggerKey("", runbook.EventIncidentDeclared, "kickoff"); got != "" {
		t.Errorf("no request key gave %q, want none", got)
	}
	if got := engine.TriggerKey("Ev1", runbook.EventIncidentDeclared, "kickoff"); got != "Ev1/incident.declared/kickoff" {
		t.Errorf("key = %q", got)
	}
}
