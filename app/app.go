// Package app assembles a running Runbook from its configuration: the store, the Slack
// client, the handlers and the bot (over Socket Mode, or Slack's request URLs in HTTP
// mode). The binary, the demo and the end-to-end tests all start Runbook through it, so
// they run the same program.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/api"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/handlers"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/observe"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/store"
	"github.com/runbookhq/runbook/timers"
)

// Options are the parts of the environment the configuration does not cover.
type Options struct {
	Logger *slog.Logger
	// HealthWindow is how long Slack may be silent before /readyz fails (the ping
	// interval, when zero).
	HealthWindow time.Duration
	// PingInterval is how long the bot waits for Slack's ping before it reconnects
	// (slack-go's default, 30 s, when zero).
	PingInterval time.Duration
	// SlackRetryInterval is the first pause before a Slack call is tried again (the
	// adapter's 500 ms when zero); the pauses grow from it. Tests shorten it.
	SlackRetryInterval time.Duration
	// Now is the clock of the runs, the approvals, the timers and what the store
	// stamps (time.Now when nil); tests move it.
	Now func() time.Time
	// After waits on the clock Now reads, for the timers (time.After when nil): a test
	// that moves Now gives one that fires as it moves past the deadline.
	After func(time.Duration) <-chan time.Time
	// SigningClock is the clock HTTP mode checks request timestamps against (time.Now
	// when nil); tests set it to sign requests at a time they choose.
	SigningClock func() time.Time
	// Sandbox keeps acting steps on this machine whatever the configuration allows:
	// http.request reaches only loopback hosts and command.run runs nothing. The
	// runbooks are still checked against the configuration's limits. The demo uses it,
	// so that trying your runbooks never touches production.
	Sandbox bool
}

// App is an assembled Runbook.
type App struct {
	Config    *config.Config
	DB        *store.DB
	Bot       *bot.Bot
	Slack     *slackapi.Client
	Executor  *engine.Executor
	Incidents *incidents.Service
	Approvals *approvals.Service
	// Timers fires update reminders and periodic runbooks.
	Timers *timers.Service
	// Handler answers requests; the bot calls it, and tests may call it directly to
	// handle one request twice as a crash and its redelivery would.
	Handler runbook.Handler
	Metrics *observe.Metrics
	HTTP    *observe.Server
	// API serves /api/v1/ on HTTP when api.tokens is set.
	API     *api.Server
	catalog atomic.Pointer[runbooks.Catalog]
	// loaded is set once Run has loaded the runbooks directory (readiness).
	loaded atomic.Bool
	// lock is the database's instance lock, taken by Run and released by Close.
	lock *instanceLock
	log  *slog.Logger
}

