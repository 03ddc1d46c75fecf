package faults

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook/slackfake"
)

const stallRunbook = `name: stall
steps:
  - action: wait
    with: { duration: 1s }
  - action: slack.send_message
    with: { channel: "#general", text: "after the wait" }
`

// TestRunGoesOnAfterTheStoreRecovers holds the database locked past the busy timeout
// as a run's step ends: the executor cannot record it, and must try again once the lock
// is gone rather than leave the run running, undriven, until a restart.
func TestRunGoesOnAfterTheStoreRecovers(t *testing.T) {
	w := newWorld(t, slackfake.Options{}, map[string]string{"stall": stallRunbook})
	general := w.channel("general")
	w.Start()
	ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "run stall"))
	if err != nil || !strings.Contains(ackText(ack), "Started") {
		t.Fatalf("run: %v %q", err, ackText(ack))
	}
	release := lockDB(t, w.dbPath())
	defer release()
	w.WaitFor("the executor to fail to record the wait, and plan another try", func() bool {
		return strings.Contains(w.Logs.String(), "retry_in")
	})
	release()
	w.WaitFor("the run to finish without a restart", func() bool {
		return w.count("SELECT COUNT(*) FROM runs WHERE state = 'succeeded'") == 1
	})
	posted := 0
	for _, m := range w.Slack.Messages(general.ID) {
		if strings.Contains(m.Text, "after the wait") {
			posted++
		}
	}
	if posted != 1 {
		t.Errorf("the step after the wait posted %d times, want 1", posted)
	}
}
