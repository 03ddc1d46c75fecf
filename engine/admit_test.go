package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// postOne is a run whose one step posts in #ops, naming its run: while Slack holds
// that post, the run is being driven.
const postOne = `
name: post-one
steps:
  - { action: slack.send_message, with: { channel: "#ops", text: "post {{run.id}}" } }
`

// slowSlack holds each run's post in the emulator until the test lets it go: a Slack
// as slow as the test wants, seen from the posts it holds at once.
type slowSlack struct {
	ctx     context.Context
	mu      sync.Mutex
	changed chan struct{}
	held    []string // posts waiting for an answer, oldest first
	release map[string]chan struct{}
	seen    []string // every post, in the order Slack got them
	most    int      // the most posts held at once
	open    bool
}

// newSlowSlack holds the posts of w's runs until released, and lets every one go when
// the test ends.
func newSlowSlack(w *world) *slowSlack {
	s := &slowSlack{ctx: w.Context(), changed: make(chan struct{}), release: map[string]chan struct{}{}}
	w.setHold(s.hold)
	w.t.Cleanup(s.openAll)
	return s
}

func (s *slowSlack) hold(c slackfake.APICall) {
	if c.Method != "chat.postMessage" || !strings.HasPrefix(c.Text, "post ") {
		return
	}
	s.mu.Lock()
	s.seen = append(s.seen, strings.TrimPrefix(c.Text, "post "))
	if s.open {
		s.notify()
		s.mu.Unlock()
		return
	}
	done := make(chan struct{})
	s.held = append(s.held, c.Text)
	s.release[c.Text] = done
	s.most = max(s.most, len(s.held))
	s.notify()
	s.mu.Unlock()
	<-done
}

func (s *slowSlack) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitHeld waits until n posts are held.
func (s *slowSlack) waitHeld(t *testing.T, n int) {
	t.Helper()
	for {
		s.mu.Lock()
		got, changed := len(s.held), s.changed
		s.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-changed:
		case <-s.ctx.Done():
			t.Fatalf("Slack holds %d posts, want %d", got, n)
		}
	}
}

// answerOldest lets the oldest held post be answered.
func (s *slowSlack) answerOldest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	text := s.held[0]
	s.held = s.held[1:]
	close(s.release[text])
	delete(s.release, text)
	s.notify()
}

// openAll answers every post, held or to come, at once.
func (s *slowSlack) openAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = true
	for _, done := range s.release {
		close(done)
	}
	s.held, s.release = nil, map[string]chan struct{}{}
	s.notify()
}

func (s *slowSlack) resetMost() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.most = len(s.held)
}

func (s *slowSlack) stats() (most int, seen []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.most, slices.Clone(s.seen)
}

// limited configures the executor's bounds.
func limited(active, queued, perPerson int) func(*config.Config) {
	return func(c *config.Config) {
		c.Limits = config.Limits{ActiveRuns: active, QueuedRuns: queued, RunsPerPerson: perPerson, SlackCalls: 512}
	}
}

// startRuns starts n runs of post-one by the executor and returns them, oldest first.
func (w *world) startRuns(n int) []*runbook.Run {
	runs := make([]*runbook.Run, n)
	for i := range runs {
		runs[i] = w.run("post-one", nil)
	}
	return runs
}

