package slackfake

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Payloads captured from real Slack (Slack's SDK fixtures, its documentation) name
// their own workspace: "T111", "W111", "C111". The methods here teach the emulator
// those ids, so that such a payload can be delivered as it is and the bot's answers
// land somewhere a test can look.

// InstallUser adds a member with the id a captured payload gives them: a "U…" id, or
// an Enterprise Grid "W…" one. It fails if the id is taken.
func (s *Server) InstallUser(id, name string, opts ...UserOption) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" || s.users[id] != nil {
		return User{}, fmt.Errorf("slackfake: InstallUser: id %q is empty or taken", id)
	}
	u := &user{id: id, name: name, realName: name, updated: time.Now().Unix()}
	for _, o := range opts {
		o(u)
	}
	if u.isBot && u.botID == "" {
		u.botID = s.newID("B")
	}
	s.addUser(u)
	s.notifyLocked()
	snap := u.snapshot()
	snap.TeamID = s.teamID
	return snap, nil
}

// InstallChannel adds a channel with the id a captured payload gives it ("C…", or
// "G…" with [ChannelPrivate]). As with [Server.AddChannel], a public channel has the
// bot as a member unless [ChannelWithoutBot] is given. It fails if the id or the name
// is taken, or the name is one Slack refuses.
func (s *Server) InstallChannel(id, name string, opts ...ChannelOption) (Channel, error) {
	var seed channelSeed
	for _, o := range opts {
		o(&seed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" || s.channels[id] != nil {
		return Channel{}, fmt.Errorf("slackfake: InstallChannel: id %q is empty or taken", id)
	}
	if code := validateChannelName(name); code != "" {
		return Channel{}, fmt.Errorf("slackfake: InstallChannel(%q): %s", name, code)
	}
	if s.channelByName(name) != nil {
		return Channel{}, fmt.Errorf("slackfake: InstallChannel(%q): name_taken", name)
	}
	c := s.seedChannelLocked(id, name, seed)
	s.addChannel(c)
	s.notifyLocked()
	return c.snapshot(), nil
}

// InstallDM adds the direct message between the bot and userID with the "D…" id a
// captured payload gives it.
func (s *Server) InstallDM(id, userID string) (Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" || s.channels[id] != nil {
		return Channel{}, fmt.Errorf("slackfake: InstallDM: id %q is empty or taken", id)
	}
	if s.users[userID] == nil {
		return Channel{}, fmt.Errorf("slackfake: InstallDM: unknown user %q", userID)
	}
	for _, cid := range s.chanOrder {
		if c := s.channels[cid]; c.im && c.imUser == userID {
			return Channel{}, fmt.Errorf("slackfake: InstallDM: %s already has a DM with the bot (%s)", userID, c.id)
		}
	}
	c := &channel{id: id, im: true, imUser: userID, created: time.Now().Unix(),
		members: []string{userID, s.botUserID}}
	s.addChannel(c)
	s.notifyLocked()
	return c.snapshot(), nil
}

// AdoptBotUserID gives the bot user the id a captured payload mentions it by
// ("<@W111> Hi there!"), so that the bot reads the mention as its own. Call it before
// the bot connects: the bot learns its id from auth.test when it starts.
func (s *Server) AdoptBotUserID(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == s.botUserID {
		return nil
	}
	if id == "" || s.users[id] != nil {
		return fmt.Errorf("slackfake: AdoptBotUserID: id %q is empty or taken", id)
	}
	if len(s.sock.live()) > 0 {
		return errors.New("slackfake: AdoptBotUserID: the bot is connected and knows its id already")
	}
	old := s.botUserID
	bot := s.users[old]
	delete(s.users, old)
	bot.id = id
	s.users[id] = bot
	s.userOrder[slices.Index(s.userOrder, old)] = id
	s.botUserID = id
	for _, c := range s.channels {
		if i := slices.Index(c.members, old); i >= 0 {
			c.members[i] = id
		}
		if c.creator == old {
			c.creator = id
		}
		if c.imUser == old {
			c.imUser = id
		}
		for _, m := range c.msgs {
			if m.user == old {
				m.user = id
			}
		}
	}
	s.notifyLocked()
	return nil
}

