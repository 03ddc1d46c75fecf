package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
)

// SlashCommand has userID run a slash command in a channel (by ID or name)
// and queues the slash_commands envelope (accepts_response_payload true).
// An ack payload with text or blocks is shown like a response_url message:
// ephemeral to the user unless "response_type" is "in_channel".
func (s *Server) SlashCommand(userID, channelID, command, text string) *Delivery {
	if !strings.HasPrefix(command, "/") {
		command = "/" + command
	}
	s.mu.Lock()
	chID, chName := channelID, ""
	if c := s.lookupChannel(channelID); c != nil {
		chID, chName = c.id, payloadChannelName(c)
	} else {
		s.log.Warn("slackfake: SlashCommand: unknown channel", "channel", channelID)
	}
	userName := ""
	if u := s.users[userID]; u != nil {
		userName = u.name
	} else {
		s.log.Warn("slackfake: SlashCommand: unknown user", "user", userID)
	}
	trig := s.newTrigger(userID)
	h := s.newHookLocked(hookSlash, chID, userID, "", false)
	payload := map[string]string{
		"token": s.verifyToken, "team_id": s.teamID, "team_domain": TeamDomain, "channel_id": chID,
		"channel_name": chName, "user_id": userID, "user_name": userName, "command": command,
		"text": text, "api_app_id": s.appID, "is_enterprise_install": "false",
		"response_url": s.hookURL(h), "trigger_id": trig,
	}
	if s.enterpriseID != "" {
		payload["is_enterprise_install"] = "true"
		payload["enterprise_id"], payload["enterprise_name"] = s.enterpriseID, EnterpriseName
	}
	d := s.enqueueLocked(EnvelopeSlashCommands, mustJSON(payload), true,
		envContext{kind: "slash", userID: userID, channelID: chID, hookID: h.id})
	d.TriggerID, d.ResponseURL = trig, s.hookURL(h)
	s.mu.Unlock()
	s.kickDispatcher()
	return d
}

// Mention has userID post "<@BOT> text" in a channel (by ID or name), in
// the thread threadTS if not empty, stores that message, and queues the
// app_mention events_api envelope. text is sent as given, so it must be
// Slack-encoded ("<@U…>", "&amp;", …).
//
// As on Slack, no event is sent when the bot is not a member of the
// channel: the message is stored and the returned Delivery has no
// EnvelopeID (its WaitAck returns [ErrNotSent]).
func (s *Server) Mention(userID, channelID, text string, threadTS string) *Delivery {
	s.mu.Lock()
	full := "<@" + s.botUserID + ">"
	if text != "" {
		full += " " + text
	}
	c := s.lookupChannel(channelID)
	m := &message{ts: s.nextTS(), user: userID, text: full, clientMsgID: newUUID(),
		blocks: mentionBlocks(s.botUserID, text)}
	if c == nil || !c.isMember(s.botUserID) {
		if c != nil {
			m.channel = c.id
			s.attachToThread(c, m, threadTS)
			c.msgs = append(c.msgs, m)
			s.notifyLocked()
		}
		s.mu.Unlock()
		s.log.Warn("slackfake: Mention: unknown channel, or the bot is not in it; Slack sends no app_mention",
			"channel", channelID)
		return &Delivery{Type: EnvelopeEventsAPI, TS: m.ts, s: s}
	}
	m.channel = c.id
	s.attachToThread(c, m, threadTS)
	c.msgs = append(c.msgs, m)

	d := s.enqueueLocked(EnvelopeEventsAPI, mustJSON(s.eventCallback(s.mentionEvent(c, m, m.ts))), false, envContext{})
	d.TS = m.ts
	s.mu.Unlock()
	s.kickDispatcher()
	return d
}

// EditMention has userID edit their message ts in a channel (by ID or name) to read
// "<@BOT> text", and queues the app_mention Slack sends again for an edited message
// that mentions the app: the same ts and text as the message now reads, an
// "edited": {"user", "ts"} field, and a new event_id (slack-go PR #1256, bolt-js #960).
// As on Slack, only the author may edit, and no event is sent when the bot is not in
// the channel.
func (s *Server) EditMention(userID, channelID, ts, text string) (*Delivery, error) {
	s.mu.Lock()
	c := s.lookupChannel(channelID)
	var m *message
	if c != nil {
		m = c.findMessage(ts)
	}
	if m == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slackfake: EditMention: no message %s in %s", ts, channelID)
	}
	if m.user != userID {
		s.mu.Unlock()
		return nil, fmt.Errorf("slackfake: EditMention: %s cannot edit %s's message (cant_update_message)", userID, m.user)
	}
	m.text = "<@" + s.botUserID + ">"
	if text != "" {
		m.text += " " + text
	}
	m.blocks = mentionBlocks(s.botUserID, text)
	// Slack's edit stamps are whole seconds ("1706785427.000000").
	m.editedBy, m.editedTS = userID, fmt.Sprintf("%d.000000", time.Now().Unix())
	s.notifyLocked()
	if !c.isMember(s.botUserID) {
		s.mu.Unlock()
		return &Delivery{Type: EnvelopeEventsAPI, TS: m.ts, s: s}, nil
	}
	ev := s.mentionEvent(c, m, m.editedTS)
	ev["edited"] = map[string]any{"user": m.editedBy, "ts": m.editedTS}
	d := s.enqueueLocked(EnvelopeEventsAPI, mustJSON(s.eventCallback(ev)), false, envContext{})
	d.TS = m.ts
	s.mu.Unlock()
	s.kickDispatcher()
	return d, nil
}

