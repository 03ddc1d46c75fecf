package slackapi

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// transient marks an error worth another try, with Slack's Retry-After when it gave one.
type transient struct {
	err   error
	after time.Duration
}

func (t *transient) Error() string { return t.err.Error() }

// Unwrap exposes the cause and, for a 429, the wait backoff must honour.
func (t *transient) Unwrap() []error {
	if t.after > 0 {
		return []error{t.err, &backoff.RetryAfterError{Duration: t.after}}
	}
	return []error{t.err}
}

// slackDown are the codes Slack answers (with HTTP 200) when it failed itself. Its
// docs warn that part of the operation may have succeeded.
var slackDown = map[string]bool{
	"fatal_error": true, "internal_error": true, "service_unavailable": true, "request_timeout": true,
	"ratelimited": true,
}

// slackSetup are the codes that mean the app's installation, its token or the
// workspace's settings forbid the call: only a person can fix them.
var slackSetup = map[string]bool{
	"missing_scope": true, "not_in_channel": true, "restricted_action": true, "ekm_access_denied": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"not_allowed_token_type": true, "team_access_not_granted": true, "no_permission": true,
}

// notRepeatable are the methods whose second call does a second thing: another post,
// another modal, another use of a response_url. When Slack answers them with one of
// slackDown's codes the first call may have done its work, so the adapter does not
// repeat it: the caller decides (the engine's step retry finds an earlier post by its
// metadata and a channel by its name; a person is told to try again).
var notRepeatable = map[string]bool{
	"chat.postMessage": true, "chat.postEphemeral": true, "conversations.create": true,
	"views.open": true, "response_url": true,
}

// fault classifies a Slack error code.
func fault(code string) runbook.SlackFault {
	switch {
	case slackDown[code]:
		return runbook.SlackDown
	case slackSetup[code]:
		return runbook.SlackSetup
	}
	return runbook.SlackRefused
}

// classify says whether a call of method that failed with err may be tried again:
// 429s (after Retry-After), 5xx answers and network timeouts are, and Slack's own
// failures (internal_error…) for methods that are safe to repeat; other codes are not.
func classify(method string, err error) error {
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok && slackDown[se.Err] && !notRepeatable[method] {
		return &transient{err: err}
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return &transient{err: err, after: max(rl.RetryAfter, time.Second)}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok && sc.Code >= 500 {
		return &transient{err: err}
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return &transient{err: err}
	}
	return backoff.Permanent(err)
}

// call runs fn with retries for transient failures, within MaxAttempts and ctx. Each
// try waits for the method's rate budget first.
func call[T any](ctx context.Context, c *Client, method string, fn func() (T, error)) (T, error) {
	return callIn(ctx, c, method, "", fn)
}

// callIn is call for a method whose budget is per channel (chat.postMessage).
func callIn[T any](ctx context.Context, c *Client, method, channel string, fn func() (T, error)) (T, error) {
	return callTries(ctx, c, method, channel, c.MaxAttempts, fn)
}

// callTries is callIn with its own bound on the tries.
func callTries[T any](ctx context.Context, c *Client, method, channel string, tries int, fn func() (T, error)) (T, error) {
	c.pending.Add(1)
	defer c.pending.Add(-1)
	policy := backoff.NewExponentialBackOff()
	policy.InitialInterval = c.RetryInterval
	policy.MaxInterval = 30 * time.Second
	res, err := backoff.Retry(ctx, func() (T, error) {
		if err := c.limits.Load().wait(ctx, method, channel); err != nil {
			var zero T
			return zero, backoff.Permanent(err)
		}
		res, err := fn()
		c.observe(method, err)
		return res, classify(method, err)
	},
		backoff.WithBackOff(policy),
		backoff.WithMaxTries(uint(tries)),
		backoff.WithMaxElapsedTime(c.MaxElapsed),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.log.Debug("retrying Slack call", "method", method, "wait", wait, "err", err)
		}),
	)
	if t, ok := errors.AsType[*transient](err); ok {
		err = t.err
	}
	return res, explain(method, err)
}

// do is call for operations with no result.
func do(ctx context.Context, c *Client, method string, fn func() error) error {
	_, err := call(ctx, c, method, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// observe passes a call's result to OnCall.
func (c *Client) observe(method string, err error) {
	if c.OnCall == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
		if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
			result = se.Err
		} else if _, ok := errors.AsType[*slack.RateLimitedError](err); ok {
			result = "ratelimited"
		}
	}
	c.OnCall(method, result)
}
