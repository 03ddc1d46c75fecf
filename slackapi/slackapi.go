// Package slackapi implements runbook.Slack over slack-go's Web API client. It is the
// one place that calls Slack's Web API, so that retries and the translation of Slack's
// error codes live in one spot.
package slackapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// Client is runbook.Slack over a *slack.Client.
type Client struct {
	api  *slack.Client
	http *http.Client
	log  *slog.Logger
	// MaxAttempts bounds how often one call is tried when Slack answers 429 or 5xx or
	// times out; MaxElapsed bounds the time spent retrying it; RetryInterval is the
	// first pause between tries (429s wait for Retry-After instead).
	MaxAttempts   int
	MaxElapsed    time.Duration
	RetryInterval time.Duration

	// OnCall, if set, hears every Web API call's result: "ok", Slack's error code,
	// "ratelimited" or "error" (metrics).
	OnCall func(method, result string)

	limits atomic.Pointer[limiter]
	cache  *lookups
	// users maps usernames to ids, channels names to channels: read whole, a page of
	// users.list or conversations.list at a time, and shared by every look-up.
	users    *directory[string]
	channels *directory[runbook.Conversation]
	// identity is auth.test's answer, which does not change for a token: the app, the
	// executor and the bot each ask at start, and Slack is asked once.
	identity atomic.Pointer[runbook.Identity]
	// pending counts calls waiting for their rate budget, in flight, or between tries.
	pending atomic.Int64
}

// Pending counts the calls waiting for their rate budget, in flight, or waiting to be
// tried again: the work queued for Slack, which admission bounds (limits.slackCalls).
func (c *Client) Pending() int { return int(c.pending.Load()) }

var _ runbook.Slack = (*Client)(nil)

// New wraps api. The HTTP client is used for response_url posts.
func New(api *slack.Client, httpClient *http.Client, logger *slog.Logger) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 15 * time.Second}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{api: api, http: httpClient, log: logger, MaxAttempts: 8, MaxElapsed: 2 * time.Minute,
		RetryInterval: 500 * time.Millisecond, cache: newLookups()}
	c.limits.Store(newLimiter(WallClock))
	now := func() time.Time { return c.limits.Load().clock.Now() }
	c.users, c.channels = newDirectory[string](now), newDirectory[runbook.Conversation](now)
	return c
}

// SetClock sets the clock the rate budgets are spent in and directory look-ups are
// trusted by (WallClock by default), with every budget full. Tests give the adapter
// and the emulator one faster clock, to spend minutes of Slack's budgets in seconds.
func (c *Client) SetClock(clock Clock) { c.limits.Store(newLimiter(clock)) }

// Identify calls auth.test, once it has succeeded no more.
func (c *Client) Identify(ctx context.Context) (runbook.Identity, error) {
	return c.identify(ctx, c.MaxAttempts)
}

// identify is Identify with a bound on the tries of one call.
func (c *Client) identify(ctx context.Context, tries int) (runbook.Identity, error) {
	if id := c.identity.Load(); id != nil {
		return *id, nil
	}
	res, err := callTries(ctx, c, "auth.test", "", tries, func() (*slack.AuthTestResponse, error) { return c.api.AuthTestContext(ctx) })
	if err != nil {
		return runbook.Identity{}, explainAuth(err)
	}
	id := runbook.Identity{TeamID: res.TeamID, Team: res.Team, BotUserID: res.UserID, BotID: res.BotID, URL: res.URL}
	c.identity.Store(&id)
	return id, nil
}

// PostMessage calls chat.postMessage.
func (c *Client) PostMessage(ctx context.Context, msg runbook.Message) (runbook.PostedMessage, error) {
	return callIn(ctx, c, "chat.postMessage", msg.Channel, func() (runbook.PostedMessage, error) {
		channel, ts, err := c.api.PostMessageContext(ctx, msg.Channel, messageOptions(msg)...)
		return runbook.PostedMessage{Channel: channel, TS: ts}, err
	})
}

// UpdateMessage calls chat.update.
func (c *Client) UpdateMessage(ctx context.Context, channel, ts string, msg runbook.Message) error {
	return do(ctx, c, "chat.update", func() error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, messageOptions(msg)...)
		return err
	})
}

// PostEphemeral calls chat.postEphemeral.
func (c *Client) PostEphemeral(ctx context.Context, channel, user string, msg runbook.Message) error {
	return do(ctx, c, "chat.postEphemeral", func() error {
		_, err := c.api.PostEphemeralContext(ctx, channel, user, messageOptions(msg)...)
		return err
	})
}

// Respond posts a reply to a response_url.
func (c *Client) Respond(ctx context.Context, responseURL string, reply runbook.Reply) error {
	msg := &slack.WebhookMessage{Text: reply.Text, ResponseType: slack.ResponseTypeEphemeral}
	if reply.Visibility == runbook.Public {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	if len(reply.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: reply.Blocks}
	}
	// The URL itself is a credential: it is never part of an error.
	return do(ctx, c, "response_url", func() error {
		return slack.PostWebhookCustomHTTPContext(ctx, responseURL, c.http, msg)
	})
}

func messageOptions(msg runbook.Message) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(msg.Text, false)}
	if len(msg.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(msg.Blocks...))
	}
	if msg.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(msg.ThreadTS))
	}
	if msg.Metadata != nil {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: msg.Metadata.EventType, EventPayload: msg.Metadata.Payload}))
	}
	return opts
}

// explain wraps a Slack error with the method that failed: a Slack error code, a 429
// or a 5xx becomes a *runbook.SlackError that says whose problem it is (Fault), which
// callers branch on and people are told.
func explain(method string, err error) error {
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return &runbook.SlackError{Method: method, Code: se.Err, Fault: fault(se.Err), Needed: se.Needed, Provided: se.Provided}
	}
	if _, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return &runbook.SlackError{Method: method, Status: http.StatusTooManyRequests, Fault: runbook.SlackDown, Err: err}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok && sc.Code >= 500 {
		return &runbook.SlackError{Method: method, Status: sc.Code, Fault: runbook.SlackDown, Err: err}
	}
	return fmt.Errorf("%s: %w", method, err)
}

// explainAuth turns a rejected bot token into a sentence that says what to fix.
func explainAuth(err error) error {
	switch code := runbook.SlackCode(err); code {
	case "invalid_auth", "not_authed":
		return fmt.Errorf("%w: %w", runbook.Errorf(runbook.EFORBIDDEN,
			"Slack rejected the bot token (%s): check slack.botToken, the xoxb- token on your app's OAuth & Permissions page", code), err)
	case "account_inactive", "token_revoked":
		return fmt.Errorf("%w: %w", runbook.Errorf(runbook.EFORBIDDEN,
			"Slack says the bot token is no longer valid (%s): reinstall the app and update slack.botToken", code), err)
	}
	return err
}

// OpenModal calls views.open.
func (c *Client) OpenModal(ctx context.Context, triggerID string, modal slack.ModalViewRequest) (string, error) {
	return call(ctx, c, "views.open", func() (string, error) {
		res, err := c.api.OpenViewContext(ctx, triggerID, modal)
		if err != nil {
			return "", err
		}
		return res.ID, nil
	})
}