// New checks the configuration and the runbooks directory, then opens the store and
// builds the bot: a bot that cannot start leaves nothing on disk. It does not connect;
// Run does. With the Slack integration off it builds only the probes (off.go).
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	if err := errors.Join(cfg.Validate(), cfg.RequireTokens()); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if keys := cfg.IgnoredKeys(); len(keys) > 0 {
		logger.Info("RunbookAI settings Runbook has no use for are ignored", "keys", keys)
	}
	if cfg.RunbookAIShape() && cfg.Slack.HTTPMode() && cfg.Slack.Enabled {
		// Chosen for the file, not written in it: say so, as it opens a listener.
		logger.Info("HTTP mode: Slack posts requests to /slack/* on http.addr (a signing secret and no app-level token, as RunbookAI's webhook server)",
			"addr", cfg.HTTP.Addr)
	}
	if !cfg.Slack.Enabled {
		return newOff(cfg, logger), nil
	}
	if err := checkRunbooksDir(cfg.Runbooks.Dir); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Store.Path, err)
	}
	db.SetLogger(logger.With("component", "store"))
	if opts.Now != nil {
		// One clock: what the store stamps (a decision's time, a vote's) is compared
		// with what the approvals and the timers read, and two clocks would make a
		// decision taken now look an hour old to a sweeper whose clock was moved.
		db.Now = opts.Now
	}

	httpClient := &http.Client{Timeout: 30 * time.Second}
	slackLog := slog.NewLogLogger(logger.With("component", "slack-go").Handler(), slog.LevelDebug)
	clientOpts := []slack.Option{
		slack.OptionAPIURL(cfg.Slack.APIURL),
		slack.OptionHTTPClient(httpClient),
		slack.OptionLog(slackLog),
	}
	liveness := &bot.Liveness{}
	// In HTTP mode no Socket Mode connection is opened, so the bot has no socket
	// factory and the client no app-level token.
	var newSocket bot.SocketFactory
	if !cfg.Slack.HTTPMode() {
		clientOpts = append(clientOpts, slack.OptionAppLevelToken(cfg.Slack.AppToken.Reveal()))
	}
	client := slack.New(cfg.Slack.BotToken.Reveal(), clientOpts...)
	if !cfg.Slack.HTTPMode() {
		socketOpts := []socketmode.Option{socketmode.OptionLog(slackLog)}
		if opts.PingInterval > 0 {
			socketOpts = append(socketOpts, socketmode.OptionPingInterval(opts.PingInterval))
		}
		newSocket = func(more ...socketmode.Option) *socketmode.Client {
			return socketmode.New(client, append(slices.Clone(socketOpts), more...)...)
		}
	}
	adapter := slackapi.New(client, httpClient, logger.With("component", "slack"))
	if opts.SlackRetryInterval > 0 {
		adapter.RetryInterval = opts.SlackRetryInterval
	}
	a := &App{Config: cfg, DB: db, Slack: adapter, log: logger}
	a.Metrics = observe.NewMetrics(db.Runs().StateCounts, db.Approvals().StateCounts, bot.RefusedReasons...)
	adapter.OnCall = a.Metrics.SlackCall
	a.catalog.Store(runbooks.NewCatalog())
	a.assemble(cfg, db, adapter, logger, opts)
	h := handlers.New(handlers.Deps{
		Logger:        logger.With("component", "handlers"),
		Incidents:     a.Incidents,
		IncidentStore: db.Incidents(),
		Runs:          db.Runs(),
		Executor:      a.Executor,
		Catalog:       a.Catalog,
		Slack:         adapter,
		Services:      slices.Sorted(maps.Keys(cfg.Services)),
		Permissions: handlers.Permissions{Admins: cfg.Permissions.Admins, Responders: cfg.Permissions.Responders,
			Declare: cfg.Permissions.Declare},
		Approvals: a.Approvals,
		Audit:     db.Audit(),
		Timers:    a.Timers,
	})
	a.Handler = h
	a.Bot = bot.New(newSocket, adapter, h, db.Inbox(), bot.Options{
		Workers:         cfg.Bot.Workers,
		Queue:           cfg.Bot.Queue,
		AckBudget:       cfg.Bot.AckBudget,
		ShutdownTimeout: cfg.Bot.ShutdownTimeout,
		Logger:          logger.With("component", "bot"),
		Observer:        a.Metrics,
		Liveness:        liveness,
		Connections:     cfg.Slack.Connections,
		Refuse:          a.refusal,
		Admit:           a.Executor.Admit,
		MaxOwed:         cfg.Limits.SlackCalls,
		SlackPending:    adapter.Pending,
	})
	if cfg.HTTP.Addr != "" {
		window := opts.HealthWindow
		if window <= 0 {
			window = max(opts.PingInterval, 30*time.Second)
		}
		a.HTTP = observe.NewServer(cfg.HTTP.Addr, a.Metrics, a.probes(window), logger.With("component", "http"))
	}
	if cfg.Slack.HTTPMode() {
		// Validate made http.addr required in this mode, so a.HTTP exists.
		a.Bot.NewHTTPReceiver(cfg.Slack.SigningSecret.Reveal(), bot.HTTPOptions{Now: opts.SigningClock}).Mount(a.HTTP)
	}
	if len(cfg.API.Tokens) > 0 {
		// Validate made http.addr required with api.tokens, so a.HTTP exists.
		a.API = api.New(a.apiDeps(cfg, logger, opts.After))
		a.API.Mount(a.HTTP)
	}
	return a, nil
}

