package bot

import (
	"encoding/json"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// busyText answers a slash command that arrives while every worker and queue slot is
// taken: the person learns to retry instead of seeing Slack's dispatch_failed. It is
// the sentence admission answers with, so that "busy" reads the same whatever bound
// was reached.
const busyText = ":hourglass: " + BusyText

// observe reacts to one event of a connection's socket.
func (b *Bot) observe(l *link, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.links.setUp(l, false)
		b.log.Debug("connecting to Slack", "connection", l.id)
	case socketmode.EventTypeConnected:
		b.log.Info("connected to Slack", "connection", l.id)
		// A refresh is routine; a connection lost and opened again is a reconnect.
		if l.connects.Add(1) > 1 || !l.planned {
			b.opts.Observer.Reconnected()
		}
	case socketmode.EventTypeHello:
		b.links.setUp(l, true)
	case socketmode.EventTypeConnectionError:
		b.links.setUp(l, false)
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("cannot reach Slack; retrying", "connection", l.id, "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		}
	case socketmode.EventTypeIncomingError:
		// Follows every reconnect as the old socket's read fails; harmless.
		b.links.setUp(l, false)
		b.log.Debug("socket read ended", "connection", l.id, "data", evt.Data)
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		if evt.Request != nil {
			b.accept(l, fromRequest(evt.Request))
		}
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not type the payload (real slash commands carry
		// is_enterprise_install as a string); the bot decodes it itself.
		if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			b.acceptRaw(l, e.Message)
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
func (b *Bot) acceptRaw(l *link, raw json.RawMessage) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.EnvelopeID == "" {
		b.log.Warn("dropping unreadable message from Slack", "bytes", len(raw), "err", err)
		return
	}
	b.accept(l, env)
}

// accept hands an envelope to the workers, whichever transport brought it; via is
// the way its ack goes back (for Socket Mode, the connection it came on: Slack takes
// it on no other). When the workers are all busy, or the bot is stopping, a slash
// command is acked with an answer that says so and anything else is left unacked:
// Slack redelivers events, and shows the person a click that failed. It reports
// whether the envelope was taken or answered, rather than left unacked.
func (b *Bot) accept(via acker, env envelope) bool {
	b.opts.Observer.Envelope(env.Type)
	if b.enqueue(job{env: env, via: via, received: time.Now()}) {
		return true
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
		b.acks.Go(func() { b.ack(via, env, payload) })
		return true
	}
	return false
}
