package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// busyText answers a slash command that arrives while every worker and queue slot is
// taken: the person learns to retry instead of seeing Slack's dispatch_failed.
const busyText = ":hourglass: Runbook is busy right now; try again in a moment."

// read drains the socket's event channel until ctx ends. It must never stall: slack-go
// stops reading the websocket while its event channel is full, and a connection that
// is not read misses Slack's pings and is dropped.
func (b *Bot) read(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-b.socket.Events:
			b.observe(evt)
		}
	}
}

// observe reacts to one socket event.
func (b *Bot) observe(evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.connected.Store(false)
		b.log.Debug("connecting to Slack")
	case socketmode.EventTypeConnected:
		b.log.Info("connected to Slack")
		if b.connections.Add(1) > 1 {
			b.opts.Observer.Reconnected()
		}
	case socketmode.EventTypeHello:
		b.connected.Store(true)
	case socketmode.EventTypeConnectionError:
		b.connected.Store(false)
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("cannot reach Slack; retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		}
	case socketmode.EventTypeIncomingError:
		// Follows every reconnect as the old socket's read fails; harmless.
		b.connected.Store(false)
		b.log.Debug("socket read ended", "data", evt.Data)
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		if evt.Request != nil {
			b.accept(fromRequest(evt.Request))
		}
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not type the payload (real slash commands carry
		// is_enterprise_install as a string); the bot decodes it itself.
		if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			b.acceptRaw(e.Message)
		}
	default:
		b.log.Debug("socket event", "type", evt.Type)
	}
}

func fromRequest(r *socketmode.Request) envelope {
	return envelope{
		EnvelopeID:             r.EnvelopeID,
		Type:                   r.Type,
		Payload:                r.Payload,
		AcceptsResponsePayload: r.AcceptsResponsePayload,
		RetryAttempt:           r.RetryAttempt,
	}
}

// acceptRaw accepts a websocket message slack-go could not decode.
func (b *Bot) acceptRaw(raw json.RawMessage) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.EnvelopeID == "" {
		b.log.Warn("dropping unreadable message from Slack", "bytes", len(raw), "err", err)
		return
	}
	b.accept(env)
}

// accept hands an envelope to the workers. When they are all busy, or the bot is
// stopping, a slash command is acked with an answer that says so and anything else is
// left unacked: Slack redelivers events, and shows the person a click that failed.
func (b *Bot) accept(env envelope) {
	b.opts.Observer.Envelope(env.Type)
	if b.enqueue(job{env: env, received: time.Now()}) {
		return
	}
	text := busyText
	if b.stopping() {
		text = restartingText
		b.log.Info("stopping; request not taken", "envelope", env.EnvelopeID, "type", env.Type)
	} else {
		b.log.Warn("no worker free; request not taken", "envelope", env.EnvelopeID, "type", env.Type)
	}
	if env.Type == typeSlashCommands && env.AcceptsResponsePayload {
		payload := ephemeral(text)
		b.acks.Go(func() { b.ack(env, payload) })
	}
}
