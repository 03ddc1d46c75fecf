package engine

import (
	"context"
	"slices"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

// actionFunc does one step. It may be called again for the same step after a crash
// (attempt > 1): it must then find what its earlier attempt did rather than repeat it.
type actionFunc func(ctx context.Context, s *stepRun) (map[string]any, error)

// driverFunc runs a step that keeps its own state across the run's life, such as an
// approval request that parks the run until a person decides. It reports whether the
// run may go on to the next step.
type driverFunc func(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook, i int, data map[string]any) bool

// action implements one action of runbooks.Actions: a plain step (do) or one that
// drives itself (drive).
type action struct {
	do    actionFunc
	drive driverFunc
	// plan describes what the step would do, for a dry run, doing nothing (optional).
	plan planFunc
}

// planFunc renders a step's inputs as do would and says what it would send, doing
// nothing. data has secrets standing as [secret:NAME].
type planFunc func(ctx context.Context, s *stepRun) (string, error)

// A Family is a set of actions registered together, with what they need (the
// incidents service, the approvals service…). Each family is one file of this package.
type Family interface {
	register(e *Executor)
}

// Register adds the actions of each family. It is called once, in the wiring, before
// Start.
func (e *Executor) Register(families ...Family) {
	for _, f := range families {
		f.register(e)
	}
}

// handle registers a plain action.
func (e *Executor) handle(name string, do actionFunc) { e.actions[name] = action{do: do} }

// ActionNames lists the actions registered, sorted.
func (e *Executor) ActionNames() []string {
	names := make([]string, 0, len(e.actions))
	for name := range e.actions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
