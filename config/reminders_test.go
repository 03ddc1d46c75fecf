package config

import (
	"strings"
	"testing"
	"time"
)

// incidents.reminders maps severities (and default) to positive intervals.
func TestReminders(t *testing.T) {
	cfg := mustLoad(t, "incidents:\n  reminders:\n    sev0: 15m\n    sev1: 30m\n    default: 1h\n")
	eq(t, "sev0", cfg.Incidents.Reminders["sev0"], 15*time.Minute)
	eq(t, "default", cfg.Incidents.Reminders["default"], time.Hour)
	eq(t, "defaults have none", len(Default().Incidents.Reminders), 0) // no reminders unless configured

	for in, want := range map[string]string{
		"sev9: 15m":    "config: incidents.reminders.sev9 is not a severity: use one of sev0, sev1, sev2, sev3, sev4 or default",
		"sev1: 0s":     "config: incidents.reminders.sev1 must be a positive interval such as 30m",
		"default: -5m": "config: incidents.reminders.default must be a positive interval such as 30m",
	} {
		_, err := load(t, "incidents:\n  reminders:\n    "+in+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}
