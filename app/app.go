// Package app assembles a running Runbook from its configuration: the store, the Slack
// client, the handlers and the Socket Mode bot. The binary, the demo and the end-to-end
// tests all start Runbook through it, so they run the same program.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/handlers"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/store"
)

// Options are the parts of the environment the configuration does not cover.
type Options struct {
	Logger *slog.Logger
	// PingInterval is how long the bot waits for Slack's ping before it reconnects
	// (slack-go's default, 30 s, when zero).
	PingInterval time.Duration
}

// App is an assembled Runbook.
type App struct {
	Config *config.Config
	DB     *store.DB
	Bot    *bot.Bot
	Slack  *slackapi.Client
	log    *slog.Logger
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

	httpClient := &http.Client{Timeout: 30 * time.Second}
	slackLog := slog.NewLogLogger(logger.With("component", "slack-go").Handler(), slog.LevelDebug)
	api := slack.New(cfg.Slack.BotToken.Reveal(),
		slack.OptionAppLevelToken(cfg.Slack.AppToken.Reveal()),
		slack.OptionAPIURL(cfg.Slack.APIURL),
		slack.OptionHTTPClient(httpClient),
		slack.OptionLog(slackLog),
	)
	socketOpts := []socketmode.Option{socketmode.OptionLog(slackLog)}
	if opts.PingInterval > 0 {
		socketOpts = append(socketOpts, socketmode.OptionPingInterval(opts.PingInterval))
	}
	socket := socketmode.New(api, socketOpts...)
	adapter := slackapi.New(api, httpClient, logger.With("component", "slack"))

	h := handlers.New(handlers.Deps{Logger: logger.With("component", "handlers")})
	b := bot.New(socket, adapter, h, db.Inbox(), bot.Options{
		Workers:         cfg.Bot.Workers,
		Queue:           cfg.Bot.Queue,
		AckBudget:       cfg.Bot.AckBudget,
		ShutdownTimeout: cfg.Bot.ShutdownTimeout,
		Logger:          logger.With("component", "bot"),
	})
	return &App{Config: cfg, DB: db, Bot: b, Slack: adapter, log: logger}, nil
}

// Run serves until ctx is cancelled or Slack rejects the tokens.
func (a *App) Run(ctx context.Context) error {
	return a.Bot.Run(ctx)
}

// Close releases the store.
func (a *App) Close() error {
	return a.DB.Close()
}
