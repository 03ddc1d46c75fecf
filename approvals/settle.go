package approvals

import (
	"context"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// expire moves an overdue request to expired; if this call did it, it follows up. It
// returns the request as stored afterwards.
func (s *Service) expire(ctx context.Context, a *runbook.Approval) (*runbook.Approval, error) {
	won, err := s.store.DecideApproval(ctx, a.ID, runbook.ApprovalExpired, "", "")
	if err != nil {
		return nil, fmt.Errorf("expire %s: %w", a.Key(), err)
	}
	fresh, err := s.store.Approval(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("expire %s: %w", a.Key(), err)
	}
	if won {
		s.log.Info("approval expired", "approval", a.Key(), "run", a.RunID)
		s.settle(ctx, fresh, nil, "no decision by "+slackui.Clock(fresh.ExpiresAt))
	}
	return fresh, nil
}

// settle follows up a request that was decided, expired or cancelled: the request
// message is updated in place, the audit log and the incident's timeline say what
// happened, and the run is kicked to read the decision. The entries are written in the
// transaction that marks the request settled, so that a follow-up done twice (after a
// crash, or by a sweep racing a click) writes them once; the rest is safe to repeat.
// The message has its own mark (showDecision), so it does not depend on this one. The
// kick comes last, so that the entries are in before the run moves on: a crash before
// it loses nothing, as the executor looks at every parked run when it starts.
// Failures are logged, not returned: the decision stands whatever Slack says (the
// adapter has already retried), and the run must not stay parked.
func (s *Service) settle(ctx context.Context, a *runbook.Approval, approvers []string, detail string) {
	inc := s.incident(ctx, a.IncidentID)
	if approvers == nil {
		approvers = s.approvedBy(ctx, a)
	}
	s.showDecision(ctx, a, inc, approvers)
	var line *runbook.TimelineEntry
	if inc != nil {
		line = &runbook.TimelineEntry{IncidentID: inc.ID, Actor: decider(a), Kind: runbook.TimelineApproval,
			Text: fmt.Sprintf("%s: %s", a.Key(), slackui.ApprovalStatus(a, approvers))}
	}
	e := entry(a, decider(a), settledAction(a.State), detail)
	e.At = s.cfg.Now()
	if _, err := s.store.SettleApproval(ctx, a.ID, e, line); err != nil {
		s.logErr("settle approval", err, "approval", a.Key())
	}
	s.settled.fire()
	if a.RunID != 0 { // a request made through the API has no run to resume
		s.resumer.Kick(a.RunID)
	}
}

// showDecision updates the request message to show how the request ended, and records
// that it did. A request whose message is not recorded yet (a click decided it between
// chat.postMessage and the executor recording the message) has nothing to update here:
// Requested updates it once it is recorded, or the next sweep or start does.
// The message counts as settled even if Slack refused the update after the adapter's
// retries, so that a deleted message is not retried at every sweep; a late click on
// its buttons is still told the request was decided.
func (s *Service) showDecision(ctx context.Context, a *runbook.Approval, inc *runbook.Incident, approvers []string) {
	if a.MessageTS == "" {
		return
	}
	s.redraw(ctx, a, inc, approvers)
	if err := s.store.SettleApprovalMessage(ctx, a.ID, a.MessageTS); err != nil {
		s.logErr("settle approval message", err, "approval", a.Key())
	}
}

// ShowOutcome redraws a decided request's message with what became of the steps it let
// run, and its Roll back button when it offers one.
func (s *Service) ShowOutcome(ctx context.Context, a *runbook.Approval) {
	if a.MessageTS == "" {
		return
	}
	s.redraw(ctx, a, s.incident(ctx, a.IncidentID), s.approvedBy(ctx, a))
}

// redraw updates a decided request's message in place.
func (s *Service) redraw(ctx context.Context, a *runbook.Approval, inc *runbook.Incident, approvers []string) {
	if err := s.slack.UpdateMessage(ctx, a.Channel, a.MessageTS, slackui.DecidedApproval(a, inc, approvers)); err != nil {
		s.logErr("update approval message", err, "approval", a.Key())
	}
}

// approvedBy lists who approved a request, for a follow-up that was not told (a late
// one, or the message of a request recorded after its decision), so that every path
// shows the same message. Nil for a request not approved, or if the store fails: the
// message then names the last approver alone.
func (s *Service) approvedBy(ctx context.Context, a *runbook.Approval) []string {
	if a.State != runbook.ApprovalApproved {
		return nil
	}
	users, err := s.store.ApprovedBy(ctx, a.ID)
	if err != nil {
		s.logErr("list approvers", err, "approval", a.Key())
		return nil
	}
	return users
}

// settleStale follows up requests decided at or before a time that nobody followed up:
// a crash came between the decision and its follow-up, or something other than this
// service (the executor cancelling a run) decided them.
func (s *Service) settleStale(ctx context.Context, decidedBefore time.Time) error {
	stale, err := s.store.UnsettledApprovals(ctx, decidedBefore)
	if err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	for _, a := range stale {
		s.log.Info("following up a decided approval", "approval", a.Key(), "state", a.State, "run", a.RunID)
		s.settle(ctx, a, nil, fmt.Sprintf("%s; followed up late (after a restart, or decided outside the approvals service)", a.State))
	}
	return nil
}

// incident returns the request's incident, or nil.
func (s *Service) incident(ctx context.Context, id int64) *runbook.Incident {
	if id == 0 || s.incidents == nil {
		return nil
	}
	inc, err := s.incidents.Incident(ctx, id)
	if err != nil {
		if runbook.ErrorCode(err) != runbook.ENOTFOUND {
			s.logErr("load incident", err, "incident", id)
		}
		return nil
	}
	return inc
}

// Requested records that a request was made and its message posted; the executor calls
// it through its OnApprovalRequested hook once the message is recorded. It also wakes
// the sweeper, as the new request may expire before any other, and updates the message
// at once if the request was decided before the message was recorded.
func (s *Service) Requested(ctx context.Context, a *runbook.Approval) {
	detail := fmt.Sprintf("%s (risk %s); %s from %s; expires %s", a.Operation, slackui.Or(string(a.Risk), "unset"),
		slackui.Count(max(a.Required, 1), "approval", "approvals"), slackui.Approvers(s.approversOf(a), "anyone but the requester"), slackui.Clock(a.ExpiresAt))
	actor := slackui.Or(a.RequestedBy, runbook.ActorRunbook)
	if a.RequestedVia != "" {
		actor = a.RequestedVia
		if a.RequestedBy != "" {
			detail += "; on behalf of " + slackui.Mention(a.RequestedBy)
		}
	}
	s.record(ctx, entry(a, actor, runbook.AuditApprovalRequested, detail))
	s.poke()
	// A click may have decided the request between chat.postMessage and the executor
	// recording the message, and its follow-up then had no message to update; or the
	// executor found, after a crash, a message it had posted for a request since
	// decided. Either way the message still has its buttons: update it now. (If this
	// fails or the process dies first, the next sweep or start finds it unsettled.)
	cur, err := s.store.Approval(ctx, a.ID)
	if err != nil {
		s.logErr("reload approval", err, "approval", a.Key())
		return
	}
	if cur.State != runbook.ApprovalPending {
		s.showDecision(ctx, cur, s.incident(ctx, cur.IncidentID), s.approvedBy(ctx, cur))
	}
}

// Cancelled follows up the cancellation of a request: it cancels the request if it is
// still pending, then updates its message, audits it and kicks its run. Call it once
// per cancellation (after the executor has cancelled the run, say); by and note are
// taken from a.DecidedBy and a.Note.
func (s *Service) Cancelled(ctx context.Context, a *runbook.Approval) error {
	cur, err := s.store.Approval(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("cancel %s: %w", a.Key(), err)
	}
	if cur.State == runbook.ApprovalPending {
		if _, err := s.store.DecideApproval(ctx, a.ID, runbook.ApprovalCancelled, a.DecidedBy, a.Note); err != nil {
			return fmt.Errorf("cancel %s: %w", a.Key(), err)
		}
		if cur, err = s.store.Approval(ctx, a.ID); err != nil {
			return fmt.Errorf("cancel %s: %w", a.Key(), err)
		}
	}
	if cur.State != runbook.ApprovalCancelled {
		return runbook.Errorf(runbook.ECONFLICT, "%s was %s before it could be cancelled.", cur.Key(), cur.State)
	}
	s.settle(ctx, cur, nil, slackui.Or(cur.Note, "cancelled"))
	return nil
}

// record writes an audit entry, logging a failure.
func (s *Service) record(ctx context.Context, e runbook.AuditEntry) {
	if err := s.recordErr(ctx, e); err != nil {
		s.logErr("audit", err, "action", e.Action, "approval", e.ApprovalID)
	}
}

func (s *Service) recordErr(ctx context.Context, e runbook.AuditEntry) error {
	e.At = s.cfg.Now()
	if err := s.audit.Record(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// entry is an audit entry about a request.
func entry(a *runbook.Approval, actor, action, detail string) runbook.AuditEntry {
	return runbook.AuditEntry{Actor: actor, Action: action, IncidentID: a.IncidentID, RunID: a.RunID, ApprovalID: a.ID, Detail: detail}
}

// decider is who the audit log names for a request's end.
func decider(a *runbook.Approval) string {
	if a.State == runbook.ApprovalExpired {
		return runbook.ActorRunbook
	}
	return slackui.Or(a.DecidedBy, runbook.ActorRunbook)
}

func settledAction(state runbook.ApprovalState) string {
	switch state {
	case runbook.ApprovalExpired:
		return runbook.AuditApprovalExpired
	case runbook.ApprovalCancelled:
		return runbook.AuditApprovalCancelled
	}
	return runbook.AuditApprovalDecided
}
