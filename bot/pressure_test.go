package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/internal/apptest"
)

// pressure holds the rig's one worker on a command named "first" until release is
// closed, and fills its one queue slot: what is queued behind "first" arrived under
// pressure, and a busy answer in the ack of the command after it proves it is queued.
type pressure struct {
	r       *rig
	started chan struct{}
	release chan struct{}
}

func newPressure(t *testing.T, then runbook.HandlerFunc, opts bot.Options) *pressure {
	t.Helper()
	p := &pressure{started: make(chan struct{}, 1), release: make(chan struct{})}
	opts.Workers, opts.Queue = 1, 1
	if opts.AckBudget == 0 {
		// Past the kit's patience: an ack that waited for the budget rather than going
		// out once the command was recorded fails the test ("first" is answered in its
		// ack as soon as it is released).
		opts.AckBudget = 2 * apptest.Patience
	}
	p.r = newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		if req.Kind == runbook.KindCommand && req.Text == "first" {
			p.started <- struct{}{}
			select {
			case <-p.release:
			case <-ctx.Done(): // a failed test's stop
			}
			return echo(ctx, req)
		}
		return then(ctx, req)
	}, opts)
	t.Cleanup(func() {
		select {
		case <-p.release:
		default:
			close(p.release)
		}
	})
	p.r.slash("first")
	p.r.await("the worker to be busy", p.started)
	return p
}

// queued waits until what was sent after "first" waits in the queue: with the slot
// taken, one more command is answered busy in its ack.
func (p *pressure) queued(t *testing.T) {
	t.Helper()
	if got := ackText(t, p.r.ack(p.r.slash("overflow"))); !strings.Contains(got, "busy") {
		t.Fatalf("with the worker and its slot taken, answer = %q; want busy", got)
	}
}

func (r *rig) ephemeralsSaying(text string) int {
	n := 0
	for _, m := range r.slack.Ephemerals(r.channel.ID, r.user.ID) {
		if m.Text == text {
			n++
		}
	}
	return n
}

// TestCommandUnderPressureIsAckedOnceRecorded: a command that arrives while every
// worker is busy is acked empty as soon as it is recorded, without waiting for its
// handler, and the person gets the answer once, through the response_url.
func TestCommandUnderPressureIsAckedOnceRecorded(t *testing.T) {
	handled := make(chan struct{}, 2)
	hold := make(chan struct{})
	p := newPressure(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		handled <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done(): // a failed test's stop
		}
		return echo(ctx, req)
	}, bot.Options{})
	r := p.r
	second := r.slash("second")
	p.queued(t)
	close(p.release)
	r.await("the queued command's handler", handled)
	// Its handler has not answered: the ack went out once the command was recorded.
	if ack := r.ack(second); len(ack.Payload) != 0 {
		t.Fatalf("a command taken under pressure was acked with %s", ack.Payload)
	}
	close(hold)
	r.wait("the answer through the response_url", func() bool { return r.ephemeralsSaying("you said second") > 0 })
	r.stop() // the outbox is drained: a second answer would be sent by now
	if n := r.ephemeralsSaying("you said second"); n != 1 {
		t.Fatalf("answered %d times", n)
	}
}

// TestIdleCommandIsAnsweredInItsAck: with workers free, the answer travels in the
// ack, the fastest way to the person.
func TestIdleCommandIsAnsweredInItsAck(t *testing.T) {
	r := newRig(t, echo, bot.Options{Workers: 1})
	if got := ackText(t, r.ack(r.slash("hello"))); got != "you said hello" {
		t.Fatalf("an idle bot acked %q", got)
	}
	r.stop()
	if n := r.ephemeralsSaying("you said hello"); n != 1 { // the ack's answer, shown once
		t.Fatalf("answered %d times", n)
	}
}

// TestCommandAckedUnderPressureSurvivesACrash: a command acked before its handler
// finished is recorded as acked; when the process stops before the handler is done,
// the next one answers it, once, however often the envelope is replayed.
func TestCommandAckedUnderPressureSurvivesACrash(t *testing.T) {
	entered := make(chan struct{}, 1)
	p := newPressure(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		entered <- struct{}{}
		<-ctx.Done() // finishes only when shutdown gives up on it
		return nil, ctx.Err()
	}, bot.Options{ShutdownTimeout: 100 * time.Millisecond})
	r := p.r
	second := r.slash("second")
	p.queued(t)
	close(p.release)
	r.await("the queued command's handler", entered)
	if ack := r.ack(second); len(ack.Payload) != 0 {
		t.Fatalf("acked with %s", ack.Payload)
	}
	r.stop()
	if n := r.ephemeralsSaying("you said second"); n != 0 {
		t.Fatalf("an interrupted command was answered %d times", n)
	}

	r.start(echo, bot.Options{})
	r.wait("the resumed command's answer", func() bool { return r.ephemeralsSaying("you said second") > 0 })
	if err := r.slack.Redeliver(second.EnvelopeID); err != nil { // a replay of it
		t.Fatal(err)
	}
	r.wait("the replay's ack", func() bool { return len(r.slack.Acks(second.EnvelopeID)) >= 2 })
	r.stop()
	if n := r.ephemeralsSaying("you said second"); n != 1 {
		t.Fatalf("answered %d times", n)
	}
}

// TestFormSubmissionIsNeverAckedEarly: a form's ack is the only way to show its
// errors beside the inputs, so even under pressure it waits for the handler.
func TestFormSubmissionIsNeverAckedEarly(t *testing.T) {
	var api *slack.Client
	p := newPressure(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		if req.Kind == runbook.KindViewSubmission {
			return &runbook.Reply{ViewErrors: map[string]string{"title": "Give it a title."}}, nil
		}
		modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "New", false, false),
			Submit: slack.NewTextBlockObject(slack.PlainTextType, "Go", false, false),
			Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("title", slack.NewTextBlockObject(slack.PlainTextType, "Title", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "title"))}}}
		_, err := api.OpenViewContext(ctx, req.TriggerID, modal)
		return nil, err
	}, bot.Options{})
	r := p.r
	api = slack.New(r.slack.BotToken(), slack.OptionAPIURL(r.slack.APIURL()))
	close(p.release) // the form is opened while the bot is idle
	r.ack(r.slash("form"))
	var viewID string
	r.wait("the form", func() bool {
		if views := r.slack.Views(); len(views) > 0 {
			viewID = views[0].ID
		}
		return viewID != ""
	})

	p.release = make(chan struct{})
	r.slash("first")
	r.await("the worker to be busy", p.started)
	sub, err := r.slack.SubmitView(r.user.ID, viewID, map[string]map[string]string{"title": {"title": " "}})
	if err != nil {
		t.Fatal(err)
	}
	p.queued(t)
	close(p.release)
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if payload := r.ack(sub).Payload; len(payload) == 0 || json.Unmarshal(payload, &ack) != nil || ack.Errors["title"] != "Give it a title." {
		t.Fatalf("a form submitted under pressure was acked with %s; want its errors", payload)
	}
}