// Deliver queues a payload captured from real Slack in an envelope of envelopeType,
// as Slack would send it over Socket Mode. The payload goes out as captured, except
// for what Slack mints afresh for every request: response_url and trigger_id are
// replaced by the emulator's own, because a captured one points at hooks.slack.com
// and has long expired. So the bot's answers land in the emulator — an ack payload
// or a response_url post to a slash command or a click shows as an ephemeral message
// to the person, as it would on Slack.
//
// An app_mention's message is stored in its channel (or, for an edited one, changed
// there), as Slack holds it before it sends the event, so that the bot's answer can
// join its thread.
//
// Slash commands and view submissions accept a response payload in the ack, as on
// Slack; events are redelivered when no ack comes in time. The payload's channel and user must be
// known (see [Server.InstallChannel], [Server.InstallUser]) for answers to reach them.
func (s *Server) Deliver(envelopeType string, payload json.RawMessage) (*Delivery, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, fmt.Errorf("slackfake: Deliver: payload is not a JSON object: %w", err)
	}
	var (
		body struct {
			Type      string `json:"type"`
			UserID    string `json:"user_id"`
			ChannelID string `json:"channel_id"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
			Channel struct {
				ID string `json:"id"`
			} `json:"channel"`
			Container struct {
				MessageTS   string `json:"message_ts"`
				ChannelID   string `json:"channel_id"`
				IsEphemeral bool   `json:"is_ephemeral"`
			} `json:"container"`
			View struct {
				ID string `json:"id"`
			} `json:"view"`
		}
		ctx     envContext
		accepts bool
	)
	if envelopeType != EnvelopeEventsAPI {
		if err := json.Unmarshal(payload, &body); err != nil {
			return nil, fmt.Errorf("slackfake: Deliver: %w", err)
		}
	}
	s.mu.Lock()
	var d *Delivery
	trig, hookURL, ts := "", "", ""
	switch envelopeType {
	case EnvelopeEventsAPI:
		ts = s.storeMentionedLocked(payload)
	case EnvelopeSlashCommands:
		accepts = true
		trig = s.newTrigger(body.UserID)
		h := s.newHookLocked(hookSlash, body.ChannelID, body.UserID, "", false)
		hookURL = s.hookURL(h)
		ctx = envContext{kind: "slash", userID: body.UserID, channelID: body.ChannelID, hookID: h.id}
	case EnvelopeInteractive:
		trig = s.newTrigger(body.User.ID)
		switch body.Type {
		case "view_submission":
			accepts = true
			ctx = envContext{kind: "view_submission", userID: body.User.ID, viewID: body.View.ID}
		default:
			channelID := body.Container.ChannelID
			if channelID == "" {
				channelID = body.Channel.ID
			}
			if _, ok := top["response_url"]; ok {
				h := s.newHookLocked(hookInteractive, channelID, body.User.ID, body.Container.MessageTS,
					body.Container.IsEphemeral)
				hookURL = s.hookURL(h)
			}
		}
	}
	if _, ok := top["trigger_id"]; !ok {
		trig = ""
	}
	if trig != "" {
		top["trigger_id"] = mustJSON(trig)
	}
	if hookURL != "" {
		top["response_url"] = mustJSON(hookURL)
	}
	raw := payload
	if trig != "" || hookURL != "" {
		raw = mustJSON(top)
	}
	d = s.enqueueLocked(envelopeType, slices.Clone(raw), accepts, ctx)
	d.TriggerID, d.ResponseURL, d.TS = trig, hookURL, ts
	s.mu.Unlock()
	s.kickDispatcher()
	return d, nil
}

// storeMentionedLocked stores the message an app_mention event is about and returns
// its ts, or "" for other events and for channels the emulator does not know.
func (s *Server) storeMentionedLocked(payload json.RawMessage) string {
	var p struct {
		Event struct {
			Type     string `json:"type"`
			User     string `json:"user"`
			Text     string `json:"text"`
			TS       string `json:"ts"`
			ThreadTS string `json:"thread_ts"`
			Channel  string `json:"channel"`
			Edited   *struct {
				User string `json:"user"`
				TS   string `json:"ts"`
			} `json:"edited"`
		} `json:"event"`
	}
	if json.Unmarshal(payload, &p) != nil || p.Event.Type != "app_mention" || p.Event.TS == "" {
		return ""
	}
	ev := p.Event
	c := s.channels[ev.Channel]
	if c == nil {
		return ""
	}
	m := c.findMessage(ev.TS)
	if m == nil {
		m = &message{channel: c.id, ts: ev.TS, user: ev.User, text: ev.Text, clientMsgID: newUUID()}
		if ev.ThreadTS == ev.TS {
			m.threadTS = ev.TS
		} else {
			s.attachToThread(c, m, ev.ThreadTS)
		}
		c.msgs = append(c.msgs, m)
		slices.SortStableFunc(c.msgs, func(a, b *message) int { return compareTS(a.ts, b.ts) })
	}
	m.text = ev.Text
	if ev.Edited != nil {
		m.editedBy, m.editedTS = ev.Edited.User, ev.Edited.TS
	}
	s.notifyLocked()
	return m.ts
}

// compareTS orders two Slack timestamps ("1515449522.000016") by time.
func compareTS(a, b string) int {
	am, _ := tsMicros(a)
	bm, _ := tsMicros(b)
	return cmp.Compare(am, bm)
}
