package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// delivery is an answer that goes out through the Web API after the ack: a thread reply
// to a mention, a response_url message, an ephemeral message. The inbox keeps it, in
// this encoding, until Slack has it.
type delivery struct {
	// Request is the request answered; empty for answers the inbox does not keep.
	Request     string              `json:"request,omitempty"`
	Kind        runbook.RequestKind `json:"kind"`
	Channel     string              `json:"channel,omitempty"`
	ThreadTS    string              `json:"thread_ts,omitempty"`
	User        string              `json:"user,omitempty"`
	ResponseURL string              `json:"response_url,omitempty"`
	Public      bool                `json:"public,omitempty"`
	Text        string              `json:"text,omitempty"`
	Blocks      *slack.Blocks       `json:"blocks,omitempty"`
	// Expires is when ResponseURL stops taking answers (Slack: 30 minutes after the
	// request); zero if unknown, when Slack's 404 tells.
	Expires time.Time `json:"expires,omitzero"`

	// resumed says an earlier process owed it, and may have sent it just before dying.
	resumed bool
}

// newDelivery is the delivery that answers req with reply, or nil if there is nothing
// to say.
func newDelivery(req *runbook.Request, reply *runbook.Reply) *delivery {
	if reply == nil || (reply.Text == "" && len(reply.Blocks) == 0) {
		return nil
	}
	d := &delivery{Request: req.ID, Kind: req.Kind, Channel: req.ChannelID, ThreadTS: req.ThreadTS,
		User: req.UserID, ResponseURL: req.ResponseURL, Public: reply.Visibility == runbook.Public, Text: reply.Text}
	if len(reply.Blocks) > 0 {
		d.Blocks = &slack.Blocks{BlockSet: reply.Blocks}
	}
	if d.ResponseURL != "" && !req.ReceivedAt.IsZero() {
		d.Expires = req.ReceivedAt.Add(responseURLLife)
	}
	return d
}

// responseURLLife is how long Slack accepts answers through a response_url.
const responseURLLife = 30 * time.Minute

// encode is the delivery as the inbox keeps it; nil for no delivery.
func (d *delivery) encode() ([]byte, error) {
	if d == nil {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode reply to %s: %w", d.Request, err)
	}
	return b, nil
}

func decodeDelivery(id string, raw []byte) (delivery, error) {
	var d delivery
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, fmt.Errorf("decode reply owed to %s: %w", id, err)
	}
	d.Request = id
	return d, nil
}

// queue names the line a delivery waits in. Thread replies share one per channel, as
// Slack paces messages per channel; private answers have one per person and channel,
// so that they never wait behind a busy channel's thread replies.
func (d *delivery) queue() string {
	if d.Kind == runbook.KindMention {
		return "thread " + d.Channel
	}
	return "private " + d.Channel + " " + d.User + " " + d.ResponseURL
}

// tag marks a thread reply as the answer to its request.
func (d *delivery) tag() runbook.MessageMetadata {
	return slackui.ReplyTag(d.Request)
}

func (d *delivery) reply() runbook.Reply {
	r := runbook.Reply{Text: d.Text}
	if d.Public {
		r.Visibility = runbook.Public
	}
	if d.Blocks != nil {
		r.Blocks = d.Blocks.BlockSet
	}
	return r
}

// outbox sends deliveries apart from the workers, one queue per destination, so that a
// busy channel's pacing (about a message a second) never holds a worker that could be
// answering someone else. Within a queue, answers keep their order.
type outbox struct {
	slack runbook.Slack
	inbox runbook.Inbox
	log   *slog.Logger
	obs   Observer
	now   func() time.Time // the clock a response URL's expiry is read on, the bot's
	// retry is the first pause after Slack could not take a reply; it doubles up to
	// maxRetryWait.
	retry time.Duration
	// ctx ends when shutdown gives up on what is still queued; the inbox keeps it for
	// the next process.
	ctx context.Context

	mu      sync.Mutex
	queues  map[string][]delivery
	senders sync.WaitGroup
	// waiting counts the deliveries queued or being sent, for admission (owed).
	waiting atomic.Int64
}

