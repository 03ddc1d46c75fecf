package faults

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// checkOrderedRuns checks that each of runs runs of orderedRunbook (n=1…runs, each in
// #ord-n) posted each step's message once, in order.
func (w *world) checkOrderedRuns(t *testing.T, runs int) {
	t.Helper()
	for i := 1; i <= runs; i++ {
		ch, _ := w.Slack.Channel(fmt.Sprintf("ord-%d", i))
		var got []string
		for _, m := range w.Slack.Messages(ch.ID) {
			if m.BotID != "" {
				got = append(got, m.Text)
			}
		}
		var want []string
		for j := 1; j <= 4; j++ {
			want = append(want, fmt.Sprintf("run %d: message %d", i, j))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("#ord-%d has %q, want each step's message once, in order: %q", i, got, want)
		}
	}
}

const orderedRunbook = `name: ordered
description: four messages that must arrive once each, in order
params:
  - { name: n, type: string, required: true }
steps:
  - action: slack.send_message
    with: { channel: "#ord-{{params.n}}", text: "run {{params.n}}: message 1" }
  - action: slack.send_message
    with: { channel: "#ord-{{params.n}}", text: "run {{params.n}}: message 2" }
  - action: slack.send_message
    with: { channel: "#ord-{{params.n}}", text: "run {{params.n}}: message 3" }
  - action: slack.send_message
    with: { channel: "#ord-{{params.n}}", text: "run {{params.n}}: message 4" }
`

// TestSlackErrors has Slack answer 429 and 5xx for a while: runs slow down, then finish,
// with every message posted once and in order, and mentions are answered once.
func TestSlackErrors(t *testing.T) {
	w := newWorld(t, slackfake.Options{AckTimeout: 2 * time.Second}, map[string]string{"ordered": orderedRunbook})
	general := w.channel("general")
	const runs = 3
	for i := 1; i <= runs; i++ {
		w.channel(fmt.Sprintf("ord-%d", i))
	}
	w.Start()

	// Slack is having a bad moment: chat.postMessage is limited to one a second, its
	// next calls fail with 503, and channel look-ups are limited.
	w.Slack.SetRateLimit("chat.postMessage", 60, 1)
	w.Slack.FailNext("chat.postMessage", 5, http.StatusServiceUnavailable)
	w.Slack.FailNext("conversations.list", 2, http.StatusTooManyRequests)
	start := time.Now()

	for i := 1; i <= runs; i++ {
		ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", fmt.Sprintf("run ordered n=%d", i)))
		if err != nil || !strings.Contains(ackText(ack), "Started") {
			t.Fatalf("run %d: %v %q", i, err, ackText(ack))
		}
	}
	var mentions []*slackfake.Delivery
	for range 3 {
		mentions = append(mentions, w.Slack.Mention(w.alice.ID, general.ID, "help", ""))
	}
	time.Sleep(3 * time.Second)
	w.Slack.SetRateLimit("chat.postMessage", 0, 0) // Slack recovers

	w.WaitFor("every run to succeed", func() bool {
		return w.count("SELECT COUNT(*) FROM runs WHERE state = 'succeeded'") == runs
	})
	took := time.Since(start)
	for _, d := range mentions {
		w.WaitFor("a reply to each mention", func() bool { return len(w.BotReplies(general.ID, d.TS)) > 0 })
	}

	var limited, failed int
	for _, c := range w.Slack.APICalls() {
		switch {
		case c.Status == http.StatusTooManyRequests:
			limited++
		case c.Status >= 500:
			failed++
		}
	}
	t.Logf("runs finished after %s; Slack answered %d calls with 429 and %d with 5xx", took.Round(time.Millisecond), limited, failed)
	if limited == 0 || failed == 0 {
		t.Fatalf("the faults did not happen (%d 429s, %d 5xx): the test tests nothing", limited, failed)
	}
	if failed < 5 {
		t.Errorf("only %d 5xx answers were seen; FailNext set up 5", failed)
	}
	w.checkOrderedRuns(t, runs)
	for _, d := range mentions {
		if n := len(w.BotReplies(general.ID, d.TS)); n != 1 {
			t.Errorf("mention %s got %d replies, want 1", d.TS, n)
		}
	}
}
