package demo

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/runbookhq/runbook/internal/apptest"
)

// terminal is the interactive session's output: what a person did and its answer, and
// what happens on its own in between — an approval expiring, a run finishing after a
// wait, a rollback's result. One lock keeps the two from interleaving: a command
// holds it from the line typed to its answer printed, and the watcher takes it to
// print news that came while the person was at the prompt.
type terminal struct {
	mu sync.Mutex
	// atPrompt says the prompt is the last thing printed; set and cleared with mu
	// held, read without it by the watcher's wait, which must not block.
	atPrompt atomic.Bool
	prompt   string // reprinted after news, so that the person knows they can type
}

// watcher prints the events the bot causes on its own as they happen. It is owned by
// the interactive session, which starts it and stops it (stop waits for it).
type watcher struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// watch starts printing news through d.out whenever the emulator records any.
func (d *director) watch(ctx context.Context) *watcher {
	ctx, cancel := context.WithCancel(ctx)
	wt := &watcher{cancel: cancel}
	wt.done.Go(func() {
		for {
			// Wakes on every change in the emulator. While a command is under way it
			// prints its own news with its answer, so the watcher waits for the prompt.
			if apptest.Wait(ctx, d.w.srv, func() bool { return d.term.atPrompt.Load() && d.w.tr.hasNews() }) != nil {
				return
			}
			d.printNews()
		}
	})
	return wt
}

// stop stops the watcher and waits until it has returned.
func (wt *watcher) stop() {
	wt.cancel()
	wt.done.Wait()
}

// printNews prints what happened since the last flush, if the session is at its
// prompt; otherwise the command under way prints it with its answer.
func (d *director) printNews() {
	d.term.mu.Lock()
	defer d.term.mu.Unlock()
	if !d.term.atPrompt.Load() || !d.w.tr.hasNews() {
		return
	}
	d.out.printf("\n")
	d.w.tr.flush(d.out, nil)
	d.out.printf("%s", d.term.prompt)
}