// owed counts the replies queued or being sent.
func (o *outbox) owed() int { return int(o.waiting.Load()) }

func newOutbox(ctx context.Context, slack runbook.Slack, inbox runbook.Inbox, log *slog.Logger, obs Observer, now func() time.Time) *outbox {
	return &outbox{slack: slack, inbox: inbox, log: log, obs: obs, now: now, retry: time.Second, ctx: ctx, queues: map[string][]delivery{}}
}

// maxRetryWait bounds the pause between tries of a reply Slack cannot take yet.
const maxRetryWait = 30 * time.Second

// enqueue queues d behind the earlier deliveries to the same destination, starting a
// sender for that destination if none is running.
func (o *outbox) enqueue(d delivery) {
	key := d.queue()
	o.mu.Lock()
	defer o.mu.Unlock()
	q, running := o.queues[key]
	o.queues[key] = append(q, d)
	o.waiting.Add(1)
	if !running {
		o.senders.Go(func() { o.sendAll(key) })
	}
}

// sendAll sends the queue's deliveries until it is empty, or shutdown gives up on it,
// then retires the queue.
func (o *outbox) sendAll(key string) {
	for {
		o.mu.Lock()
		q := o.queues[key]
		if len(q) == 0 || o.ctx.Err() != nil {
			o.waiting.Add(-int64(len(q)))
			delete(o.queues, key)
			o.mu.Unlock()
			return
		}
		d := q[0]
		o.queues[key] = q[1:]
		o.mu.Unlock()
		o.send(d)
		o.waiting.Add(-1)
	}
}

// send delivers d and records it delivered. A reply is tried until Slack takes it or
// refuses it for good; only then is it counted and logged as undelivered. A delivery
// cut short by shutdown stays owed.
func (o *outbox) send(d delivery) {
	err := o.deliver(&d)
	if err != nil && o.ctx.Err() != nil {
		o.log.Info("reply left for the next start", "request", d.Request)
		return
	}
	if err != nil {
		reason := undeliveredReason(err)
		o.obs.ReplyUndelivered(reason)
		o.log.Warn("reply not delivered", "request", d.Request, "kind", d.Kind, "reason", reason, "err", err)
	}
	if d.Request == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(o.ctx), 5*time.Second)
	defer cancel()
	if err := o.inbox.Delivered(ctx, d.Request); err != nil {
		o.log.Warn("cannot record reply as delivered", "request", d.Request, "err", err)
	}
}

// deliver posts d, trying again with backoff (and at least Slack's Retry-After) for as
// long as Slack answers that it cannot take it now: a thread or a channel takes a reply
// later, and a response_url past its life is replaced by another way to the person.
// Only this queue waits; other destinations have their own.
func (o *outbox) deliver(d *delivery) error {
	wait := o.retry
	for tries := 1; ; tries++ {
		err := o.post(o.ctx, d)
		if err == nil || o.ctx.Err() != nil {
			return err
		}
		after, again := retryable(err)
		if !again {
			return err
		}
		pause := max(wait, after)
		wait = min(wait*2, maxRetryWait)
		level := slog.LevelDebug
		if tries == 1 {
			level = slog.LevelInfo
		}
		o.log.Log(o.ctx, level, "Slack cannot take a reply yet; trying again", "request", d.Request, "try", tries, "in", pause, "err", err)
		// A thread reply whose call failed on Slack's side may have been posted:
		// look before posting again.
		d.resumed = true
		select {
		case <-o.ctx.Done():
			return o.ctx.Err()
		case <-time.After(pause):
		}
	}
}

