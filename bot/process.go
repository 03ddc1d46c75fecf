package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// maxAckPayload keeps an ack under slack-go's 20,480-byte limit; a larger answer is
// sent through the response_url instead.
const maxAckPayload = 20_000

// process handles one envelope: decode, recognise redeliveries, run the handler, ack,
// and deliver the answer. Nothing here returns an error: every failure ends in a log
// line and, where a person is waiting, an answer in Slack.
func (b *Bot) process(ctx context.Context, j job) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic while processing an envelope", "envelope", j.env.EnvelopeID, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if b.stopping() && !j.resumed && j.env.Type == typeEventsAPI {
		return // not acked: Slack redelivers events to the next connection
	}
	req, err := decodeRequest(j.env, b.identity.BotUserID, b.opts.Now())
	if err != nil {
		b.dropEnvelope(j, err)
		return
	}
	if ctx.Err() != nil {
		b.answerRestarting(j, req)
		return
	}
	if b.opts.Refuse != nil {
		if err := b.opts.Refuse(); err != nil {
			b.answerRefused(j, req, err)
			return
		}
	}
	read := b.reads(req)
	if read && unrecorded(j, req) {
		// Not marked in flight: a read has no effect to keep to once, and no record for
		// a second delivery to be acked against. Each delivery is answered.
		b.answerRead(ctx, j, req)
		return
	}
	if !b.begin(req.ID) {
		b.ackInFlight(j, req)
		return
	}
	release := sync.OnceFunc(func() { b.end(req.ID) })
	defer release()

	early := acksEarly(j)
	prior, ok := b.claim(ctx, j, req, early)
	if !ok {
		return
	}
	if prior != nil && prior.Done {
		b.log.Info("redelivery of a handled request", "request", req.ID, "attempt", j.env.RetryAttempt)
		if !j.resumed {
			b.ackJob(j, prior.Reply)
		}
		return
	}
	// An early ack went into the inbox with the claim: the request is acked as soon as
	// it is recorded, and a crash from here on leaves it for the next process to finish.
	acked := j.resumed
	if early && prior == nil {
		b.ackJob(j, nil)
		acked = true
	}
	if prior == nil && !j.resumed && !b.admit(ctx, j, req, read, release, acked) {
		return
	}
	var answered []byte // what an earlier attempt's ack carried, for one answered first
	if prior != nil {
		answered = prior.Reply
	}
	b.handle(ctx, j, req, release, acked, answered)
}

// acksEarly says whether the envelope is acked as soon as its claim is recorded,
// before its handler runs: an event, whose ack never carries an answer (what the bot
// says to one goes through the Web API), so that waiting for the handler would only
// delay the ack and, past Slack's 3 s, make Slack send it again. A slash command's or
// a form's ack may carry the answer, and waits for it within the ack budget.
func acksEarly(j job) bool {
	return !j.resumed && j.via != nil && j.env.Type == typeEventsAPI
}

// minAckWait is the least time a request gets to answer in its ack, however long it
// waited for a worker: a fast answer in the ack beats an empty ack and a follow-up.
const minAckWait = 100 * time.Millisecond

// ackWait is how long the ack may still wait. Slack's deadline runs from when it sent
// the envelope, so the budget runs from when the envelope arrived, not from when a
// worker took it.
func (b *Bot) ackWait(j job) time.Duration {
	return max(time.Until(j.received.Add(b.opts.AckBudget)), minAckWait)
}

// redelivered says whether Slack sends an envelope of this type again when it is not
// acked in time. Only events are; a slash command, click or form submission that is
// not acked in time shows the person an error.
func redelivered(typ string) bool { return typ == typeEventsAPI }

// claim records the request in the inbox, returning what an earlier delivery of it
// left there. It reports false when the request must not be handled now, having dealt
// with it. A request Slack will not send again cannot wait for a slow store past its
// ack deadline: it is answered "try again" and, should the store record it after all,
// recorded as done with that answer, so that it is never acted on.
func (b *Bot) claim(ctx context.Context, j job, req *runbook.Request, acked bool) (*runbook.Envelope, bool) {
	env := runbook.Envelope{ID: req.ID, Type: j.env.Type, Payload: j.env.Payload, Acked: acked}
	if j.resumed || redelivered(j.env.Type) {
		// No deadline to race: the claim runs on the worker, without a goroutine of its
		// own to start and grow a stack for.
		prior, err := b.inbox.Claim(ctx, env)
		return b.claimed(j, req, prior, err)
	}
	type claimed struct {
		prior *runbook.Envelope
		err   error
	}
	result := make(chan claimed, 1)
	go func() { // always received below
		prior, err := b.inbox.Claim(ctx, env)
		result <- claimed{prior, err}
	}()
	timer := time.NewTimer(b.ackWait(j))
	defer timer.Stop()
	select {
	case c := <-result:
		return b.claimed(j, req, c.prior, c.err)
	case <-timer.C:
	}
	b.log.Warn("store too slow to record a request before Slack's deadline; answered try again", "request", req.ID)
	payload := b.answerUnrecorded(j, req, runbook.Errorf(runbook.EUNAVAILABLE, "Runbook's database is busy; try again in a moment."))
	if c := <-result; c.err == nil && c.prior == nil {
		if err := b.inbox.Complete(ctx, req.ID, payload, nil); err != nil {
			b.log.Warn("cannot record answered request", "request", req.ID, "err", err)
		}
	}
	return nil, false
}

