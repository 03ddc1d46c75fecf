package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

// waitActions pause a run durably: the end of a wait is stored when it starts, so a
// restart resumes the wait until that end — at once if it has passed — never from zero.
type waitActions struct{ e *Executor }

// WaitActions lets runbooks wait.
func WaitActions() Family { return &waitActions{} }

func (f *waitActions) register(e *Executor) {
	f.e = e
	e.actions["wait"] = action{drive: f.wait}
}

// wait starts or resumes a wait; it reports whether the run may go on now. While it
// waits, the run stays running and a timer the executor owns kicks it at the end.
func (f *waitActions) wait(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook, i int, data map[string]any) bool {
	e, def := f.e, rb.Steps[i]
	until, ok := waitEnd(run.Steps[i].Outputs)
	if !ok {
		in, err := renderInputs(def, data)
		if err != nil {
			return e.failStep(ctx, run, def, i, err)
		}
		d, err := time.ParseDuration(fmt.Sprint(in["duration"]))
		if err != nil || d <= 0 {
			return e.failStep(ctx, run, def, i, runbook.Errorf(runbook.EINVALID, "duration %q is not a duration like 90s or 5m", fmt.Sprint(in["duration"])))
		}
		if _, err := e.d.Runs.StartStep(ctx, run.ID, i); err != nil {
			e.storeFailed("start step", run.ID, err)
			return false
		}
		until = e.d.Now().Add(d)
		// Stored before waiting: the end survives a restart.
		if err := e.d.Runs.RecordProgress(ctx, run.ID, i, map[string]any{"until": until.UTC().Format(time.RFC3339Nano)}); err != nil {
			e.storeFailed("record a wait", run.ID, err)
			return false
		}
	}
	if e.d.Now().Before(until) {
		e.wakeAt(run.ID, until)
		return false
	}
	return e.finish(ctx, run, i, runbook.StepSucceeded, map[string]any{"until": until.UTC().Format(time.RFC3339)}, "")
}

// waitEnd reads the stored end of a wait that has started.
func waitEnd(progress map[string]any) (time.Time, bool) {
	s, _ := progress["until"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil && s != ""
}

// wakeAt kicks a run at a time, from a goroutine the executor owns and Stop ends. A run
// with a timer that fires sooner already gets no second one. Until it fires, the run
// is asleep: a pass through the backlog leaves it for its timer.
func (e *Executor) wakeAt(runID int64, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx := e.ctx
	if ctx == nil || ctx.Err() != nil {
		return
	}
	if due, ok := e.s.sleeping[runID]; ok && !due.After(at) {
		return
	}
	e.s.sleeping[runID] = at
	e.wg.Go(func() {
		timer := time.NewTimer(at.Sub(e.d.Now()))
		defer timer.Stop()
		select {
		case <-timer.C:
			e.woke(runID, at)
			e.Kick(runID)
		case <-ctx.Done():
		}
	})
}

// woke forgets a run's sleep, unless a sooner timer replaced it and is still to fire.
func (e *Executor) woke(runID int64, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if due, ok := e.s.sleeping[runID]; ok && !due.Before(at) {
		delete(e.s.sleeping, runID)
	}
}
