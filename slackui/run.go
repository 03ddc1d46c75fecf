package slackui

import (
	"fmt"

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
