package faults

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// degradedFor is how long Slack answers every call with 429 in TestDegradedSlack. Slack
// sends Retry-After: 1, so the Slack adapter gives up on one call after its 8 tries,
// about 7 s; the outage must outlast that, or the adapter alone would ride it out and
// the test would not show that the outbox keeps a reply past the adapter's give-up.
// A real bad day lasts longer (30 s and more): 9 s is the shortest that still exceeds
// the adapter's give-up with a margin, and RUNBOOK_FULL_SCALE=1 runs Slack's 30 s.
func degradedFor() time.Duration {
	if os.Getenv("RUNBOOK_FULL_SCALE") == "1" {
		return 30 * time.Second
	}
	return 9 * time.Second
}

// TestDegradedSlack has Slack answer every Web API call and response_url post with 429
// for degradedFor, then recover: every reply to a mention made during the outage is
// delivered afterwards, once, and every step of the runs started before it is
// delivered, once each and in order. One outage serves both, to keep the suite short.
func TestDegradedSlack(t *testing.T) { degradedSlack(t, 2, 5) }

func degradedSlack(t *testing.T, runs, mentionCount int) {
	w := newWorld(t, slackfake.Options{}, map[string]string{"ordered": orderedRunbook})
	general := w.channel("general")
	for i := 1; i <= runs; i++ {
		w.channel(fmt.Sprintf("ord-%d", i))
	}
	w.Start()

	for i := 1; i <= runs; i++ {
		ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", fmt.Sprintf("run ordered n=%d", i)))
		if err != nil || !strings.Contains(ackText(ack), "Started") {
			t.Fatalf("run %d: %v %q", i, err, ackText(ack))
		}
	}
	w.Slack.RateLimitAllUntil(time.Now().Add(degradedFor()))
	var mentions []*slackfake.Delivery
	for i := range mentionCount {
		mentions = append(mentions, w.Slack.Mention(w.alice.ID, general.ID, fmt.Sprintf("help %d", i), ""))
	}
	// A slash command whose answer needs Slack (conversations.info) outlasts its ack:
	// the ack must still go out in time (Slack never resends a slash command), and the
	// answer goes later by response_url, which Slack refuses too while the outage
	// lasts. The person gets one answer, which blames Slack, not Runbook.
	var commands []*slackfake.Delivery
	for range 2 {
		commands = append(commands, w.Slack.SlashCommand(w.bob.ID, general.ID, "/runbook",
			fmt.Sprintf("show recent <#%s|general>", general.ID)))
	}

	w.WaitFor("every run to end", func() bool {
		return w.count("SELECT COUNT(*) FROM runs WHERE state IN ('succeeded', 'failed', 'cancelled')") == runs
	})
	w.WaitFor("every mention's reply", func() bool {
		if w.count("SELECT COUNT(*) FROM envelopes WHERE done = 1 AND delivery IS NOT NULL") > 0 {
			return false
		}
		for _, d := range mentions {
			if len(w.BotReplies(general.ID, d.TS)) == 0 {
				return false
			}
		}
		return true
	})

	// The outage must have outlasted the adapter's own retries at least once, or the
	// test shows nothing about the outbox.
	if mentionCount > 0 && !strings.Contains(w.Logs.String(), "Slack cannot take a reply yet; trying again") {
		t.Fatalf("no reply outlasted the adapter's retries: the outage was too short to test anything")
	}
	var limited int
	for _, c := range w.Slack.APICalls() {
		if c.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	t.Logf("Slack answered %d calls with 429", limited)
	for _, d := range mentions {
		if n := len(w.BotReplies(general.ID, d.TS)); n != 1 {
			t.Errorf("mention %s got %d replies, want 1", d.TS, n)
		}
	}
	for _, d := range commands {
		if _, err := w.waitAck(d); err != nil || d.TimedOut() {
			t.Errorf("slash command %s not acked in time (%v): Slack shows dispatch_failed", d.EnvelopeID, err)
		}
	}
	w.WaitFor("both slash commands' answers", func() bool { return len(w.Slack.Ephemerals(general.ID, w.bob.ID)) >= len(commands) })
	if got := w.Slack.Ephemerals(general.ID, w.bob.ID); len(got) != len(commands) {
		t.Errorf("bob got %d private answers to %d slash commands, want one each", len(got), len(commands))
	} else if t.Logf("bob's answer after the outage: %.200s", got[0].Text); strings.Contains(got[0].Text, "Runbook's side") {
		t.Errorf("Slack's outage was blamed on Runbook: %q", got[0].Text)
	}
	if n := w.count("SELECT COUNT(*) FROM runs WHERE state = 'succeeded'"); n != runs {
		t.Errorf("%d of %d runs succeeded after Slack recovered\n%s", n, runs, grepLines(w.Logs.String(), "step failed", "run ended"))
	}
	w.checkOrderedRuns(t, runs)
}
