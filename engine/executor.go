package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// Deps is what the executor works with. Action families bring their own
// dependencies when they are registered.
type Deps struct {
	Runs runbook.RunStore
	// Incidents reads incident state for templates and reports; changes go through
	// the incidents service, by the incident action family.
	Incidents IncidentReader
	Slack     runbook.Slack
	// Catalog returns the runbooks currently loaded.
	Catalog func() *runbooks.Catalog
	Logger  *slog.Logger
	Now     func() time.Time
	// DefaultChannel is where failures of runs nobody started by hand are reported.
	DefaultChannel string
	// Progress hears what happens to runs about an incident (a run started or ended
	// badly, an approval was requested or decided), for investigation updates
	// (optional).
	Progress ProgressReporter
	// Secrets are the configured secret values by name (config secrets:), for the
	// templates of http.request and command.run, and masked everywhere else.
	Secrets map[string]string
	// Fields are the configured custom fields' names: templates see each, blank where
	// an incident has no value, as incident.fields.NAME and Activity.NAME.
	Fields []string
	// Roles are the configured incident roles (incidents.roles), each in templates as
	// incident.roles.NAME, empty while unassigned.
	Roles []string
	// ActiveRuns is how many runs are driven at once (limits.activeRuns; default
	// DefaultActiveRuns); the others wait in the store for a slot, oldest first.
	ActiveRuns int
	// QueuedRuns and RunsPerPerson bound the runs waiting for a slot, in all and of one
	// person (limits.queuedRuns, limits.runsPerPerson): past them, Admit says busy.
	QueuedRuns    int
	RunsPerPerson int
}

// IncidentReader reads incidents.
type IncidentReader interface {
	Incident(ctx context.Context, id int64) (*runbook.Incident, error)
}

// ProgressReporter hears news of an incident's runs.
type ProgressReporter interface {
	Progress(ctx context.Context, incidentID int64, text string)
}

// Executor runs runbooks as durable state machines: every step's state and outputs are
// in the store before the next step starts, so a restarted process resumes each run
// where it stopped, and an approval step parks its run until the request is decided.
type Executor struct {
	d       Deps
	log     *slog.Logger
	bot     runbook.Identity
	secrets *secrets
	// actions implement the steps, by action name; a family adds its own (Register).
	actions  map[string]action
	onCancel []func(ctx context.Context, runID int64, by string)
	// gates is the approval family, when registered: where runs show their results.
	gates gateKeeper

	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	s      slots // which runs are driven, and which wait for a slot (slots.go)
	// storeFailures counts, per run, store failures in a row, for storeFailed's backoff.
	storeFailures map[int64]int
	wg            sync.WaitGroup
}

// New returns an executor with no actions; Register adds them, and Start makes it run.
func New(d Deps) *Executor {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.QueuedRuns <= 0 {
		d.QueuedRuns = DefaultQueuedRuns
	}
	if d.RunsPerPerson <= 0 {
		d.RunsPerPerson = DefaultRunsPerPerson
	}
	return &Executor{d: d, log: d.Logger, secrets: newSecrets(d.Secrets), actions: map[string]action{},
		s: newSlots(d.ActiveRuns), storeFailures: map[int64]int{}}
}

// Start learns who the bot is and resumes the runs a previous process left active, as
// many at once as it drives; the rest wait in the store for a slot. Runs waiting for an
// approval are looked at too: their approval may have been decided by a process that
// died before it resumed them. One still pending just parks again.
func (e *Executor) Start(ctx context.Context) error {
	id, err := e.d.Slack.Identify(ctx)
	if err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	e.mu.Lock()
	e.bot = id
	e.ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	runCtx := e.ctx
	e.s.restart()
	e.mu.Unlock()
	e.log.Info("resuming active runs", "at_once", e.s.limit)
	e.fill(runCtx)
	return nil
}

