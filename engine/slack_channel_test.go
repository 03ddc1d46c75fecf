package engine_test

import (
	"testing"

	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/slackui"
)

// TestChannelName: a title's "&" reads "and" and "<", ">" are dropped, whether the name
// arrives as typed or escaped for Slack (as a rendered template gives it).
func TestChannelName(t *testing.T) {
	for in, want := range map[string]string{
		"inc-42-Checkout & payments":                      "inc-42-checkout-and-payments",
		"inc-42-" + slackui.Escape("Checkout & payments"): "inc-42-checkout-and-payments",
		"checkout&payments":                               "checkout-and-payments",
		slackui.Escape("latency > 2s <p99>"):              "latency-2s-p99",
		"a < b":                                           "a-b",
		"R&D":                                             "r-and-d",
		"Fish &amp; chips":                                "fish-and-chips",
		"  --Already_fine-- ":                             "already_fine",
	} {
		got, err := engine.ChannelName(in)
		if err != nil || got != want {
			t.Errorf("ChannelName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := engine.ChannelName("<>"); err == nil {
		t.Error(`ChannelName("<>") did not fail`)
	}
}