// TestAtMostActiveRunsAreDriven: with Slack slow and room for two runs, six runs are
// driven two at a time — Slack never holds more than two of their posts — and each
// later one starts when a slot frees, oldest first; all six succeed, each posting once.
func TestAtMostActiveRunsAreDriven(t *testing.T) {
	w := newWorldConfigured(t, slackfake.Options{}, limited(2, 100, 100), postOne)
	slow := newSlowSlack(w)
	runs := w.startRuns(6)
	for range 4 {
		slow.waitHeld(t, 2)
		slow.answerOldest()
	}
	slow.waitHeld(t, 2)
	slow.openAll()
	for _, r := range runs {
		w.waitRun(r.ID, runbook.RunSucceeded)
	}
	most, seen := slow.stats()
	if most != 2 {
		t.Errorf("Slack held %d posts of runs at once, want 2 (limits.activeRuns)", most)
	}
	var want []string
	for _, r := range runs {
		want = append(want, r.Key())
	}
	if len(seen) != 6 || !sameSet(seen[:2], want[:2]) || !slices.Equal(seen[2:], want[2:]) {
		t.Errorf("posts in the order %v; want the first two runs, then %v in order", seen, want[2:])
	}
	if n := len(w.botMessages(w.ops.ID)); n != 6 {
		t.Errorf("%d posts in #ops, want one per run (6)", n)
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// TestRestartDrivesAtMostActiveRuns: a restart with a backlog of active runs drives no
// more of them at once than the bound, and every one of them still ends once.
func TestRestartDrivesAtMostActiveRuns(t *testing.T) {
	w := newWorldConfigured(t, slackfake.Options{}, limited(2, 100, 100), postOne)
	slow := newSlowSlack(w)
	runs := w.startRuns(8)
	slow.waitHeld(t, 2)
	w.Stop()
	// The two posts held when the bot stopped were cut off on its side: answered now,
	// what Slack holds from here on is the new process's doing.
	slow.answerOldest()
	slow.answerOldest()
	slow.resetMost()
	w.Start()
	for range 4 {
		slow.waitHeld(t, 2)
		slow.answerOldest()
	}
	slow.openAll()
	for _, r := range runs {
		w.waitRun(r.ID, runbook.RunSucceeded)
	}
	if most, seen := slow.stats(); most > 2 {
		t.Errorf("Slack held %d posts of runs at once after the restart, want at most 2; posts %v", most, seen)
	}
	if n := len(w.botMessages(w.ops.ID)); n != len(runs) {
		t.Errorf("%d posts in #ops, want one per run (%d)", n, len(runs))
	}
}

// TestBusyPastTheQueue: with one slot and room for two runs to wait, the fourth
// command is told busy, in its ack, and starts nothing; a redelivery of it gets the
// same answer; the three accepted runs all complete.
func TestBusyPastTheQueue(t *testing.T) {
	w := newWorldConfigured(t, slackfake.Options{}, limited(1, 2, 100), postOne)
	slow := newSlowSlack(w)
	for i := range 3 {
		if got := w.Ask(w.alice.ID, w.ops.ID, "run post-one"); !strings.Contains(got, "Started *post-one*") {
			t.Fatalf("command %d answered %q, want it started", i+1, got)
		}
	}
	slow.waitHeld(t, 1)
	d := w.Slack.SlashCommand(w.alice.ID, w.ops.ID, "/runbook", "run post-one")
	ack, err := d.WaitAck(w.Context())
	if err != nil {
		t.Fatal(err)
	}
	const busy = "Runbook is busy — try again in a minute."
	if got := ackText(ack); !strings.Contains(got, ":hourglass: "+busy) {
		t.Fatalf("the fourth command was answered %q, want %q", got, busy)
	}
	if err := w.Slack.Redeliver(d.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	w.WaitFor("the redelivery's ack", func() bool { return len(w.Slack.Acks(d.EnvelopeID)) == 2 })
	if again := w.Slack.Acks(d.EnvelopeID)[1]; ackText(again) != ackText(ack) {
		t.Errorf("the redelivery was answered %q, want the same busy answer", ackText(again))
	}
	// Operators see it: one request turned away (the redelivery is the same one).
	if n := counterValue(t, w.App().Metrics.Registry, "runbook_requests_busy_total"); n != 1 {
		t.Errorf("runbook_requests_busy_total = %v, want 1", n)
	}
	slow.openAll()
	w.WaitFor("three runs to succeed", func() bool { return w.count(runbook.RunSucceeded) == 3 })
	if n := w.countAll(); n != 3 {
		t.Errorf("%d runs stored, want the 3 accepted ones", n)
	}
}

// TestOneMemberCannotFillTheQueue is the attack: a member sending command after
// command gets runsPerPerson runs under way and is told busy after that; someone else
// asking meanwhile is admitted, and their run completes.
func TestOneMemberCannotFillTheQueue(t *testing.T) {
	w := newWorldConfigured(t, slackfake.Options{}, limited(1, 100, 2), postOne)
	mallory := w.Person("mallory")
	den := w.Channel("den", "mallory")
	slow := newSlowSlack(w)
	var answers []string
	for range 6 {
		answers = append(answers, w.Ask(mallory.ID, den.ID, "run post-one"))
	}
	for i, a := range answers {
		started := strings.Contains(a, "Started *post-one*")
		if i < 2 && !started {
			t.Errorf("mallory's command %d answered %q, want it started", i+1, a)
		}
		if i >= 2 && !strings.Contains(a, "Runbook is busy — try again in a minute. You have 2 runs under way.") {
			t.Errorf("mallory's command %d answered %q, want busy with her 2 runs under way", i+1, a)
		}
	}
	if got := w.Ask(w.alice.ID, w.ops.ID, "run post-one"); !strings.Contains(got, "Started *post-one*") {
		t.Fatalf("alice, after mallory's flood, was answered %q, want her run started", got)
	}
	slow.openAll()
	w.WaitFor("three runs to succeed", func() bool { return w.count(runbook.RunSucceeded) == 3 })
	if n := w.countAll(); n != 3 {
		t.Errorf("%d runs stored, want mallory's 2 and alice's 1", n)
	}
	alices := w.count(runbook.RunSucceeded, w.alice.ID)
	if alices != 1 {
		t.Errorf("alice has %d runs that succeeded, want 1", alices)
	}
}

// count counts runs in a state, of one person if by is given.
func (w *world) count(state runbook.RunState, by ...string) int {
	runs, err := w.db.Runs().ListRuns(context.Background(), 0, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.State == state && (len(by) == 0 || r.StartedBy == by[0]) {
			n++
		}
	}
	return n
}

func (w *world) countAll() int {
	runs, err := w.db.Runs().ListRuns(context.Background(), 0, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	return len(runs)
}

// ackText is the text a slash command's ack carried.
func ackText(a slackfake.Ack) string {
	var m struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(a.Payload, &m); err != nil {
		return fmt.Sprintf("(unreadable ack %q)", a.Payload)
	}
	return m.Text
}

// TestBusyWhileSlackIsBehind: with more Slack calls waiting than limits.slackCalls, a
// new command is told busy even though runs have room; once Slack answers, commands
// are taken again.
func TestBusyWhileSlackIsBehind(t *testing.T) {
	w := newWorldConfigured(t, slackfake.Options{}, func(c *config.Config) {
		c.Limits = config.Limits{ActiveRuns: 10, QueuedRuns: 100, RunsPerPerson: 100, SlackCalls: 1}
	}, postOne)
	slow := newSlowSlack(w)
	for range 2 {
		if got := w.Ask(w.alice.ID, w.ops.ID, "run post-one"); !strings.Contains(got, "Started *post-one*") {
			t.Fatalf("answered %q, want the run started", got)
		}
	}
	slow.waitHeld(t, 2)
	if got := w.Ask(w.alice.ID, w.ops.ID, "run post-one"); got != ":hourglass: Runbook is busy — try again in a minute." {
		t.Fatalf("with two Slack calls held, a command was answered %q, want busy", got)
	}
	slow.openAll()
	w.WaitFor("both runs to succeed", func() bool { return w.count(runbook.RunSucceeded) == 2 })
	if got := w.Ask(w.alice.ID, w.ops.ID, "run post-one"); !strings.Contains(got, "Started *post-one*") {
		t.Errorf("once Slack caught up, a command was answered %q, want the run started", got)
	}
}

// counterValue reads a counter without labels from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}
