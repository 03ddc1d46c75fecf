package slackui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestRunFinishedWithFailures(t *testing.T) {
	run := &runbook.Run{ID: 12, Runbook: "scale-up", StartedBy: "U1"}
	one := RunFinishedWithFailures(run, []string{"step 3 “notify” (slack.dm) failed: <!channel> no such user"})
	if want := ":warning: <@U1> Runbook *scale-up* (R-12) finished, but step 3 “notify” (slack.dm) failed: @channel no such user"; one != want {
		t.Errorf("one failure:\n got %q\nwant %q", one, want)
	}
	var many []string
	for i := range 14 {
		many = append(many, fmt.Sprintf("step %d (http.request) failed: %s", i+1, strings.Repeat("x", 2000)))
	}
	text := RunFinishedWithFailures(&runbook.Run{ID: 3, Runbook: "sweep"}, many)
	lines := strings.Split(text, "\n")
	if lines[0] != ":warning: Runbook *sweep* (R-3) finished, but 14 steps failed:" || len(lines) != 12 ||
		lines[11] != "• and 4 more: `/runbook runs` shows the run" || len(text) > 8000 {
		t.Errorf("fourteen long failures drew %d lines, %d characters:\n%s", len(lines), len(text), lines[0])
	}
}
