package bot

import (
	"context"
	"time"

	"github.com/runbookhq/runbook"
)

// readOnly says whether a request is answered without being recorded: a slash command
// the handler says changes nothing, whose ack can carry the answer. Slack never sends a
// slash command again, and a read has no effect to do twice, so the inbox's two writes
// would protect nothing; a read then costs the only writer nothing, and still answers
// while admission turns new work away.
func (b *Bot) readOnly(j job, req *runbook.Request) bool {
	if j.resumed || j.via == nil || req.Kind != runbook.KindCommand || !j.env.AcceptsResponsePayload {
		return false
	}
	return b.reads(req)
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
// leaves it for the next process to give.
func (b *Bot) answerRead(ctx context.Context, j job, req *runbook.Request, release func()) {
	outcome := make(chan *runbook.Reply, 1)
	go func() { outcome <- b.call(runbook.ReadOnlyContext(ctx), req) }() // always received below

	var reply *runbook.Reply
	budget := time.NewTimer(b.ackWait(j))
	select {
	case reply = <-outcome:
		budget.Stop()
		if ctx.Err() != nil {
			// Cut short by shutdown: what the handler said is about the cut, not the
			// question.
			b.answerRestarting(j, req)
			return
		}
		if payload := b.ackPayload(j.env, req, reply); payload != nil {
			b.ackJob(j, payload)
			return
		}
	case <-budget.C:
	}
	prior, ok := b.claim(ctx, j, req, true)
	if !ok {
		return
	}
	if prior != nil && prior.Done {
		b.ackJob(j, prior.Reply)
		return
	}
	b.ackJob(j, nil)
	if reply == nil {
		reply = <-outcome
	}
	if ctx.Err() != nil {
		b.log.Warn("request interrupted by shutdown", "request", req.ID)
		return
	}
	b.complete(ctx, j, req, reply, true, release)
}
