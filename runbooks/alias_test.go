package runbooks

import (
	"strings"
	"testing"
)

// TestHarnessInputNames: slack.create_channel takes description and is_private, as
// Harness names them, as purpose and private; giving both names of one input is an error.
func TestHarnessInputNames(t *testing.T) {
	rb, err := Parse("h.yaml", []byte(`name: h
steps:
  - action: slack.create_channel
    with: {name: inc, description: "Why we are here", is_private: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	with := rb.Steps[0].With
	if with["purpose"] != "Why we are here" || with["private"] != true {
		t.Fatalf("with = %#v", with)
	}
	_, err = Parse("h.yaml", []byte(`name: h
steps:
  - action: slack.create_channel
    with: {name: inc, purpose: a, description: b}
`))
	if err == nil || !strings.Contains(err.Error(), "purpose and description are the same input; give one of them") {
		t.Fatalf("both names: %v", err)
	}
}

// TestRunbookAIApprovalInputNames: approval.request takes riskLevel, rollbackCommand and
// investigation, as RunbookAI's approval requests name them, as risk, rollback and
// reason; a risk level is checked under either name, and both names of one input are
// an error naming both.
func TestRunbookAIApprovalInputNames(t *testing.T) {
	rb, err := Parse("a.yaml", []byte(`name: a
steps:
  - action: approval.request
    with: {operation: scale, riskLevel: high, rollbackCommand: "scale back", investigation: PD-1}
`))
	if err != nil {
		t.Fatal(err)
	}
	with := rb.Steps[0].With
	if with["risk"] != "high" || with["rollback"] != "scale back" || with["reason"] != "PD-1" {
		t.Fatalf("with = %#v", with)
	}
	for _, tc := range []struct{ with, want string }{
		{"riskLevel: high, risk: low", "risk and riskLevel are the same input; give one of them"},
		{"rollback: a, rollbackCommand: b", "rollback and rollbackCommand are the same input; give one of them"},
		{"investigation: a, reason: b", "reason and investigation are the same input; give one of them"},
		{"riskLevel: extreme", "riskLevel"},
	} {
		_, err := Parse("a.yaml", []byte("name: a\nsteps:\n  - action: approval.request\n    with: {operation: x, "+tc.with+"}\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("with {%s}: %v, want it to say %q", tc.with, err, tc.want)
		}
	}
}
