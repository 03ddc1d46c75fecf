package runbook

import (
	"context"
	"time"

	"github.com/slack-go/slack"
)

// RequestKind says where a request came from in Slack.
type RequestKind string

// The kinds of request the bot accepts. Slash commands and mentions share one command
// grammar; actions are button clicks; view submissions are modal forms.
const (
	KindCommand        RequestKind = "command"
	KindMention        RequestKind = "mention"
	KindAction         RequestKind = "action"
	KindViewSubmission RequestKind = "view_submission"
	// KindReaction is a 📌 (pushpin) reaction added to a message: UserID reacted,
	// ChannelID is the message's channel, and Reaction says which message.
	KindReaction RequestKind = "reaction"
)

// Request is one thing a person asked of the bot, normalised from whichever Slack
// envelope carried it, so that handlers never see Socket Mode or slack-go types.
type Request struct {
	Kind RequestKind
	// ID is stable across Slack's redeliveries of the same request (the event id for
	// events, else the envelope id); the bot remembers it to act exactly once.
	ID string

	TeamID    string
	UserID    string
	UserName  string
	ChannelID string
	// ChannelName is what Slack says the channel is called; empty when Slack omits it.
	ChannelName string

	// Text is the command text, still Slack-encoded (<@U1>, &amp;…): for a slash
	// command what follows the command, for a mention what follows the bot's mention.
	Text string
	// Command is the slash command as typed ("/runbook"); empty for other kinds.
	Command string

	// Edited marks a mention Slack sent again because its message was edited: the
	// message was acted on when it was first sent, so an edit never runs a command.
	Edited bool

	// ThreadTS is where a reply to a mention belongs: the mention's thread, or the
	// mention itself when it started none.
	ThreadTS string
	// ResponseURL lets a slash command or action be answered after its ack.
	ResponseURL string
	// TriggerID opens a modal in answer to this request (valid for 3 s).
	TriggerID string

	Action   *Action
	View     *ViewSubmission
	Reaction *Reaction

	ReceivedAt time.Time
}

// Action is a button click on one of the bot's messages.
type Action struct {
	ActionID  string
	BlockID   string
	Value     string
	MessageTS string
}

// Reaction is an emoji reaction added to a message (Slack's reaction_added event).
type Reaction struct {
	// Name is the emoji's name without colons: "pushpin".
	Name string
	// MessageTS is the ts of the message reacted to, in the request's ChannelID.
	MessageTS string
	// ItemUser is who wrote the message, or "" for messages no user wrote.
	ItemUser string
}

// ViewSubmission is a submitted modal: its callback id, the private metadata the bot
// stored in it, and the values the person entered, by block id then action id.
type ViewSubmission struct {
	ViewID          string
	CallbackID      string
	PrivateMetadata string
	Values          map[string]map[string]string
}

// Visibility says who sees a reply.
type Visibility int

const (
	// Private replies are seen only by the person who asked (ephemeral).
	Private Visibility = iota
	// Public replies are seen by everyone in the channel or thread.
	Public
)

// Reply is a handler's answer to the person who sent a request. The bot delivers it the
// way the request's kind allows: in the ack of a slash command, in the thread of a
// mention, as an ephemeral message after a click.
type Reply struct {
	Visibility Visibility
	Text       string        // fallback text for notifications; mrkdwn
	Blocks     []slack.Block // optional Block Kit body
	// ViewErrors answers a modal submission with errors shown beside the inputs, by
	// block id; the modal stays open.
	ViewErrors map[string]string
}

// Handler answers requests. It returns a Reply for the person, or an error: an *Error
// becomes its message in Slack, any other error becomes a generic sentence and is logged.
type Handler interface {
	Handle(ctx context.Context, req *Request) (*Reply, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (*Reply, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req *Request) (*Reply, error) { return f(ctx, req) }
