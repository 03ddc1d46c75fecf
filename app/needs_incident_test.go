package app_test

import (
	"strings"
	"testing"
)

// A runbook that uses the incident (the shipped scale-up) is refused, with a sentence
// saying how to run it, when it is run by hand without one and outside an incident
// channel; nothing is started. Its dry run still shows what would fail. With an
// incident, or in its channel, it runs.
func TestRunbookThatNeedsAnIncident(t *testing.T) {
	w := startIncidents(t)
	want := "scale-up needs an incident: run it as `/runbook run scale-up INC-4 …` or from the incident's channel."
	if answer := w.command("run scale-up service=x count=3"); !strings.Contains(answer, want) {
		t.Fatalf("run answered %q, want %q", answer, want)
	}
	// A dry run shows which steps would fail without the incident.
	if answer := w.command("run scale-up service=x count=3 --dry-run"); !strings.Contains(answer, "Dry run of scale-up") || !strings.Contains(answer, "incident.") {
		t.Fatalf("dry run answered %q", answer)
	}
	if runs := w.command("runs"); !strings.Contains(runs, "none yet") {
		t.Fatalf("a refused run was started: %q", runs)
	}

	w.command("declare sev1 checkout down")
	w.runsDone(1, 1)
	inc := w.incident(1)
	if answer := w.Ask(w.alice.ID, inc.Channel, "run scale-up service=x count=3"); !strings.Contains(answer, "Started *scale-up* (R-2) for *INC-1*") {
		t.Fatalf("run in the incident channel answered %q", answer)
	}
	if answer := w.command("run scale-up INC-1 service=x count=3"); !strings.Contains(answer, "Started *scale-up* (R-3) for *INC-1*") {
		t.Fatalf("run with the incident answered %q", answer)
	}
}
