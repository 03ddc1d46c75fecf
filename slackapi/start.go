package slackapi

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// IdentifyAtStart is Identify for a bot that is starting. Slack being out of reach —
// connection refused, DNS, a 5xx, a timeout, one of Slack's transient codes — is tried
// again with growing pauses, each failed try logged on one line with the next pause,
// until ctx ends: a bot started during an outage waits for Slack rather than exiting
// into a supervisor's restart loop. A token Slack rejects ends it at once, with the
// sentence that says what to fix.
func (c *Client) IdentifyAtStart(ctx context.Context) (runbook.Identity, error) {
	policy := backoff.NewExponentialBackOff()
	policy.InitialInterval = c.RetryInterval
	policy.MaxInterval = time.Minute
	for attempt := 1; ; attempt++ {
		// One try per attempt, so that every failure is logged as it happens.
		id, err := c.identify(ctx, 1)
		if err == nil || !outOfReach(err) || ctx.Err() != nil {
			return id, err
		}
		wait := policy.NextBackOff()
		if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
			wait = max(wait, rl.RetryAfter)
		}
		c.log.Warn("cannot reach Slack to start; trying again", "attempt", attempt, "next_try_in", wait.Round(time.Millisecond), "err", err)
		if err := runbook.Sleep(ctx, wait); err != nil {
			return runbook.Identity{}, err
		}
	}
}

// outOfReach says whether err means Slack could not be reached or could not answer
// now, rather than that it answered no: any error without a Slack error code (refused,
// DNS, a 5xx, a timeout, a 429), and the codes Slack sends when it is itself failing.
func outOfReach(err error) bool {
	if code := runbook.SlackCode(err); code != "" && !slackDown[code] {
		return false
	}
	return runbook.ErrorCode(err) != runbook.EFORBIDDEN
}
