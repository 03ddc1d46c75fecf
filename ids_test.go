package runbook_test

import (
	"testing"

	"github.com/runbookhq/runbook"
)

func TestParseRunKey(t *testing.T) {
	for in, want := range map[string]int64{"R-12": 12, "r-3": 3, "7": 7, " R-4 ": 4} {
		if got, err := runbook.ParseRunKey(in); err != nil || got != want {
			t.Errorf("ParseRunKey(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"R-", "R-0", "R-1x", "twelve", "R--1", "+1", "APR-1"} {
		if _, err := runbook.ParseRunKey(in); runbook.ErrorCode(err) != runbook.EINVALID {
			t.Errorf("ParseRunKey(%q) = %v, want EINVALID", in, err)
		}
	}
}

func TestParseApprovalKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"APR-7", 7}, {"apr-7", 7}, {"7", 7}, {" Apr-42 ", 42},
		{"", 0}, {"APR-", 0}, {"APR-0", 0}, {"-7", 0}, {"+7", 0}, {"APR-7a", 0}, {"INC-7", 0}, {"APR--7", 0},
		{"99999999999999999999", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := runbook.ParseApprovalKey(tc.in)
			if tc.want == 0 {
				if runbook.ErrorCode(err) != runbook.EINVALID {
					t.Fatalf("ParseApprovalKey(%q) = %d, %v; want EINVALID", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseApprovalKey(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

// An id someone typed is repeated back in the error, short and unable to mention or
// link anything.
func TestBadKeyIsQuotedSafely(t *testing.T) {
	_, err := runbook.ParseRunKey("<!channel>")
	if got, want := runbook.ErrorMessage(err), "“&lt;!channel&gt;” is not a run id (like R-12)."; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}

func TestKeys(t *testing.T) {
	if got := runbook.RunKey(12) + runbook.ApprovalKey(7) + runbook.IncidentKey(42); got != "R-12APR-7INC-42" {
		t.Fatalf("keys = %q", got)
	}
}
