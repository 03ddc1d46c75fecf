package bot_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// answersFirst is a handler that records its effect, answers, and leaves the rest to
// finish: that work waits for release (closed by the test) unless release is nil, and
// ends with the follow-up it returns, if any.
type answersFirst struct {
	finishing chan struct{} // signalled each time the finishing work starts
	release   chan struct{}
	followUp  string
	finished  atomic.Int32
}

func (h *answersFirst) handle(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	finish := func(ctx context.Context) *runbook.Reply {
		h.finishing <- struct{}{}
		if h.release != nil {
			select {
			case <-h.release:
			case <-ctx.Done():
				return nil // cut by shutdown: the next process finishes it
			}
		}
		h.finished.Add(1)
		if h.followUp == "" {
			return nil
		}
		return &runbook.Reply{Text: h.followUp}
	}
	reply := &runbook.Reply{Text: "declared " + req.Text}
	if !runbook.AnswerFirst(ctx, finish) {
		if followUp := finish(ctx); followUp != nil {
			reply.Text += "\n" + followUp.Text
		}
	}
	return reply, nil
}

func newAnswersFirst(release bool) *answersFirst {
	h := &answersFirst{finishing: make(chan struct{}, 4)}
	if release {
		h.release = make(chan struct{})
	}
	return h
}

// envelopeState is the inbox's record of one request: acked, done, and what its ack
// carried.
func (r *rig) envelopeState(id string) (acked, done bool, reply string) {
	r.t.Helper()
	acked = apptest.Count(r.t, r.dbPath, "SELECT COUNT(*) FROM envelopes WHERE id = ? AND acked = 1", id) == 1
	done = apptest.Count(r.t, r.dbPath, "SELECT COUNT(*) FROM envelopes WHERE id = ? AND done = 1", id) == 1
	if apptest.Count(r.t, r.dbPath, "SELECT COUNT(*) FROM envelopes WHERE id = ? AND reply LIKE '%declared%'", id) == 1 {
		reply = "declared"
	}
	return acked, done, reply
}

// owes says whether the inbox holds an answer still to send for the request, or sent
// after it was done.
func (r *rig) owes(id string) bool {
	r.t.Helper()
	return apptest.Count(r.t, r.dbPath, "SELECT COUNT(*) FROM envelopes WHERE id = ? AND delivery IS NOT NULL", id) > 0
}

// TestAnswerFirstAcksBeforeFinishing: a command whose handler leaves work for after
// its answer is acked with that answer while the work is still to do — the answer
// recorded with the request first — and recorded done once the work is; the person
// hears once.
func TestAnswerFirstAcksBeforeFinishing(t *testing.T) {
	h := newAnswersFirst(true)
	r := newRig(t, h.handle, bot.Options{AckBudget: 2 * time.Second})
	d := r.slash("INC-1")
	r.await("the finishing work to start", h.finishing)
	if got := ackText(t, r.ack(d)); got != "declared INC-1" {
		t.Fatalf("ack carried %q while the work was unfinished; want the answer", got)
	}
	if acked, done, reply := r.envelopeState(d.EnvelopeID); !acked || done || reply == "" {
		t.Fatalf("before the work finished the inbox says acked=%v done=%v reply=%q; want acked with its answer, not done", acked, done, reply)
	}
	close(h.release)
	r.wait("the request to be recorded done", func() bool { _, done, _ := r.envelopeState(d.EnvelopeID); return done })
	if r.owes(d.EnvelopeID) {
		t.Fatal("an answer is owed after the ack carried it")
	}
	// The emulator shows an ack's answer as Slack does, as an ephemeral message.
	if eph := r.slack.Ephemerals(r.channel.ID, r.user.ID); len(eph) != 1 {
		t.Fatalf("the person was answered %d times, want once: %+v", len(eph), eph)
	}
}

// TestAnswerFirstFollowUpIsSent: what went wrong in the work left for after the answer
// reaches the person through the response_url.
func TestAnswerFirstFollowUpIsSent(t *testing.T) {
	h := newAnswersFirst(false)
	h.followUp = ":warning: could not announce it"
	r := newRig(t, h.handle, bot.Options{})
	if got := ackText(t, r.ack(r.slash("INC-2"))); got != "declared INC-2" {
		t.Fatalf("ack carried %q", got)
	}
	r.waitEphemeral(h.followUp)
}