// Stop interrupts the runs being driven and waits for their drivers. An interrupted
// step stays running in the store and is retried, safely, by the next Start.
func (e *Executor) Stop() {
	e.mu.Lock()
	if e.cancel != nil {
		e.cancel()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

// RunInput says what to run and for whom.
type RunInput struct {
	IncidentID int64
	Params     map[string]any // already bound by Runbook.BindParams
	StartedBy  string
	Channel    string
	ThreadTS   string
	// Key is the id of the request that starts the run (Request.ID), or "". A request
	// handled twice — redelivered, or finished by the next process after a crash —
	// gets the run it started the first time instead of a second one.
	Key string
}

// StartRun records a new run of rb and starts driving it in the background. A run
// started under in.Key already is returned as it stands (and looked at again, in case
// the process that started it died before driving it).
func (e *Executor) StartRun(ctx context.Context, rb *runbooks.Runbook, in RunInput) (*runbook.Run, error) {
	return e.start(ctx, rb, in, "")
}

// start is StartRun for a person (event "") or for an incident event's trigger.
func (e *Executor) start(ctx context.Context, rb *runbooks.Runbook, in RunInput, event string) (*runbook.Run, error) {
	if in.Key != "" {
		run, err := e.d.Runs.RunByRequestKey(ctx, in.Key)
		if err == nil {
			e.log.Info("run already started by this request", "run", run.Key(), "runbook", run.Runbook, "request", in.Key)
			runbook.Later(ctx, func() { e.Kick(run.ID) })
			return run, nil
		}
		if runbook.ErrorCode(err) != runbook.ENOTFOUND {
			return nil, err
		}
	}
	run := &runbook.Run{Runbook: rb.Name, IncidentID: in.IncidentID, Params: in.Params,
		StartedBy: in.StartedBy, Channel: in.Channel, ThreadTS: in.ThreadTS, RequestKey: in.Key}
	for _, st := range rb.Steps {
		run.Steps = append(run.Steps, runbook.StepRun{StepID: st.ID, Action: st.Action})
	}
	if err := e.d.Runs.CreateRun(ctx, run); err != nil {
		return nil, err
	}
	e.log.Info("run started", "run", run.Key(), "runbook", rb.Name, "by", in.StartedBy)
	by := ""
	if event == "" {
		by = in.StartedBy
	}
	text := slackui.RunStarted(run, by)
	// Said here, where a new run is told from one a repeated request found, and
	// before the run's own news.
	e.progress(ctx, run, text)
	runbook.Later(ctx, func() { e.Kick(run.ID) })
	return run, nil
}

// Kick makes sure a driver looks at the run: after it was started, resumed, or its
// approval was decided. Kicking a run that is being driven makes its driver look again;
// a run kicked while every slot is taken is driven when one frees, oldest first.
func (e *Executor) Kick(runID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil || e.ctx.Err() != nil {
		return // stopped: the next Start resumes it
	}
	switch {
	case e.s.driving[runID]:
		e.s.again[runID] = true
	case len(e.s.driving) < e.s.limit:
		e.launch(e.ctx, runID)
	default:
		e.s.wait(runID)
	}
}

// Cancel ends an active run as cancelled; its pending approval is cancelled with it.
// Cancelling a run that was cancelled already finishes what an interrupted cancel may
// have left (its approval) and answers ECONFLICT.
func (e *Executor) Cancel(ctx context.Context, runID int64, by string) error {
	ok, err := e.d.Runs.SetRunState(ctx, runID, []runbook.RunState{runbook.RunRunning, runbook.RunWaitingApproval},
		runbook.RunCancelled, "cancelled by "+by)
	if err != nil {
		return err
	}
	if !ok {
		run, err := e.d.Runs.Run(ctx, runID)
		if err != nil {
			return err
		}
		if run.State == runbook.RunCancelled {
			e.cancelled(ctx, runID, by)
		}
		return runbook.Errorf(runbook.ECONFLICT, "%s has already ended (%s).", run.Key(), run.State)
	}
	e.cancelled(ctx, runID, by)
	if run, err := e.d.Runs.Run(ctx, runID); err == nil {
		e.showResult(ctx, run)
	}
	return nil
}

// cancelled tells the action families that a run was cancelled, so that what its
// steps left waiting (an approval request) is cancelled with it.
func (e *Executor) cancelled(ctx context.Context, runID int64, by string) {
	for _, fn := range e.onCancel {
		fn(ctx, runID, by)
	}
}

// drive advances a run until it parks, ends, or the executor stops, then hands its
// slot to a run that waits for one.
func (e *Executor) drive(ctx context.Context, runID int64) {
	defer e.fill(ctx)
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("run driver panicked", "run", runID, "panic", r)
			e.mu.Lock()
			delete(e.s.driving, runID)
			delete(e.s.again, runID)
			e.mu.Unlock()
		}
	}()
	for {
		e.advance(ctx, runID)
		e.mu.Lock()
		if !e.s.again[runID] || ctx.Err() != nil {
			delete(e.s.driving, runID)
			delete(e.s.again, runID)
			e.mu.Unlock()
			return
		}
		delete(e.s.again, runID)
		e.mu.Unlock()
	}
}

