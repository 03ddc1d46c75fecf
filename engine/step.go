package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// step runs step i of a run. It reports whether the run may go on to the next step.
func (e *Executor) step(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook, i int) bool {
	def := rb.Steps[i]
	data, err := e.templateData(ctx, run, rb)
	if err != nil {
		return e.failStep(ctx, run, def, i, err)
	}
	if def.When != "" {
		when, err := runbooks.Render(def.When, data)
		if err != nil {
			return e.failStep(ctx, run, def, i, fmt.Errorf("when: %w", err))
		}
		if !runbooks.Truthy(when) {
			return e.finish(ctx, run, i, runbook.StepSkipped, blankOutputs(def.Action), "")
		}
	}
	act, ok := e.actions[def.Action]
	if !ok {
		return e.failStep(ctx, run, def, i, fmt.Errorf("the action %s is not available in this build", def.Action))
	}
	if act.drive != nil {
		return act.drive(ctx, run, rb, i, data)
	}
	attempt, err := e.d.Runs.StartStep(ctx, run.ID, i)
	if err != nil {
		e.storeFailed("start step", run.ID, err)
		return false
	}
	s := &stepRun{e: e, run: run, rb: rb, def: def, index: i, attempt: attempt, progress: run.Steps[i].Outputs}
	if runbooks.Actions[def.Action].Machine {
		// Rendered by the action, for the machine it sends to, with the secrets.
		s.data = e.secrets.withData(data)
	} else if s.in, err = renderInputs(def, data); err != nil {
		return e.failStep(ctx, run, def, i, err)
	}
	outputs, err := act.do(ctx, s)
	if ctx.Err() != nil {
		return false // interrupted: the step stays running and is retried on resume
	}
	if err != nil && runbook.ErrorCode(err) == runbook.EUNAVAILABLE && attempt < maxUnavailableAttempts {
		// Slack (or the store) is down, not wrong: the step stays running and is tried
		// again later, as after a restart — it finds what this attempt did.
		delay := retryBackoff(attempt - 1)
		e.log.Warn("step waits for Slack to recover", "run", run.Key(), "step", i+1, "attempt", attempt, "retry_in", delay, "err", e.secrets.mask(err.Error()))
		e.wakeAt(run.ID, e.d.Now().Add(delay))
		return false
	}
	if err != nil {
		return e.failStep(ctx, run, def, i, err)
	}
	if !e.finish(ctx, run, i, runbook.StepSucceeded, outputs, "") {
		return false
	}
	e.actionExecuted(ctx, run, def.Action, i, outputs)
	return true
}

// actionExecuted reports a step that acted on a system outside Slack — an HTTP request,
// a command — as an "action executed" investigation update, with what it answered.
// Outputs are masked as stored, so a secret echoed back never reaches the update.
func (e *Executor) actionExecuted(ctx context.Context, run *runbook.Run, action string, i int, outputs map[string]any) {
	detail := ""
	switch action {
	case "http.request":
		if st, ok := outputs["status"]; ok {
			detail = fmt.Sprintf("HTTP %v", st)
		}
	case "command.run":
		if code, ok := outputs["exit_code"]; ok {
			detail = fmt.Sprintf("exit code %v", code)
		}
	default:
		return
	}
	e.progress(ctx, run, slackui.ActionExecuted(run, i, action, e.secrets.mask(detail)))
}

// maxUnavailableAttempts bounds how often a step is tried while Slack is down: with
// retryBackoff, about 25 minutes before the step fails with Slack's error.
const maxUnavailableAttempts = 30

// retryBackoff is the wait before driving a run again after failures failures in a
// row (of Slack or of the store): 1 s, doubling, at most a minute.
func retryBackoff(failures int) time.Duration {
	return min(time.Second<<min(failures, 6), time.Minute)
}