// claimed passes on a claim's outcome: a request the store could not record is
// answered so, and not handled.
func (b *Bot) claimed(j job, req *runbook.Request, prior *runbook.Envelope, err error) (*runbook.Envelope, bool) {
	if err != nil {
		b.log.Error("cannot record request", "request", req.ID, "err", err)
		b.answerUnrecorded(j, req, err)
		return nil, false
	}
	return prior, true
}

// ackInFlight acks a redelivery of a request this process is still handling, so that
// Slack stops resending it. The request is first recorded as acked: should the process
// die before finishing it, the next one resumes it instead of forgetting it.
func (b *Bot) ackInFlight(j job, req *runbook.Request) {
	b.log.Debug("redelivery of a request still being handled", "request", req.ID)
	if j.resumed {
		return
	}
	if err := b.inbox.MarkAcked(context.Background(), req.ID, nil); err != nil {
		// Not acked: Slack's next redelivery is the retry.
		b.log.Warn("cannot record ack of a redelivery", "request", req.ID, "err", err)
		return
	}
	b.ack(j.via, j.env, nil)
}

func (b *Bot) stopping() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.draining
}

// dropEnvelope acks an envelope the bot will not act on, so Slack stops resending it.
func (b *Bot) dropEnvelope(j job, err error) {
	if errors.Is(err, errIgnored) {
		b.log.Debug("ignoring envelope", "envelope", j.env.EnvelopeID, "reason", err)
	} else {
		b.log.Warn("dropping malformed envelope", "envelope", j.env.EnvelopeID, "type", j.env.Type, "err", err)
	}
	if !j.resumed {
		b.ackJob(j, unreadableAnswer(j.env, err))
	}
}

// unreadableAnswer is what the ack of a slash command too long to read tells the
// person who typed it, so that they hear more than silence; nil for anything else (a
// payload Slack would never send is acked plainly).
func unreadableAnswer(env envelope, err error) []byte {
	if env.Type != typeSlashCommands || !env.AcceptsResponsePayload || !errors.Is(err, errTooLarge) {
		return nil
	}
	return ephemeral(fmt.Sprintf(":warning: That command is too long for Runbook (over %d KB); shorten it.", maxEnvelope>>10))
}

// restartingText answers a slash command that arrives too late in a shutdown to be
// handled.
const restartingText = ":hourglass: Runbook is restarting; try again in a few seconds."

// answerRestarting deals with a request taken after shutdown gave up on in-flight work.
// An event stays unacked for Slack to redeliver to the next process, a slash command
// is told to try again, and a click or form submission stays unacked, so Slack shows
// the person it did not go through.
func (b *Bot) answerRestarting(j job, req *runbook.Request) {
	if j.resumed || req.Kind != runbook.KindCommand || !j.env.AcceptsResponsePayload {
		return
	}
	payload := ephemeral(restartingText)
	b.ackJob(j, payload)
}

// answerRefused turns a request away with the sentence of Options.Refuse, recording
// nothing. Every kind is acked, events too: a redelivery would be turned away again,
// and the person is told at once. A slash command is answered in its ack; a mention, a
// click or a form submission through the Web API, where nothing is recorded either.
func (b *Bot) answerRefused(j job, req *runbook.Request, err error) {
	if j.resumed {
		return
	}
	b.log.Debug("request turned away", "request", req.ID, "reason", err)
	text := ":octagonal_sign: " + runbook.ErrorMessage(err)
	if req.Kind == runbook.KindCommand && j.env.AcceptsResponsePayload {
		b.ackJob(j, ephemeral(text))
		return
	}
	b.ackJob(j, nil)
	if d := newDelivery(req, &runbook.Reply{Text: text}); d != nil {
		d.Request = "" // not in the inbox
		b.out.enqueue(*d)
	}
}

