package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
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
	if b.stopping() && !j.resumed {
		return // not acked: Slack redelivers it to the next connection
	}
	req, err := decodeRequest(j.env, b.identity.BotUserID, b.opts.Now())
	if err != nil {
		b.dropEnvelope(j, err)
		return
	}
	if !b.begin(req.ID) {
		b.ackInFlight(j, req)
		return
	}
	defer b.end(req.ID)

	prior, err := b.inbox.Claim(ctx, runbook.Envelope{ID: req.ID, Type: j.env.Type, Payload: j.env.Payload})
	if err != nil {
		b.log.Error("cannot record request", "request", req.ID, "err", err)
		b.answerUnrecorded(j, req, err)
		return
	}
	if prior != nil && prior.Done {
		b.log.Info("redelivery of a handled request", "request", req.ID, "attempt", j.env.RetryAttempt)
		if !j.resumed {
			b.ackJob(j, prior.Reply)
		}
		return
	}
	b.handle(ctx, j, req)
}

// ackInFlight acks a redelivery of a request this process is still handling, so that
// Slack stops resending it. The request is first recorded as acked: should the process
// die before finishing it, the next one resumes it instead of forgetting it.
func (b *Bot) ackInFlight(j job, req *runbook.Request) {
	b.log.Debug("redelivery of a request still being handled", "request", req.ID)
	if j.resumed {
		return
	}
	if err := b.inbox.MarkAcked(context.Background(), req.ID); err != nil {
		// Not acked: Slack's next redelivery is the retry.
		b.log.Warn("cannot record ack of a redelivery", "request", req.ID, "err", err)
		return
	}
	b.ack(j.env, nil)
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
		b.ackJob(j, nil)
	}
}

// answerUnrecorded deals with a request the store could not record. A slash command is
// answered "try again" (Slack never resends those); other envelopes stay unacked, and
// Slack's redelivery is the retry.
func (b *Bot) answerUnrecorded(j job, req *runbook.Request, err error) {
	if j.resumed || req.Kind != runbook.KindCommand {
		return
	}
	text := ":warning: " + runbook.ErrorMessage(err)
	if runbook.ErrorCode(err) == runbook.EINTERNAL {
		text = ":warning: Runbook could not record your command; try again in a moment."
	}
	payload, _ := json.Marshal(messagePayload{ResponseType: "ephemeral", Text: text})
	b.ack(j.env, payload)
}

// handle runs the handler. If it answers within the ack budget the answer travels in the
// ack (slash commands, modal errors); otherwise the envelope is acked empty so Slack's
// 3-second deadline holds, and the answer follows through the Web API.
func (b *Bot) handle(ctx context.Context, j job, req *runbook.Request) {
	outcome := make(chan *runbook.Reply, 1)
	go func() { outcome <- b.call(ctx, req) }() // always received below

	acked := j.resumed
	var reply *runbook.Reply
	if acked {
		reply = <-outcome
	} else {
		budget := time.NewTimer(b.opts.AckBudget)
		select {
		case reply = <-outcome:
			budget.Stop()
		case <-budget.C:
			// Recorded before the ack goes out, so that a crash in between leaves the
			// request for the next process to finish rather than forgotten.
			if err := b.inbox.MarkAcked(ctx, req.ID); err != nil {
				b.log.Warn("cannot record ack", "request", req.ID, "err", err)
			}
			b.ackJob(j, nil)
			acked = true
			reply = <-outcome
		}
	}

	if ctx.Err() != nil {
		// Cut short by shutdown: left unfinished (and recorded as acked if it was), so
		// that the next process runs it again rather than taking the cut for an answer.
		b.log.Warn("request interrupted by shutdown", "request", req.ID)
		return
	}
	var ackPayload []byte
	if !acked {
		ackPayload = b.ackPayload(j.env, req, reply)
	}
	if err := b.inbox.Complete(ctx, req.ID, ackPayload); err != nil {
		b.log.Error("cannot record handled request", "request", req.ID, "err", err)
	}
	if !acked {
		b.ackJob(j, ackPayload)
	}
	if ackPayload == nil {
		b.deliver(ctx, req, reply)
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
		rt := "ephemeral"
		if reply.Visibility == runbook.Public {
			rt = "in_channel"
		}
		body = messagePayload{ResponseType: rt, Text: reply.Text, Blocks: reply.Blocks}
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

// deliver sends a reply through the Web API: in the mention's thread, or to the person
// who typed the command or clicked the button.
func (b *Bot) deliver(ctx context.Context, req *runbook.Request, reply *runbook.Reply) {
	if reply == nil || (reply.Text == "" && len(reply.Blocks) == 0) {
		return
	}
	var err error
	switch {
	case req.Kind == runbook.KindMention:
		_, err = b.slack.PostMessage(ctx, runbook.Message{Channel: req.ChannelID, ThreadTS: req.ThreadTS, Text: reply.Text, Blocks: reply.Blocks})
	case req.ResponseURL != "":
		err = b.slack.Respond(ctx, req.ResponseURL, *reply)
	case req.ChannelID != "":
		err = b.slack.PostEphemeral(ctx, req.ChannelID, req.UserID, runbook.Message{Text: reply.Text, Blocks: reply.Blocks})
	default:
		err = fmt.Errorf("no channel to answer %s request in", req.Kind)
	}
	if err != nil {
		b.log.Warn("cannot deliver reply", "request", req.ID, "kind", req.Kind, "err", err)
	}
}