// renderInputs fills in a step's inputs. Block Kit given as a JSON string is rendered
// as JSON, so that a value — an incident title, a parameter — can never add a block or
// a button to it.
func renderInputs(def runbooks.Step, data map[string]any) (map[string]any, error) {
	rest := make(map[string]any, len(def.With))
	jsonText := map[string]string{}
	for name, v := range def.With {
		in, _ := runbooks.Actions[def.Action].Input(name)
		if tmpl, ok := v.(string); ok && in.Type == runbooks.InputBlocks {
			jsonText[name] = tmpl
		} else {
			rest[name] = v
		}
	}
	with, err := runbooks.RenderValue(rest, data)
	if err != nil {
		return nil, err
	}
	in := with.(map[string]any)
	for name, tmpl := range jsonText {
		if in[name], err = runbooks.RenderJSON(tmpl, data); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return in, nil
}

// finish records a step's end; it reports whether that worked. Secrets are masked in
// what is stored: a server or program may echo one back.
func (e *Executor) finish(ctx context.Context, run *runbook.Run, i int, state runbook.StepState, outputs map[string]any, msg string) bool {
	outputs, _ = e.secrets.maskValue(outputs).(map[string]any)
	if err := e.d.Runs.FinishStep(ctx, run.ID, i, state, outputs, e.secrets.mask(msg)); err != nil {
		e.storeFailed("finish step", run.ID, err)
		return false
	}
	e.storeRecovered(run.ID)
	return true
}

// failStep records a failed step and ends the run, unless the step may fail.
func (e *Executor) failStep(ctx context.Context, run *runbook.Run, def runbooks.Step, i int, err error) bool {
	why := e.secrets.mask(explain(err))
	msg := fmt.Sprintf("step %d (%s) failed: %s", i+1, def.Action, why)
	if def.ID != "" {
		msg = fmt.Sprintf("step %d “%s” (%s) failed: %s", i+1, def.ID, def.Action, why)
	}
	e.log.Warn("step failed", "run", run.Key(), "step", i+1, "action", def.Action, "err", e.secrets.mask(err.Error()))
	if !e.finish(ctx, run, i, runbook.StepFailed, failedOutputs(def.Action, err), msg) {
		return false
	}
	if def.OnError == runbooks.OnErrorContinue {
		return true
	}
	e.failRun(ctx, run, msg)
	return false
}

// stepFailure is a failed step's error with what it produced before failing (an HTTP
// status, a command's output), kept as its outputs for later steps and for people.
type stepFailure struct {
	err     error
	outputs map[string]any
}

func (f *stepFailure) Error() string { return f.err.Error() }
func (f *stepFailure) Unwrap() error { return f.err }

// failedWith returns err carrying the outputs of the failed step.
func failedWith(err error, outputs map[string]any) error {
	return &stepFailure{err: err, outputs: outputs}
}

// failedOutputs are a failed step's outputs: what it produced, else blank ones.
func failedOutputs(action string, err error) map[string]any {
	out := blankOutputs(action)
	if f, ok := errors.AsType[*stepFailure](err); ok {
		maps.Copy(out, f.outputs)
	}
	return out
}

// blankOutputs gives a step that did not run every output it declares, empty, so that
// later templates can test them ({{#steps.x.ts}}…) rather than fail on a missing name.
func blankOutputs(action string) map[string]any {
	out := map[string]any{}
	for _, name := range runbooks.Actions[action].Outputs {
		out[name] = ""
	}
	if action == "approval.request" {
		out["approved"] = false
	}
	return out
}

// templateData is what a step's templates see: incident (and its alias Activity),
// params, the outputs of earlier steps, the run and the person who started it.
func (e *Executor) templateData(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook) (map[string]any, error) {
	var inc *runbook.Incident
	if run.IncidentID != 0 {
		var err error
		if inc, err = e.d.Incidents.Incident(ctx, run.IncidentID); err != nil {
			return nil, err
		}
	}
	// A rollback sees the outputs of the run it undoes.
	src, srcRb := run, rb
	if run.RollbackOf != 0 {
		var err error
		if src, srcRb, err = e.rollbackSource(ctx, run); err != nil {
			return nil, err
		}
	}
	steps := map[string]any{}
	for i, st := range src.Steps {
		if srcRb.Steps[i].ID == "" || (st.State != runbook.StepSucceeded && st.State != runbook.StepSkipped && st.State != runbook.StepFailed) {
			continue
		}
		steps[srcRb.Steps[i].ID] = st.Outputs
	}
	data := dataFor(run, rb, inc, steps, e.d.Roles, e.d.Fields)
	if run.RollbackOf != 0 {
		data["rollback"] = e.rollbackData(ctx, run)
	}
	return data, nil
}

// dataFor builds template data from a run, its incident (or nil) and the outputs of
// its steps so far, by step id; roles and fields are the configured roles and custom
// fields' names.
func dataFor(run *runbook.Run, rb *runbooks.Runbook, inc *runbook.Incident, steps map[string]any, roles, fields []string) map[string]any {
	params := map[string]any{}
	for _, p := range rb.Params {
		if p.Default != nil {
			params[p.Name] = p.Default
		}
	}
	for k, v := range run.Params {
		params[k] = v
	}
	user := map[string]any{"id": run.StartedBy, "name": slackui.Mention(run.StartedBy)}
	data := map[string]any{
		"params": params,
		"steps":  steps,
		"run":    map[string]any{"id": run.Key(), "runbook": run.Runbook, "started_by": slackui.Mention(run.StartedBy), "started_at": run.CreatedAt.UTC().Format(time.RFC3339)},
		"user":   user,
	}
	if inc != nil {
		data["incident"], data["Activity"] = runbooks.TemplateIncident(inc, roles, fields)
	}
	return data
}
