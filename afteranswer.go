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
type AfterAnswer struct {
	mu   sync.Mutex
	done bool
	fns  []func()
}

type afterAnswerKey struct{}

// WithAfterAnswer returns a context whose Later calls wait for a.Run.
func WithAfterAnswer(ctx context.Context) (context.Context, *AfterAnswer) {
	a := &AfterAnswer{}
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
