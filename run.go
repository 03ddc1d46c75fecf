package runbook

import (
	"context"
	"time"
)

// RunState is where a run of a runbook stands.
type RunState string

// Run states. A run is active while running or waiting for an approval; every other
// state is final.
const (
	RunRunning         RunState = "running"
	RunWaitingApproval RunState = "waiting_approval"
	RunSucceeded       RunState = "succeeded"
	RunFailed          RunState = "failed"
	RunDenied          RunState = "denied"
	RunExpired         RunState = "expired"
	RunCancelled       RunState = "cancelled"
)

// Final reports whether nothing more happens to a run in this state.
func (s RunState) Final() bool {
	return s != RunRunning && s != RunWaitingApproval
}

// StepState is where one step of a run stands.
type StepState string

// Step states.
const (
	StepPending   StepState = "pending"
	StepRunning   StepState = "running"
	StepSucceeded StepState = "succeeded"
	StepFailed    StepState = "failed"
	StepSkipped   StepState = "skipped"
)

// Run is one execution of a runbook.
type Run struct {
	ID         int64
	Runbook    string
	IncidentID int64 // 0 when the run is not about an incident
	Params     map[string]any
	State      RunState
	// StartedBy is the Slack user who started the run ("" for a trigger); Channel and
	// ThreadTS are where they started it, so that a failure is reported there.
	StartedBy string
	Channel   string
	ThreadTS  string
	// RequestKey identifies what started the run — the request's id, or one derived
	// from it for a triggered run — so that handling the request again finds this
	// run instead of starting another. "" when there is no such key.
	RequestKey string
	Error      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Steps      []StepRun
	// RollbackOf is the run this one rolls back, or 0: its steps are the rollbacks of
	// that run's steps (StepRun.Undoes), newest first, after an approval when a person
	// asked for it.
	RollbackOf int64
	// ResultChannel and ResultTS locate the message that shows the run's result and
	// offers its Roll back button; a Roll back click counts only there.
	ResultChannel string
	ResultTS      string
}

// Key is the run's human id, "R-12".
func (r *Run) Key() string { return RunKey(r.ID) }

// StepRun is the state of one step of a run. Outputs are committed before the next
// step starts, so a restarted process resumes with them.
type StepRun struct {
	Index      int
	StepID     string
	Action     string
	State      StepState
	Outputs    map[string]any
	Error      string
	Attempts   int
	StartedAt  time.Time
	FinishedAt time.Time
	// Undoes is, in a rollback run, the index of the step of the rolled-back run this
	// step undoes; -1 for the approval a rollback asks for first.
	Undoes int
}

// RunStore keeps runs and their steps.
type RunStore interface {
	// CreateRun stores a new run in state running with its steps pending, and sets its
	// ID. If run.RequestKey is set and a run was already created under it, nothing is
	// written and run is set to that run.
	CreateRun(ctx context.Context, run *Run) error
	Run(ctx context.Context, id int64) (*Run, error)
	// RunByRequestKey returns the run created under a request key, or ENOTFOUND.
	RunByRequestKey(ctx context.Context, key string) (*Run, error)
	// ActiveRuns lists runs that are running or waiting for an approval, oldest first.
	ActiveRuns(ctx context.Context) ([]*Run, error)
	// ActiveRunIDs lists the ids of active runs after the id after, oldest first, at
	// most limit of them.
	ActiveRunIDs(ctx context.Context, after int64, limit int) ([]int64, error)
	// RunsUnderWay counts runs in state running, of one person (by a Slack user id) or
	// of everyone (""), counting no further than limit.
	RunsUnderWay(ctx context.Context, by string, limit int) (int, error)
	ListRuns(ctx context.Context, incidentID int64, limit int) ([]*Run, error)
	// StartStep marks a step running and counts the attempt; it fails with ECONFLICT
	// unless the run is running and the step pending or running.
	StartStep(ctx context.Context, runID int64, index int) (attempt int, err error)
	// RecordProgress saves what a running step has done so far, so that a retry after
	// a crash can find it (the name of a channel it was creating, say).
	RecordProgress(ctx context.Context, runID int64, index int, progress map[string]any) error
	// FinishStep records a step's end state, outputs and error.
	FinishStep(ctx context.Context, runID int64, index int, state StepState, outputs map[string]any, errMsg string) error
	// SetRunState moves a run to a new state if it is in one of from; it reports
	// whether it did, so that two racing callers decide once.
	SetRunState(ctx context.Context, runID int64, from []RunState, to RunState, errMsg string) (bool, error)
	// SetRunResult records where the message showing the run's result is.
	SetRunResult(ctx context.Context, runID int64, channel, ts string) error
	// RollbackOf returns the rollback of a run that is under way or done, or
	// ENOTFOUND.
	RollbackOf(ctx context.Context, runID int64) (*Run, error)
}