func (o *outbox) post(ctx context.Context, d *delivery) error {
	switch {
	case d.Kind == runbook.KindMention:
		if d.resumed && o.posted(ctx, *d) {
			return nil
		}
		tag := d.tag()
		r := d.reply()
		_, err := o.slack.PostMessage(ctx, runbook.Message{Channel: d.Channel, ThreadTS: d.ThreadTS, Text: r.Text, Blocks: r.Blocks, Metadata: &tag})
		return err
	case d.ResponseURL != "":
		if d.Expires.IsZero() || o.now().Before(d.Expires) {
			err := o.slack.Respond(ctx, d.ResponseURL, d.reply())
			if !spentURL(err) {
				return err
			}
		}
		// Expired, or its five uses spent: answer the person another way, and never
		// through this URL again.
		o.log.Info("response_url past its life; answering privately instead", "request", d.Request)
		d.ResponseURL = ""
		return o.privately(ctx, d)
	default:
		// A click inside a modal comes with neither a response URL nor a channel:
		// privately falls back to a DM.
		return o.privately(ctx, d)
	}
}

// privately answers the person with an ephemeral message in the channel or, where
// Slack refuses that (the bot is not in the channel, a DM it is not part of), in a DM.
func (o *outbox) privately(ctx context.Context, d *delivery) error {
	r := d.reply()
	msg := runbook.Message{Text: r.Text, Blocks: r.Blocks}
	if d.Channel != "" {
		err := o.slack.PostEphemeral(ctx, d.Channel, d.User, msg)
		if err == nil || !refusedEphemeral(err) {
			return err
		}
		o.log.Info("cannot answer in the channel; answering in a DM", "request", d.Request, "err", err)
	}
	if d.User == "" {
		return errors.New("no one to answer")
	}
	dm, err := o.slack.OpenDM(ctx, d.User)
	if err != nil {
		return err
	}
	msg.Channel = dm
	_, err = o.slack.PostMessage(ctx, msg)
	return err
}

// retryable says whether Slack may take the reply later (a rate limit, a failure on
// Slack's side, no answer), and the wait it asked for.
func retryable(err error) (time.Duration, bool) {
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return rl.RetryAfter, true
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return 0, sc.Code >= 500
	}
	switch runbook.SlackCode(err) {
	case "":
	case "ratelimited", "rate_limited", "fatal_error", "internal_error", "service_unavailable", "request_timeout":
		return 0, true
	default:
		return 0, false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	_, netErr := errors.AsType[net.Error](err)
	return 0, netErr
}

// spentURL says Slack refused a response_url for good: it answers 404 (expired_url,
// used_url) or 410 once the URL's 30 minutes or five uses are over.
func spentURL(err error) bool {
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return sc.Code == http.StatusNotFound || sc.Code == http.StatusGone
	}
	code := runbook.SlackCode(err)
	return code == "expired_url" || code == "used_url"
}

// refusedEphemeral says Slack will not show an ephemeral message there, so a DM is the
// way left.
func refusedEphemeral(err error) bool {
	switch runbook.SlackCode(err) {
	case "not_in_channel", "channel_not_found", "user_not_in_channel", "is_archived", "restricted_action":
		return true
	}
	return false
}

// undeliveredReason is the metric label for a reply given up on: Slack's error code, or
// the HTTP status.
func undeliveredReason(err error) string {
	if code := runbook.SlackCode(err); code != "" {
		return code
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return "http_" + strconv.Itoa(sc.Code)
	}
	return "error"
}

// posted reports whether the thread already holds the reply: the process that owed it
// may have died after Slack took it and before recording so. When the thread cannot be
// read, the reply is posted: twice is better than never.
func (o *outbox) posted(ctx context.Context, d delivery) bool {
	msgs, err := o.slack.ThreadReplies(ctx, d.Channel, d.ThreadTS, 1000)
	if err != nil {
		o.log.Warn("cannot check the thread for an earlier reply", "request", d.Request, "err", err)
		return false
	}
	for _, m := range msgs {
		if m.Tagged(d.tag()) {
			return true
		}
	}
	return false
}

// wait lets the queues empty until deadline, then gives up on what is left (the inbox
// keeps it) and waits for the senders to stop.
func (o *outbox) wait(deadline time.Time, giveUp context.CancelFunc) {
	waitOrCancel(&o.senders, deadline, func() {
		o.log.Warn("shutdown timeout: replies still queued are left for the next start")
		giveUp()
	})
}
