package runbook

import (
	"context"
	"sync"
)

// AfterAnswer holds work a request's handling leaves until the request has been
// answered and recorded: starting the runs it recorded, say. The run is durable from
// the moment it is recorded — a crash before it starts leaves it for the next process
// — so its first step need not race the ack and the request's completion for the
// writer and the cores, and the person hears "Started …" before the run's own news.
//
// It also holds what a handler leaves to finish after answering (AnswerFirst).
type AfterAnswer struct {
	answerFirst bool
	mu          sync.Mutex
	done        bool
	fns         []func()
	finish      []func(context.Context) *Reply
}

type afterAnswerKey struct{}

// WithAfterAnswer returns a context whose Later calls wait for a.Run. answerFirst says
// whether the request can be answered before it is finished (AnswerFirst): a slash
// command whose ack has not gone out, or one an earlier process answered so.
func WithAfterAnswer(ctx context.Context, answerFirst bool) (context.Context, *AfterAnswer) {
	a := &AfterAnswer{answerFirst: answerFirst}
	return context.WithValue(ctx, afterAnswerKey{}, a), a
}

// Later runs fn once the request ctx serves has been answered, or at once when ctx
// serves none (a run's step, a timer, an API call) or its answer is out already. fn
// must not block: it hands work on (a kick), it does not do it.
func Later(ctx context.Context, fn func()) {
	a, _ := ctx.Value(afterAnswerKey{}).(*AfterAnswer)
	if a == nil || !a.hold(fn) {
		fn()
	}
}

func (a *AfterAnswer) hold(fn func()) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return false
	}
	a.fns = append(a.fns, fn)
	return true
}

// Run runs the work held so far, once; work handed to Later afterwards runs at once.
func (a *AfterAnswer) Run() {
	a.mu.Lock()
	fns := a.fns
	a.fns, a.done = nil, true
	a.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// AnswerFirst leaves fn — the rest of handling a request whose effect is recorded
// already — to run after the request's answer has gone out, and reports true; or
// reports false, and the caller does the work now, when ctx serves no request that can
// be answered first. The bot answers first only after recording the answer with the
// request, which is then finished by fn and recorded done: a crash in between makes the
// next process handle the request again without answering it again, so fn's work must
// be safe to do twice (finding what the first attempt did). fn's reply, if any, is a
// follow-up the person is sent: what went wrong with that work.
func AnswerFirst(ctx context.Context, fn func(context.Context) *Reply) bool {
	a, _ := ctx.Value(afterAnswerKey{}).(*AfterAnswer)
	if a == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done || !a.answerFirst {
		return false
	}
	a.finish = append(a.finish, fn)
	return true
}

// AckGone says the request's ack has gone out without its answer (its handler missed
// the ack budget): from now on AnswerFirst reports false, and the handler finishes its
// work before answering, so that its answer, sent later, says what was done.
func (a *AfterAnswer) AckGone() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answerFirst = false
}

// Finishing says whether work waits to be finished after the answer.
func (a *AfterAnswer) Finishing() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.finish) > 0
}

// Finish does the work left by AnswerFirst, in the order it was left, and returns the
// follow-ups it produced, their texts joined (nil if none).
func (a *AfterAnswer) Finish(ctx context.Context) *Reply {
	a.mu.Lock()
	fns := a.finish
	a.finish = nil
	a.mu.Unlock()
	var out *Reply
	for _, fn := range fns {
		r := fn(ctx)
		switch {
		case r == nil:
		case out == nil:
			out = r
		default:
			out.Text += "\n" + r.Text
		}
	}
	return out
}
