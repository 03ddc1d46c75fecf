package handlers

import (
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/slackui"
)

func TestDecisionFromClick(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  runbook.Request
		want approvals.Decision
		ok   bool
	}{
		{"Approve", runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: slackui.ActionApprove, Value: "3"}},
			approvals.Decision{ApprovalID: 3, UserID: "U1", Approve: true, Via: approvals.ViaButton}, true},
		{"Deny", runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: slackui.ActionDeny, Value: "3"}},
			approvals.Decision{ApprovalID: 3, UserID: "U1", Via: approvals.ViaButton}, true},
		{"Reason", runbook.Request{Kind: runbook.KindViewSubmission, UserID: "U1", View: &runbook.ViewSubmission{
			CallbackID: slackui.DenyReasonCallbackID, PrivateMetadata: "3", Values: map[string]map[string]string{"reason": {"reason": "no"}}}},
			approvals.Decision{ApprovalID: 3, UserID: "U1", Note: "no", Via: approvals.ViaButton}, true},
		{"OtherButton", runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: "other", Value: "3"}},
			approvals.Decision{}, false},
		{"Command", runbook.Request{Kind: runbook.KindCommand, UserID: "U1", Text: "approve APR-3"}, approvals.Decision{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := DecisionFrom(&tc.req)
			if err != nil || ok != tc.ok || got != tc.want {
				t.Fatalf("DecisionFrom = %+v, %v, %v; want %+v, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
	t.Run("ErrBadValue", func(t *testing.T) {
		req := runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: slackui.ActionApprove, Value: "x"}}
		if _, ok, err := DecisionFrom(&req); !ok || runbook.ErrorCode(err) != runbook.EINVALID {
			t.Fatalf("ok = %v, err = %v", ok, err)
		}
	})
}
