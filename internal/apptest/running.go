package apptest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// Running is Runbook assembled by app.New and run in a goroutine it owns, until Stop.
type Running struct {
	App *app.App

	cancel  context.CancelFunc
	done    chan struct{}
	err     error // why Run returned, once done is closed
	once    sync.Once
	stopErr error
}

// Start assembles Runbook and runs it; it does not wait for the connection
// (StartConnected does). ctx bounds the assembly only: Stop ends the run.
func Start(ctx context.Context, cfg *config.Config, opts app.Options) (*Running, error) {
	a, err := app.New(ctx, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("assemble the bot: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Running{App: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = a.Run(runCtx)
		close(r.done)
	}()
	return r, nil
}

// StartConnected starts Runbook and waits until it is connected to the workspace.
func StartConnected(ctx context.Context, ws *Workspace, cfg *config.Config, opts app.Options) (*Running, error) {
	since := ws.Slack.ConnectCount()
	r, err := Start(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if err := ws.WaitConnected(ctx, since, cfg.Slack.Connections, r.Exited); err != nil {
		return nil, errors.Join(err, r.Stop(context.WithoutCancel(ctx)))
	}
	return r, nil
}

// Done is closed once Run has returned.
func (r *Running) Done() <-chan struct{} { return r.done }

// Exited reports whether Run has returned.
func (r *Running) Exited() bool { return closed(r.done) }

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Err is why Run returned: nil while it runs and after a clean stop.
func (r *Running) Err() error {
	if !r.Exited() {
		return nil
	}
	return r.err
}

// Stop stops the run as a stop signal would, waits for Run to return (or for ctx to
// end), and closes the store. It returns Run's error and the store's; calling it again
// returns the same.
func (r *Running) Stop(ctx context.Context) error {
	r.once.Do(func() { r.stopErr = r.stop(ctx) })
	return r.stopErr
}

func (r *Running) stop(ctx context.Context) error {
	r.cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("the bot did not stop: %w", ctx.Err())
	}
	var runErr error
	if r.err != nil {
		runErr = fmt.Errorf("the bot stopped with an error: %w", r.err)
	}
	return errors.Join(runErr, r.App.Close())
}

// StartServing starts Runbook in HTTP mode and waits until it takes requests, then
// has the emulator post envelopes to it, signed with the configured signing secret.
func StartServing(ctx context.Context, ws *Workspace, cfg *config.Config, opts app.Options) (*Running, error) {
	r, err := Start(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	serving := func() bool { return r.Exited() || r.App.Bot.Serving() && r.App.HTTP.Listening() }
	if err := Wait(ctx, ws.Slack, serving); err != nil || r.Exited() {
		return nil, errors.Join(fmt.Errorf("the bot did not start serving: %w", cmp.Or(err, r.Err())), r.Stop(context.WithoutCancel(ctx)))
	}
	ws.Slack.DeliverOverHTTP(slackfake.HTTPDelivery{URL: "http://" + r.App.HTTP.Addr(),
		Secret: cfg.Slack.SigningSecret.Reveal(), Now: opts.SigningClock})
	return r, nil
}
