package runbook

import (
	"context"

	"github.com/slack-go/slack"
)

// Message is something the bot posts to Slack.
type Message struct {
	Channel  string // channel id, or a "#name" the adapter resolves
	Text     string // mrkdwn; also the notification fallback when Blocks are set
	Blocks   []slack.Block
	ThreadTS string
	// Metadata tags the message (Slack message metadata) so that the bot can find its
	// own messages again, e.g. to avoid posting a run step twice after a crash.
	Metadata *MessageMetadata
}

// MessageMetadata is Slack message metadata: an event type and a flat payload.
type MessageMetadata struct {
	EventType string
	Payload   map[string]any
}

// PostedMessage identifies a message Slack accepted.
type PostedMessage struct {
	Channel string
	TS      string
}

// Identity is who the bot is in the workspace it is connected to.
type Identity struct {
	TeamID    string
	Team      string
	BotUserID string
	BotID     string
}

// Slack is the set of Slack operations the rest of the bot needs. One adapter implements
// it over slack-go with rate limiting and retries; handlers and the executor depend on
// this interface only.
type Slack interface {
	// Identify checks the bot token and says who the bot is.
	Identify(ctx context.Context) (Identity, error)
	PostMessage(ctx context.Context, msg Message) (PostedMessage, error)
	UpdateMessage(ctx context.Context, channel, ts string, msg Message) error
	PostEphemeral(ctx context.Context, channel, user string, msg Message) error
	// Respond answers through a response_url, which works even in channels the bot is
	// not a member of. Public replies are posted in the channel.
	Respond(ctx context.Context, responseURL string, reply Reply) error
}