// apiDeps are what the API acts through.
func (a *App) apiDeps(cfg *config.Config, logger *slog.Logger, after func(time.Duration) <-chan time.Time) api.Deps {
	tokens := make([]api.Token, len(cfg.API.Tokens))
	for i, t := range cfg.API.Tokens {
		tokens[i] = api.Token{Name: t.Name, Value: t.Token.Reveal()}
		for _, s := range t.Scopes {
			tokens[i].Scopes = append(tokens[i].Scopes, api.Scope(s))
		}
	}
	return api.Deps{
		Tokens:        tokens,
		Audit:         a.DB.Audit(),
		Logger:        logger.With("component", "api"),
		Refuse:        a.refusal,
		Incidents:     a.Incidents,
		IncidentStore: a.DB.Incidents(),
		Services:      slices.Sorted(maps.Keys(cfg.Services)),
		AlertSeverity: cfg.AlertSeverity,
		Permalink: func(ctx context.Context, channel, ts string) (string, error) {
			return a.Slack.Permalink(ctx, channel, ts, "")
		},
		Admit: a.Executor.Admit,
		// Long-polls wait on the clock the approvals expire by.
		Approvals: a.Approvals,
		After:     after,
	}
}

// probes are /healthz and /readyz. Liveness asks only whether the process still
// answers and its database does: a bot waiting out a Slack outage is alive, and
// restarting it would not bring Slack back. Readiness asks whether it can serve now:
// Slack heard from within window, a write can begin, the runbooks loaded. In HTTP
// mode there is no connection to Slack to be up: readiness is the bot taking requests
// (auth.test passed at start, the workers up), the store writable and the runbooks
// loaded; the listener is up, or /readyz would not be answered.
//
// After the database file was lost (fenceLostDatabase) the bot is alive but never
// ready again: a restart would open whatever the path holds now — an empty new
// database where the file was deleted — so restarting is left to the operator, who
// puts the right file back first. /healthz then does not touch the database, whose
// new connections would open that path.
func (a *App) probes(window time.Duration) observe.Probes {
	return observe.Probes{
		Live: observe.HealthFunc(func(ctx context.Context) error {
			if a.DB.Lost() != nil {
				return nil
			}
			return a.DB.Ping(ctx)
		}),
		Ready: observe.HealthFunc(func(ctx context.Context) error {
			var notLoaded error
			if !a.loaded.Load() {
				notLoaded = errors.New("runbooks not loaded yet")
			}
			return errors.Join(a.Bot.Healthy(window), a.DB.Writable(ctx), notLoaded)
		}),
	}
}

