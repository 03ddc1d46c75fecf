package slackui

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// ActionRollback is the Roll back button on a run's result message; its value is the
// run's key ("R-12").
const ActionRollback = "run.rollback"

// RollbackButton offers to roll a run back. The click asks for approval before anything
// is undone, and the confirmation says so.
func RollbackButton(runID int64) *slack.ActionBlock {
	button := slack.NewButtonBlockElement(ActionRollback, runbook.RunKey(runID), Plain("Roll back"))
	button.Style = slack.StyleDanger
	button.Confirm = slack.NewConfirmationBlockObject(Plain("Roll back "+runbook.RunKey(runID)+"?"),
		Mrkdwn("The steps this run did are undone, newest first, once the rollback is approved."),
		Plain("Ask for approval"), Plain("Cancel"))
	return slack.NewActionBlock("run.rollback."+runbook.RunKey(runID), button)
}

// RunResult is the message a run that had no approval posts when it succeeds with
// something to undo: what it did, and the Roll back button (unless offersRollback is
// false: it was rolled back, or is being).
func RunResult(run *runbook.Run, outcome string, offersRollback bool) runbook.Message {
	text := fmt.Sprintf("Runbook *%s* (%s) finished. %s", Escape(run.Runbook), run.Key(), Neutralize(outcome))
	blocks := []slack.Block{Section(Truncate(text, MaxSectionText))}
	if offersRollback {
		blocks = append(blocks, RollbackButton(run.ID))
	}
	return runbook.Message{Text: Truncate(text, MaxSectionText), Blocks: blocks}
}

// RollbackRequest is the operation of the approval a rollback asks for.
func RollbackRequest(of *runbook.Run, undo []string) string {
	text := fmt.Sprintf("Roll back %s (%s)", of.Key(), Escape(of.Runbook))
	if len(undo) > 0 {
		text += ": undo "
		for i, u := range undo {
			if i > 0 {
				text += ", then "
			}
			text += u
		}
	}
	return Truncate(text, MaxSectionText/2)
}

// RollbackDone is the news of a rollback's end, posted where the rolled-back run
// reports.
func RollbackDone(rollback, of *runbook.Run, why string) string {
	switch rollback.State {
	case runbook.RunSucceeded:
		return fmt.Sprintf("↩️ %s rolled back %s (%s).", rollback.Key(), of.Key(), Escape(of.Runbook))
	case runbook.RunDenied, runbook.RunExpired, runbook.RunCancelled:
		return fmt.Sprintf("↩️ The rollback of %s (%s) did not run: %s", of.Key(), rollback.Key(), Neutralize(why))
	}
	return fmt.Sprintf("❌ The rollback of %s (%s) failed: %s", of.Key(), rollback.Key(), Neutralize(why))
}

// MetaResult marks the result message of a run, to adopt it after a crash.
const MetaResult = "runbook_result"

// ResultTag marks the result message of a run.
func ResultTag(runID int64) runbook.MessageMetadata {
	return runbook.MessageMetadata{EventType: MetaResult, Payload: map[string]any{"run": runbook.RunKey(runID)}}
}
