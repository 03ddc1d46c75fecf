package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	return d
}

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
	// ctx ends when shutdown gives up on what is still queued; the inbox keeps it for
	// the next process.
	ctx context.Context

	mu      sync.Mutex
	queues  map[string][]delivery
	senders sync.WaitGroup
}

func newOutbox(ctx context.Context, slack runbook.Slack, inbox runbook.Inbox, log *slog.Logger) *outbox {
	return &outbox{slack: slack, inbox: inbox, log: log, ctx: ctx, queues: map[string][]delivery{}}
}

// enqueue queues d behind the earlier deliveries to the same destination, starting a
// sender for that destination if none is running.
func (o *outbox) enqueue(d delivery) {
	key := d.queue()
	o.mu.Lock()
	defer o.mu.Unlock()
	q, running := o.queues[key]
	o.queues[key] = append(q, d)
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
			delete(o.queues, key)
			o.mu.Unlock()
			return
		}
		d := q[0]
		o.queues[key] = q[1:]
		o.mu.Unlock()
		o.send(d)
	}
}

// send delivers d and records it delivered. Slack failures that outlast the adapter's
// retries are logged and given up on; a delivery cut short by shutdown stays owed.
func (o *outbox) send(d delivery) {
	err := o.post(o.ctx, d)
	if err != nil && o.ctx.Err() != nil {
		o.log.Info("reply left for the next start", "request", d.Request)
		return
	}
	if err != nil {
		o.log.Warn("cannot deliver reply; giving up", "request", d.Request, "kind", d.Kind, "err", err)
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

func (o *outbox) post(ctx context.Context, d delivery) error {
	switch {
	case d.Kind == runbook.KindMention:
		if d.resumed && o.posted(ctx, d) {
			return nil
		}
		tag := d.tag()
		r := d.reply()
		_, err := o.slack.PostMessage(ctx, runbook.Message{Channel: d.Channel, ThreadTS: d.ThreadTS, Text: r.Text, Blocks: r.Blocks, Metadata: &tag})
		return err
	case d.ResponseURL != "":
		return o.slack.Respond(ctx, d.ResponseURL, d.reply())
	case d.Channel != "":
		r := d.reply()
		return o.slack.PostEphemeral(ctx, d.Channel, d.User, runbook.Message{Text: r.Text, Blocks: r.Blocks})
	default:
		return errors.New("no channel to answer in")
	}
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
