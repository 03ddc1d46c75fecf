package runbook_test

import (
	"testing"

	"github.com/runbookhq/runbook"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ in, text, line string }{
		{"plain", "plain", "plain"},
		{"a\x00b\x07c\x1bd\x7fe\u0085f", "abcdef", "abcdef"},
		{"two\nlines\tand tab", "two\nlines\tand tab", "two lines and tab"},
		{"win\r\nline", "win\nline", "win line"},
		{"pay \u202egnp.exe", "pay gnp.exe", "pay gnp.exe"},
		{"emoji 👩‍💻 stays", "emoji 👩‍💻 stays", "emoji 👩‍💻 stays"},
	} {
		if got := runbook.CleanText(tc.in); got != tc.text {
			t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := runbook.CleanLine(tc.in); got != tc.line {
			t.Errorf("CleanLine(%q) = %q, want %q", tc.in, got, tc.line)
		}
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"a\x00b", "\u202e", "line\r\n", "👩‍💻"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := runbook.CleanLine(s)
		for _, r := range line {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("CleanLine(%q) = %q keeps %U", s, line, r)
			}
		}
		if again := runbook.CleanText(runbook.CleanText(s)); again != runbook.CleanText(s) {
			t.Fatalf("CleanText is not idempotent on %q", s)
		}
	})
}
