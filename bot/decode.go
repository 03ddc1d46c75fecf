package bot

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runbookhq/runbook"
)

// Envelope types of Socket Mode.
const (
	typeSlashCommands = "slash_commands"
	typeEventsAPI     = "events_api"
	typeInteractive   = "interactive"
)

// maxEnvelope bounds what the bot will decode; Slack's own payloads are far smaller.
const maxEnvelope = 1 << 20

// envelope is a Socket Mode request as it came over the wire.
type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
}

// errTooLarge marks envelopes over maxEnvelope.
var errTooLarge = errors.New("envelope too large")

// errIgnored marks envelopes that are well formed but not for the bot (other event
// types, modal closes, shortcuts): they are acked and dropped.
var errIgnored = errors.New("not a request for the bot")

// decodeRequest turns an envelope into the one request type handlers see. It decodes
// the payload itself rather than trusting slack-go's typed events, because real slash
// command payloads carry is_enterprise_install as a string, which slack-go's struct
// rejects.
func decodeRequest(env envelope, botUserID string, now time.Time) (*runbook.Request, error) {
	if len(env.Payload) > maxEnvelope {
		return nil, fmt.Errorf("%w: payload of %d bytes is over the %d-byte limit", errTooLarge, len(env.Payload), maxEnvelope)
	}
	if env.EnvelopeID == "" {
		return nil, errors.New("envelope has no envelope_id")
	}
	var (
		req *runbook.Request
		err error
	)
	switch env.Type {
	case typeSlashCommands:
		req, err = decodeSlashCommand(env.Payload)
	case typeEventsAPI:
		req, err = decodeEvent(env.Payload, botUserID)
	case typeInteractive:
		req, err = DecodeInteraction(env.Payload)
	default:
		return nil, fmt.Errorf("envelope type %q: %w", env.Type, errIgnored)
	}
	if err != nil {
		return nil, err
	}
	if req.ID == "" {
		req.ID = env.EnvelopeID
	}
	req.ReceivedAt = now
	return req, nil
}

