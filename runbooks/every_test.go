package runbooks

import (
	"strings"
	"testing"
	"time"
)

// A trigger `every: 30m` is a periodic trigger, with or without if:; bot validate
// names what is wrong with one.
func TestEveryTrigger(t *testing.T) {
	rb, err := Parse("status.yaml", []byte(`name: status
on:
  - every: 30m
  - { every: 2s, if: { severity: [sev1] } }
  - { every: 30m, if: { status: [mitigating] } }
  - event: incident.declared
steps:
  - { action: slack.send_message, with: { channel: "#ops", text: hi } }
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := rb.Periodic(); len(got) != 2 || got[0] != 2*time.Second || got[1] != 30*time.Minute {
		t.Errorf("Periodic() = %v, want [2s 30m]", got)
	}
	sev1, sev2 := map[string]any{"severity": "sev1", "status": "detected"}, map[string]any{"severity": "sev2", "status": "detected"}
	if !rb.DueEvery(2*time.Second, sev1) || rb.DueEvery(2*time.Second, sev2) || !rb.DueEvery(30*time.Minute, sev2) {
		t.Error("DueEvery does not follow the triggers' if:")
	}
	if rb.Triggered("incident.updated", sev1) {
		t.Error("a periodic trigger fired on an event")
	}

	for in, want := range map[string]string{
		"every: 30":    `every "30" is not an interval; write it like 30m, 1h or 90s`,
		"every: soon":  `every "soon" is not an interval`,
		"every: 500ms": `every "500ms" is too short; use at least 1s, such as 30m`,
		"every: -5m":   `every "-5m" is too short`,
		`every: ""`:    "every needs an interval such as 30m or 1h",
		"{ every: 5m, event: incident.declared }": "has both event and every: a trigger is one or the other",
		"evry: 5m": `did you mean "every"`,
	} {
		_, err := Parse("bad.yaml", []byte("name: bad\non:\n  - "+in+"\nsteps:\n  - { action: slack.send_message, with: { channel: \"#ops\", text: hi } }\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}
