package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
)

// TestRunbookAIApprovalInputNames: an approval.request written with RunbookAI's names —
// riskLevel, rollbackCommand, investigation — asks as one with risk, rollback and
// reason would: the risk decides, and the request message shows the rollback command
// and the investigation.
func TestRunbookAIApprovalInputNames(t *testing.T) {
	w := newWorld(t, `
name: runbookai-scale
steps:
  - action: approval.request
    with:
      operation: "Scale checkout-api from 4 to 8 tasks"
      riskLevel: critical
      rollbackCommand: "aws ecs update-service --desired-count 4"
      investigation: "PD-12345"
`)
	run := w.waitRun(w.run("runbookai-scale", nil).ID, runbook.RunWaitingApproval)
	a, err := w.db.Approvals().ApprovalForStep(context.Background(), run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Risk != runbook.RiskCritical || a.Rollback != "aws ecs update-service --desired-count 4" || a.Reason != "PD-12345" {
		t.Fatalf("approval = risk %q, rollback %q, reason %q", a.Risk, a.Rollback, a.Reason)
	}
	msg, ok := w.Slack.Message(a.Channel, a.MessageTS)
	if !ok {
		t.Fatal("no request message")
	}
	for _, want := range []string{"Scale checkout-api from 4 to 8 tasks", "--desired-count 4", "PD-12345"} {
		if !strings.Contains(string(msg.Blocks), want) {
			t.Errorf("the request message lacks %q: %s", want, msg.Blocks)
		}
	}
}
