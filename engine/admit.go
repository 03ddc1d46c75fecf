package engine

import (
	"context"
	"fmt"

	"github.com/runbookhq/runbook"
)

// Defaults of the bounds Admit checks (limits.queuedRuns, limits.runsPerPerson).
const (
	DefaultQueuedRuns    = 1000
	DefaultRunsPerPerson = 50
)

// BusyText is what a person is told when Runbook takes no more work for now.
const BusyText = "Runbook is busy — try again in a minute."

// Admit says whether a new request of person (a Slack user id; "" for no one) may add
// work: it answers an EUNAVAILABLE error with BusyText when QueuedRuns runs wait for a
// slot already, or the person has RunsPerPerson runs under way, so that one member
// sending command after command cannot fill the queue everyone shares. A store that
// cannot count admits: the request then meets the store's failure itself.
func (e *Executor) Admit(ctx context.Context, person string) error {
	driven := e.Driven()
	n, err := e.d.Runs.RunsUnderWay(ctx, "", e.d.QueuedRuns+driven)
	if err != nil {
		e.log.Warn("cannot count runs under way; admitting", "err", err)
		return nil
	}
	if n-driven >= e.d.QueuedRuns {
		return runbook.Errorf(runbook.EUNAVAILABLE, "%s", BusyText)
	}
	if person == "" {
		return nil
	}
	mine, err := e.d.Runs.RunsUnderWay(ctx, person, e.d.RunsPerPerson)
	if err != nil {
		e.log.Warn("cannot count a person's runs under way; admitting", "err", err)
		return nil
	}
	if mine >= e.d.RunsPerPerson {
		return runbook.Errorf(runbook.EUNAVAILABLE, "%s", fmt.Sprintf("%s You have %d runs under way.", BusyText, mine))
	}
	return nil
}
