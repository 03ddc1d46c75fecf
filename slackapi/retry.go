package slackapi

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/slack-go/slack"
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

// classify says whether a call that failed with err may be tried again: 429s (after
// Retry-After), 5xx answers and network timeouts are; Slack's error codes are not.
func classify(err error) error {
	if err == nil {
		return nil
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
	policy := backoff.NewExponentialBackOff()
	policy.InitialInterval = c.RetryInterval
	policy.MaxInterval = 30 * time.Second
	res, err := backoff.Retry(ctx, func() (T, error) {
		if err := c.limits.wait(ctx, method, channel); err != nil {
			var zero T
			return zero, backoff.Permanent(err)
		}
		res, err := fn()
		c.observe(method, err)
		return res, classify(err)
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
