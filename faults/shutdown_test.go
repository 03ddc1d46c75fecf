package faults

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// TestGracefulShutdownUnderLoad sends SIGTERM to the bot process while commands and
// mentions are in flight (and its replies are being slowed by 429s): it exits 0 within
// bot.shutdownTimeout; everything it acked was handled, its reply sent or kept for the
// next process; what it did not handle it did not ack, and the next process handles
// the events Slack redelivers and sends the replies it was left.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	const shutdownTimeout = 5 * time.Second
	w := newWorld(t, slackfake.Options{AckTimeout: 2 * time.Second, MaxRetries: 10}, nil)
	general := w.channel("general")
	var talk []slackfake.Channel
	for i := range 10 {
		talk = append(talk, w.channel(fmt.Sprintf("talk-%d", i)))
	}
	cfg := w.writeConfig(fmt.Sprintf("bot:\n  shutdownTimeout: %s\n", shutdownTimeout))
	first := w.startSubprocess(cfg)
	if ack, err := waitAckFor(w.slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "declare sev3 shutdown drill"), 10*time.Second); err != nil || !strings.Contains(ackText(ack), "INC-1") {
		t.Fatalf("declare: %v %q", err, ackText(ack))
	}
	// Replies are slowed down, so that some are still being delivered at the signal.
	w.slack.SetRateLimit("chat.postMessage", 600, 5)

	type sent struct {
		d       *slackfake.Delivery
		channel string
		mention bool
	}
	var (
		mu  sync.Mutex
		all []sent
	)
	var stream sync.WaitGroup
	stream.Go(func() {
		for i := range 150 {
			ch := talk[i%len(talk)].ID
			var s sent
			if i%2 == 0 {
				s = sent{w.slack.Mention(w.alice.ID, ch, "status INC-1", ""), ch, true}
			} else {
				s = sent{w.slack.SlashCommand(w.alice.ID, ch, "/runbook", "status INC-1"), ch, false}
			}
			mu.Lock()
			all = append(all, s)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	})
	time.Sleep(700 * time.Millisecond)
	took, code := first.terminate(shutdownTimeout + 5*time.Second)
	t.Logf("the bot exited with code %d %s after SIGTERM", code, took.Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0\n%s", code, tail(w.processLog(), 30))
	}
	if took > shutdownTimeout {
		t.Errorf("the bot took %s to exit, more than bot.shutdownTimeout (%s)", took, shutdownTimeout)
	}

	// What the first process acked, it handled: the reply is there as it exits, or kept
	// in the database for the next process.
	mu.Lock()
	atExit := append([]sent(nil), all...)
	mu.Unlock()
	ackedByFirst, owed := 0, 0
	for _, s := range atExit {
		acks := w.slack.Acks(s.d.EnvelopeID)
		if len(acks) == 0 {
			continue
		}
		ackedByFirst++
		if s.mention {
			if len(w.replies(s.channel, s.d.TS)) == 0 {
				var kept int
				_ = w.query("SELECT COUNT(*) FROM envelopes WHERE id = ? AND done = 1 AND delivery IS NOT NULL", &kept, eventID(s.d))
				if kept != 1 {
					t.Errorf("mention %s was acked by the stopping process but neither answered nor its reply kept", s.d.TS)
				}
				owed++
			}
			continue
		}
		answer := ackText(acks[0])
		if answer == "" && len(w.slack.Ephemerals(s.channel, w.alice.ID)) == 0 {
			t.Errorf("slash command %s was acked by the stopping process with no answer", s.d.EnvelopeID)
		}
		if !strings.Contains(answer, "INC-1") && !strings.Contains(answer, "try again") && answer != "" {
			t.Errorf("slash command %s was acked with %.200q", s.d.EnvelopeID, answer)
		}
	}
	t.Logf("%d of %d envelopes sent so far were acked by the first process; %d mention replies were left for the next", ackedByFirst, len(atExit), owed)

	// The next process handles what Slack redelivers: every mention is answered once.
	stream.Wait()
	w.slack.SetRateLimit("chat.postMessage", 0, 0)
	w.startSubprocess(cfg)
	for _, s := range all {
		if !s.mention {
			continue
		}
		w.waitFor(30*time.Second, "every mention to be answered", func() bool { return len(w.replies(s.channel, s.d.TS)) > 0 })
	}
	w.waitFor(30*time.Second, "every mention to be acked", func() bool {
		for _, s := range all {
			if s.mention && len(w.slack.Acks(s.d.EnvelopeID)) == 0 {
				return false
			}
		}
		return true
	})
	unanswered := 0
	for _, s := range all {
		if s.mention {
			if n := len(w.replies(s.channel, s.d.TS)); n != 1 {
				t.Errorf("mention %s got %d replies, want 1", s.d.TS, n)
			}
		} else if len(w.slack.Acks(s.d.EnvelopeID)) == 0 {
			unanswered++
		}
	}
	// Slack never resends a slash command: one the stopping process took off the socket
	// it handles, or answers "restarting, try again".
	if unanswered > 0 {
		t.Errorf("%d slash commands were never acked (Slack has shown dispatch_failed)", unanswered)
	}
}