// mentionEvent is the app_mention inner event for a stored message; eventTS is when
// the event happened (the post, or the edit).
func (s *Server) mentionEvent(c *channel, m *message, eventTS string) map[string]any {
	ev := map[string]any{
		"client_msg_id": m.clientMsgID, "type": "app_mention", "text": m.text, "user": m.user,
		"ts": m.ts, "blocks": m.blocks, "team": s.teamID, "channel": c.id, "event_ts": eventTS,
	}
	if m.threadTS != "" {
		ev["thread_ts"] = m.threadTS
		if p := c.findMessage(m.threadTS); p != nil {
			ev["parent_user_id"] = p.user
		}
	}
	return ev
}

// eventCallback wraps an inner event in the Events API outer envelope.
func (s *Server) eventCallback(ev map[string]any) map[string]any {
	now := time.Now().Unix()
	ctx := base64.RawStdEncoding.EncodeToString(mustJSON(map[string]any{"tid": s.teamID, "aid": s.appID}))
	out := map[string]any{
		"token": s.verifyToken, "team_id": s.teamID, "context_team_id": s.teamID,
		"context_enterprise_id": nil, "api_app_id": s.appID, "event": ev, "type": "event_callback",
		"event_id": "Ev" + strings.ToUpper(randAlnum(9)), "event_time": now,
		"authorizations": []any{map[string]any{"enterprise_id": nil, "team_id": s.teamID,
			"user_id": s.botUserID, "is_bot": true, "is_enterprise_install": false}},
		"is_ext_shared_channel": false, "event_context": "4-" + ctx,
	}
	if s.enterpriseID != "" {
		// An org-wide install is authorized for the org, not one of its workspaces.
		out["enterprise_id"], out["context_enterprise_id"] = s.enterpriseID, s.enterpriseID
		out["authorizations"] = []any{map[string]any{"enterprise_id": s.enterpriseID, "team_id": nil,
			"user_id": s.botUserID, "is_bot": true, "is_enterprise_install": true}}
	}
	return out
}

// mentionBlocks is the rich_text block Slack's client attaches to a typed
// mention.
func mentionBlocks(botUserID, text string) json.RawMessage {
	elems := []any{map[string]any{"type": "user", "user_id": botUserID}}
	if text != "" {
		elems = append(elems, map[string]any{"type": "text", "text": " " + text})
	}
	return mustJSON([]any{map[string]any{
		"type": "rich_text", "block_id": randAlnum(5),
		"elements": []any{map[string]any{"type": "rich_text_section", "elements": elems}},
	}})
}

// ClickButton has userID click the button with actionID in a stored
// message (or an ephemeral message shown to userID) and queues the
// block_actions interactive envelope. It fails if the message or the
// button does not exist, so tests only click real buttons.
func (s *Server) ClickButton(userID, channelID, messageTS, actionID string) (*Delivery, error) {
	s.mu.Lock()
	defer s.kickDispatcher()
	defer s.mu.Unlock()
	c := s.lookupChannel(channelID)
	if c == nil {
		return nil, fmt.Errorf("slackfake: ClickButton: unknown channel %q", channelID)
	}
	m, eph := c.findMessage(messageTS), false
	if m == nil {
		if m = c.findEphemeral(messageTS); m != nil && m.ephemeralTo == userID {
			eph = true
		} else {
			return nil, fmt.Errorf("slackfake: ClickButton: no message %s in %s", messageTS, c.id)
		}
	}
	blockID, el := findElement(m.blocks, actionID)
	if el == nil {
		return nil, fmt.Errorf("slackfake: ClickButton: no element %q in message %s", actionID, messageTS)
	}
	if t := str(el, "type"); t != "button" {
		return nil, fmt.Errorf("slackfake: ClickButton: %q is a %s, not a button", actionID, t)
	}
	text := maps.Clone(obj(el, "text"))
	if str(text, "type") == "plain_text" {
		if _, ok := text["emoji"]; !ok {
			text["emoji"] = true
		}
	}
	action := map[string]any{"action_id": actionID, "block_id": blockID, "text": text, "type": "button",
		"action_ts": s.nextTS()}
	for _, k := range []string{"value", "style", "url"} {
		if v, ok := el[k]; ok {
			action[k] = v
		}
	}
	trig := s.newTrigger(userID)
	h := s.newHookLocked(hookInteractive, c.id, userID, m.ts, eph)
	container := map[string]any{"type": "message", "message_ts": m.ts, "channel_id": c.id, "is_ephemeral": eph}
	if m.threadTS != "" && m.threadTS != m.ts {
		container["thread_ts"] = m.threadTS
	}
	payload := map[string]any{
		"type": "block_actions", "user": s.payloadUserJSON(userID), "api_app_id": s.appID,
		"token": s.verifyToken, "container": container, "trigger_id": trig, "team": s.teamJSON(),
		"enterprise": s.enterpriseJSON(), "is_enterprise_install": s.enterpriseID != "",
		"channel":      map[string]any{"id": c.id, "name": payloadChannelName(c)},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": s.hookURL(h), "actions": []any{action},
	}
	if !eph {
		payload["message"] = s.messageJSON(c, m, false)
	}
	d := s.enqueueLocked(EnvelopeInteractive, mustJSON(payload), false, envContext{})
	d.TS, d.TriggerID, d.ResponseURL = m.ts, trig, s.hookURL(h)
	return d, nil
}

