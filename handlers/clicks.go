package handlers

import (
	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/slackui"
)

// DecisionFrom reads a decision from a request: a click on a request's Approve or Deny
// button, or the submitted denial-reason modal. ok is false for any other request.
func DecisionFrom(req *runbook.Request) (d approvals.Decision, ok bool, err error) {
	switch {
	case req.Kind == runbook.KindAction && req.Action != nil &&
		(req.Action.ActionID == slackui.ActionApprove || req.Action.ActionID == slackui.ActionDeny):
		id, token, err := slackui.ParseApprovalValue(req.Action.Value)
		on := approvals.MessageRef{Channel: req.ChannelID, TS: req.Action.MessageTS}
		return approvals.Decision{ApprovalID: id, UserID: req.UserID, Approve: req.Action.ActionID == slackui.ActionApprove,
			Via: approvals.ViaButton, Token: token, On: on}, true, err
	case req.Kind == runbook.KindViewSubmission && req.View != nil && req.View.CallbackID == slackui.DenyReasonCallbackID:
		id, token, err := slackui.ParseApprovalValue(req.View.PrivateMetadata)
		note := req.View.Values[slackui.ReasonBlockID][slackui.ReasonActionID]
		return approvals.Decision{ApprovalID: id, UserID: req.UserID, Note: note, Via: approvals.ViaButton, Token: token}, true, err
	}
	return approvals.Decision{}, false, nil
}
