package runbook

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends, and then says which: nil, or ctx's error. The
// retries and pacing that wait between tries (the Slack adapter's, the HTTP steps')
// share it, so that every one of them stops the moment the bot does.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
