package runbook

import (
	"context"
	"time"
)

// Envelope is a request as the bot received it from Slack, kept so that it is acted on
// exactly once: Slack redelivers what it thinks was not acked, and the process may die
// between ack and completion.
type Envelope struct {
	// ID is the request's stable id (Request.ID).
	ID string
	// Type is the Socket Mode envelope type (slash_commands, events_api, interactive).
	Type string
	// Payload is the envelope payload as Slack sent it, to act on it again after a crash.
	Payload []byte
	// Acked says the ack has gone out, so Slack will not send this envelope again and a
	// restarted bot must finish it on its own.
	Acked bool
	// Done says the request was handled; Reply is what its ack carried, repeated if Slack
	// redelivers the envelope because that ack was lost. An envelope acked with its
	// answer before it was done (Acked, not Done) has that answer in Reply already.
	Done  bool
	Reply []byte
	// Delivery is an answer that goes out through the Web API after the ack (a thread
	// reply, a response_url message), kept until Slack has it so that a crash does not
	// lose it. Its encoding belongs to the bot.
	Delivery   []byte
	ReceivedAt time.Time
}

// Inbox remembers every envelope the bot has accepted.
type Inbox interface {
	// Claim records env as received, and as acked if env.Acked (its ack goes out once
	// Claim returns). It returns nil if env is new, or the envelope already recorded
	// under env.ID.
	Claim(ctx context.Context, env Envelope) (*Envelope, error)
	// MarkAcked records that the envelope's ack went out before it was done, and the
	// answer it carried (nil if none; AnswerFirst): a restarted bot finishing it must
	// not answer again. A nil reply leaves one recorded before as it is.
	MarkAcked(ctx context.Context, id string, reply []byte) error
	// Complete records that the envelope was handled, what its ack carried, and the
	// delivery still owed for it (nil if none), in one write.
	Complete(ctx context.Context, id string, reply, delivery []byte) error
	// Delivered records that the envelope's delivery reached Slack, or was given up.
	Delivered(ctx context.Context, id string) error
	// Unfinished lists envelopes that were acked but never completed, oldest first.
	Unfinished(ctx context.Context) ([]Envelope, error)
	// Undelivered lists completed envelopes whose delivery is still owed, oldest first.
	Undelivered(ctx context.Context) ([]Envelope, error)
	// Prune forgets completed envelopes received before the given time.
	Prune(ctx context.Context, before time.Time) (int, error)
}
