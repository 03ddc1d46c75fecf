package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// A rollback is a run of its own (Run.RollbackOf) whose steps are the rollbacks of the
// steps of another run that succeeded, newest first (StepRun.Undoes). When a step
// fails, the run's rollback starts at once; after a run succeeds, its result message
// offers a Roll back button, and the rollback then asks for approval first.

// gateIndex is StepRun.Undoes of the approval a rollback asks for first.
const gateIndex = -1

// runbookOf returns the steps a run runs: its runbook's, or, for a rollback, the
// rollbacks of the steps it undoes.
func (e *Executor) runbookOf(ctx context.Context, run *runbook.Run) (*runbooks.Runbook, error) {
	if run.RollbackOf == 0 {
		rb, ok := e.d.Catalog().Get(run.Runbook)
		if !ok || len(rb.Steps) != len(run.Steps) {
			return nil, fmt.Errorf("the runbook %s is no longer loaded, or its steps changed since the run started", run.Runbook)
		}
		return rb, nil
	}
	_, source, err := e.rollbackSource(ctx, run)
	if err != nil {
		return nil, err
	}
	rb := &runbooks.Runbook{Name: source.Name, File: source.File, Params: source.Params, Allowed: source.Allowed}
	for _, st := range run.Steps {
		if st.Undoes == gateIndex {
			rb.Steps = append(rb.Steps, rollbackGate())
			continue
		}
		if st.Undoes >= len(source.Steps) || source.Steps[st.Undoes].Rollback == nil {
			return nil, fmt.Errorf("step %d of %s has no rollback any more", st.Undoes+1, source.Name)
		}
		rb.Steps = append(rb.Steps, *source.Steps[st.Undoes].Rollback)
	}
	return rb, nil
}

// rollbackSource returns the run a rollback undoes, and its runbook.
func (e *Executor) rollbackSource(ctx context.Context, run *runbook.Run) (*runbook.Run, *runbooks.Runbook, error) {
	of, err := e.d.Runs.Run(ctx, run.RollbackOf)
	if err != nil {
		return nil, nil, err
	}
	rb, err := e.runbookOf(ctx, of)
	if err != nil {
		return nil, nil, err
	}
	return of, rb, nil
}

// rollbackGate is the approval a rollback asked for by a person needs first. Its
// inputs come from the rollback's template data (rollbackData), which the approval
// family fills from the run's own approval.
func rollbackGate() runbooks.Step {
	return runbooks.Step{Action: "approval.request", OnError: runbooks.OnErrorFail, With: map[string]any{
		"operation": "{{{rollback.operation}}}",
		"risk":      "{{rollback.risk}}",
		"approvers": "{{rollback.approvers}}",
		"required":  "{{rollback.required}}",
		"channel":   "{{rollback.channel}}",
		"reason":    "{{{rollback.reason}}}",
	}}
}

// undoable lists, newest first, the steps of a run that succeeded and have a rollback.
func undoable(run *runbook.Run, rb *runbooks.Runbook) []int {
	var out []int
	for i := len(run.Steps) - 1; i >= 0; i-- {
		if run.Steps[i].State == runbook.StepSucceeded && rb.Steps[i].Rollback != nil {
			out = append(out, i)
		}
	}
	return out
}

// RollbackInput asks for the rollback of a run from its result message.
type RollbackInput struct {
	RunID int64
	By    string
	// Channel and MessageTS are where the Roll back button was clicked: the click
	// counts only on the run's result message.
	Channel, MessageTS string
	// Key is the id of the click's request: a click handled twice starts one rollback.
	Key string
}

// RollBack starts the rollback of a run that succeeded, asked for by a person on the
// run's result message. The rollback asks for approval before it undoes anything.
func (e *Executor) RollBack(ctx context.Context, in RollbackInput) (*runbook.Run, error) {
	if in.Key != "" {
		if run, err := e.d.Runs.RunByRequestKey(ctx, "rollback/"+in.Key); err == nil {
			return run, nil
		}
	}
	of, err := e.d.Runs.Run(ctx, in.RunID)
	if err != nil {
		return nil, err
	}
	if of.ResultTS == "" || of.ResultTS != in.MessageTS || of.ResultChannel != in.Channel {
		return nil, runbook.Errorf(runbook.EFORBIDDEN, "That button is not on the result message of %s; nothing was rolled back.", of.Key())
	}
	if of.RollbackOf != 0 {
		return nil, runbook.Errorf(runbook.ECONFLICT, "%s is itself a rollback; it cannot be rolled back.", of.Key())
	}
	if of.State != runbook.RunSucceeded {
		return nil, runbook.Errorf(runbook.ECONFLICT, "%s has not succeeded (%s); only a finished run can be rolled back.", of.Key(), of.State)
	}
	if existing, err := e.d.Runs.RollbackOf(ctx, of.ID); err == nil {
		return nil, runbook.Errorf(runbook.ECONFLICT, "%s is already rolled back, or being rolled back, by %s (%s).", of.Key(), existing.Key(), existing.State)
	}
	rb, err := e.runbookOf(ctx, of)
	if err != nil {
		return nil, err
	}
	undo := undoable(of, rb)
	if len(undo) == 0 {
		return nil, runbook.Errorf(runbook.ECONFLICT, "Nothing %s did can be rolled back.", of.Key())
	}
	run, err := e.startRollback(ctx, of, undo, in.By, "rollback/"+in.Key, true)
	if err != nil {
		return nil, err
	}
	e.showResult(ctx, of)
	return run, nil
}

