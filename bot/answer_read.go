package bot

import (
	"context"
	"time"

	"github.com/runbookhq/runbook"
)

// unrecorded says whether a read is answered without being recorded: a slash command
// whose ack can carry the answer. Slack never sends a slash command again, and a read
// has no effect to do twice, so the inbox's two writes would protect nothing; a read
// then costs the only writer nothing, and still answers while admission turns new
// work away.
func unrecorded(j job, req *runbook.Request) bool {
	return !j.resumed && j.via != nil && req.Kind == runbook.KindCommand && j.env.AcceptsResponsePayload
}

// reads says whether the handler takes req for a read: it changes nothing but its
// answer.
func (b *Bot) reads(req *runbook.Request) bool {
	r, ok := b.handler.(runbook.Reader)
	return ok && r.ReadOnly(req)
}

// answerRead runs a read-only request's handler, refusing any write it attempts, and
// acks with its answer. An answer that cannot travel in the ack — not ready within the
// ack budget, or too large — is owed through the response_url: the request is then
// recorded as acked, as any other, so that a crash before the answer reaches Slack
// leaves it for the next process to give. The handler is waited for on every path, so
// that the worker pool bounds the reads running as it bounds everything else.
func (b *Bot) answerRead(ctx context.Context, j job, req *runbook.Request) {
	if b.owesTooMuch() {
		// A read may call Slack and may owe a reply: past the bound on work owed to
		// Slack it is turned away like any other command.
		b.opts.Observer.Busy()
		b.ackJob(j, ephemeral(busyText))
		return
	}
	outcome := make(chan *runbook.Reply, 1)
	go func() { outcome <- b.call(runbook.ReadOnlyContext(ctx), req) }() // received on every path below

	var reply *runbook.Reply
	answered := false
	budget := time.NewTimer(b.ackWait(j))
	select {
	case reply = <-outcome:
		budget.Stop()
		answered = true
		if ctx.Err() != nil {
			// Cut short by shutdown: what the handler said is about the cut, not the
			// question.
			b.answerRestarting(j, req)
			return
		}
		if payload := b.ackPayload(j.env, req, reply); payload != nil || newDelivery(req, reply) == nil {
			b.ackJob(j, payload) // empty when there is nothing to say
			return
		}
	case <-budget.C:
	}
	prior, ok := b.claim(ctx, j, req, true)
	switch {
	case ok && prior != nil && prior.Done:
		b.ackJob(j, prior.Reply)
	case ok:
		b.ackJob(j, nil)
	} // not ok: claim answered "try again"
	if !answered {
		reply = <-outcome
	}
	if !ok || prior != nil {
		// Turned away, or another delivery of it claimed it first and owes its answer.
		return
	}
	if ctx.Err() != nil {
		b.log.Warn("request interrupted by shutdown", "request", req.ID)
		return
	}
	b.complete(ctx, j, req, reply, true, nil, func() {})
}
