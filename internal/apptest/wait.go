package apptest

import (
	"context"
	"errors"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// Wait waits until cond holds. It looks again at every change in the emulator (a
// message, an ack, a connection, …) and every Tick, for what only the database shows.
// It returns ctx's error if ctx ends first, or slackfake.ErrClosed if the emulator
// closes. cond must not block.
func Wait(ctx context.Context, srv *slackfake.Server, cond func() bool) error {
	for {
		tick, cancel := context.WithTimeout(ctx, Tick)
		err := srv.Wait(tick, cond)
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, slackfake.ErrClosed):
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		}
	}
}

// WaitWithin is Wait with a deadline.
func WaitWithin(d time.Duration, srv *slackfake.Server, cond func() bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return Wait(ctx, srv, cond)
}
