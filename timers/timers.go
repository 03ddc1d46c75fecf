// Package timers is the durable scheduler of what happens to an open incident with
// time: update reminders (incidents.reminders) and periodic runbooks (a trigger
// `every: 30m`).
//
// Timers live in the store, so a restart re-arms them. A due timer is claimed in one
// transaction that records the firing and moves the timer to its next due time,
// before anything is posted or run; the action is then keyed by that firing — a
// reminder carries it as message metadata and is looked for before it is posted
// again, a periodic run is started under a request key derived from it — so a firing
// interrupted by a crash is finished by the next process exactly once. A timer long
// overdue after downtime fires once and is then re-armed from now: no burst of
// catch-up runs.
//
// The scheduler is one goroutine, owned by the Service and ended by Stop. It sleeps
// until the soonest timer is due, on an injected clock, and wakes early when timers
// change.
package timers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// Snooze is how long the Snooze button puts off a reminder, as its label says.
const Snooze = 30 * time.Minute

// DefaultKey is the key of incidents.reminders that applies to every severity not
// named.
const DefaultKey = "default"

// retryDelay is how soon a firing that failed for a reason that passes (Slack down, the
// store busy) is tried again.
const retryDelay = 10 * time.Second

// Config says when to remind, and on which clock.
type Config struct {
	// Reminders maps a severity, or DefaultKey, to how long an open incident may go
	// without an update before it is nudged. A severity with neither is never nudged.
	Reminders map[string]time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// After waits on the clock Now reads (time.After when nil): tests that move Now
	// give one that fires when they move it past the deadline.
	After func(time.Duration) <-chan time.Time
}

// Starter starts periodic runs; *engine.Executor satisfies it.
type Starter interface {
	StartPeriodic(ctx context.Context, rb *runbooks.Runbook, incidentID int64, key string) (*runbook.Run, error)
}

// Deps are what the scheduler acts through.
type Deps struct {
	Timers    runbook.TimerStore
	Incidents runbook.IncidentStore
	Runs      runbook.RunStore
	Slack     runbook.Slack
	Starter   Starter
	// Catalog returns the runbooks currently loaded.
	Catalog func() *runbooks.Catalog
	Logger  *slog.Logger
}

// Service keeps and fires the timers.
type Service struct {
	d   Deps
	cfg Config
	log *slog.Logger

	poke   chan struct{} // wakes the loop early: timers changed
	mu     sync.Mutex    // guards cancel; held by Start and Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// swept is the clock's time at the start of the last finished sweep, under its own
	// lock: Stop waits for the loop while holding mu, and the loop must still finish.
	sweptMu sync.Mutex
	swept   time.Time
}

// New returns the scheduler; Start runs it.
func New(d Deps, cfg Config) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	return &Service{d: d, cfg: cfg, log: d.Logger, poke: make(chan struct{}, 1)}
}

// Interval is how long an incident of severity may go without an update before it is
// nudged; 0 when it never is.
func (s *Service) Interval(severity string) time.Duration {
	if d, ok := s.cfg.Reminders[severity]; ok {
		return d
	}
	return s.cfg.Reminders[DefaultKey]
}

// Start arms what the open incidents lack — a reminder, once reminders are configured;
// a timer for each periodic runbook loaded — and starts the scheduler, whose first
// sweep finishes the firings a previous process left undone. Start it after the
// executor, which the periodic runs need.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return errors.New("timers: already started")
	}
	open := true
	incs, err := s.d.Incidents.ListIncidents(ctx, runbook.IncidentFilter{Open: &open})
	if err != nil {
		return fmt.Errorf("timers: list open incidents: %w", err)
	}
	now := s.cfg.Now()
	for _, inc := range incs {
		if err := s.arm(ctx, inc, now, false); err != nil {
			return fmt.Errorf("timers: %w", err)
		}
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Go(func() { s.loop(loopCtx) })
	return nil
}

// Stop ends the scheduler and waits for it. A firing it was acting on stays undone in
// the store and is finished by the next Start.
func (s *Service) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.wg.Wait()
	s.cancel = nil
}

// Swept is the clock's time at the start of the last sweep that finished: every timer
// due by then has fired. Tests that move the clock wait on it.
func (s *Service) Swept() time.Time {
	s.sweptMu.Lock()
	defer s.sweptMu.Unlock()
	return s.swept
}

// Declared arms a new incident's timers: its reminder one interval from now, and a
// timer for each periodic runbook, whose first run comes one interval from now.
func (s *Service) Declared(ctx context.Context, inc *runbook.Incident) {
	if err := s.arm(ctx, inc, s.cfg.Now(), true); err != nil {
		s.log.Error("arm the timers of a new incident", "incident", inc.Key(), "err", err)
	}
	s.wake()
}