// advance runs steps of one run until it parks or ends.
func (e *Executor) advance(ctx context.Context, runID int64) {
	for ctx.Err() == nil {
		run, err := e.d.Runs.Run(ctx, runID)
		if err != nil {
			e.storeFailed("load run", runID, err)
			return
		}
		if run.State != runbook.RunRunning && run.State != runbook.RunWaitingApproval {
			return
		}
		rb, err := e.runbookOf(ctx, run)
		if err != nil {
			e.endRun(ctx, run, runbook.RunFailed, err.Error())
			return
		}
		if i := stoppingFailure(run, rb); i >= 0 {
			e.failRun(ctx, run, run.Steps[i].Error)
			return
		}
		next := nextStep(run)
		if next < 0 {
			e.endRun(ctx, run, runbook.RunSucceeded, "")
			return
		}
		if !e.step(ctx, run, rb, next) {
			return
		}
	}
}

// nextStep returns the index of the first step still to do, or -1.
func nextStep(run *runbook.Run) int {
	for i, st := range run.Steps {
		switch st.State {
		case runbook.StepPending, runbook.StepRunning:
			return i
		}
	}
	return -1
}

// endRun moves an active run to a final state and tells people about a failure.
// The result message is brought up to date first: a process that dies in between
// ends the run again when it resumes, and shows the same result.
func (e *Executor) endRun(ctx context.Context, run *runbook.Run, to runbook.RunState, why string) {
	if fresh, err := e.d.Runs.Run(ctx, run.ID); err == nil && !fresh.State.Final() {
		fresh.State, fresh.Error = to, why
		e.showResult(ctx, fresh)
	}
	ok, err := e.d.Runs.SetRunState(ctx, run.ID, []runbook.RunState{runbook.RunRunning, runbook.RunWaitingApproval}, to, why)
	if err != nil {
		e.storeFailed("end run", run.ID, err)
		return
	}
	if !ok {
		return
	}
	e.log.Info("run ended", "run", run.Key(), "state", to, "why", why)
	if run.RollbackOf != 0 {
		e.rollbackEnded(ctx, run, to, why)
		return
	}
	if to != runbook.RunSucceeded {
		e.report(ctx, run, to, why)
		e.progress(ctx, run, slackui.RunEnded(run, to, why))
		return
	}
	if failures := continuedFailures(run); len(failures) > 0 {
		e.tell(ctx, run, slackui.RunFinishedWithFailures(run, failures))
	}
}

// continuedFailures are the errors of the steps of a run that failed and let it go on
// (on_error: continue) — in a run that succeeded, every failed step is one — and the
// warnings of steps that did their work only in part (a message posted but not
// pinned, people who could not be invited).
func continuedFailures(run *runbook.Run) []string {
	var out []string
	for _, st := range run.Steps {
		switch {
		case st.State == runbook.StepFailed:
			out = append(out, st.Error)
		case st.Outputs["warning"] != nil:
			out = append(out, fmt.Sprint(st.Outputs["warning"]))
		}
	}
	return out
}

// report tells the person who started a run that it did not succeed, where they
// started it; runs started by a trigger report to the incident's or default channel.
func (e *Executor) report(ctx context.Context, run *runbook.Run, state runbook.RunState, why string) {
	e.tell(ctx, run, slackui.RunFailedReport(run, state, why))
}

