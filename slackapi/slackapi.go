// Package slackapi implements runbook.Slack over slack-go's Web API client. It is the
// one place that calls Slack's Web API, so that rate limiting, retries and the
// translation of Slack's error codes live in one spot.
package slackapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// Client is runbook.Slack over a *slack.Client.
type Client struct {
	api  *slack.Client
	http *http.Client
	log  *slog.Logger
	// MaxAttempts bounds how often one call is tried when Slack answers 429.
	MaxAttempts int
}

var _ runbook.Slack = (*Client)(nil)

// New wraps api. The HTTP client is used for response_url posts.
func New(api *slack.Client, httpClient *http.Client, logger *slog.Logger) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 15 * time.Second}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{api: api, http: httpClient, log: logger, MaxAttempts: 5}
}

// Identify calls auth.test.
func (c *Client) Identify(ctx context.Context) (runbook.Identity, error) {
	var res *slack.AuthTestResponse
	err := c.retry(ctx, func() (err error) {
		res, err = c.api.AuthTestContext(ctx)
		return err
	})
	if err != nil {
		return runbook.Identity{}, explainAuth(explain("auth.test", err))
	}
	return runbook.Identity{TeamID: res.TeamID, Team: res.Team, BotUserID: res.UserID, BotID: res.BotID}, nil
}

// PostMessage calls chat.postMessage.
func (c *Client) PostMessage(ctx context.Context, msg runbook.Message) (runbook.PostedMessage, error) {
	var channel, ts string
	err := c.retry(ctx, func() (err error) {
		channel, ts, err = c.api.PostMessageContext(ctx, msg.Channel, messageOptions(msg)...)
		return err
	})
	if err != nil {
		return runbook.PostedMessage{}, explain("chat.postMessage", err)
	}
	return runbook.PostedMessage{Channel: channel, TS: ts}, nil
}

// UpdateMessage calls chat.update.
func (c *Client) UpdateMessage(ctx context.Context, channel, ts string, msg runbook.Message) error {
	err := c.retry(ctx, func() error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, messageOptions(msg)...)
		return err
	})
	return explain("chat.update", err)
}

// PostEphemeral calls chat.postEphemeral.
func (c *Client) PostEphemeral(ctx context.Context, channel, user string, msg runbook.Message) error {
	err := c.retry(ctx, func() error {
		_, err := c.api.PostEphemeralContext(ctx, channel, user, messageOptions(msg)...)
		return err
	})
	return explain("chat.postEphemeral", err)
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
	err := c.retry(ctx, func() error {
		return slack.PostWebhookCustomHTTPContext(ctx, responseURL, c.http, msg)
	})
	// The URL itself is a credential: it is never part of an error.
	return explain("response_url", err)
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

// retry calls fn until it succeeds, fails with something other than a rate limit, or
// has been tried MaxAttempts times. A 429 waits as long as Slack's Retry-After asks.
func (c *Client) retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		rl, limited := errors.AsType[*slack.RateLimitedError](err)
		if !limited || attempt >= c.MaxAttempts {
			return err
		}
		wait := max(rl.RetryAfter, time.Second)
		c.log.Debug("rate limited by Slack", "retry_after", wait, "attempt", attempt)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return errors.Join(err, ctx.Err())
		case <-timer.C:
		}
	}
}

// explain wraps a Slack error with the method that failed; a Slack error code becomes a
// *SlackError callers can branch on.
func explain(method string, err error) error {
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return fmt.Errorf("%s: %w", method, &SlackError{Method: method, Code: se.Err})
	}
	return fmt.Errorf("%s: %w", method, err)
}

// explainAuth turns a rejected bot token into a sentence that says what to fix.
func explainAuth(err error) error {
	switch code := Code(err); code {
	case "invalid_auth", "not_authed":
		return fmt.Errorf("%w: %w", runbook.Errorf(runbook.EFORBIDDEN,
			"Slack rejected the bot token (%s): check slack.botToken, the xoxb- token on your app's OAuth & Permissions page", code), err)
	case "account_inactive", "token_revoked":
		return fmt.Errorf("%w: %w", runbook.Errorf(runbook.EFORBIDDEN,
			"Slack says the bot token is no longer valid (%s): reinstall the app and update slack.botToken", code), err)
	}
	return err
}

// SlackError is an error code Slack answered with ("channel_not_found", …).
type SlackError struct {
	Method string
	Code   string
}

func (e *SlackError) Error() string { return "slack error " + e.Code }

// Code returns the Slack error code in err's chain, or "".
func Code(err error) string {
	if se, ok := errors.AsType[*SlackError](err); ok {
		return se.Code
	}
	return ""
}