// startRollback records and starts the rollback of of's steps undo; asked says a
// person asked for it, so it needs an approval first.
func (e *Executor) startRollback(ctx context.Context, of *runbook.Run, undo []int, by, key string, asked bool) (*runbook.Run, error) {
	run := &runbook.Run{Runbook: of.Runbook, IncidentID: of.IncidentID, Params: of.Params, StartedBy: by,
		Channel: of.Channel, ThreadTS: of.ThreadTS, RequestKey: key, RollbackOf: of.ID}
	if asked {
		run.Steps = append(run.Steps, runbook.StepRun{Action: "approval.request", Undoes: gateIndex})
	}
	rb, err := e.runbookOf(ctx, of)
	if err != nil {
		return nil, err
	}
	for _, i := range undo {
		run.Steps = append(run.Steps, runbook.StepRun{Action: rb.Steps[i].Rollback.Action, Undoes: i})
	}
	if err := e.d.Runs.CreateRun(ctx, run); err != nil {
		return nil, err
	}
	e.log.Info("rollback started", "run", run.Key(), "of", of.Key(), "steps", len(undo), "by", by)
	runbook.Later(ctx, func() { e.Kick(run.ID) })
	return run, nil
}

// failRun ends a run whose step failed; first it starts the rollback of the steps that
// had succeeded, if any have one. A process that dies in between comes back here (the
// failed step is still there), and finds the rollback it started by its key.
func (e *Executor) failRun(ctx context.Context, run *runbook.Run, why string) {
	fresh, err := e.d.Runs.Run(ctx, run.ID)
	if err != nil {
		e.storeFailed("load run", run.ID, err)
		return
	}
	if fresh.RollbackOf == 0 {
		if rb, err := e.runbookOf(ctx, fresh); err == nil {
			if undo := undoable(fresh, rb); len(undo) > 0 {
				rollback, err := e.startRollback(ctx, fresh, undo, fresh.StartedBy, "rollback-of/"+fresh.Key(), false)
				if err != nil {
					e.logErr("start rollback", run.ID, err)
				} else {
					why += "; rolling back as " + rollback.Key()
				}
			}
		}
	}
	e.endRun(ctx, fresh, runbook.RunFailed, why)
}

// stoppingFailure returns the index of a failed step that stops its run, or -1: a
// process that died between recording the failure and ending the run left it so.
func stoppingFailure(run *runbook.Run, rb *runbooks.Runbook) int {
	return slices.IndexFunc(run.Steps, func(st runbook.StepRun) bool {
		return st.State == runbook.StepFailed && rb.Steps[st.Index].OnError != runbooks.OnErrorContinue
	})
}

// rollbackData is the template data of the approval a rollback asks for: what it will
// undo, asked of the approvers of the run's own approval.
func (e *Executor) rollbackData(ctx context.Context, run *runbook.Run) map[string]any {
	of, rb, err := e.rollbackSource(ctx, run)
	if err != nil {
		return nil
	}
	var undo []string
	for _, st := range run.Steps {
		if st.Undoes >= 0 {
			undo = append(undo, stepName(rb, st.Undoes))
		}
	}
	data := map[string]any{"operation": slackui.RollbackRequest(of, undo), "risk": string(runbook.RiskMedium),
		"approvers": "", "required": "", "channel": "",
		"reason": fmt.Sprintf("%s asked to roll back %s", slackui.Or(slackui.Mention(run.StartedBy), "someone"), of.Key())}
	if e.gates != nil {
		if g, ok := e.gates.lastGate(ctx, of, rb); ok {
			data["risk"], data["approvers"], data["required"], data["channel"] =
				string(g.Risk), strings.Join(g.Approvers, " "), fmt.Sprint(max(g.Required, 1)), g.Channel
		}
	}
	return data
}

// stepName names step i of a runbook for people: its id, else its number and action.
func stepName(rb *runbooks.Runbook, i int) string {
	if id := rb.Steps[i].ID; id != "" {
		return "“" + id + "”"
	}
	return fmt.Sprintf("step %d (%s)", i+1, rb.Steps[i].Action)
}

// rollbackEnded tells where the rolled-back run reports how its rollback ended, and
// brings that run's result message up to date.
func (e *Executor) rollbackEnded(ctx context.Context, rollback *runbook.Run, to runbook.RunState, why string) {
	of, err := e.d.Runs.Run(ctx, rollback.RollbackOf)
	if err != nil {
		e.logErr("load rolled-back run", rollback.ID, err)
		return
	}
	ended := *rollback
	ended.State = to
	text := slackui.RollbackDone(&ended, of, why)
	e.tell(ctx, of, text)
	e.progress(ctx, of, text)
	e.showResult(ctx, of)
}
