// Package app assembles a running Runbook from its configuration: the store, the Slack
// client, the handlers and the Socket Mode bot. The binary, the demo and the end-to-end
// tests all start Runbook through it, so they run the same program.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/runbookhq/runbook"
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
)

// Options are the parts of the environment the configuration does not cover.
type Options struct {
	Logger *slog.Logger
	// HealthWindow is how long Slack may be silent before /healthz fails (the ping
	// interval, when zero).
	HealthWindow time.Duration
	// PingInterval is how long the bot waits for Slack's ping before it reconnects
	// (slack-go's default, 30 s, when zero).
	PingInterval time.Duration
	// Now is the clock of the runs and the approvals (time.Now when nil); tests move it.
	Now func() time.Time
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
	// Handler answers requests; the bot calls it, and tests may call it directly to
	// handle one request twice as a crash and its redelivery would.
	Handler runbook.Handler
	Metrics *observe.Metrics
	HTTP    *observe.Server
	catalog atomic.Pointer[runbooks.Catalog]
	log     *slog.Logger
}

// New opens the store and builds the bot. It does not connect; Run does.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	if err := errors.Join(cfg.Validate(), cfg.RequireTokens()); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Store.Path, err)
	}
	db.SetLogger(logger.With("component", "store"))

	httpClient := &http.Client{Timeout: 30 * time.Second}
	slackLog := slog.NewLogLogger(logger.With("component", "slack-go").Handler(), slog.LevelDebug)
	api := slack.New(cfg.Slack.BotToken.Reveal(),
		slack.OptionAppLevelToken(cfg.Slack.AppToken.Reveal()),
		slack.OptionAPIURL(cfg.Slack.APIURL),
		slack.OptionHTTPClient(httpClient),
		slack.OptionLog(slackLog),
	)
	liveness := &bot.Liveness{}
	socketOpts := []socketmode.Option{socketmode.OptionLog(slackLog), socketmode.OptionDialer(liveness.Dialer())}
	if opts.PingInterval > 0 {
		socketOpts = append(socketOpts, socketmode.OptionPingInterval(opts.PingInterval))
	}
	socket := socketmode.New(api, socketOpts...)
	adapter := slackapi.New(api, httpClient, logger.With("component", "slack"))
	a := &App{Config: cfg, DB: db, Slack: adapter, log: logger}
	a.Metrics = observe.NewMetrics(db.Runs().StateCounts, db.Approvals().StateCounts)
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
	})
	a.Handler = h
	a.Bot = bot.New(socket, adapter, h, db.Inbox(), bot.Options{
		Workers:         cfg.Bot.Workers,
		Queue:           cfg.Bot.Queue,
		AckBudget:       cfg.Bot.AckBudget,
		ShutdownTimeout: cfg.Bot.ShutdownTimeout,
		Logger:          logger.With("component", "bot"),
		Observer:        a.Metrics,
		Liveness:        liveness,
	})
	if cfg.HTTP.Addr != "" {
		window := opts.HealthWindow
		if window <= 0 {
			window = max(opts.PingInterval, 30*time.Second)
		}
		health := observe.HealthFunc(func(ctx context.Context) error {
			return errors.Join(a.Bot.Healthy(window), db.Ping(ctx))
		})
		if a.HTTP, err = observe.Listen(cfg.HTTP.Addr, a.Metrics, health, logger.With("component", "http")); err != nil {
			db.Close()
			return nil, err
		}
	}
	return a, nil
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
	})
	a.Incidents = incidents.New(db.Incidents(), adapter, a.Executor, updates, incidents.Config{
		Severities:     cfg.Incidents.Severities,
		Statuses:       cfg.Incidents.Statuses,
		ServiceChannel: cfg.ServiceChannel,
	}, logger.With("component", "incidents"))
	a.Approvals = approvals.New(db.Approvals(), adapter, a.Executor, db.Audit(), db.Incidents(), approvals.Config{
		Approvers:           cfg.Approvals.Approvers,
		AllowSelfApproval:   cfg.Approvals.AllowSelfApproval,
		RequireDenialReason: cfg.Approvals.RequireDenialReason,
		SweepInterval:       cfg.Approvals.SweepInterval,
		Now:                 now,
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
		Statuses: cfg.Incidents.Statuses, Services: services}
}

// Catalog returns the runbooks loaded when Run started.
func (a *App) Catalog() *runbooks.Catalog { return a.catalog.Load() }

// loadRunbooks loads the runbooks directory. A broken file is logged and left out,
// rather than keeping the bot from starting in the middle of an incident; `bot
// validate` is the place to catch it.
func loadRunbooks(dir string, settings runbooks.Settings, logger *slog.Logger) *runbooks.Catalog {
	catalog, err := settings.LoadDir(dir)
	if ps, ok := errors.AsType[*runbooks.Problems](err); ok {
		for _, p := range *ps {
			logger.Error("runbook left out", "problem", p.String())
		}
	} else if err != nil {
		logger.Error("no runbooks loaded", "dir", dir, "err", err)
	}
	if catalog == nil {
		catalog = runbooks.NewCatalog()
	}
	logger.Info("runbooks loaded", "dir", dir, "count", len(catalog.Names()))
	return catalog
}

// Run resumes unfinished runs and serves until ctx is cancelled or Slack rejects the
// tokens; then it stops the runs in flight (they resume at the next start).
func (a *App) Run(ctx context.Context) error {
	// Checked first, so that a wrong token is the one line a person sees.
	if _, err := a.Slack.Identify(ctx); err != nil {
		return err
	}
	a.catalog.Store(loadRunbooks(a.Config.Runbooks.Dir, RunbookSettings(a.Config), a.log))
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
	if a.HTTP != nil {
		a.HTTP.Start()
		a.log.Info("serving /healthz and /metrics", "addr", a.HTTP.Addr())
	}
	// After the executor (settling a decision resumes its run), before the bot serves
	// clicks.
	if err := a.Approvals.Start(ctx); err != nil {
		return err
	}
	defer a.Approvals.Stop()
	return a.Bot.Run(ctx)
}

// Close releases the store and the HTTP listener.
func (a *App) Close() error {
	if a.HTTP != nil {
		a.HTTP.Stop()
	}
	return a.DB.Close()
}
