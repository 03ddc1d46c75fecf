package slackui_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

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
			msg := slackui.DecidedApproval(&a, inc, nil)
			golden(t, "decided_"+tc.name+".json", map[string]any{"text": msg.Text, "blocks": msg.Blocks})
		})
	}
}

func TestDenialModal(t *testing.T) {
	modal := slackui.DenialModal(&runbook.Approval{ID: 3, Operation: "Scale checkout to 8 tasks"})
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

// Whatever a runbook puts in a request — a 2,500-character operation, a long reason
// and rollback — the request and its decided form are messages Slack accepts.
func TestApprovalMessagesStayValid(t *testing.T) {
	long := strings.Repeat("y", 2500)
	a := &runbook.Approval{ID: 3, Operation: long, Reason: strings.Repeat("r", 5000), Rollback: strings.Repeat("b", 5000),
		Risk: runbook.RiskHigh, ExpiresAt: time.Now(), State: runbook.ApprovalDenied, Note: long, DecidedBy: "U1"}
	inc := &runbook.Incident{ID: 1, Title: long}
	for name, msg := range map[string]runbook.Message{
		"request": slackui.ApprovalRequest(a, inc), "decided": slackui.DecidedApproval(a, inc, nil),
	} {
		raw, err := json.Marshal(msg.Blocks)
		if err != nil {
			t.Fatal(err)
		}
		var blocks []struct {
			Text   *struct{ Text string }  `json:"text"`
			Fields []struct{ Text string } `json:"fields"`
		}
		if err := json.Unmarshal(raw, &blocks); err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if b.Text != nil && len([]rune(b.Text.Text)) > slackui.MaxSectionText {
				t.Errorf("%s: a text of %d characters", name, len([]rune(b.Text.Text)))
			}
			for _, f := range b.Fields {
				if len([]rune(f.Text)) > 2000 {
					t.Errorf("%s: a field of %d characters", name, len([]rune(f.Text)))
				}
			}
		}
	}
	modal := slackui.DenialModal(a)
	raw, _ := json.Marshal(modal.Blocks)
	if strings.Count(string(raw), "y") > slackui.MaxSectionText {
		t.Errorf("the denial form repeats all %d characters of the operation", len(long))
	}
}