// tell posts news of a run where it reports.
func (e *Executor) tell(ctx context.Context, run *runbook.Run, text string) {
	channel, thread := e.reportPlace(ctx, run)
	if channel == "" {
		e.log.Warn("no channel to tell news of a run in", "run", run.Key())
		return
	}
	if _, err := e.d.Slack.PostMessage(ctx, runbook.Message{Channel: channel, ThreadTS: thread, Text: text}); err != nil {
		e.logErr("tell news of a run", run.ID, err)
	}
}

// storeFailed logs a store failure that stopped a run's driver, and kicks the run
// again after a backoff (1 s doubling to a minute while the failures go on): a lock
// held past the busy timeout or a full disk is usually transient, and a run must not
// stay running, undriven, until a restart. Driving is safe to repeat: a step finds
// what an earlier attempt did.
func (e *Executor) storeFailed(what string, runID int64, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	e.mu.Lock()
	n := e.storeFailures[runID]
	e.storeFailures[runID] = n + 1
	e.mu.Unlock()
	delay := retryBackoff(n)
	e.log.Error(what, "run", runID, "err", err, "retry_in", delay)
	e.wakeAt(runID, e.d.Now().Add(delay))
}

// storeRecovered forgets a run's store failures once the store works for it again.
func (e *Executor) storeRecovered(runID int64) {
	e.mu.Lock()
	delete(e.storeFailures, runID)
	e.mu.Unlock()
}

func (e *Executor) logErr(what string, runID int64, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	e.log.Error(what, "run", runID, "err", err)
}

// Trigger starts every runbook whose trigger matches an incident event
// (EventIncidentDeclared, …), and returns the runs it started. key is the id of the
// request that caused the event, or ""; each run gets a key derived from it, so that
// the request handled twice starts each runbook once.
func (e *Executor) Trigger(ctx context.Context, event string, inc *runbook.Incident, by, key string) ([]*runbook.Run, error) {
	var started []*runbook.Run
	var errs []error
	for _, rb := range e.d.Catalog().Triggered(event, runbooks.IncidentData(inc, e.d.Roles...)) {
		params, err := rb.BindParams(nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rb.Name, err))
			continue
		}
		in := RunInput{IncidentID: inc.ID, Params: params, StartedBy: by, Key: TriggerKey(key, event, rb.Name)}
		run, err := e.start(ctx, rb, in, event)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rb.Name, err))
			continue
		}
		started = append(started, run)
	}
	return started, errors.Join(errs...)
}

// Triggers names the runbooks an incident event starts (Trigger), without starting
// them.
func (e *Executor) Triggers(event string, inc *runbook.Incident) []string {
	var names []string
	for _, rb := range e.d.Catalog().Triggered(event, runbooks.IncidentData(inc, e.d.Roles...)) {
		names = append(names, rb.Name)
	}
	return names
}

// EventEvery names, for a run's news, a run started by an every: trigger.
const EventEvery = "every"

// StartPeriodic starts a run of rb for an incident on the runbook's every: trigger.
// key identifies the timer's firing: the same firing delivered again after a crash
// gets the run it started instead of a second one. Nobody is named as starting it.
func (e *Executor) StartPeriodic(ctx context.Context, rb *runbooks.Runbook, incidentID int64, key string) (*runbook.Run, error) {
	params, err := rb.BindParams(nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rb.Name, err)
	}
	return e.start(ctx, rb, RunInput{IncidentID: incidentID, Params: params, Key: key}, EventEvery)
}

// TriggerKey is the key of the run of a runbook an event triggered, derived from the
// key of the request that caused the event; "" without one.
func TriggerKey(key, event, name string) string {
	if key == "" {
		return ""
	}
	return key + "/" + event + "/" + name
}

// progress passes news of a run about an incident to Progress.
func (e *Executor) progress(ctx context.Context, run *runbook.Run, text string) {
	if e.d.Progress != nil && run.IncidentID != 0 {
		e.d.Progress.Progress(ctx, run.IncidentID, text)
	}
}
