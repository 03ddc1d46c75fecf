package approvals_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/runbooks"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestParseID(t *testing.T) {
	svc := approvals.New(nil, nil, nil, nil, nil, approvals.Config{}, nil)
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"APR-7", 7}, {"apr-7", 7}, {"7", 7}, {" Apr-42 ", 42},
		{"", 0}, {"APR-", 0}, {"APR-0", 0}, {"-7", 0}, {"+7", 0}, {"APR-7a", 0}, {"INC-7", 0}, {"APR--7", 0},
		{"99999999999999999999", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := svc.ParseID(tc.in)
			if tc.want == 0 {
				if runbook.ErrorCode(err) != runbook.EINVALID {
					t.Fatalf("ParseID(%q) = %d, %v; want EINVALID", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseID(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDecisionFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  runbook.Request
		want approvals.Decision
		ok   bool
	}{
		{"Approve", runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: runbooks.ActionApprove, Value: "3"}},
			approvals.Decision{ApprovalID: 3, UserID: "U1", Approve: true, Via: approvals.ViaButton}, true},
		{"Deny", runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: runbooks.ActionDeny, Value: "3"}},
			approvals.Decision{ApprovalID: 3, UserID: "U1", Via: approvals.ViaButton}, true},
		{"Reason", runbook.Request{Kind: runbook.KindViewSubmission, UserID: "U1", View: &runbook.ViewSubmission{
			CallbackID: approvals.DenyReasonCallbackID, PrivateMetadata: "3", Values: map[string]map[string]string{"reason": {"reason": "no"}}}},
			approvals.Decision{ApprovalID: 3, UserID: "U1", Note: "no", Via: approvals.ViaButton}, true},
		{"OtherButton", runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: "other", Value: "3"}},
			approvals.Decision{}, false},
		{"Command", runbook.Request{Kind: runbook.KindCommand, UserID: "U1", Text: "approve APR-3"}, approvals.Decision{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := approvals.DecisionFrom(&tc.req)
			if err != nil || ok != tc.ok || got != tc.want {
				t.Fatalf("DecisionFrom = %+v, %v, %v; want %+v, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
	t.Run("ErrBadValue", func(t *testing.T) {
		req := runbook.Request{Kind: runbook.KindAction, UserID: "U1", Action: &runbook.Action{ActionID: runbooks.ActionApprove, Value: "x"}}
		if _, ok, err := approvals.DecisionFrom(&req); !ok || runbook.ErrorCode(err) != runbook.EINVALID {
			t.Fatalf("ok = %v, err = %v", ok, err)
		}
	})
}

// TestDecidedMessage renders the updated request message for every way a request ends
// and compares it with the golden files under testdata/.
func TestDecidedMessage(t *testing.T) {
	at := time.Date(2026, 3, 1, 14, 32, 0, 0, time.UTC)
	inc := &runbook.Incident{ID: 4, Title: "Checkout <!here> is down"}
	base := runbook.Approval{ID: 3, RunID: 9, IncidentID: 4, Operation: "Scale checkout to 8 tasks", Risk: "high",
		Rollback: "aws ecs update-service --desired-count 4", RequestedBy: "UALICE", Required: 1,
		ExpiresAt: at.Add(30 * time.Minute), CreatedAt: at.Add(-time.Minute)}
	for _, tc := range []struct {
		name  string
		state runbook.ApprovalState
		by    string
		note  string
	}{
		{"approved", runbook.ApprovalApproved, "UBOB", ""},
		{"denied", runbook.ApprovalDenied, "UCAROL", "not during <!channel> peak"},
		{"expired", runbook.ApprovalExpired, "", ""},
		{"cancelled", runbook.ApprovalCancelled, "UALICE", "the run was cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			a.State, a.DecidedBy, a.DecidedAt, a.Note = tc.state, tc.by, at, tc.note
			msg := approvals.DecidedMessage(&a, inc)
			golden(t, "decided_"+tc.name+".json", map[string]any{"text": msg.Text, "blocks": msg.Blocks})
		})
	}
}

func TestDenialModal(t *testing.T) {
	svc := approvals.New(nil, nil, nil, nil, nil, approvals.Config{}, nil)
	modal := svc.DenialModal(&runbook.Approval{ID: 3, Operation: "Scale checkout to 8 tasks"})
	if modal.CallbackID != "approval.deny_reason" || modal.PrivateMetadata != "3" {
		t.Fatalf("modal = %+v", modal)
	}
	golden(t, "denial_modal.json", modal)
}

// golden compares v, as indented JSON, with testdata/name; -update rewrites the file.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <@U1> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs from the golden file (go test -update rewrites it):\n%s", path, got)
	}
}
