package slackui

import (
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
)

// RunStarted is the investigation update for a run that started; by is who started it
// by hand, or "" for a trigger.
func RunStarted(run *runbook.Run, by string) string {
	text := fmt.Sprintf(":arrow_forward: Runbook *%s* started (%s)", Escape(run.Runbook), run.Key())
	if by != "" {
		text += " by " + Mention(by)
	}
	return text
}

// RunEnded is the investigation update for a run that did not succeed.
func RunEnded(run *runbook.Run, state runbook.RunState, why string) string {
	return fmt.Sprintf(":x: Runbook *%s* (%s) %s: %s", run.Runbook, run.Key(), runEndVerb(state), Neutralize(why))
}

// RunFailedReport tells the person who started a run, where they started it, that it
// did not succeed.
func RunFailedReport(run *runbook.Run, state runbook.RunState, why string) string {
	who := ""
	if run.StartedBy != "" {
		who = Mention(run.StartedBy) + " "
	}
	return fmt.Sprintf(":x: %sRunbook *%s* (%s) %s: %s", who, Escape(run.Runbook), run.Key(), runEndVerb(state), Neutralize(why))
}

// RunFinishedWithFailures tells the person who started a run, where it reports, that
// it succeeded although steps that may fail (on_error: continue) failed; failures are
// the steps' error messages ("step 3 “notify” (slack.dm) failed: …"). Without it such
// a failure would be seen by nobody.
func RunFinishedWithFailures(run *runbook.Run, failures []string) string {
	who := ""
	if run.StartedBy != "" {
		who = Mention(run.StartedBy) + " "
	}
	head := fmt.Sprintf(":warning: %sRunbook *%s* (%s) finished, but ", who, Escape(run.Runbook), run.Key())
	if len(failures) == 1 {
		return head + Neutralize(Truncate(failures[0], maxFailureText))
	}
	lines := []string{head + fmt.Sprintf("%d steps failed:", len(failures))}
	for i, f := range failures {
		if i == maxFailuresListed {
			lines = append(lines, fmt.Sprintf("• and %d more: `/runbook runs` shows the run", len(failures)-i))
			break
		}
		lines = append(lines, "• "+Neutralize(Truncate(f, maxFailureText)))
	}
	return strings.Join(lines, "\n")
}

// A report of failed steps stays far below Slack's 40,000 characters however many
// steps a runbook has and however long their errors are.
const (
	maxFailuresListed = 10
	maxFailureText    = 500
)

func runEndVerb(s runbook.RunState) string {
	switch s {
	case runbook.RunDenied:
		return "stopped, approval denied"
	case runbook.RunExpired:
		return "stopped, approval expired"
	case runbook.RunCancelled:
		return "was cancelled"
	}
	return "failed"
}

// ApprovalRequested is the investigation update for a request a run made.
func ApprovalRequested(a *runbook.Approval, run *runbook.Run) string {
	return fmt.Sprintf(":raised_hand: %s requested for *%s* (%s risk), from runbook %s (%s)", a.Key(), a.Operation, a.Risk, run.Runbook, run.Key())
}

// ApprovalGranted is the investigation update for an approved request.
func ApprovalGranted(a *runbook.Approval) string {
	return fmt.Sprintf(":white_check_mark: %s approved by %s", a.Key(), Mention(a.DecidedBy))
}
