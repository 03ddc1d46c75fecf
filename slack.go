package runbook

import (
	"context"
	"errors"
	"fmt"

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
	// OpenModal opens a modal in answer to a request's trigger id (valid for 3 s).
	OpenModal(ctx context.Context, triggerID string, modal slack.ModalViewRequest) (viewID string, err error)
	Channels
}

// Conversation is a Slack channel as the bot sees it.
type Conversation struct {
	ID       string
	Name     string
	Private  bool
	Archived bool
	Creator  string
	Topic    string
}

// HistoryMessage is a message read back from a channel.
type HistoryMessage struct {
	TS       string
	User     string
	BotID    string
	Text     string
	Metadata *MessageMetadata
}

// Tagged reports whether the message carries tag: its event type, and every value of
// its payload (compared as text, since Slack may hand numbers back as numbers).
func (m HistoryMessage) Tagged(tag MessageMetadata) bool {
	if m.Metadata == nil || m.Metadata.EventType != tag.EventType {
		return false
	}
	for k, v := range tag.Payload {
		if fmt.Sprint(m.Metadata.Payload[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// historyDepth is how far back a retry looks for the message an earlier attempt
// posted: one page of history, which a crash-and-restart does not outrun.
const historyDepth = 100

// threadDepth is how many replies of a thread a retry looks through: one page, which
// is Slack's most for conversations.replies.
const threadDepth = 1000

// FindTagged looks in a channel's recent history for a message tagged with metadata
// of tag's event type and payload, as posted by an attempt that was interrupted before
// it could record the message, so that a retry adopts it instead of posting again.
// channel is an id or a "#name".
func FindTagged(ctx context.Context, slack Channels, channel string, tag MessageMetadata) (PostedMessage, bool, error) {
	return FindTaggedIn(ctx, slack, channel, "", tag)
}

// FindTaggedIn is FindTagged for a message posted in the thread of threadTS, or at the
// top of the channel when threadTS is "". A thread is read with conversations.replies:
// channel history never holds thread replies, so a retry looking there posts again.
func FindTaggedIn(ctx context.Context, slack Channels, channel, threadTS string, tag MessageMetadata) (PostedMessage, bool, error) {
	id, err := slack.ResolveChannel(ctx, channel)
	if err != nil {
		return PostedMessage{}, false, err
	}
	var msgs []HistoryMessage
	if threadTS == "" {
		msgs, err = slack.History(ctx, id, historyDepth)
	} else {
		msgs, err = slack.ThreadReplies(ctx, id, threadTS, threadDepth)
	}
	if err != nil {
		return PostedMessage{}, false, err
	}
	for _, m := range msgs {
		if m.Tagged(tag) {
			return PostedMessage{Channel: id, TS: m.TS}, true, nil
		}
	}
	return PostedMessage{}, false, nil
}

// Channels is the part of Slack that runbook steps act on.
type Channels interface {
	// ResolveChannel turns "#name", "name" or an id into a channel id.
	ResolveChannel(ctx context.Context, ref string) (string, error)
	CreateChannel(ctx context.Context, name string, private bool) (Conversation, error)
	// FindChannel finds a channel by exact name, archived ones included.
	FindChannel(ctx context.Context, name string) (Conversation, error)
	// ChannelInfo describes a channel given as "#name", "name", "<#C…>" or an id.
	ChannelInfo(ctx context.Context, ref string) (Conversation, error)
	// IsMember reports whether user is a member of channel.
	IsMember(ctx context.Context, channel, user string) (bool, error)
	InviteToChannel(ctx context.Context, channel string, users []string) error
	SetTopic(ctx context.Context, channel, topic string) error
	SetPurpose(ctx context.Context, channel, purpose string) error
	ArchiveChannel(ctx context.Context, channel string) error
	// History returns the newest messages of a channel, newest first, with metadata.
	History(ctx context.Context, channel string, limit int) ([]HistoryMessage, error)
	// ThreadReplies returns a thread, root first and then its replies oldest first, with
	// metadata.
	ThreadReplies(ctx context.Context, channel, threadTS string, limit int) ([]HistoryMessage, error)
	Permalink(ctx context.Context, channel, ts string) (string, error)
	Pin(ctx context.Context, channel, ts string) error
	// OpenDM opens (or finds) the direct-message channel with a user.
	OpenDM(ctx context.Context, user string) (string, error)
	// ResolveUser turns "U123", "<@U123>", "@handle" or "handle" into a user id.
	ResolveUser(ctx context.Context, ref string) (string, error)
	// GroupMembers lists the users of a user group given as "S123" or "@handle".
	GroupMembers(ctx context.Context, ref string) ([]string, error)
}

// SlackError is an error code Slack answered a Web API call with ("channel_not_found",
// "name_taken", …). Callers branch on Code and explain it to people.
type SlackError struct {
	Method string
	Code   string
}

func (e *SlackError) Error() string { return e.Method + ": slack error " + e.Code }

// SlackCode returns the Slack error code in err's chain, or "".
func SlackCode(err error) string {
	if se, ok := errors.AsType[*SlackError](err); ok {
		return se.Code
	}
	return ""
}
