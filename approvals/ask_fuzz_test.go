package approvals

import (
	"strings"
	"testing"
)

// FuzzApproverShape: whatever a caller sends as an approver, what is accepted is a
// bare id or a lower-case @handle — nothing Slack would read as markup or a display
// name — and what is refused is refused with a sentence.
func FuzzApproverShape(f *testing.F) {
	for _, s := range []string{"U012AB3CD", "<@U012AB3CD>", "<@U012AB3CD|bob>", "S0G1", "@sre-leads", "@Bob", "<!everyone>",
		"Bob Smith", "<!subteam^S1|@x>", "W1X2Y3", "@a\n<!here>", "<@U1>x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := approverShape(raw)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("refusal %q is not one sentence", msg)
			}
			return
		}
		if strings.ContainsAny(got, "<>|&! \t\n") || got == "" {
			t.Fatalf("%q was accepted as %q", raw, got)
		}
		if got[0] == '@' && got != strings.ToLower(got) {
			t.Fatalf("handle %q kept its case", got)
		}
	})
}