// answeredThenStopped sends text to a bot handling it with h, which answers it first,
// and stops the bot while the work left for after the answer is under way.
func answeredThenStopped(t *testing.T, h *answersFirst, text string) (*rig, *slackfake.Delivery) {
	t.Helper()
	r := newRig(t, h.handle, bot.Options{AckBudget: 2 * time.Second, ShutdownTimeout: 50 * time.Millisecond})
	d := r.slash(text)
	r.await("the finishing work to start", h.finishing)
	if got := ackText(t, r.ack(d)); got != "declared "+text {
		t.Fatalf("ack carried %q", got)
	}
	r.stop() // the work never finishes in this process
	return r, d
}

// TestAnsweredFirstIsFinishedAfterARestartWithoutAnsweringAgain: a process stopped
// between the ack and the end of the work leaves the request to the next, which
// finishes the work and does not answer the person a second time.
func TestAnsweredFirstIsFinishedAfterARestartWithoutAnsweringAgain(t *testing.T) {
	h := newAnswersFirst(true)
	r, d := answeredThenStopped(t, h, "INC-3")
	if h.finished.Load() != 0 {
		t.Fatal("the work finished before the restart")
	}

	close(h.release)
	r.start(h.handle, bot.Options{})
	r.await("the next process to finish the work", h.finishing)
	r.wait("the request to be recorded done", func() bool { _, done, _ := r.envelopeState(d.EnvelopeID); return done })
	if n := h.finished.Load(); n != 1 {
		t.Fatalf("the work finished %d times, want 1", n)
	}
	if r.owes(d.EnvelopeID) {
		t.Fatal("the next process owes the person an answer the first one gave")
	}
	if eph := r.slack.Ephemerals(r.channel.ID, r.user.ID); len(eph) != 1 {
		t.Fatalf("the person was answered %d times across the restart, want once: %+v", len(eph), eph)
	}
}

// TestAnswerFirstNotWhereTheAckIsGone: a command whose ack went out empty (its
// handler missed the ack budget) has its work done before the answer — AnswerFirst
// says no — and the answer, with what went wrong, follows through the response_url.
func TestAnswerFirstNotWhereTheAckIsGone(t *testing.T) {
	slow := make(chan struct{})
	h := newAnswersFirst(false)
	h.followUp = "but one thing failed"
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second}, runbook.HandlerFunc(func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		<-slow
		return h.handle(ctx, req)
	}), bot.Options{AckBudget: 20 * time.Millisecond})
	d := r.slash("INC-4")
	if ack := r.ack(d); len(ack.Payload) != 0 {
		t.Fatalf("ack carried %s before the handler answered", ack.Payload)
	}
	close(slow)
	r.wait("the answer with its follow-up", func() bool {
		for _, m := range r.slack.Ephemerals(r.channel.ID, r.user.ID) {
			if strings.Contains(m.Text, "declared INC-4") && strings.Contains(m.Text, h.followUp) {
				return true
			}
		}
		return false
	})
	if n := h.finished.Load(); n != 1 {
		t.Fatalf("the work finished %d times, want 1", n)
	}
}

// TestAnsweredFirstThenFailingIsTold: a request an earlier process answered first,
// whose handler fails when the next process handles it again — before leaving the
// rest to finish — is not recorded done in silence: the person, told the work was
// under way, hears what went wrong.
func TestAnsweredFirstThenFailingIsTold(t *testing.T) {
	r, d := answeredThenStopped(t, newAnswersFirst(true), "INC-5")

	r.start(func(context.Context, *runbook.Request) (*runbook.Reply, error) {
		return nil, runbook.Errorf(runbook.EUNAVAILABLE, "The store is busy.")
	}, bot.Options{})
	r.waitEphemeral(":warning: The store is busy.")
	r.wait("the request to be recorded done", func() bool { _, done, _ := r.envelopeState(d.EnvelopeID); return done })
}

// TestPanicAfterTheAnswerIsTold: a panic in the work left for after the answer is an
// answer for the person, as a panic in a handler is, and the bot goes on.
func TestPanicAfterTheAnswerIsTold(t *testing.T) {
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		runbook.AnswerFirst(ctx, func(context.Context) *runbook.Reply { panic("boom") })
		return &runbook.Reply{Text: "declared " + req.Text}, nil
	}, bot.Options{})
	d := r.slash("INC-6")
	if got := ackText(t, r.ack(d)); got != "declared INC-6" {
		t.Fatalf("ack carried %q", got)
	}
	r.waitEphemeral(":warning: Something went wrong on Runbook's side; it has been logged.")
	r.wait("the request to be recorded done", func() bool { _, done, _ := r.envelopeState(d.EnvelopeID); return done })
	if got := ackText(t, r.ack(r.slash("INC-7"))); got != "declared INC-7" {
		t.Fatalf("after the panic the next command was answered %q", got)
	}
}
