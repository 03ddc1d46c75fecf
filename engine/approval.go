package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// ApprovalDesk is the approvals service as approval steps see it.
type ApprovalDesk interface {
	// Requested hears that a request's message is posted and recorded — or found
	// after a crash, possibly decided by then, so that the message is brought in line
	// with the decision.
	Requested(ctx context.Context, a *runbook.Approval)
	// Cancelled cancels a pending request of a cancelled run and settles it: its
	// message updated, the cancellation audited.
	Cancelled(ctx context.Context, a *runbook.Approval) error
	// Decidable says, before a request is made, whether it could ever be approved.
	Decidable(ctx context.Context, a *runbook.Approval) error
	// ShowOutcome redraws a decided request's message with its Outcome and, when it
	// offers one, its Roll back button.
	ShowOutcome(ctx context.Context, a *runbook.Approval)
}

// ApprovalSettings are the configured defaults of approval steps.
type ApprovalSettings struct {
	// Channel is where requests go when a step names no channel.
	Channel string
	// Timeout is how long a request waits when its step sets no timeout (30m when 0).
	Timeout time.Duration
	// Approvers may decide requests whose step names none; Required is how many
	// distinct approvals each risk level needs when the step does not say.
	Approvers []string
	Required  map[string]int
}

// approvalActions are the steps that ask people for a decision.
type approvalActions struct {
	e     *Executor
	store runbook.ApprovalStore
	desk  ApprovalDesk
	cfg   ApprovalSettings
}

// ApprovalActions asks for approvals, keeping requests in store and telling desk.
func ApprovalActions(store runbook.ApprovalStore, desk ApprovalDesk, cfg ApprovalSettings) Family {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Minute
	}
	return &approvalActions{store: store, desk: desk, cfg: cfg}
}

func (f *approvalActions) register(e *Executor) {
	f.e = e
	e.actions["approval.request"] = action{drive: f.approvalStep}
	e.onCancel = append(e.onCancel, f.cancelApprovals)
	e.gates = f
}

// approvalStep asks for an approval and parks the run until it is decided; once it is,
// it records the decision as the step's outputs and lets the run go on or stop.
func (f *approvalActions) approvalStep(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook, i int, data map[string]any) bool {
	def := rb.Steps[i]
	if run.Steps[i].State == runbook.StepPending {
		// The steps an earlier approval let run are done: its message says so.
		f.e.showResult(ctx, run)
		if _, err := f.e.d.Runs.StartStep(ctx, run.ID, i); err != nil {
			f.e.storeFailed("start step", run.ID, err)
			return false
		}
	}
	a, err := f.approvalFor(ctx, run, def, i, data)
	if err != nil {
		return f.e.failStep(ctx, run, def, i, err)
	}
	if a.State == runbook.ApprovalPending {
		if a.MessageTS == "" {
			if err := f.requestApproval(ctx, run, i, a); err != nil {
				return f.e.failStep(ctx, run, def, i, err)
			}
		}
		if _, err := f.e.d.Runs.SetRunState(ctx, run.ID, []runbook.RunState{runbook.RunRunning}, runbook.RunWaitingApproval, ""); err != nil {
			f.e.storeFailed("park run", run.ID, err)
		}
		return false
	}
	if a.MessageTS == "" {
		// The request was decided before its message was recorded: the process died
		// between chat.postMessage and SetApprovalMessage, after or before a click. The
		// message, if one was posted, still has its buttons; record it so that it is
		// updated to show the decision.
		if err := f.adoptRequest(ctx, run, i, a); err != nil {
			f.e.logErr("find approval request message", run.ID, err)
		}
	}
	return f.decided(ctx, run, rb, i, a)
}