// Changed follows a change of an incident: resolving it stops its timers, reopening
// arms them again, and a status change or a note puts off its reminder by a whole
// interval from now.
func (s *Service) Changed(ctx context.Context, before, after *runbook.Incident, noted bool) {
	var err error
	switch {
	case !after.ResolvedAt.IsZero():
		err = s.d.Timers.DeleteIncidentTimers(ctx, after.ID)
	case !before.ResolvedAt.IsZero():
		err = s.arm(ctx, after, s.cfg.Now(), true)
	case noted || before.Status != after.Status || before.Severity != after.Severity:
		// A new severity brings its own interval, counted from the change.
		err = s.setReminder(ctx, after, s.cfg.Now())
	default:
		return
	}
	if err != nil {
		s.log.Error("follow an incident's change with its timers", "incident", after.Key(), "err", err)
	}
	s.wake()
}

// arm makes sure an open incident has its timers. reset moves its reminder to one
// interval from now even if it has one.
func (s *Service) arm(ctx context.Context, inc *runbook.Incident, now time.Time, reset bool) error {
	if every := s.Interval(inc.Severity); every > 0 {
		var err error
		if reset {
			err = s.setReminder(ctx, inc, now)
		} else {
			err = s.d.Timers.EnsureTimer(ctx, runbook.TimerReminder, inc.ID, "", now.Add(every))
		}
		if err != nil {
			return err
		}
	}
	for _, rb := range s.d.Catalog().List() {
		for _, every := range rb.Periodic() {
			if err := s.d.Timers.EnsureTimer(ctx, runbook.TimerEvery, inc.ID, everyName(rb.Name, every), now.Add(every)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setReminder moves an incident's reminder to one interval from now, or removes it
// when its severity is never nudged.
func (s *Service) setReminder(ctx context.Context, inc *runbook.Incident, now time.Time) error {
	every := s.Interval(inc.Severity)
	if every <= 0 {
		return s.dropReminder(ctx, inc.ID)
	}
	return s.d.Timers.SetTimer(ctx, runbook.TimerReminder, inc.ID, "", now.Add(every))
}

// dropReminder removes an incident's reminder, when its severity is not nudged: a
// change of severity arms one again (SetTimer), and so does a start once the
// configuration nudges it (EnsureTimer), and a Snooze finds none to put off.
func (s *Service) dropReminder(ctx context.Context, incidentID int64) error {
	timers, err := s.d.Timers.IncidentTimers(ctx, incidentID)
	if err != nil {
		return err
	}
	for _, t := range timers {
		if t.Kind == runbook.TimerReminder {
			return s.d.Timers.DeleteTimer(ctx, t.ID)
		}
	}
	return nil
}

// farFuture is the next firing of a reminder whose severity is no longer nudged, until
// acting on its firing removes it.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// everyName names the timer of a runbook's every: interval: "status-update@30m0s".
func everyName(runbookName string, every time.Duration) string {
	return runbookName + "@" + every.String()
}

// parseEveryName reads a name made by everyName.
func parseEveryName(name string) (string, time.Duration, bool) {
	i := strings.LastIndex(name, "@")
	if i < 0 {
		return "", 0, false
	}
	d, err := time.ParseDuration(name[i+1:])
	return name[:i], d, err == nil && d > 0
}

// Wake makes the scheduler look at the timers now. The service wakes itself when it
// changes a timer and when the clock reaches the next one; whoever changes the timers
// or moves the clock by other means (a test moving its clock past several timers,
// say) calls Wake.
func (s *Service) Wake() { s.wake() }

// wake makes the loop look at the timers again without blocking.
func (s *Service) wake() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// loop sweeps, then sleeps until the next timer is due or the timers change.
func (s *Service) loop(ctx context.Context) {
	for {
		wait, ok := s.sweep(ctx)
		var alarm <-chan time.Time
		if ok {
			alarm = s.cfg.After(max(wait, 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-alarm:
		case <-s.poke:
		}
	}
}

// sweep finishes the firings left undone, fires the timers that are due, and says how
// long to sleep until the next is due (ok false: no timers, sleep until woken).
func (s *Service) sweep(ctx context.Context) (wait time.Duration, ok bool) {
	now := s.cfg.Now()
	retry := false
	undone, err := s.d.Timers.UndoneFirings(ctx)
	if err != nil {
		s.logErr("list undone timer firings", err)
		return retryDelay, true
	}
	for _, f := range undone {
		if ctx.Err() != nil {
			return 0, false
		}
		// Left undone by a crash or an earlier failure: what it posted may be in Slack.
		retry = !s.fire(ctx, f, true) || retry
	}
	due, err := s.d.Timers.DueTimers(ctx, now)
	if err != nil {
		s.logErr("list due timers", err)
		return retryDelay, true
	}
	for _, t := range due {
		if ctx.Err() != nil {
			return 0, false
		}
		f, claimed, err := s.d.Timers.ClaimTimer(ctx, t.ID, t.Seq, now, s.next(ctx, t, now))
		if err != nil {
			s.logErr("claim a timer", err, "timer", t.ID)
			retry = true
			continue
		}
		if claimed {
			retry = !s.fire(ctx, f, false) || retry
		}
	}
	s.sweptMu.Lock()
	s.swept = now
	s.sweptMu.Unlock()
	next, ok, err := s.d.Timers.NextDue(ctx)
	switch {
	case err != nil:
		s.logErr("find the next timer", err)
		return retryDelay, true
	case retry && (!ok || next.Sub(now) > retryDelay):
		return retryDelay, true
	case !ok:
		return 0, false
	}
	return next.Sub(s.cfg.Now()), true
}

// next is when a timer firing now is due again: a reminder one interval from now (it
// repeats until an update or a snooze moves it); a periodic timer one interval after
// it was due, or, when it was overdue by more than that (the bot was down), one
// interval from now, so that downtime brings one catch-up run, not a burst.
func (s *Service) next(ctx context.Context, t *runbook.Timer, now time.Time) time.Time {
	switch t.Kind {
	case runbook.TimerEvery:
		if _, every, ok := parseEveryName(t.Name); ok {
			if next := t.DueAt.Add(every); next.After(now) {
				return next
			}
			return now.Add(every)
		}
	case runbook.TimerReminder:
		// The severity may have changed since: the interval is read when acting, and
		// the next firing is re-armed from it.
		if inc, err := s.d.Incidents.Incident(ctx, t.IncidentID); err == nil {
			if every := s.Interval(inc.Severity); every > 0 {
				return now.Add(every)
			}
		}
	}
	return farFuture
}

// fire acts on a claimed firing and records it as done; it reports false when it
// should be tried again (Slack or the store failed for a while). again says the
// firing may have been acted on before, by a process that died before recording it.
func (s *Service) fire(ctx context.Context, f *runbook.TimerFiring, again bool) bool {
	var channel, ts string
	var err error
	switch f.Kind {
	case runbook.TimerReminder:
		channel, ts, err = s.remind(ctx, f, again)
	case runbook.TimerEvery:
		err = s.runPeriodic(ctx, f)
	default:
		s.log.Warn("timer of an unknown kind", "kind", f.Kind, "timer", f.TimerID)
	}
	if err != nil {
		if passing(err) {
			s.logErr("act on a timer", err, "incident", runbook.IncidentKey(f.IncidentID), "kind", f.Kind, "firing", f.Key())
			return false
		}
		// A refusal (a channel gone, a runbook that cannot start) would be refused
		// again: say so once and let the next firing try.
		s.log.Warn("a timer could not act", "incident", runbook.IncidentKey(f.IncidentID), "kind", f.Kind, "firing", f.Key(), "err", err)
	}
	if err := s.d.Timers.FiringDone(ctx, f.TimerID, f.Seq, channel, ts); err != nil {
		s.logErr("record a timer firing as done", err, "firing", f.Key())
		return false
	}
	return true
}

// passing reports whether an error may go away by itself: Slack down, the database
// busy or failing, the process stopping.
func passing(err error) bool {
	code := runbook.ErrorCode(err)
	return code == runbook.EUNAVAILABLE || code == "" || errors.Is(err, context.Canceled)
}

// openIncident reads a firing's incident; nil when it is gone or resolved, whose
// timers it then removes.
func (s *Service) openIncident(ctx context.Context, f *runbook.TimerFiring) (*runbook.Incident, error) {
	inc, err := s.d.Incidents.Incident(ctx, f.IncidentID)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !inc.ResolvedAt.IsZero() {
		// Resolved incidents are never nudged, nor run for.
		return nil, s.d.Timers.DeleteIncidentTimers(ctx, inc.ID)
	}
	return inc, nil
}

// remind posts the nudge of a reminder's firing in the incident channel, or where the
// incident was announced, and returns where. A firing delivered again first looks for
// the nudge it may have posted.
func (s *Service) remind(ctx context.Context, f *runbook.TimerFiring, again bool) (channel, ts string, err error) {
	inc, err := s.openIncident(ctx, f)
	if inc == nil || err != nil {
		return "", "", err
	}
	if s.Interval(inc.Severity) <= 0 {
		return "", "", s.d.Timers.DeleteTimer(ctx, f.TimerID) // its severity is no longer nudged
	}
	channel = inc.Channel
	if channel == "" {
		channel = inc.AnnouncementChannel
	}
	if channel == "" {
		s.log.Warn("an incident to remind has neither a channel nor an announcement", "incident", inc.Key())
		return "", "", nil
	}
	tag := slackui.ReminderTag(f)
	if again {
		posted, found, err := runbook.FindTagged(ctx, s.d.Slack, channel, tag)
		if err != nil {
			return "", "", fmt.Errorf("look for an earlier reminder of %s: %w", inc.Key(), err)
		}
		if found {
			return posted.Channel, posted.TS, nil
		}
	}
	msg := slackui.Reminder(inc, s.lastUpdate(ctx, inc), Snooze, f)
	msg.Channel, msg.Metadata = channel, &tag
	posted, err := s.d.Slack.PostMessage(ctx, msg)
	if err != nil {
		return "", "", fmt.Errorf("remind %s: %w", inc.Key(), err)
	}
	s.log.Info("reminded an incident to post an update", "incident", inc.Key(), "channel", posted.Channel, "firing", f.Key())
	return posted.Channel, posted.TS, nil
}

// updateKinds are the timeline entries that count as an update: a status change, or a
// note of any kind (a plain note, a hypothesis, a root cause, …).
var updateKinds = append([]string{runbook.TimelineDeclared, runbook.TimelineStatus, runbook.TimelineNote}, runbook.NoteKinds...)

// lastUpdate is when the incident was last updated, from its timeline.
func (s *Service) lastUpdate(ctx context.Context, inc *runbook.Incident) time.Time {
	entries, err := s.d.Incidents.Timeline(ctx, inc.ID)
	if err != nil {
		return inc.CreatedAt
	}
	for _, e := range slices.Backward(entries) {
		if slices.Contains(updateKinds, e.Kind) {
			return e.At
		}
	}
	return inc.CreatedAt
}

// runPeriodic starts the run of a periodic timer's firing, when its runbook still has
// that interval, its conditions hold, and the run of the previous firing is over.
func (s *Service) runPeriodic(ctx context.Context, f *runbook.TimerFiring) error {
	inc, err := s.openIncident(ctx, f)
	if inc == nil || err != nil {
		return err
	}
	name, every, _ := parseEveryName(f.Name)
	rb, ok := s.d.Catalog().Get(name)
	if !ok || !slices.Contains(rb.Periodic(), every) {
		s.log.Info("a periodic runbook is no longer loaded with this interval; its timer is removed", "incident", inc.Key(), "timer", f.Name)
		return s.d.Timers.DeleteTimer(ctx, f.TimerID)
	}
	if !rb.DueEvery(every, runbooks.IncidentData(inc)) {
		return nil
	}
	if going, err := s.going(ctx, f); err != nil || going != nil {
		if going != nil {
			// Runs of one runbook for one incident do not pile up behind a slow step
			// or an approval nobody has decided.
			s.log.Info("periodic run skipped: the previous one is still going", "incident", inc.Key(), "runbook", name, "run", going.Key())
		}
		return err
	}
	run, err := s.d.Starter.StartPeriodic(ctx, rb, inc.ID, f.Key())
	if err != nil {
		return fmt.Errorf("start %s for %s: %w", name, inc.Key(), err)
	}
	s.log.Info("periodic run started", "incident", inc.Key(), "runbook", name, "run", run.Key(), "firing", f.Key())
	return nil
}

// recentRuns is how many of an incident's newest runs going reads.
const recentRuns = 200

// going returns a run an earlier firing of f's timer started that has not ended, or nil.
//
// It reads the incident's newest runs, not every active run: with a backlog of
// thousands of runs waiting for a slot, loading them all at each firing is the memory
// spike admission control exists to prevent. While a run of the timer is going its
// later firings start none, so it is among the newest unless the incident started
// recentRuns others since.
func (s *Service) going(ctx context.Context, f *runbook.TimerFiring) (*runbook.Run, error) {
	runs, err := s.d.Runs.ListRuns(ctx, f.IncidentID, recentRuns)
	if err != nil {
		return nil, err
	}
	prefix := (&runbook.TimerFiring{TimerID: f.TimerID}).Key()
	prefix = prefix[:strings.LastIndex(prefix, "/")+1]
	for _, r := range runs {
		if !r.State.Final() && strings.HasPrefix(r.RequestKey, prefix) && r.RequestKey != f.Key() {
			return r, nil
		}
	}
	return nil, nil
}

func (s *Service) logErr(what string, err error, args ...any) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error(what, append(args, "err", err)...)
}
