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

// A run's result is shown where people approved it: the approval request message says
// what became of the steps it let run ("✅ Done — HTTP 200 in 340 ms"), and offers Roll
// back once the run succeeded. A run without an approval that succeeded with something
// to undo posts a short result message with the button instead.

// gateKeeper is what the approval family tells the executor about a run's approvals.
type gateKeeper interface {
	// lastGate returns the run's last approved approval request.
	lastGate(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook) (*runbook.Approval, bool)
	// showOutcome records and shows what became of the steps a request let run.
	showOutcome(ctx context.Context, run *runbook.Run, a *runbook.Approval, outcome string, offersRollback bool)
}

// Executing is the outcome of an approved request while the steps it let run run.
const Executing = "⏳ Executing…"

// showResult brings a run's result message up to date with the run as stored (or as
// it is about to be stored: run.State may be the state it is ending in). Safe to
// repeat: it is recomputed from the run each time.
func (e *Executor) showResult(ctx context.Context, run *runbook.Run) {
	rb, err := e.runbookOf(ctx, run)
	if err != nil || run.ResultTS == "" && !showsResult(rb) {
		return
	}
	from := 0
	var gate *runbook.Approval
	if e.gates != nil {
		if g, ok := e.gates.lastGate(ctx, run, rb); ok {
			gate, from = g, g.StepIndex+1
		}
	}
	outcome := outcomeOf(run, rb, from)
	var rollback *runbook.Run
	if run.RollbackOf == 0 {
		rollback, _ = e.d.Runs.RollbackOf(ctx, run.ID)
	}
	outcome += rollbackNote(rollback)
	offers := run.State == runbook.RunSucceeded && run.RollbackOf == 0 && rollback == nil && len(undoable(run, rb)) > 0
	switch {
	case gate != nil && (offers || rollback != nil || gate.Outcome != "" || acts(rb, from)):
		e.gates.showOutcome(ctx, run, gate, outcome, offers)
	case gate != nil:
		// Steps that only talk to Slack show themselves; the request message keeps
		// saying who approved.
	case run.RollbackOf != 0 || !offers && run.ResultTS == "":
		// Nothing to offer, and no message to bring up to date: a run that failed has
		// been told already, and one that succeeded with nothing to undo needs no post.
	default:
		e.postResult(ctx, run, outcome, offers)
	}
}

// showsResult reports whether a runbook's runs may have a result to show: an approval
// message to update, or something to roll back. Most runs (a kickoff) have neither,
// and end without a look at their approvals and rollbacks.
func showsResult(rb *runbooks.Runbook) bool {
	return slices.ContainsFunc(rb.Steps, func(st runbooks.Step) bool {
		return st.Action == "approval.request" || st.Rollback != nil
	})
}

// postResult posts, or updates, the result message of a run without an approval.
func (e *Executor) postResult(ctx context.Context, run *runbook.Run, outcome string, offers bool) {
	msg := slackui.RunResult(run, outcome, offers)
	if run.ResultTS != "" {
		if err := e.d.Slack.UpdateMessage(ctx, run.ResultChannel, run.ResultTS, msg); err != nil {
			e.logErr("update the result message", run.ID, err)
		}
		return
	}
	channel, thread := e.reportPlace(ctx, run)
	if channel == "" {
		return
	}
	id, err := e.d.Slack.ResolveChannel(ctx, channel)
	if err != nil {
		e.logErr("post the result message", run.ID, err)
		return
	}
	tag := slackui.ResultTag(run.ID)
	// A result posted before a crash is adopted, not posted twice.
	found, ok, err := runbook.FindTaggedIn(ctx, e.d.Slack, id, thread, tag)
	if err != nil {
		e.logErr("find the result message", run.ID, err)
		return
	}
	ts := found.TS
	if !ok {
		msg.Channel, msg.ThreadTS, msg.Metadata = id, thread, &tag
		posted, err := e.d.Slack.PostMessage(ctx, msg)
		if err != nil {
			e.logErr("post the result message", run.ID, err)
			return
		}
		id, ts = posted.Channel, posted.TS
	}
	if err := e.d.Runs.SetRunResult(ctx, run.ID, id, ts); err != nil {
		e.logErr("record the result message", run.ID, err)
	}
}

