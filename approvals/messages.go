package approvals

import (
	"fmt"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// closedSentence tells someone who clicked on a request that is no longer pending.
func closedSentence(a *runbook.Approval) string {
	switch a.State {
	case runbook.ApprovalExpired:
		return fmt.Sprintf("%s expired at %s with no decision; nothing was changed.", a.Key(), slackui.Clock(a.ExpiresAt))
	case runbook.ApprovalCancelled:
		return fmt.Sprintf("%s was cancelled; nothing was changed.", a.Key())
	}
	return fmt.Sprintf("%s was already %s by %s.", a.Key(), a.State, slackui.Or(slackui.Mention(a.DecidedBy), "someone"))
}

// voteSentence tells someone what their counted vote did.
func voteSentence(d Decision, res runbook.VoteResult) string {
	a := res.Approval
	left := max(a.Required, 1) - len(res.Approvers)
	switch {
	case a.State == runbook.ApprovalDenied:
		return fmt.Sprintf("You denied %s.", a.Key())
	case a.State == runbook.ApprovalApproved:
		return fmt.Sprintf("You approved %s.", a.Key())
	case res.Repeat:
		return fmt.Sprintf("You already approved %s; %s", a.Key(), moreNeeded(left))
	}
	return fmt.Sprintf("You approved %s; %s", a.Key(), moreNeeded(left))
}

func moreNeeded(n int) string {
	if n == 1 {
		return "1 more approval is needed."
	}
	return fmt.Sprintf("%d more approvals are needed.", n)
}