type slashPayload struct {
	TeamID      string `json:"team_id"`
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	Command     string `json:"command"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
}

func decodeSlashCommand(raw json.RawMessage) (*runbook.Request, error) {
	var p slashPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode slash command: %w", err)
	}
	if p.UserID == "" || p.ChannelID == "" {
		return nil, errors.New("slash command without user_id or channel_id")
	}
	return &runbook.Request{
		Kind:        runbook.KindCommand,
		TeamID:      p.TeamID,
		UserID:      p.UserID,
		UserName:    p.UserName,
		ChannelID:   p.ChannelID,
		ChannelName: p.ChannelName,
		Command:     p.Command,
		Text:        p.Text,
		ResponseURL: p.ResponseURL,
		TriggerID:   p.TriggerID,
	}, nil
}

type eventPayload struct {
	TeamID  string `json:"team_id"`
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	Event   struct {
		Type     string `json:"type"`
		User     string `json:"user"`
		BotID    string `json:"bot_id"`
		Text     string `json:"text"`
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
		Channel  string `json:"channel"`
		// Edited is set when Slack re-sends app_mention for an edited message, with
		// the same ts and a new event id.
		Edited *struct {
			User string `json:"user"`
			TS   string `json:"ts"`
		} `json:"edited"`
		// Reaction, ItemUser and Item are reaction_added's: the emoji, who wrote the
		// message, and the message.
		Reaction string `json:"reaction"`
		ItemUser string `json:"item_user"`
		Item     struct {
			Type    string `json:"type"`
			Channel string `json:"channel"`
			TS      string `json:"ts"`
		} `json:"item"`
	} `json:"event"`
}

// PinReaction is the reaction that adds a message to its incident's timeline.
const PinReaction = "pushpin"

func decodeEvent(raw json.RawMessage, botUserID string) (*runbook.Request, error) {
	var p eventPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	ev := p.Event
	if p.Type == "event_callback" && ev.Type == "reaction_added" {
		return decodeReaction(p, botUserID)
	}
	if p.Type != "event_callback" || ev.Type != "app_mention" {
		return nil, fmt.Errorf("event %q/%q: %w", p.Type, ev.Type, errIgnored)
	}
	if ev.BotID != "" || ev.User == "" || ev.User == botUserID {
		return nil, fmt.Errorf("mention by a bot: %w", errIgnored)
	}
	if ev.Channel == "" || ev.TS == "" {
		return nil, errors.New("app_mention without channel or ts")
	}
	thread := ev.ThreadTS
	if thread == "" {
		thread = ev.TS
	}
	return &runbook.Request{
		Kind:      runbook.KindMention,
		ID:        p.EventID,
		TeamID:    p.TeamID,
		UserID:    ev.User,
		ChannelID: ev.Channel,
		Text:      afterMention(ev.Text, botUserID),
		ThreadTS:  thread,
		Edited:    ev.Edited != nil,
	}, nil
}

// decodeReaction reads a reaction_added event. Only a 📌 on a message, by a person, is
// a request: every other reaction is acked and dropped before it reaches the inbox.
func decodeReaction(p eventPayload, botUserID string) (*runbook.Request, error) {
	ev := p.Event
	if ev.Reaction != PinReaction || ev.Item.Type != "message" {
		return nil, fmt.Errorf("reaction %q on a %q: %w", ev.Reaction, ev.Item.Type, errIgnored)
	}
	if ev.User == "" || ev.User == botUserID {
		return nil, fmt.Errorf("reaction by the bot: %w", errIgnored)
	}
	if ev.Item.Channel == "" || ev.Item.TS == "" {
		return nil, errors.New("reaction_added without item channel or ts")
	}
	return &runbook.Request{
		Kind:      runbook.KindReaction,
		ID:        p.EventID,
		TeamID:    p.TeamID,
		UserID:    ev.User,
		ChannelID: ev.Item.Channel,
		Reaction:  &runbook.Reaction{Name: ev.Reaction, MessageTS: ev.Item.TS, ItemUser: ev.ItemUser},
	}, nil
}

// afterMention returns what follows the bot's mention in a message, so that
// "@Runbook status INC-4" and "/runbook status INC-4" read the same. Without the bot's
// id it drops the first user mention.
func afterMention(text, botUserID string) string {
	rest := text
	for {
		start := strings.Index(rest, "<@")
		if start < 0 {
			return strings.TrimSpace(text)
		}
		end := strings.IndexByte(rest[start:], '>')
		if end < 0 {
			return strings.TrimSpace(text)
		}
		id, _, _ := strings.Cut(rest[start+2:start+end], "|")
		if botUserID == "" || id == botUserID {
			return strings.TrimSpace(rest[start+end+1:])
		}
		rest = rest[start+end+1:]
	}
}

type interactionPayload struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		TeamID   string `json:"team_id"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	Container struct {
		MessageTS string `json:"message_ts"`
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	TriggerID   string `json:"trigger_id"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		BlockID  string `json:"block_id"`
		Value    string `json:"value"`
	} `json:"actions"`
	View struct {
		ID              string `json:"id"`
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		State           struct {
			Values map[string]map[string]inputValue `json:"values"`
		} `json:"state"`
	} `json:"view"`
}

// inputValue is one input's state in a submitted view; which field is set depends on
// the input's type.
type inputValue struct {
	Type           string `json:"type"`
	Value          string `json:"value"`
	SelectedOption *struct {
		Value string `json:"value"`
	} `json:"selected_option"`
	SelectedUser string `json:"selected_user"`
}

func (v inputValue) String() string {
	switch {
	case v.SelectedOption != nil:
		return v.SelectedOption.Value
	case v.SelectedUser != "":
		return v.SelectedUser
	}
	return v.Value
}

// DecodeInteraction reads an interactive payload (a button click or a form submission)
// as the bot does. Tests that hand a click to the services themselves decode it with it.
func DecodeInteraction(raw json.RawMessage) (*runbook.Request, error) {
	var p interactionPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode interaction: %w", err)
	}
	if p.User.ID == "" {
		return nil, errors.New("interaction without user")
	}
	req := &runbook.Request{
		// An org-wide install on Enterprise Grid sends "team": null; the person's own
		// workspace is still in user.team_id.
		TeamID:      cmp.Or(p.Team.ID, p.User.TeamID),
		UserID:      p.User.ID,
		UserName:    p.User.Username,
		ChannelID:   p.Channel.ID,
		ChannelName: p.Channel.Name,
		ResponseURL: p.ResponseURL,
		TriggerID:   p.TriggerID,
	}
	if req.ChannelID == "" {
		req.ChannelID = p.Container.ChannelID
	}
	switch p.Type {
	case "block_actions":
		if len(p.Actions) == 0 {
			return nil, errors.New("block_actions without actions")
		}
		a := p.Actions[0]
		req.Kind = runbook.KindAction
		req.Action = &runbook.Action{ActionID: a.ActionID, BlockID: a.BlockID, Value: a.Value, MessageTS: p.Container.MessageTS}
	case "view_submission":
		values := make(map[string]map[string]string, len(p.View.State.Values))
		for block, inputs := range p.View.State.Values {
			values[block] = make(map[string]string, len(inputs))
			for action, v := range inputs {
				values[block][action] = v.String()
			}
		}
		req.Kind = runbook.KindViewSubmission
		req.View = &runbook.ViewSubmission{ViewID: p.View.ID, CallbackID: p.View.CallbackID,
			PrivateMetadata: p.View.PrivateMetadata, Values: values}
	default:
		return nil, fmt.Errorf("interaction %q: %w", p.Type, errIgnored)
	}
	return req, nil
}
