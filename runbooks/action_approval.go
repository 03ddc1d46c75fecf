package runbooks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// Action ids of the approval buttons; their value is the approval's numeric id.
const (
	ActionApprove = "approval.approve"
	ActionDeny    = "approval.deny"
)

// approvalStep asks for an approval and parks the run until it is decided; once it is,
// it records the decision as the step's outputs and lets the run go on or stop.
func (e *Executor) approvalStep(ctx context.Context, run *runbook.Run, rb *Runbook, i int, data map[string]any) bool {
	def := rb.Steps[i]
	if run.Steps[i].State == runbook.StepPending {
		if _, err := e.d.Runs.StartStep(ctx, run.ID, i); err != nil {
			e.logErr("start step", run.ID, err)
			return false
		}
	}
	a, err := e.approvalFor(ctx, run, def, i, data)
	if err != nil {
		return e.failStep(ctx, run, def, i, err)
	}
	if a.State == runbook.ApprovalPending {
		if a.MessageTS == "" {
			if err := e.requestApproval(ctx, run, i, a); err != nil {
				return e.failStep(ctx, run, def, i, err)
			}
		}
		if _, err := e.d.Runs.SetRunState(ctx, run.ID, []runbook.RunState{runbook.RunRunning}, runbook.RunWaitingApproval, ""); err != nil {
			e.logErr("park run", run.ID, err)
		}
		return false
	}
	if a.MessageTS == "" {
		// The request was decided before its message was recorded: the process died
		// between chat.postMessage and SetApprovalMessage, after or before a click. The
		// message, if one was posted, still has its buttons; record it so that it is
		// updated to show the decision.
		if err := e.adoptRequest(ctx, run, i, a); err != nil {
			e.logErr("find approval request message", run.ID, err)
		}
	}
	return e.decided(ctx, run, def, i, a)
}

