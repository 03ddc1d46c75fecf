package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/observe"
)

// newOff assembles the bot with its Slack integration off (slack.enabled: false, or
// RunbookAI's incident.slack.enabled: false): no Slack client, no store, nothing that
// runs; only /healthz, /readyz and /metrics on http.addr, when it is set, so that a
// container keeps running instead of restarting in a loop.
func newOff(cfg *config.Config, logger *slog.Logger) *App {
	a := &App{Config: cfg, log: logger}
	a.Metrics = observe.NewMetrics(nil, nil)
	if cfg.HTTP.Addr != "" {
		// Ready: the bot does all it was asked to do, which is nothing; a rollout
		// waiting for readiness should not wait for ever.
		up := observe.HealthFunc(func(context.Context) error { return nil })
		a.HTTP = observe.NewServer(cfg.HTTP.Addr, a.Metrics, observe.Probes{Live: up, Ready: up}, logger.With("component", "http"))
	}
	return a
}

// runOff says the integration is off and serves the probes until ctx ends.
func (a *App) runOff(ctx context.Context) error {
	a.log.Info(fmt.Sprintf("slack integration is off (%s: false); not connecting to Slack", a.Config.Key("slack.enabled")))
	if a.HTTP != nil {
		if err := a.HTTP.Start(); err != nil {
			return err
		}
		a.log.Info("serving /healthz, /readyz and /metrics", "addr", a.HTTP.Addr())
	}
	<-ctx.Done()
	return nil
}