// answerUnrecorded deals with a request the store could not record, returning what its
// ack carried. A slash command is answered "try again" in its ack, a click or form
// submission is acked and answered through its response_url; events stay unacked, and
// Slack's redelivery is the retry.
func (b *Bot) answerUnrecorded(j job, req *runbook.Request, err error) []byte {
	if j.resumed || redelivered(j.env.Type) {
		return nil
	}
	text := ":warning: " + runbook.ErrorMessage(err)
	if runbook.ErrorCode(err) == runbook.EINTERNAL {
		text = ":warning: Runbook could not record your request; try again in a moment."
	}
	if req.Kind != runbook.KindCommand {
		b.ackJob(j, nil)
		if d := newDelivery(req, &runbook.Reply{Text: text}); d != nil {
			d.Request = "" // not in the inbox
			b.out.enqueue(*d)
		}
		return nil
	}
	payload := ephemeral(text)
	b.ackJob(j, payload)
	return payload
}

// handle runs the handler. If it answers within the ack budget the answer travels in the
// ack (slash commands, modal errors); otherwise the envelope is acked empty so Slack's
// 3-second deadline holds, and the answer follows through the Web API. acked says the
// envelope needs no ack (resumed, or acked early); answered is the answer an earlier
// process acked it with before finishing it (runbook.AnswerFirst), not to be sent again.
// release ends the request's in-flight mark once its answer is recorded, before the
// ack: a redelivery that arrives as the ack goes out then finds the answer and repeats
// it, rather than being acked empty as one still being handled.
func (b *Bot) handle(ctx context.Context, j job, req *runbook.Request, release func(), acked bool, answered []byte) {
	// What the handler leaves for after its answer: the work it finishes then
	// (runbook.AnswerFirst), and the runs it started, kicked once the request is done
	// or given up on.
	answerFirst := answered != nil || (!acked && req.Kind == runbook.KindCommand && j.env.AcceptsResponsePayload)
	ctx, after := runbook.WithAfterAnswer(ctx, answerFirst)
	defer after.Run()
	if j.resumed {
		ctx = runbook.ResumedContext(ctx)
	}
	outcome := make(chan *runbook.Reply, 1)
	go func() { outcome <- b.call(ctx, req) }() // always received below

	var reply *runbook.Reply
	if acked {
		reply = <-outcome
	} else {
		budget := time.NewTimer(b.ackWait(j))
		select {
		case reply = <-outcome:
			budget.Stop()
		case <-budget.C:
			// From here the handler finishes its work before answering: its answer
			// follows the ack through the outbox, and says what was done.
			after.AckGone()
			b.ackUnfinished(ctx, j, req, nil)
			acked = true
			reply = <-outcome
		}
	}

	if b.interrupted(ctx, req) {
		return
	}
	finishing := after.Finishing()
	if finishing && !acked {
		// Answered now, before the work; an answer the ack cannot carry (nil) goes out
		// after it, through the outbox, and the ack goes out empty now all the same.
		answered = b.ackPayload(j.env, req, reply)
		b.ackUnfinished(ctx, j, req, answered)
		acked = true
	}
	followUp := b.finish(ctx, req, after)
	if b.interrupted(ctx, req) {
		return
	}
	switch {
	case answered == nil:
		reply = withFollowUp(reply, followUp)
	case finishing:
		reply = followUp // the answer is out: only what went wrong since is owed
	case bytes.Equal(b.ackPayload(j.env, req, reply), answered):
		reply = nil // handled again, and answered as the first time: said already
	default:
		// Handled again after an earlier process answered it first, and its handler
		// failed this time before leaving the rest to finish: the person is told.
	}
	b.complete(ctx, j, req, reply, acked, answered, release)
}

// finish does the work the handler left for after its answer, turning a panic into an
// answer for the person, as call does for the handler.
func (b *Bot) finish(ctx context.Context, req *runbook.Request, after *runbook.AfterAnswer) (followUp *runbook.Reply) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("work after the answer panicked", "request", req.ID, "kind", req.Kind, "panic", r, "stack", string(debug.Stack()))
			b.opts.Observer.HandlerError(string(req.Kind))
			followUp = errorReply(errors.New("panic"))
		}
	}()
	return after.Finish(ctx)
}

// interrupted says whether shutdown cut the request short. It is left unfinished (and
// recorded as acked if it was), so that the next process runs it again rather than
// taking the cut for an answer.
func (b *Bot) interrupted(ctx context.Context, req *runbook.Request) bool {
	if ctx.Err() == nil {
		return false
	}
	b.log.Warn("request interrupted by shutdown", "request", req.ID)
	return true
}

// ackUnfinished acks a request before it is done, with payload (nil: empty). That the
// ack went out, and what it carried, is recorded first, so that a crash before the
// request is done leaves it for the next process to finish, without answering it
// again. The ack goes out even if that record fails: Slack's deadline does not wait,
// and a crash then loses no more than it did when the work ran before the ack.
func (b *Bot) ackUnfinished(ctx context.Context, j job, req *runbook.Request, payload []byte) {
	if err := b.inbox.MarkAcked(ctx, req.ID, payload); err != nil {
		b.log.Warn("cannot record ack", "request", req.ID, "err", err)
	}
	b.ackJob(j, payload)
}