// approvalFor returns the step's approval request, creating it the first time.
func (e *Executor) approvalFor(ctx context.Context, run *runbook.Run, def Step, i int, data map[string]any) (*runbook.Approval, error) {
	if a, err := e.d.Approvals.ApprovalForStep(ctx, run.ID, i); err == nil {
		return a, nil
	} else if runbook.ErrorCode(err) != runbook.ENOTFOUND {
		return nil, err
	}
	rendered, err := RenderValue(def.With, data)
	if err != nil {
		return nil, err
	}
	s := &stepRun{e: e, run: run, def: def, index: i, in: rendered.(map[string]any)}
	timeout := e.d.ApprovalTimeout
	if t := s.str("timeout"); t != "" {
		if timeout, err = time.ParseDuration(t); err != nil || timeout <= 0 {
			return nil, runbook.Errorf(runbook.EINVALID, "timeout %q is not a duration like 15m", t)
		}
	}
	risk := strings.ToLower(s.str("risk"))
	approvers := s.list("approvers")
	if len(approvers) == 0 {
		approvers = e.d.Approvers
	}
	required := max(e.d.Required[risk], 1)
	if _, set := s.in["required"]; set {
		if required, err = strconv.Atoi(s.str("required")); err != nil || required < 1 {
			return nil, runbook.Errorf(runbook.EINVALID, "required must be a whole number of at least 1, got %q", s.str("required"))
		}
	}
	a := &runbook.Approval{RunID: run.ID, StepIndex: i, IncidentID: run.IncidentID,
		Operation: s.str("operation"), Risk: risk, Rollback: s.str("rollback"), Reason: s.str("reason"),
		RequestedBy: run.StartedBy, Approvers: approvers, Required: required, Channel: s.str("channel"),
		ExpiresAt: e.d.Now().Add(timeout)}
	if _, err := e.d.Approvals.CreateApproval(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// requestApproval posts the request message, once, and records where it is.
func (e *Executor) requestApproval(ctx context.Context, run *runbook.Run, i int, a *runbook.Approval) error {
	inc := e.requestIncident(ctx, run)
	id, err := e.requestChannel(ctx, run, a, inc)
	if err != nil {
		return err
	}
	s := &stepRun{e: e, run: run, index: i, attempt: run.Steps[i].Attempts + 1}
	ts, found, err := s.posted(ctx, id)
	if err != nil {
		return err
	}
	if !found {
		msg := ApprovalRequest(a, inc)
		msg.Channel, msg.Metadata = id, s.marker()
		posted, err := e.d.Slack.PostMessage(ctx, msg)
		if err != nil {
			return err
		}
		id, ts = posted.Channel, posted.TS
	}
	if err := e.recordRequest(ctx, a, id, ts); err != nil {
		return err
	}
	e.progress(ctx, run, fmt.Sprintf(":raised_hand: %s requested for *%s* (%s risk), from runbook %s (%s)", a.Key(), a.Operation, a.Risk, run.Runbook, run.Key()))
	return nil
}

// adoptRequest finds the request message an earlier attempt of the step posted but did
// not record, by its metadata, and records it as requestApproval would have.
func (e *Executor) adoptRequest(ctx context.Context, run *runbook.Run, i int, a *runbook.Approval) error {
	id, err := e.requestChannel(ctx, run, a, e.requestIncident(ctx, run))
	if err != nil {
		return err
	}
	s := &stepRun{e: e, run: run, index: i, attempt: run.Steps[i].Attempts + 1}
	ts, found, err := s.posted(ctx, id)
	if err != nil || !found {
		return err
	}
	e.log.Info("found an approval request message posted before a restart", "run", run.Key(), "approval", a.Key(), "state", a.State)
	return e.recordRequest(ctx, a, id, ts)
}

// recordRequest records where the request message is and tells OnApprovalRequested,
// which also updates the message if the request was decided before this.
func (e *Executor) recordRequest(ctx context.Context, a *runbook.Approval, channel, ts string) error {
	if err := e.d.Approvals.SetApprovalMessage(ctx, a.ID, channel, ts); err != nil {
		return err
	}
	a.Channel, a.MessageTS = channel, ts
	if e.d.OnApprovalRequested != nil {
		e.d.OnApprovalRequested(ctx, a)
	}
	return nil
}

// requestIncident is the run's incident, shown in the request message; nil if it has
// none or it cannot be read.
func (e *Executor) requestIncident(ctx context.Context, run *runbook.Run) *runbook.Incident {
	if run.IncidentID == 0 {
		return nil
	}
	inc, _ := e.d.Incidents.Incident(ctx, run.IncidentID)
	return inc
}

// requestChannel resolves where a request is asked: the step's channel, else the
// configured approval channel, the incident's, or where the run was started.
func (e *Executor) requestChannel(ctx context.Context, run *runbook.Run, a *runbook.Approval, inc *runbook.Incident) (string, error) {
	channel := a.Channel
	if channel == "" {
		channel = e.d.ApprovalChannel
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
	return e.d.Slack.ResolveChannel(ctx, channel)
}

// decided records a decided approval as the step's outputs. Approved: the run goes on.
// Otherwise it stops as denied, expired or cancelled, unless the step may fail
// (on_error: continue), in which case later steps see approved = false.
//
// The run's state changes before the step is finished: a process that dies in between
// leaves the step unfinished, and the next one comes back here. The other order would
// leave a finished approval step in a run still parked on it, which nothing moves.
func (e *Executor) decided(ctx context.Context, run *runbook.Run, def Step, i int, a *runbook.Approval) bool {
	outputs := map[string]any{"approved": a.State == runbook.ApprovalApproved, "decided_by": mention(a.DecidedBy),
		"decided_at": a.DecidedAt.UTC().Format(time.RFC3339), "reason": a.Note, "approval_id": a.Key()}
	if a.State == runbook.ApprovalApproved || def.OnError == OnErrorContinue {
		_, err := e.d.Runs.SetRunState(ctx, run.ID, []runbook.RunState{runbook.RunWaitingApproval, runbook.RunRunning}, runbook.RunRunning, "")
		if err != nil {
			e.logErr("resume run", run.ID, err)
			return false
		}
		if !e.finish(ctx, run, i, runbook.StepSucceeded, outputs, "") {
			return false
		}
		if a.State == runbook.ApprovalApproved {
			e.progress(ctx, run, fmt.Sprintf(":white_check_mark: %s approved by %s", a.Key(), mention(a.DecidedBy)))
		}
		return true
	}
	to, why := runbook.RunDenied, fmt.Sprintf("%s was denied by %s", a.Key(), mention(a.DecidedBy))
	switch a.State {
	case runbook.ApprovalExpired:
		to, why = runbook.RunExpired, fmt.Sprintf("%s expired with no decision", a.Key())
	case runbook.ApprovalCancelled:
		to, why = runbook.RunCancelled, fmt.Sprintf("%s was cancelled", a.Key())
	}
	if a.Note != "" {
		why += ": " + a.Note
	}
	e.endRun(ctx, run, to, why)
	e.finish(ctx, run, i, runbook.StepSucceeded, outputs, "")
	return false
}

// cancelApprovals cancels the pending approval requests of a cancelled run.
func (e *Executor) cancelApprovals(ctx context.Context, runID int64, by string) {
	pending, err := e.d.Approvals.PendingApprovals(ctx)
	if err != nil {
		e.logErr("list approvals", runID, err)
		return
	}
	for _, a := range pending {
		if a.RunID != runID {
			continue
		}
		var err error
		if e.d.CancelApproval != nil {
			a.DecidedBy, a.Note = by, "the run was cancelled"
			err = e.d.CancelApproval(ctx, a)
		} else {
			_, err = e.d.Approvals.DecideApproval(ctx, a.ID, runbook.ApprovalCancelled, by, "the run was cancelled")
		}
		if err != nil {
			e.logErr("cancel approval", runID, err)
		}
	}
}

// riskBadges shows a risk level at a glance.
var riskBadges = map[string]string{
	"low": ":large_green_circle: low", "medium": ":large_yellow_circle: medium",
	"high": ":large_orange_circle: high", "critical": ":red_circle: *critical*",
}

// ApprovalRequest is the message asking for a decision: operation, risk, incident,
// who asked and why, the rollback, when it expires, and Approve / Deny buttons whose
// value is the approval's id.
func ApprovalRequest(a *runbook.Approval, inc *runbook.Incident) runbook.Message {
	fields := []*slack.TextBlockObject{
		mrkdwn("*Operation*\n" + a.Operation),
		mrkdwn("*Risk*\n" + riskBadge(a.Risk)),
		mrkdwn("*Requested by*\n" + orNone(mention(a.RequestedBy), "a trigger")),
		mrkdwn(fmt.Sprintf("*Expires*\n<!date^%d^{date_short_pretty} {time}|%s>", a.ExpiresAt.Unix(), a.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))),
	}
	if inc != nil {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Incident*\n%s %s", inc.Key(), Escape(inc.Title))))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Approval needed: "+a.Key(), true, false)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if a.Reason != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Why*\n"+a.Reason), nil, nil))
	}
	if a.Rollback != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Rollback*\n```"+a.Rollback+"```"), nil, nil))
	}
	value := fmt.Sprint(a.ID)
	approve := slack.NewButtonBlockElement(ActionApprove, value, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))
	approve.Style = slack.StylePrimary
	deny := slack.NewButtonBlockElement(ActionDeny, value, slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false))
	deny.Style = slack.StyleDanger
	blocks = append(blocks, slack.NewActionBlock("approval", approve, deny))
	return runbook.Message{Text: fmt.Sprintf("Approval needed (%s): %s", a.Key(), a.Operation), Blocks: blocks}
}

func riskBadge(risk string) string {
	if b, ok := riskBadges[risk]; ok {
		return b
	}
	return risk
}

func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
