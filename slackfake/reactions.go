package slackfake

import (
	"fmt"
	"slices"
	"strings"
)

// ReactionAdded has userID add the emoji name (without colons: "pushpin") to the
// message ts in a channel (by ID or name), as the Slack client does, and queues the
// reaction_added events_api envelope Slack sends for it
// (docs.slack.dev/reference/events/reaction_added): the event's user, reaction,
// item_user (absent for a message no user wrote), item {type: message, channel, ts}
// and event_ts.
//
// As on Slack, the reacting user must see the message (a member of the channel), a
// user adds each emoji to a message once (again is already_reacted, and no event), and
// no event is sent when the bot is not in the channel: the returned Delivery then has
// no EnvelopeID (its WaitAck returns [ErrNotSent]).
func (s *Server) ReactionAdded(userID, channelID, ts, name string) (*Delivery, error) {
	name = strings.Trim(name, ":")
	s.mu.Lock()
	c := s.lookupChannel(channelID)
	if c == nil || c.private && !c.isMember(userID) {
		s.mu.Unlock()
		return nil, fmt.Errorf("slackfake: ReactionAdded: channel_not_found: %s", channelID)
	}
	m := c.findMessage(ts)
	if m == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slackfake: ReactionAdded: message_not_found: %s in %s", ts, channelID)
	}
	if m.reactions == nil {
		m.reactions = map[string][]string{}
	}
	if slices.Contains(m.reactions[name], userID) {
		s.mu.Unlock()
		return nil, fmt.Errorf("slackfake: ReactionAdded: already_reacted: %s already added :%s: to %s", userID, name, ts)
	}
	m.reactions[name] = append(m.reactions[name], userID)
	s.notifyLocked()
	if !c.isMember(s.botUserID) {
		s.mu.Unlock()
		s.log.Warn("slackfake: ReactionAdded: the bot is not in the channel; Slack sends no reaction_added", "channel", channelID)
		return &Delivery{Type: EnvelopeEventsAPI, TS: ts, s: s}, nil
	}
	ev := map[string]any{
		"type": "reaction_added", "user": userID, "reaction": name,
		"item":     map[string]any{"type": "message", "channel": c.id, "ts": m.ts},
		"event_ts": s.nextTS(),
	}
	if m.user != "" {
		ev["item_user"] = m.user
	}
	d := s.enqueueLocked(EnvelopeEventsAPI, mustJSON(s.eventCallback(ev)), false, envContext{})
	d.TS = ts
	s.mu.Unlock()
	s.kickDispatcher()
	return d, nil
}

// PostReplyAs stores a reply a member wrote in the thread of threadTS, as the Slack
// client would; like PostAs, the bot hears nothing of it.
func (s *Server) PostReplyAs(userID, channelID, threadTS, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupChannel(channelID)
	if c == nil {
		return Message{}, fmt.Errorf("slackfake: PostReplyAs: no channel %s", channelID)
	}
	if !c.isMember(userID) {
		return Message{}, fmt.Errorf("slackfake: PostReplyAs: %s is not in %s", userID, channelID)
	}
	if c.findMessage(threadTS) == nil {
		return Message{}, fmt.Errorf("slackfake: PostReplyAs: no message %s in %s", threadTS, channelID)
	}
	m := &message{channel: c.id, ts: s.nextTS(), user: userID, text: text, clientMsgID: newUUID()}
	s.attachToThread(c, m, threadTS)
	c.msgs = append(c.msgs, m)
	s.notifyLocked()
	return m.snapshot(), nil
}