// assemble builds the services in order, each from what was built before it: the
// investigation updates, the engine, the incident and approval services that use the
// engine, and last the engine's action families, which act through those services.
func (a *App) assemble(cfg *config.Config, db *store.DB, adapter *slackapi.Client, logger *slog.Logger, opts Options) {
	now := opts.Now
	hosts, programs := cfg.Actions.HTTP.AllowedHosts, cfg.Actions.Command.Allowed
	if opts.Sandbox {
		hosts, programs = sandboxHosts, nil
	}
	updateChannel := ""
	if cfg.Slack.InvestigationUpdates {
		updateChannel = cfg.Slack.UpdateChannel
	}
	updates := incidents.NewUpdates(db.Incidents(), adapter, updateChannel, logger.With("component", "incidents"))
	a.Executor = engine.New(engine.Deps{
		Runs: db.Runs(), Incidents: db.Incidents(), Slack: adapter,
		Catalog:        a.Catalog,
		Logger:         logger.With("component", "executor"),
		Now:            now,
		DefaultChannel: cfg.Slack.DefaultChannel,
		Progress:       updates,
		Secrets:        cfg.SecretValues(),
		Fields:         runbook.FieldNames(cfg.Incidents.FieldSpecs()),
		Roles:          cfg.Incidents.Roles,
		ActiveRuns:     cfg.Limits.ActiveRuns,
		QueuedRuns:     cfg.Limits.QueuedRuns,
		RunsPerPerson:  cfg.Limits.RunsPerPerson,
	})
	// The timers start periodic runs through the engine; the incident service tells
	// them of declarations and changes.
	a.Timers = timers.New(timers.Deps{
		Timers: db.Timers(), Incidents: db.Incidents(), Runs: db.Runs(), Slack: adapter,
		Starter: a.Executor, Catalog: a.Catalog, Logger: logger.With("component", "timers"),
	}, timers.Config{Reminders: cfg.Incidents.Reminders, Now: now, After: opts.After})
	a.Incidents = incidents.New(db.Incidents(), adapter, a.Executor, updates, incidents.Config{
		Severities:     cfg.Incidents.Severities,
		Statuses:       cfg.Incidents.Statuses,
		Roles:          cfg.Incidents.Roles,
		ServiceChannel: cfg.ServiceChannel,
		Timers:         a.Timers,
		Fields:         cfg.Incidents.FieldSpecs(),
		After:          opts.After,
	}, logger.With("component", "incidents"))
	a.Approvals = approvals.New(db.Approvals(), adapter, a.Executor, db.Audit(), db.Incidents(), approvals.Config{
		Approvers:           cfg.Approvals.Approvers,
		AllowSelfApproval:   cfg.Approvals.AllowSelfApproval,
		RequireDenialReason: cfg.Approvals.RequireDenialReason,
		SweepInterval:       cfg.Approvals.SweepInterval,
		Now:                 now,
		After:               opts.After,
		Channel:             cfg.Slack.ApprovalChannel,
		DefaultChannel:      cfg.Slack.DefaultChannel,
		Timeout:             cfg.Approvals.Timeout,
		Required:            cfg.Approvals.Required,
	}, logger.With("component", "approvals"))
	a.Executor.Register(
		engine.SlackActions(a.Incidents),
		engine.IncidentActions(a.Incidents),
		engine.WaitActions(),
		engine.HTTPActions(engine.HTTPSettings{AllowedHosts: hosts}),
		engine.CommandActions(engine.CommandSettings{Allowed: programs}),
		engine.ApprovalActions(db.Approvals(), a.Approvals, engine.ApprovalSettings{
			Channel:   cfg.Slack.ApprovalChannel,
			Timeout:   cfg.Approvals.Timeout,
			Approvers: cfg.Approvals.Approvers,
			Required:  cfg.Approvals.Required,
		}),
		engine.SummaryActions(a.Incidents),
	)
}

// sandboxHosts are the hosts acting steps may reach in a sandbox.
var sandboxHosts = []string{"127.0.0.1", "localhost", "::1"}

// RunbookSettings are what runbooks are checked against from the configuration: the
// secret names, the hosts and programs steps may reach, and the severities, statuses
// and services that triggers and incident.update steps may name.
func RunbookSettings(cfg *config.Config) runbooks.Settings {
	services := make([]string, 0, len(cfg.Services))
	for name := range cfg.Services {
		services = append(services, name)
	}
	slices.Sort(services)
	return runbooks.Settings{Secrets: cfg.SecretNames(), AllowedHosts: cfg.Actions.HTTP.AllowedHosts,
		AllowedPrograms: cfg.Actions.Command.Allowed, Severities: cfg.Incidents.Severities,
		Statuses: cfg.Incidents.Statuses, Services: services, Roles: cfg.Incidents.Roles,
		Fields: runbook.FieldNames(cfg.Incidents.FieldSpecs()), FieldSpecs: cfg.Incidents.FieldSpecs()}
}

// Catalog returns the runbooks loaded when Run started.
func (a *App) Catalog() *runbooks.Catalog { return a.catalog.Load() }

// checkRunbooksDir fails when the runbooks directory cannot be read: a bot that
// started without it would look healthy and answer every run with "No runbooks are
// loaded".
func checkRunbooksDir(dir string) error {
	_, err := os.ReadDir(dir)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return runbook.Errorf(runbook.EINVALID, "runbooks.dir %s does not exist: create it and put your runbooks there, or point runbooks.dir at them", dir)
	case errors.Is(err, fs.ErrPermission):
		return runbook.Errorf(runbook.EINVALID, "runbooks.dir %s cannot be read (permission denied): let the bot's user read it", dir)
	}
	return runbook.Errorf(runbook.EINVALID, "runbooks.dir %s cannot be read: %v", dir, err)
}

