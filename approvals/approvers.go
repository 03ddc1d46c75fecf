package approvals

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// approversOf returns who may decide a request: its own approvers, else the configured.
func (s *Service) approversOf(a *runbook.Approval) []string {
	if len(a.Approvers) > 0 {
		return a.Approvers
	}
	return s.cfg.Approvers
}

// mayDecide reports whether a person may approve or deny a request: they are among its
// approvers (resolved now, so that a change of on-call rota counts), the list is empty,
// or they are the requester withdrawing their own request with a denial.
func (s *Service) mayDecide(ctx context.Context, d Decision, a *runbook.Approval, sight *runbook.Sight) (bool, string, error) {
	if !d.Approve && d.UserID == a.RequestedBy {
		return true, "", nil
	}
	m := runbook.NewMembership(s.slack)
	ok, err := s.isApprover(ctx, m, sight, a)
	return ok, strings.Join(m.Unusable, "; "), err
}

// hiddenFrom says whether a request typed by its id is one the person may not know
// of: they may not see it, and are not among the approvers it names.
func (s *Service) hiddenFrom(ctx context.Context, sight *runbook.Sight, a *runbook.Approval) (bool, error) {
	if ok, err := sight.Approval(ctx, a); ok || err != nil {
		return false, err
	}
	approvers := s.approversOf(a)
	if len(approvers) == 0 {
		return true, nil
	}
	named, err := runbook.NewMembership(s.slack).Has(ctx, sight.User(), approvers)
	return !named, err
}

// isApprover reports whether user is among a request's approvers. An empty list lets
// in anyone who may see the request (runbook.Sight): a request's id is easy to guess,
// and "anyone" must not reach into a private incident or channel from outside it.
func (s *Service) isApprover(ctx context.Context, m *runbook.Membership, sight *runbook.Sight, a *runbook.Approval) (bool, error) {
	if approvers := s.approversOf(a); len(approvers) > 0 {
		return m.Has(ctx, sight.User(), approvers)
	}
	return sight.Approval(ctx, a)
}

// sight is what user may see, asked for a decision: a channel recorded as public is
// asked about again, since it may have been made private since.
func (s *Service) sight(user string) *runbook.Sight {
	return runbook.NewSight(s.slack, s.incidents, user, "").Live()
}

// PendingFor lists the pending requests a person may approve now: not expired, they
// are an approver, and not their own request unless self-approval is allowed.
func (s *Service) PendingFor(ctx context.Context, userID string) ([]*runbook.Approval, error) {
	pending, err := s.store.PendingApprovals(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending approvals for %s: %w", userID, err)
	}
	m, sight := runbook.NewMembership(s.slack), s.sight(userID)
	now := s.cfg.Now()
	var out []*runbook.Approval
	for _, a := range pending {
		if !now.Before(a.ExpiresAt) || (a.RequestedBy == userID && !s.cfg.AllowSelfApproval) {
			continue
		}
		ok, err := s.isApprover(ctx, m, sight, a)
		if err != nil {
			return nil, fmt.Errorf("pending approvals for %s: %w", userID, err)
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// Decidable says whether a request could ever be approved: its approvers, other than
// the requester (unless self-approval is allowed), must be at least as many people as
// the approvals it needs. An empty list is anyone but the requester. When Slack cannot
// be asked, the request goes ahead: every click is checked anyway.
func (s *Service) Decidable(ctx context.Context, a *runbook.Approval) error {
	entries := s.approversOf(a)
	if len(entries) == 0 {
		return nil
	}
	people := map[string]bool{}
	for _, e := range entries {
		members, err := runbook.People(ctx, s.slack, e)
		if runbook.ErrorCode(err) == runbook.ENOTFOUND {
			continue
		}
		if err != nil {
			s.log.Warn("cannot check that a request can be decided", "approval", a.Key(), "entry", e, "err", err)
			return nil
		}
		for _, m := range members {
			people[m] = true
		}
	}
	self := ""
	if !s.cfg.AllowSelfApproval && people[a.RequestedBy] {
		delete(people, a.RequestedBy)
		self = ", not counting the requester, who may not approve their own request"
	}
	need := max(a.Required, 1)
	if len(people) >= need {
		return nil
	}
	err := runbook.Errorf(runbook.EINVALID, "this approval could never be given: it needs %s, and its approvers (%s) are %s%s",
		slackui.Count(need, "approval", "approvals"), slackui.Approvers(entries, ""), slackui.Count(len(people), "person", "people"), self)
	s.record(ctx, runbook.AuditEntry{Actor: slackui.Or(a.RequestedBy, runbook.ActorRunbook), Action: runbook.AuditApprovalUndecidable,
		IncidentID: a.IncidentID, RunID: a.RunID, Detail: a.Operation + ": " + runbook.ErrorMessage(err)})
	return err
}

// Waiting is a pending request and who has approved it so far.
type Waiting struct {
	Approval   *runbook.Approval
	ApprovedBy []string
}

// Pending lists every pending request that has not expired, oldest first, with who
// has approved it so far.
func (s *Service) Pending(ctx context.Context) ([]Waiting, error) {
	pending, err := s.store.PendingApprovals(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending approvals: %w", err)
	}
	now := s.cfg.Now()
	var out []Waiting
	for _, a := range pending {
		if !now.Before(a.ExpiresAt) {
			continue
		}
		by, err := s.store.ApprovedBy(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("pending approvals: %w", err)
		}
		out = append(out, Waiting{Approval: a, ApprovedBy: by})
	}
	return out, nil
}

// CheckApprovers resolves the configured approvers, as the bot starts: an entry that
// names nobody is an error naming it, except user groups the workspace cannot use —
// its plan has none, or the group is disabled — which are returned as warnings (their
// members approve nothing), as long as some entry still names someone. When Slack
// cannot be asked, nothing is checked.
func (s *Service) CheckApprovers(ctx context.Context) (warnings []string, err error) {
	var problems []error
	resolved := 0
	for _, e := range s.cfg.Approvers {
		members, err := runbook.People(ctx, s.slack, e)
		switch {
		case err == nil:
			if len(members) > 0 {
				resolved++
			}
		case errors.Is(err, runbook.ErrNoUserGroups), errors.Is(err, runbook.ErrGroupDisabled):
			warnings = append(warnings, "approvals.approvers: "+runbook.ErrorMessage(err))
		case runbook.ErrorCode(err) == runbook.ENOTFOUND:
			problems = append(problems, fmt.Errorf("approvals.approvers: %s", runbook.ErrorMessage(err)))
		default:
			s.log.Warn("cannot check the configured approvers", "err", err)
			return nil, nil
		}
	}
	if len(s.cfg.Approvers) > 0 && resolved == 0 && len(problems) == 0 {
		problems = append(problems, errors.New("approvals.approvers: no entry names anyone who could approve"))
	}
	return warnings, errors.Join(problems...)
}
