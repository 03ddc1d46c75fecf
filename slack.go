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
	// URL is the workspace's address ("https://acme.slack.com/"), from auth.test: the
	// base of every message's permalink.
	URL string
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
	// Channels lists every public and private channel the bot can see, archived ones
	// included, reading Slack's whole channel list afresh.
	Channels(ctx context.Context) ([]Conversation, error)
	// PrivateChannelsOf is the set of private channels user and the bot are both
	// members of, as Slack said at most a few seconds ago. Callers must not change it.
	PrivateChannelsOf(ctx context.Context, user string) (map[string]bool, error)
	// IsMember reports whether user is a member of channel.
	IsMember(ctx context.Context, channel, user string) (bool, error)
	InviteToChannel(ctx context.Context, channel string, users []string) error
	SetTopic(ctx context.Context, channel, topic string) error
	SetPurpose(ctx context.Context, channel, purpose string) error
	ArchiveChannel(ctx context.Context, channel string) error
	// UnarchiveChannel brings an archived channel back; one that is not archived is
	// fine. Slack refuses bot tokens today (see the adapter), so callers must have a
	// way on when it does.
	UnarchiveChannel(ctx context.Context, channel string) error
	// History returns the newest messages of a channel, newest first, with metadata.
	History(ctx context.Context, channel string, limit int) ([]HistoryMessage, error)
	// ThreadReplies returns a thread, root first and then its replies oldest first, with
	// metadata.
	ThreadReplies(ctx context.Context, channel, threadTS string, limit int) ([]HistoryMessage, error)
	// Message reads one message by its ts, at the top of the channel or a reply in a
	// thread, with its author and text; ENOTFOUND when it is not there.
	Message(ctx context.Context, channel, ts string) (HistoryMessage, error)
	// Permalink is the link to a message (threadTS: its thread's, for a reply).
	Permalink(ctx context.Context, channel, ts, threadTS string) (string, error)
	Pin(ctx context.Context, channel, ts string) error
	// OpenDM opens (or finds) the direct-message channel with a user.
	OpenDM(ctx context.Context, user string) (string, error)
	// ResolveUser turns "U123", "<@U123>", "@handle" or "handle" into a user id.
	ResolveUser(ctx context.Context, ref string) (string, error)
	// UserExists reports whether id is an active member of the workspace: a mention
	// or id someone typed may name nobody, or someone deactivated.
	UserExists(ctx context.Context, id string) (bool, error)
	// GroupMembers lists the users of a user group given as "S123" or "@handle".
	GroupMembers(ctx context.Context, ref string) ([]string, error)
}

// SlackFault says whose problem a failed Slack call is, which decides what a person is
// told. The Slack adapter classifies every failure.
type SlackFault int

const (
	// SlackRefused: Slack refused this call ("channel_not_found", "name_taken", …).
	// Callers branch on Code; one nobody explained is Runbook's bug.
	SlackRefused SlackFault = iota
	// SlackDown: Slack failed (fatal_error, internal_error, service_unavailable,
	// request_timeout, 5xx, rate limits past the retries): trying again may work.
	SlackDown
	// SlackSetup: the app's installation or the workspace forbids it (missing_scope,
	// not_in_channel, restricted_action, a rejected token): someone must fix that.
	SlackSetup
)

// SlackError is a Web API call that failed: an error code Slack answered with, or an
// HTTP failure (429 or 5xx) that outlasted the retries.
type SlackError struct {
	Method string
	// Code is Slack's error code; "" for an HTTP failure, which has Status instead.
	Code   string
	Status int
	Fault  SlackFault
	// Needed and Provided are the scopes Slack reports with missing_scope.
	Needed, Provided string
	// Err is the HTTP failure, when there was one.
	Err error
}

func (e *SlackError) Error() string {
	if e.Code == "" && e.Err != nil {
		return e.Method + ": " + e.Err.Error()
	}
	return e.Method + ": slack error " + e.Code
}

func (e *SlackError) Unwrap() error { return e.Err }

// Sentence tells a person what went wrong and what to do about it.
func (e *SlackError) Sentence() string {
	switch e.Fault {
	case SlackDown:
		return "Slack had a problem (" + e.what() + ") — try again."
	case SlackSetup:
		return e.setupSentence()
	}
	return "Something went wrong on Runbook's side (Slack answered " + e.Method + " with " + e.what() + "); it has been logged."
}

// what names the failure: Slack's code, or the HTTP status.
func (e *SlackError) what() string {
	switch {
	case e.Code != "":
		return e.Code
	case e.Status == 429:
		return "ratelimited"
	case e.Status != 0:
		return "HTTP " + itoa(int64(e.Status))
	}
	return "no answer"
}

func (e *SlackError) setupSentence() string {
	switch e.Code {
	case "missing_scope":
		if e.Needed == "" {
			return "The Slack app lacks a scope it needs for " + e.Method + " (missing_scope): add it on the app's OAuth & Permissions page and reinstall the app."
		}
		return "The Slack app lacks the " + e.Needed + " scope (missing_scope): add it on the app's OAuth & Permissions page and reinstall the app."
	case "not_in_channel":
		return "Runbook is not in that channel (not_in_channel): invite it with `/invite @Runbook`."
	case "restricted_action", "ekm_access_denied":
		return "This workspace's settings do not let Runbook do that (" + e.Code + "): a Slack admin can change them."
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type":
		return "Slack rejected Runbook's bot token (" + e.Code + "): the bot's operator must check slack.botToken, or reinstall the app."
	}
	return "Slack does not let Runbook do that (" + e.Code + "): the app's installation or the workspace's settings must change."
}

// SlackCode returns the Slack error code in err's chain, or "".
func SlackCode(err error) string {
	if se, ok := errors.AsType[*SlackError](err); ok {
		return se.Code
	}
	return ""
}

// SlackUnanswered says whether err means Slack gave no answer to act on — it was out
// of reach, down or busy — rather than a refusal (channel_not_found, not_in_channel…).
// A check that must not read an outage as a "no" asks this first.
func SlackUnanswered(err error) bool {
	return err != nil && (SlackCode(err) == "" || ErrorCode(err) == EUNAVAILABLE)
}
