package runbook_test

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestParseFollowUpKey(t *testing.T) {
	for in, want := range map[string]int64{"F-3": 3, "f-3": 3, "3": 3, " F-12 ": 12} {
		if got, err := runbook.ParseFollowUpKey(in); err != nil || got != want {
			t.Errorf("ParseFollowUpKey(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "F-", "F-0", "F-3x", "INC-3", "F--3", "+3", "F-99999999999999999999", "<!channel>"} {
		_, err := runbook.ParseFollowUpKey(in)
		if runbook.ErrorCode(err) != runbook.EINVALID {
			t.Errorf("ParseFollowUpKey(%q) = %v, want EINVALID", in, err)
		}
		if strings.Contains(runbook.ErrorMessage(err), "<!") {
			t.Errorf("ParseFollowUpKey(%q) repeats a mention: %v", in, err)
		}
	}
}

func FuzzParseFollowUpKey(f *testing.F) {
	for _, s := range []string{"F-3", "3", "f-1", "", "F-", "APR-7", "F-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := runbook.ParseFollowUpKey(s)
		if err != nil {
			if runbook.ErrorCode(err) != runbook.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if back, err := runbook.ParseFollowUpKey(runbook.FollowUpKey(id)); id <= 0 || err != nil || back != id {
			t.Fatalf("ParseFollowUpKey(%q) = %d; round trip %d, %v", s, id, back, err)
		}
	})
}

func TestSplitNote(t *testing.T) {
	for _, tc := range []struct{ in, kind, rest string }{
		{"hypothesis: cache expired", runbook.TimelineHypothesis, "cache expired"},
		{"Root Cause:  TTL was 0 ", runbook.TimelineRootCause, "TTL was 0"},
		{"remediation: restore TTL", runbook.TimelineRemediation, "restore TTL"},
		{"ACTION: rolled back", runbook.TimelineAction, "rolled back"},
		{"root cause TTL", runbook.TimelineNote, "root cause TTL"},
		{"the root cause: later", runbook.TimelineNote, "the root cause: later"},
		{"action:", runbook.TimelineAction, ""},
		{"", runbook.TimelineNote, ""},
	} {
		if kind, rest := runbook.SplitNote(tc.in); kind != tc.kind || rest != tc.rest {
			t.Errorf("SplitNote(%q) = %q, %q; want %q, %q", tc.in, kind, rest, tc.kind, tc.rest)
		}
	}
}

func FuzzSplitNote(f *testing.F) {
	for _, s := range []string{"hypothesis: x", "root cause:", "Remediation:y", "action: z", "note", "", "root caus: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, rest := runbook.SplitNote(s)
		if kind != runbook.TimelineNote && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), kind+":") {
			t.Fatalf("SplitNote(%q) found kind %q it does not start with", s, kind)
		}
		if len(rest) > len(s) {
			t.Fatalf("SplitNote(%q) rest %q is longer than the note", s, rest)
		}
	})
}
