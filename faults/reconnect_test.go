package faults

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// TestReconnectStorm drops or refreshes the connection every ~300 ms while a stream of
// ~200 slash commands and mentions arrives: every mention gets exactly one reply,
// every slash command the bot received is acked, and redelivered events are handled
// once.
func TestReconnectStorm(t *testing.T) {
	// A short ack timeout so that lost events come back quickly, and more retries than
	// Slack's three, since this test drops connections far more often than Slack does.
	w := newWorld(t, slackfake.Options{AckTimeout: time.Second, MaxRetries: 10}, nil)
	// Mentions are spread over channels: the bot paces its posts per channel, as Slack
	// asks, and one busy channel would turn this into a test of that pacing.
	var channels []slackfake.Channel
	for i := range 20 {
		channels = append(channels, w.channel(fmt.Sprintf("talk-%d", i)))
	}
	w.Start()
	connects := w.Slack.ConnectCount()

	stop := make(chan struct{})
	var faults sync.WaitGroup
	drops := 0
	faults.Go(func() {
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			switch i % 3 {
			case 0:
				w.Slack.DropConnections()
			case 1:
				w.Slack.Disconnect("refresh_requested", 100*time.Millisecond)
			case 2:
				w.Slack.Disconnect("warning", 0) // a refresh announced, as Slack does ~10 s ahead
			}
			drops++
		}
	})

	var all []sent
	const n = 200
	for i := range n {
		ch := channels[i%len(channels)].ID
		if i%5 < 2 {
			all = append(all, sent{w.Slack.Mention(w.alice.ID, ch, "help", ""), ch, true})
		} else {
			all = append(all, sent{w.Slack.SlashCommand(w.alice.ID, ch, "/runbook", "help"), ch, false})
		}
		// Slack redelivers an event whose ack it did not see; so does the emulator, and
		// here also by hand for events already answered.
		if i%20 == 19 {
			if err := w.Slack.Redeliver(all[i-14].d.EnvelopeID); err != nil { // a mention (i-14 ≡ 0 mod 5)
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	faults.Wait()
	t.Logf("%d envelopes, %d connection faults, %d reconnects", n, drops, w.Slack.ConnectCount()-connects)

	// Every mention is answered once: redeliveries are recognised.
	redelivered := 0
	for _, s := range all {
		if !s.mention {
			continue
		}
		w.WaitFor("a reply to every mention", func() bool { return len(w.BotReplies(s.channel, s.d.TS)) > 0 })
		if s.d.Attempts() > 1 {
			redelivered++
		}
	}
	w.mentionsAnsweredOnce(all)
	t.Logf("%d mentions were redelivered, each answered once", redelivered)
	if redelivered == 0 {
		t.Error("no mention was redelivered: the test did not exercise de-duplication")
	}

	// Every slash command the bot received is acked. Slack does not resend slash
	// commands; one written to a connection that dropped before the bot read it is
	// lost, and so is an ack written to a connection that dropped before Slack read it.
	// The bot's inbox tells these apart from a command it took and never acked.
	w.Stop() // flushes the database
	lostBefore, lostAck := 0, 0
	for _, s := range all {
		if s.mention || len(w.Slack.Acks(s.d.EnvelopeID)) > 0 {
			continue
		}
		var done int
		err := w.query("SELECT done FROM envelopes WHERE id = ?", &done, s.d.EnvelopeID)
		switch {
		case err != nil:
			lostBefore++ // never reached the bot
		case done == 1:
			lostAck++ // handled; its ack was lost with the connection
		default:
			t.Errorf("slash command %s reached the bot but was neither acked nor finished", s.d.EnvelopeID)
		}
	}
	// How many are in flight when a connection drops depends on how fast the machine
	// is, and Slack loses those too, so their number is reported, not bounded: an ack
	// written after slack-go redialled goes out on the new connection, where Slack
	// ignores it as surely as on a closed one.
	slashes := n - n*2/5
	t.Logf("slash commands: %d sent, %d lost before the bot read them, %d acks lost in transit (%d of them sent after a redial)",
		slashes, lostBefore, lostAck, w.Slack.IgnoredAcks())
}