// loadRunbooks loads the runbooks directory. A broken file is logged and left out,
// rather than keeping the bot from starting in the middle of an incident; `bot
// validate` is the place to catch it. An empty directory is a warning, not an error:
// incidents can be declared, updated and resolved without any runbook, and a team may
// start there. A directory that cannot be read is an error.
func loadRunbooks(dir string, settings runbooks.Settings, logger *slog.Logger) (*runbooks.Catalog, error) {
	catalog, err := settings.LoadDir(dir)
	ps, broken := errors.AsType[*runbooks.Problems](err)
	switch {
	case broken:
		for _, p := range *ps {
			logger.Error("runbook left out", "problem", p.String())
		}
	case err != nil:
		if err := checkRunbooksDir(dir); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("runbooks.dir %s: %w", dir, err)
	}
	if catalog == nil {
		catalog = runbooks.NewCatalog()
	}
	if len(catalog.Names()) == 0 && !broken {
		logger.Warn("the runbooks directory has no runbooks: incidents can be declared, but there is nothing to run", "dir", dir)
	}
	logger.Info("runbooks loaded", "dir", dir, "count", len(catalog.Names()))
	return catalog, nil
}

// Run takes the database's instance lock, resumes unfinished runs and serves until ctx
// is cancelled or Slack rejects the tokens; then it stops the runs in flight (they
// resume at the next start). While Slack cannot be reached at start it waits for it,
// serving /healthz (alive) and /readyz (not ready); ctx ending meanwhile is a clean
// stop. Close releases the lock.
func (a *App) Run(ctx context.Context) error {
	if !a.Config.Slack.Enabled {
		return a.runOff(ctx)
	}
	// The lock belongs to a running bot, not to the store: tests, `bot plan` and a
	// second assembled App (as another process would have it) may open the database.
	lock, err := lockDatabase(a.Config.Store.Path)
	if err != nil {
		return err
	}
	a.lock = lock
	if a.HTTP != nil {
		if err := a.HTTP.Start(); err != nil {
			return err
		}
		if a.Config.Slack.HTTPMode() {
			a.log.Info("serving Slack's request URLs, /healthz, /readyz and /metrics", "addr", a.HTTP.Addr(),
				"paths", []string{bot.PathEvents, bot.PathInteractions, bot.PathCommands})
		} else {
			a.log.Info("serving /healthz, /readyz and /metrics", "addr", a.HTTP.Addr())
		}
	}
	// Checked first, so that a wrong token is the one line a person sees.
	if _, err := a.Slack.IdentifyAtStart(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	catalog, err := loadRunbooks(a.Config.Runbooks.Dir, RunbookSettings(a.Config), a.log)
	if err != nil {
		return err
	}
	a.catalog.Store(catalog)
	a.loaded.Store(true)
	a.warnUnusableGroups(ctx, catalog)
	// Investigation updates are posted apart from the work that reports them; at the
	// stop signal, what is queued is posted while the bot drains.
	updatesCtx, stopUpdates := context.WithCancel(ctx) // also stopped when Run fails
	var updates sync.WaitGroup
	updates.Go(func() { a.Incidents.Run(updatesCtx) })
	defer func() { stopUpdates(); updates.Wait() }()
	if err := a.Executor.Start(ctx); err != nil {
		return err
	}
	defer a.Executor.Stop()
	// After the executor (settling a decision resumes its run), before the bot serves
	// clicks.
	if err := a.Approvals.Start(ctx); err != nil {
		return err
	}
	defer a.Approvals.Stop()
	// After the executor (periodic runs need it), before the bot serves the reminders'
	// buttons; its first sweep finishes the firings a previous process left undone.
	if err := a.Timers.Start(ctx); err != nil {
		return err
	}
	defer a.Timers.Stop()
	// Once everything that writes has started, so that a loss stops all of it.
	fenceCtx, stopFence := context.WithCancel(ctx)
	var fence sync.WaitGroup
	fence.Go(func() { a.fenceLostDatabase(fenceCtx, stopUpdates) })
	defer func() { stopFence(); fence.Wait() }()
	return a.Bot.Run(ctx)
}

// warnUnusableGroups logs, as the bot starts, each user group named in the runbooks
// that the workspace cannot use (a Free plan has none; a group may be disabled): runs
// skip them, and the operator should hear of it before an incident does. The
// configured approvers are checked by the approvals service. A Slack failure here only
// leaves this unchecked. The look-ups are made apart from the bot's own, so that their
// answers (an @handle that names nobody yet) are not remembered for the runs.
func (a *App) warnUnusableGroups(ctx context.Context, catalog *runbooks.Catalog) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	warnings, free, err := UnusableGroups(ctx, a.Slack.Apart(), catalog)
	if err != nil {
		a.log.Warn("cannot check the user groups the runbooks name", "err", err)
	}
	if free {
		a.log.Warn("this Slack workspace has no user groups (Slack's Free plan): runs skip the groups their runbooks name")
	}
	for _, w := range warnings {
		a.log.Warn(w)
	}
}