// approvalFor returns the step's approval request, creating it the first time.
func (f *approvalActions) approvalFor(ctx context.Context, run *runbook.Run, def runbooks.Step, i int, data map[string]any) (*runbook.Approval, error) {
	if a, err := f.store.ApprovalForStep(ctx, run.ID, i); err == nil {
		return a, nil
	} else if runbook.ErrorCode(err) != runbook.ENOTFOUND {
		return nil, err
	}
	in, err := renderInputs(def, data)
	if err != nil {
		return nil, err
	}
	s := &stepRun{e: f.e, run: run, def: def, index: i, in: in}
	timeout := f.cfg.Timeout
	if t := s.str("timeout"); t != "" {
		if timeout, err = time.ParseDuration(t); err != nil || timeout <= 0 {
			return nil, runbook.Errorf(runbook.EINVALID, "timeout %q is not a duration like 15m", t)
		}
	}
	risk := runbook.Risk(strings.ToLower(s.str("risk")))
	if !slices.Contains(runbook.Risks, risk) {
		// A templated risk is only known now; a wrong one must not fall back to the
		// least number of approvals.
		return nil, runbook.Errorf(runbook.EINVALID, "risk %q is not a risk level; use one of %s", slackui.Truncate(s.str("risk"), 40), strings.Join(runbook.RiskNames(), ", "))
	}
	approvers := s.list("approvers")
	if len(approvers) == 0 {
		approvers = f.cfg.Approvers
	}
	required := max(f.cfg.Required[string(risk)], 1)
	if v, set := s.in["required"]; set && strings.TrimSpace(fmt.Sprint(v)) != "" {
		if required, err = strconv.Atoi(s.str("required")); err != nil || required < 1 {
			return nil, runbook.Errorf(runbook.EINVALID, "required must be a whole number of at least 1, got %q", s.str("required"))
		}
	}
	a := &runbook.Approval{RunID: run.ID, StepIndex: i, IncidentID: run.IncidentID,
		Operation: s.str("operation"), Risk: risk, Rollback: s.str("rollback"), Reason: s.str("reason"),
		RequestedBy: run.StartedBy, Approvers: approvers, Required: required, Channel: s.str("channel"),
		ExpiresAt: f.e.d.Now().Add(timeout)}
	if err := f.desk.Decidable(ctx, a); err != nil {
		return nil, err
	}
	if _, err := f.store.CreateApproval(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// requestApproval posts the request message, once, and records where it is.
func (f *approvalActions) requestApproval(ctx context.Context, run *runbook.Run, i int, a *runbook.Approval) error {
	inc, err := f.requestIncident(ctx, run)
	if err != nil {
		return err
	}
	id, err := f.requestChannel(ctx, run, a, inc)
	if err != nil {
		return err
	}
	s := &stepRun{e: f.e, run: run, index: i, attempt: run.Steps[i].Attempts + 1}
	ts, found, err := s.posted(ctx, id, "")
	if err != nil {
		return err
	}
	if !found {
		msg := slackui.ApprovalRequest(a, inc)
		msg.Channel, msg.Metadata = id, s.marker()
		posted, err := f.e.d.Slack.PostMessage(ctx, msg)
		if err != nil {
			return err
		}
		id, ts = posted.Channel, posted.TS
	}
	if err := f.recordRequest(ctx, a, id, ts); err != nil {
		return err
	}
	f.e.progress(ctx, run, slackui.ApprovalRequested(a, run))
	return nil
}

// adoptRequest finds the request message an earlier attempt of the step posted but did
// not record, by its metadata, and records it as requestApproval would have.
func (f *approvalActions) adoptRequest(ctx context.Context, run *runbook.Run, i int, a *runbook.Approval) error {
	inc, err := f.requestIncident(ctx, run)
	if err != nil {
		return err
	}
	id, err := f.requestChannel(ctx, run, a, inc)
	if err != nil {
		return err
	}
	s := &stepRun{e: f.e, run: run, index: i, attempt: run.Steps[i].Attempts + 1}
	ts, found, err := s.posted(ctx, id, "")
	if err != nil || !found {
		return err
	}
	f.e.log.Info("found an approval request message posted before a restart", "run", run.Key(), "approval", a.Key(), "state", a.State)
	return f.recordRequest(ctx, a, id, ts)
}

// recordRequest records where the request message is and tells OnApprovalRequested,
// which also updates the message if the request was decided before this.
func (f *approvalActions) recordRequest(ctx context.Context, a *runbook.Approval, channel, ts string) error {
	if err := f.store.SetApprovalMessage(ctx, a.ID, channel, ts); err != nil {
		return err
	}
	a.Channel, a.MessageTS = channel, ts
	f.desk.Requested(ctx, a)
	return nil
}

// requestIncident is the run's incident, shown in the request message; nil if it has
// none. One that cannot be read is an error, so that the step is tried again rather
// than a private incident's request asked in the shared approval channel.
func (f *approvalActions) requestIncident(ctx context.Context, run *runbook.Run) (*runbook.Incident, error) {
	if run.IncidentID == 0 {
		return nil, nil
	}
	inc, err := f.e.d.Incidents.Incident(ctx, run.IncidentID)
	if err != nil {
		return nil, fmt.Errorf("read %s for its approval request: %w", runbook.IncidentKey(run.IncidentID), err)
	}
	return inc, nil
}

// requestChannel resolves where a request is asked: the step's channel, else the
// configured approval channel, the incident's, or where the run was started. A request
// about an incident whose channel is private names the incident and its title, so it
// is asked in that channel rather than the approval channel, unless the step says
// otherwise.
func (f *approvalActions) requestChannel(ctx context.Context, run *runbook.Run, a *runbook.Approval, inc *runbook.Incident) (string, error) {
	channel := a.Channel
	if channel == "" && f.privateIncident(ctx, inc) {
		channel = inc.Channel
	}
	if channel == "" {
		channel = f.cfg.Channel
	}
	if channel == "" && inc != nil {
		channel = inc.Channel
	}
	if channel == "" {
		channel = run.Channel
	}
	if channel == "" {
		return "", runbook.Errorf(runbook.EINVALID, "there is no channel to ask for the approval in: set the step's channel or slack.approvalChannel")
	}
	return f.e.d.Slack.ResolveChannel(ctx, channel)
}

// decided records a decided approval as the step's outputs. Approved: the run goes on.
// Otherwise it stops as denied, expired or cancelled, unless the step may fail
// (on_error: continue), in which case later steps see approved = false.
//
// The run's state changes before the step is finished: a process that dies in between
// leaves the step unfinished, and the next one comes back here. The other order would
// leave a finished approval step in a run still parked on it, which nothing moves.
func (f *approvalActions) decided(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook, i int, a *runbook.Approval) bool {
	def := rb.Steps[i]
	outputs := map[string]any{"approved": a.State == runbook.ApprovalApproved, "decided_by": slackui.Mention(a.DecidedBy),
		"decided_at": a.DecidedAt.UTC().Format(time.RFC3339), "reason": a.Note, "approval_id": a.Key()}
	if a.State == runbook.ApprovalApproved || def.OnError == runbooks.OnErrorContinue {
		_, err := f.e.d.Runs.SetRunState(ctx, run.ID, []runbook.RunState{runbook.RunWaitingApproval, runbook.RunRunning}, runbook.RunRunning, "")
		if err != nil {
			f.e.storeFailed("resume run", run.ID, err)
			return false
		}
		if !f.e.finish(ctx, run, i, runbook.StepSucceeded, outputs, "") {
			return false
		}
		if a.State == runbook.ApprovalApproved {
			f.e.progress(ctx, run, slackui.ApprovalGranted(a))
			if a.Outcome == "" && acts(rb, i+1) {
				f.showOutcome(ctx, run, a, Executing, false)
			}
		}
		return true
	}
	to, why := runbook.RunDenied, fmt.Sprintf("%s was denied by %s", a.Key(), slackui.Mention(a.DecidedBy))
	switch a.State {
	case runbook.ApprovalExpired:
		to, why = runbook.RunExpired, fmt.Sprintf("%s expired with no decision", a.Key())
	case runbook.ApprovalCancelled:
		to, why = runbook.RunCancelled, fmt.Sprintf("%s was cancelled", a.Key())
	}
	if a.Note != "" {
		why += ": " + a.Note
	}
	f.e.endRun(ctx, run, to, why)
	f.e.finish(ctx, run, i, runbook.StepSucceeded, outputs, "")
	return false
}

// cancelApprovals cancels the pending approval requests of a cancelled run.
func (f *approvalActions) cancelApprovals(ctx context.Context, runID int64, by string) {
	pending, err := f.store.PendingApprovals(ctx)
	if err != nil {
		f.e.logErr("list approvals", runID, err)
		return
	}
	for _, a := range pending {
		if a.RunID != runID {
			continue
		}
		a.DecidedBy, a.Note = by, "the run was cancelled"
		if err := f.desk.Cancelled(ctx, a); err != nil {
			f.e.logErr("cancel approval", runID, err)
		}
	}
}

// lastGate returns the run's last approved approval request.
func (f *approvalActions) lastGate(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook) (*runbook.Approval, bool) {
	for i := len(run.Steps) - 1; i >= 0; i-- {
		if rb.Steps[i].Action != "approval.request" || run.Steps[i].State != runbook.StepSucceeded {
			continue
		}
		a, err := f.store.ApprovalForStep(ctx, run.ID, i)
		if err == nil && a.State == runbook.ApprovalApproved {
			return a, true
		}
	}
	return nil, false
}

// showOutcome records what became of the steps a request let run and redraws its
// message; the message is the run's result message, where Roll back may be clicked.
func (f *approvalActions) showOutcome(ctx context.Context, run *runbook.Run, a *runbook.Approval, outcome string, offers bool) {
	if a.MessageTS != "" && (run.ResultTS != a.MessageTS || run.ResultChannel != a.Channel) {
		if err := f.e.d.Runs.SetRunResult(ctx, run.ID, a.Channel, a.MessageTS); err != nil {
			f.e.logErr("record the result message", run.ID, err)
		}
	}
	if a.Outcome == outcome && a.OffersRollback == offers {
		return
	}
	if err := f.store.SetApprovalOutcome(ctx, a.ID, outcome, offers); err != nil {
		f.e.logErr("record an approval's outcome", run.ID, err)
		return
	}
	a.Outcome, a.OffersRollback = outcome, offers
	f.desk.ShowOutcome(ctx, a)
}

// privateIncident says whether inc has a channel that is private
// (runbook.IsChannelPrivate); if Slack cannot say, the approval channel is not used
// either.
func (f *approvalActions) privateIncident(ctx context.Context, inc *runbook.Incident) bool {
	if inc == nil || inc.Channel == "" {
		return false
	}
	private, err := runbook.IsChannelPrivate(ctx, f.e.d.Slack, inc.Channel, inc.ChannelPrivacy)
	return private || err != nil
}
