package handlers

import (
	"regexp"
	"testing"
)

// TestUsageErrorsEscapePlaceholders: the usage line under a malformed command shows
// its <placeholders> escaped, for every command: Slack reserves < and > for its own
// markup, inside code too.
func TestUsageErrorsEscapePlaceholders(t *testing.T) {
	raw := regexp.MustCompile(`<[^@#!]`)
	for _, c := range New(Deps{}).commands {
		if got := usageError("That is not how it is written.", "/runbook", c).Text; raw.MatchString(got) {
			t.Errorf("usage of %s: %q", c.name, got)
		}
	}
}