// withFollowUp is reply with what went wrong after it was made said below it.
func withFollowUp(reply, followUp *runbook.Reply) *runbook.Reply {
	switch {
	case followUp == nil:
		return reply
	case reply == nil:
		return followUp
	}
	out := *reply
	out.Text += "\n" + followUp.Text
	if len(out.Blocks) > 0 {
		out.Blocks = append(slices.Clip(out.Blocks), followUp.Blocks...)
		if len(followUp.Blocks) == 0 {
			out.Blocks = append(out.Blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, followUp.Text, false, false), nil, nil))
		}
	}
	return &out
}

// complete records a request's answer and sends it: in the ack when it has not gone
// out and can carry it, else through the outbox. answered is what an ack that went out
// already carried, kept with the request.
func (b *Bot) complete(ctx context.Context, j job, req *runbook.Request, reply *runbook.Reply, acked bool, answered []byte, release func()) {
	ackPayload := answered
	if !acked {
		ackPayload = b.ackPayload(j.env, req, reply)
	}
	// What the ack cannot carry is owed through the Web API. It is recorded with the
	// request, in one write, so that a crash before Slack has it does not lose it.
	var owed *delivery
	if acked || ackPayload == nil {
		owed = newDelivery(req, reply)
	}
	encoded, err := owed.encode()
	if err != nil {
		b.log.Error("cannot keep reply", "request", req.ID, "err", err)
	}
	if err := b.inbox.Complete(ctx, req.ID, ackPayload, encoded); err != nil {
		b.log.Error("cannot record handled request", "request", req.ID, "err", err)
	} else {
		release()
	}
	if !acked {
		b.ackJob(j, ackPayload)
	}
	if owed != nil {
		b.out.enqueue(*owed)
	}
}

// call runs the handler, turning a panic or an error into an answer for the person.
func (b *Bot) call(ctx context.Context, req *runbook.Request) (reply *runbook.Reply) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("handler panicked", "request", req.ID, "kind", req.Kind, "panic", r, "stack", string(debug.Stack()))
			b.opts.Observer.HandlerError(string(req.Kind))
			reply = errorReply(errors.New("panic"))
		}
	}()
	reply, err := b.handler.Handle(ctx, req)
	if err != nil {
		if runbook.ErrorCode(err) == runbook.EINTERNAL {
			b.log.Error("handler failed", "request", req.ID, "kind", req.Kind, "err", err)
			b.opts.Observer.HandlerError(string(req.Kind))
		}
		return errorReply(err)
	}
	return reply
}

func errorReply(err error) *runbook.Reply {
	return &runbook.Reply{Visibility: runbook.Private, Text: ":warning: " + runbook.ErrorMessage(err)}
}

// messagePayload is a message as a slash command's ack or a response_url carries it.
type messagePayload struct {
	ResponseType string        `json:"response_type,omitempty"`
	Text         string        `json:"text,omitempty"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

// commandAnswer is the message a slash command's ack carries for reply.
func commandAnswer(reply *runbook.Reply) messagePayload {
	rt := "ephemeral"
	if reply.Visibility == runbook.Public {
		rt = "in_channel"
	}
	return messagePayload{ResponseType: rt, Text: reply.Text, Blocks: reply.Blocks}
}

// CommandAnswer is the ack payload of a slash command answered with reply, byte for
// byte as the bot sends it: the load generator's floor peer acks with it, so that
// both carry the same answer.
func CommandAnswer(reply *runbook.Reply) ([]byte, error) {
	return json.Marshal(commandAnswer(reply))
}

// ephemeral is an ack payload that shows text to the person who sent the request.
func ephemeral(text string) []byte {
	payload, _ := json.Marshal(messagePayload{ResponseType: "ephemeral", Text: text}) // cannot fail: strings only
	return payload
}

// ackPayload is what the ack carries for this reply, or nil when the reply must go
// through the Web API instead.
func (b *Bot) ackPayload(env envelope, req *runbook.Request, reply *runbook.Reply) []byte {
	if reply == nil || !env.AcceptsResponsePayload {
		return nil
	}
	var body any
	switch req.Kind {
	case runbook.KindCommand:
		if reply.Text == "" && len(reply.Blocks) == 0 {
			return nil
		}
		body = commandAnswer(reply)
	case runbook.KindViewSubmission:
		if len(reply.ViewErrors) == 0 {
			return nil
		}
		body = map[string]any{"response_action": "errors", "errors": reply.ViewErrors}
	default:
		return nil
	}
	payload, err := json.Marshal(body)
	if err != nil {
		b.log.Error("cannot encode reply", "request", req.ID, "err", err)
		return nil
	}
	if len(payload) > maxAckPayload {
		return nil
	}
	return payload
}
