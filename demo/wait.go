package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// actTimeout bounds every wait: an act that takes longer has failed.
const actTimeout = 10 * time.Second

// waitFor waits until cond holds, with the kit's wait: it re-checks cond after every
// change in the emulator, and every few milliseconds for the database, which the
// emulator cannot signal. It fails if the bot stops or actTimeout passes.
func (w *world) waitFor(ctx context.Context, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, actTimeout)
	defer cancel()
	err := apptest.Wait(ctx, w.srv, func() bool { return w.bot.Exited() || cond() })
	switch {
	case w.bot.Exited():
		return fmt.Errorf("the bot stopped while waiting for %s: %v", what, w.bot.Err())
	case err == nil:
		return nil
	case errors.Is(err, slackfake.ErrClosed):
		return fmt.Errorf("the Slack emulator closed while waiting for %s", what)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timed out after %s waiting for %s", actTimeout, what)
	}
	return fmt.Errorf("interrupted while waiting for %s", what)
}

// quiet reports whether the bot has nothing in flight: no request answered and still
// being finished (a declaration is answered before it is announced), and every active
// run parked — waiting for an approval whose request is posted and still pending (a
// decided request whose run has not resumed yet is in flight), or in a wait step.
func (w *world) quiet(ctx context.Context) bool {
	if unfinished, err := w.app.DB.Inbox().Unfinished(ctx); err != nil || len(unfinished) > 0 {
		return false
	}
	active, err := w.app.DB.Runs().ActiveRuns(ctx)
	if err != nil {
		return false
	}
	pending, err := w.app.DB.Approvals().PendingApprovals(ctx)
	if err != nil {
		return false
	}
	for _, r := range active {
		parked := r.State == runbook.RunWaitingApproval && posted(pending, r.ID) || waiting(r)
		if !parked {
			return false
		}
	}
	return true
}

// waiting reports whether a run is in a wait step: it goes on by itself when the wait
// ends, which may be long after the command that started it has been answered.
func waiting(r *runbook.Run) bool {
	for _, st := range r.Steps {
		switch st.State {
		case runbook.StepRunning:
			return st.Action == "wait"
		case runbook.StepPending:
			return false
		}
	}
	return false
}

// posted reports whether a run has a pending approval request with its message.
func posted(pending []*runbook.Approval, runID int64) bool {
	for _, a := range pending {
		if a.RunID == runID && a.MessageTS != "" {
			return true
		}
	}
	return false
}
