package faults

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// TestConnectionRefreshesLoseNoCommand is Slack refreshing the bot's connections under
// load, with the default configuration: 200 slash commands spread over the run while
// a connection is refreshed every refresh period — warned, then closed some seconds
// later, as Slack does (warning, then refresh_requested and the close). Every command
// is answered in its ack and none ends as dispatch_failed.
//
// Slack's timings (commands over 60 s, a refresh every 5 s, the close 10 s after the
// warning) are scaled by 0.4 so the test takes about 25 s: the ratios hold, and the
// warning still comes well ahead of the close compared with Slack's 3 s ack deadline,
// which is what decides whether an envelope in flight at the warning can be acked.
// RUNBOOK_FULL_SCALE=1 runs it at Slack's own timings.
func TestConnectionRefreshesLoseNoCommand(t *testing.T) {
	scale := 0.4
	if os.Getenv("RUNBOOK_FULL_SCALE") == "1" {
		scale = 1
	}
	var (
		commands = 200
		spread   = time.Duration(60 * scale * float64(time.Second))
		period   = time.Duration(5 * scale * float64(time.Second))
		warning  = time.Duration(10 * scale * float64(time.Second))
	)
	w := newWorld(t, slackfake.Options{}, nil)
	var channels []slackfake.Channel
	for i := range 20 {
		channels = append(channels, w.channel(fmt.Sprintf("talk-%d", i)))
	}
	w.Start()
	connects := w.Slack.ConnectCount()

	refreshes := 0
	var all []*slackfake.Delivery
	start := time.Now()
	nextRefresh := start
	for i := range commands {
		// Commands are evenly spread; refreshes fall between them on their own period.
		due := start.Add(spread * time.Duration(i) / time.Duration(commands))
		for !nextRefresh.After(due) {
			time.Sleep(time.Until(nextRefresh))
			w.Slack.Refresh(warning)
			refreshes++
			nextRefresh = nextRefresh.Add(period)
		}
		time.Sleep(time.Until(due))
		ch := channels[i%len(channels)].ID
		all = append(all, w.Slack.SlashCommand(w.alice.ID, ch, "/runbook", "help"))
	}

	answered, failed := 0, 0
	for _, d := range all {
		ack, err := w.waitAck(d)
		switch {
		case err != nil || d.TimedOut():
			failed++ // Slack shows the person dispatch_failed
			t.Logf("dispatch_failed: %s sent %d times, acks %+v", d.EnvelopeID, d.Attempts(), w.Slack.Acks(d.EnvelopeID))
		case ackText(ack) != "":
			answered++
		}
	}
	t.Logf("%d commands, %d refreshes, %d new connections, %d answered, %d dispatch_failed",
		commands, refreshes, w.Slack.ConnectCount()-connects, answered, failed)
	if answered != commands || failed != 0 {
		t.Errorf("%d of %d commands answered, %d dispatch_failed; want all answered, none failed", answered, commands, failed)
	}
	if n := w.Slack.IgnoredAcks(); n != 0 {
		t.Errorf("%d acks came on another connection than their envelope (Slack ignores them)", n)
	}
	if n := w.Slack.Refused(); n != 0 {
		t.Errorf("the bot opened more than Slack's %d connections (%d refused)", slackfake.MaxConnections, n)
	}
}