// refusal is the sentence every new request is turned away with once the database
// file was deleted or replaced, or nil. It looks at the files (a few stat calls), so
// that the first request after a loss is the first one turned away, whatever the
// periodic watch's timing.
func (a *App) refusal() error {
	lost, ok := errors.AsType[*store.FileLost](a.DB.Check())
	if !ok {
		return nil
	}
	what := "replaced"
	if lost.Deleted {
		what = "deleted"
	}
	return runbook.Errorf(runbook.EUNAVAILABLE,
		"Runbook has stopped taking requests: its database file was %s while it was running, so nothing it did now would be kept. "+
			"Your request was not carried out. Whoever runs Runbook has been told how to restore it and restart it.", what)
}

// fenceLostDatabase waits for the store to find its file deleted or replaced, then
// stops the work that writes to it: the runs (each stays as last recorded, and is
// resumed by the next start on the restored file), the approval sweeps, the timers and
// the investigation updates. The bot stays connected and turns every new request away
// (refusal), so that people are told rather than left with a command that seems
// accepted and is then lost. Then it copies what the store held to a rescue file,
// which the log line names: after a deletion it is the only copy of what was written.
func (a *App) fenceLostDatabase(ctx context.Context, stopUpdates func()) {
	select {
	case <-ctx.Done():
		return
	case <-a.DB.LostC():
	}
	lost, _ := errors.AsType[*store.FileLost](a.DB.Lost())
	path := a.Config.Store.Path
	// The work stops before the copy is made: writes are refused already, so the copy
	// holds the same either way, but reads may now come from a new connection on the
	// file at the path, and nothing should act on what they say.
	a.Executor.Stop()
	a.Approvals.Stop()
	a.Timers.Stop()
	stopUpdates()
	rescueCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	rescued, rescueErr := a.DB.Rescue(rescueCtx)
	cancel()

	msg := lost.Error() + "; Runbook has stopped taking work and turns every request away. "
	switch {
	case rescueErr != nil:
		msg += "What it held could not be copied (see rescue_err). "
	case lost.Deleted:
		msg += "What it held is copied to " + rescued + ". "
	default:
		msg += "What it had written to the old file is copied to " + rescued + ". "
	}
	msg += "Stop Runbook, remove any " + path + "-wal and " + path + "-shm left beside it, put the file you want at " + path +
		" (the copy, or your backup), and start Runbook again."
	attrs := []any{"path", lost.Path, "deleted", lost.Deleted}
	if rescueErr != nil {
		attrs = append(attrs, "rescue_err", rescueErr)
	} else {
		attrs = append(attrs, "rescued_to", rescued)
	}
	a.log.Error(msg, attrs...)
}

// Close releases the HTTP listener, the store and then the instance lock, so that the
// next process finds the database closed. Call it after Run has returned.
func (a *App) Close() error {
	if a.API != nil {
		a.API.Stop() // long-polls answer now rather than hold the shutdown
	}
	if a.HTTP != nil {
		a.HTTP.Stop()
	}
	if a.DB == nil { // the Slack integration is off
		return nil
	}
	err := a.DB.Close()
	if a.lock != nil {
		a.lock.release()
		a.lock = nil
	}
	return err
}
