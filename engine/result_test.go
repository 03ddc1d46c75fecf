package engine

import (
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

// TestOutcomeSaysWhatBecameOfTheGatedSteps checks the line the approval message shows.
func TestOutcomeSaysWhatBecameOfTheGatedSteps(t *testing.T) {
	rb := &runbooks.Runbook{Steps: []runbooks.Step{
		{ID: "gate", Action: "approval.request"},
		{ID: "scale", Action: "http.request"},
		{Action: "command.run"},
		{Action: "slack.send_message"},
	}}
	run := func(state runbook.RunState, steps ...runbook.StepRun) *runbook.Run {
		r := &runbook.Run{ID: 12, State: state, Steps: append([]runbook.StepRun{{State: runbook.StepSucceeded}}, steps...)}
		return r
	}
	ok := func(out map[string]any) runbook.StepRun {
		return runbook.StepRun{State: runbook.StepSucceeded, Outputs: out}
	}
	http := ok(map[string]any{"status": float64(200), "duration_ms": float64(340)})
	cmd := ok(map[string]any{"exit_code": float64(0), "duration_ms": float64(2100)})
	for _, c := range []struct {
		name string
		run  *runbook.Run
		want string
	}{
		{"running", run(runbook.RunRunning, http, runbook.StepRun{State: runbook.StepRunning}, runbook.StepRun{State: runbook.StepPending}), Executing},
		{"done", run(runbook.RunSucceeded, http, cmd, ok(nil)), "✅ Done — scale: HTTP 200 in 340 ms · step 3: exit 0 in 2.1 s"},
		{"failed", run(runbook.RunFailed, http, runbook.StepRun{State: runbook.StepFailed, Error: "step 3 (command.run) failed: exit 1: boom"}, runbook.StepRun{State: runbook.StepPending}), "❌ Failed — exit 1: boom"},
		{"cancelled", run(runbook.RunCancelled, http, runbook.StepRun{State: runbook.StepRunning}, runbook.StepRun{State: runbook.StepPending}), "🚫 Stopped — R-12 was cancelled"},
	} {
		if got := outcomeOf(c.run, rb, 1); got != c.want {
			t.Errorf("%s: outcome %q, want %q", c.name, got, c.want)
		}
	}
	one := &runbooks.Runbook{Steps: rb.Steps[:2]}
	if got := outcomeOf(run(runbook.RunSucceeded, http), one, 1); got != "✅ Done — HTTP 200 in 340 ms" {
		t.Errorf("one step: %q", got)
	}
}