// acts reports whether the steps from index from up to the next approval request act
// outside Slack (an HTTP call, a command, a wait), so that people watching the request
// message need to be told how they went.
func acts(rb *runbooks.Runbook, from int) bool {
	for k := from; k < len(rb.Steps); k++ {
		action := rb.Steps[k].Action
		if action == "approval.request" && k > from {
			return false
		}
		if runbooks.Actions[action].Machine || action == "wait" {
			return true
		}
	}
	return false
}

// outcomeOf says what became of a run's steps from index from up to its next approval
// request: "✅ Done — HTTP 200 in 340 ms", "❌ Failed — exit 1: …", "🚫 Stopped — …".
func outcomeOf(run *runbook.Run, rb *runbooks.Runbook, from int) string {
	type result struct{ step, text string }
	var results []result
	for k := from; k < len(run.Steps) && k < len(rb.Steps); k++ {
		def, st := rb.Steps[k], run.Steps[k]
		if def.Action == "approval.request" && k > from {
			break
		}
		switch st.State {
		case runbook.StepFailed:
			if def.OnError != runbooks.OnErrorContinue {
				return "❌ Failed — " + failureReason(st.Error)
			}
		case runbook.StepSucceeded:
			if r := stepResult(def.Action, st.Outputs); r != "" {
				results = append(results, result{stepLabel(def, k), r})
			}
		case runbook.StepPending, runbook.StepRunning:
			if run.State.Final() {
				return "🚫 Stopped — " + run.Key() + " " + stoppedHow(run.State)
			}
			return Executing
		}
	}
	if len(results) == 0 {
		return "✅ Done"
	}
	if len(results) == 1 {
		return "✅ Done — " + results[0].text
	}
	parts := make([]string, len(results))
	for i, r := range results {
		parts[i] = r.step + ": " + r.text
	}
	return "✅ Done — " + strings.Join(parts, " · ")
}

func stoppedHow(s runbook.RunState) string {
	switch s {
	case runbook.RunCancelled:
		return "was cancelled"
	case runbook.RunDenied:
		return "was denied"
	case runbook.RunExpired:
		return "expired"
	}
	return "stopped"
}

// stepResult is the short result of a step that acted on the world, or "".
func stepResult(action string, out map[string]any) string {
	took := duration(out["duration_ms"])
	switch action {
	case "http.request":
		return fmt.Sprintf("HTTP %v in %s", out["status"], took)
	case "command.run":
		return fmt.Sprintf("exit %v in %s", out["exit_code"], took)
	}
	return ""
}

// duration shows milliseconds as "340 ms" or "2.1 s".
func duration(v any) string {
	var ms float64
	switch n := v.(type) {
	case float64:
		ms = n
	case int64:
		ms = float64(n)
	case int:
		ms = float64(n)
	}
	if ms < 1000 {
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

// stepLabel names a step in an outcome: its id, else its number.
func stepLabel(def runbooks.Step, i int) string {
	if def.ID != "" {
		return def.ID
	}
	return fmt.Sprintf("step %d", i+1)
}

// failureReason is what a step failure message says after "… failed: ".
func failureReason(msg string) string {
	if _, why, ok := strings.Cut(msg, " failed: "); ok {
		return why
	}
	return msg
}

// rollbackNote says how the rollback of a run stands, or "".
func rollbackNote(rollback *runbook.Run) string {
	switch {
	case rollback == nil:
		return ""
	case rollback.State == runbook.RunSucceeded:
		return " · ↩️ Rolled back by " + rollback.Key()
	}
	return " · ↩️ Rollback " + rollback.Key() + " under way"
}

// reportPlace is where a run reports: where it was started, else its incident's
// channel, else the default channel.
func (e *Executor) reportPlace(ctx context.Context, run *runbook.Run) (channel, thread string) {
	channel, thread = run.Channel, run.ThreadTS
	if channel == "" && run.IncidentID != 0 {
		if inc, err := e.d.Incidents.Incident(ctx, run.IncidentID); err == nil {
			channel = inc.Channel
		}
	}
	if channel == "" {
		channel = e.d.DefaultChannel
	}
	return channel, thread
}
