package runbook_test

import (
	"testing"

	"github.com/runbookhq/runbook"
)

func TestSuggest(t *testing.T) {
	commands := []string{"help", "status", "declare", "resolve", "runbooks", "run"}
	tests := []struct{ word, want string }{
		{"stauts", "status"},
		{"hlep", "help"},
		{"declair", "declare"},
		{"runbok", "runbooks"},
		{"xyz", ""},
		{"deploy", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := runbook.Suggest(tt.word, commands); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
