package faults

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// TestGracefulShutdownUnderLoad sends SIGTERM to the bot process while commands and
// mentions are in flight (and its replies are being slowed by 429s): it exits 0 by
// itself; everything it acked was handled, its reply sent or kept for the next process;
// what it did not handle it did not ack, and the next process handles the events Slack
// redelivers, the commands sent while no bot was connected, and the replies it was left.
//
// Slack never resends a slash command, so one the emulator wrote to the stopping
// process's connection after the process stopped reading is lost with the connection
// (Slack shows the person dispatch_failed); no running bot could have answered it. The
// test tells those from commands the process read and left unanswered by order alone:
// the connection delivers envelopes in order, so the process read every envelope sent
// before the last one it acked, and every envelope sent before the signal.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	const shutdownTimeout = 5 * time.Second
	w := newWorld(t, slackfake.Options{AckTimeout: 2 * time.Second, MaxRetries: 10}, nil)
	general := w.channel("general")
	var talk []slackfake.Channel
	for i := range 10 {
		talk = append(talk, w.channel(fmt.Sprintf("talk-%d", i)))
	}
	w.Config.Bot.ShutdownTimeout = shutdownTimeout
	first := w.StartBinary(botBinary)
	if ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "declare sev3 shutdown drill")); err != nil || !strings.Contains(ackText(ack), "INC-1") {
		t.Fatalf("declare: %v %q", err, ackText(ack))
	}
	// Replies are slowed down, so that some are still being delivered at the signal.
	w.Slack.SetRateLimit("chat.postMessage", 600, 5)

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
				s = sent{w.Slack.Mention(w.alice.ID, ch, "status INC-1", ""), ch, true}
			} else {
				s = sent{w.Slack.SlashCommand(w.alice.ID, ch, "/runbook", "status INC-1"), ch, false}
			}
			mu.Lock()
			all = append(all, s)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	})
	time.Sleep(700 * time.Millisecond) // let traffic build up before the signal
	mu.Lock()
	beforeSignal := len(all)
	mu.Unlock()
	// The bot bounds its own shutdown by bot.shutdownTimeout; the test only fails a bot
	// that has not exited long after it.
	start := time.Now()
	if err := first.Terminate(shutdownTimeout + apptest.Patience); err != nil {
		t.Errorf("after SIGTERM: %v\n%s", err, apptest.Tail(w.ProcessLog(), 30))
	}
	t.Logf("the bot exited with code %d %s after SIGTERM", first.ExitCode(), time.Since(start).Round(time.Millisecond))

	// What the first process acked, it handled: the reply is there as it exits, or kept
	// in the database for the next process.
	mu.Lock()
	atExit := append([]sent(nil), all...)
	mu.Unlock()
	ackedByFirst, owed := 0, 0
	for _, s := range atExit {
		acks := w.Slack.Acks(s.d.EnvelopeID)
		if len(acks) == 0 {
			continue
		}
		ackedByFirst++
		if s.mention {
			if len(w.BotReplies(s.channel, s.d.TS)) == 0 {
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
		if answer == "" && len(w.Slack.Ephemerals(s.channel, w.alice.ID)) == 0 {
			t.Errorf("slash command %s was acked by the stopping process with no answer", s.d.EnvelopeID)
		}
		if !strings.Contains(answer, "INC-1") && !strings.Contains(answer, "try again") && answer != "" {
			t.Errorf("slash command %s was acked with %.200q", s.d.EnvelopeID, answer)
		}
	}
	t.Logf("%d of %d envelopes sent so far were acked by the first process; %d mention replies were left for the next", ackedByFirst, len(atExit), owed)

	// Once the emulator has seen the connection go, nothing more is written to it: what
	// it carried is settled, and what is still queued waits for the next process.
	stream.Wait()
	w.WaitFor("the stopping process's connection to close", func() bool { return w.Slack.Connections() == 0 })
	read := beforeSignal // the stopping process read every envelope before this index
	carried := make([]bool, len(all))
	for i, s := range all {
		carried[i] = s.d.Attempts() > 0
		if len(w.Slack.Acks(s.d.EnvelopeID)) > 0 {
			read = max(read, i+1)
		}
	}
	lost := 0
	for i, s := range all {
		if s.mention || !carried[i] || len(w.Slack.Acks(s.d.EnvelopeID)) > 0 {
			continue
		}
		var taken int
		_ = w.query("SELECT COUNT(*) FROM envelopes WHERE id = ?", &taken, s.d.EnvelopeID)
		switch {
		case taken > 0:
			t.Errorf("slash command %s was taken by the stopping process and never answered (Slack has shown dispatch_failed)", s.d.EnvelopeID)
		case i < read:
			t.Errorf("slash command %s was read by the stopping process (it answered later ones, or it came before the signal) and never answered", s.d.EnvelopeID)
		default:
			lost++ // written to the connection after the process stopped reading
		}
	}
	t.Logf("%d slash commands were written to the connection after the stopping process stopped reading it", lost)

	// The next process handles what Slack redelivers and what waited for it: every
	// mention is answered once, and every slash command not lost with the old
	// connection is answered.
	w.Slack.SetRateLimit("chat.postMessage", 0, 0)
	w.StartBinary(botBinary)
	for i, s := range all {
		switch {
		case s.mention:
			w.WaitFor("every mention to be answered", func() bool { return len(w.BotReplies(s.channel, s.d.TS)) > 0 })
		case !carried[i]:
			w.WaitFor("the next process to answer a command sent while no bot was connected", func() bool {
				return len(w.Slack.Acks(s.d.EnvelopeID)) > 0
			})
		}
	}
	w.mentionsAnsweredOnce(all)
}