// SubmitView has userID submit an open modal and queues the
// view_submission interactive envelope (accepts_response_payload true).
// values maps block_id → action_id → value for the modal's input blocks;
// multi-valued inputs (checkboxes, multi-selects) take comma-separated
// values. It fails on unknown inputs, on a required input left out, and on
// an option value a select does not offer.
//
// The ack decides what happens to the modal, as on Slack: no
// response_action closes it, "errors" keeps it open with Errors set,
// "update" replaces it, "push" pushes a new view, "clear" closes them all.
func (s *Server) SubmitView(userID, viewID string, values map[string]map[string]string) (*Delivery, error) {
	s.mu.Lock()
	defer s.kickDispatcher()
	defer s.mu.Unlock()
	v := s.views[viewID]
	switch {
	case v == nil:
		return nil, fmt.Errorf("slackfake: SubmitView: unknown view %q", viewID)
	case !v.open:
		return nil, fmt.Errorf("slackfake: SubmitView: view %s is closed", viewID)
	case v.userID != userID:
		return nil, fmt.Errorf("slackfake: SubmitView: view %s was opened for %s", viewID, v.userID)
	}
	state, err := viewState(v.def, values)
	if err != nil {
		return nil, fmt.Errorf("slackfake: SubmitView: %w", err)
	}
	trig := s.newTrigger(userID)
	payload := map[string]any{
		"type": "view_submission", "team": s.teamJSON(), "user": s.payloadUserJSON(userID),
		"api_app_id": s.appID, "token": s.verifyToken, "trigger_id": trig,
		"view": s.viewJSON(v, state), "response_urls": []any{}, "is_enterprise_install": s.enterpriseID != "",
		"enterprise": s.enterpriseJSON(),
	}
	d := s.enqueueLocked(EnvelopeInteractive, mustJSON(payload), true,
		envContext{kind: "view_submission", userID: userID, viewID: v.id})
	d.TriggerID = trig
	return d, nil
}

// applyAckLocked applies the effects of an envelope's first ack.
func (s *Server) applyAckLocked(e *envelope, payload json.RawMessage) {
	switch e.ctx.kind {
	case "slash":
		h := s.hooks[e.ctx.hookID]
		if payload == nil || h == nil {
			return
		}
		var msg responseMsg
		if err := json.Unmarshal(payload, &msg); err != nil {
			s.log.Warn("slackfake: slash command ack payload", "err", err)
			return
		}
		if msg.Text == "" && (len(msg.Blocks) == 0 || string(msg.Blocks) == "null") {
			return
		}
		if err := s.applyResponseLocked(h, msg); err != nil {
			s.log.Warn("slackfake: slash command ack payload rejected", "error", err.code)
		}
	case "view_submission":
		if v := s.views[e.ctx.viewID]; v != nil {
			s.applyViewAckLocked(v, payload)
		}
	}
}

func (s *Server) applyViewAckLocked(v *view, payload json.RawMessage) {
	var r struct {
		ResponseAction string            `json:"response_action"`
		View           json.RawMessage   `json:"view"`
		Errors         map[string]string `json:"errors"`
	}
	if payload != nil {
		if err := json.Unmarshal(payload, &r); err != nil {
			s.log.Warn("slackfake: view_submission ack payload", "err", err)
			return
		}
	}
	switch r.ResponseAction {
	case "errors":
		v.errors = r.Errors
	case "update", "push":
		def, err := parseView(string(r.View))
		if err != nil {
			s.log.Warn("slackfake: view_submission ack view rejected", "error", err.code, "extra", err.extra)
			return
		}
		if r.ResponseAction == "update" {
			v.def, v.hash, v.errors = def, newViewHash(), nil
			return
		}
		nv := &view{id: s.newID("V"), userID: v.userID, hash: newViewHash(), def: def, open: true,
			rootID: v.rootID, previousID: v.id}
		s.addView(nv)
	case "clear":
		for _, o := range s.openStack(v.userID) {
			o.open = false
		}
	default:
		v.open = false
	}
}
