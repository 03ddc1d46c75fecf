package slackfake

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// canSee reports whether the bot can see a conversation: public channels
// always, private ones and group DMs only as a member.
func (s *Server) canSee(c *channel) bool {
	return !(c.private || c.mpim) || c.isMember(s.botUserID)
}

// visible finds a conversation the bot can see by ID.
func (s *Server) visible(q *apiRequest, id string) (*channel, *apiError) {
	c := s.channels[id]
	if c == nil || !s.canSee(c) {
		return nil, fail("channel_not_found")
	}
	q.channel = c.id
	return c, nil
}

// postTarget resolves chat.* channel arguments: an ID, "#name", a name, or
// a user ID (which posts to the DM with that user).
func (s *Server) postTarget(q *apiRequest, raw string) (*channel, *apiError) {
	if u := s.users[raw]; u != nil && raw != "" {
		c, _ := s.dmWith(u.id)
		q.channel = c.id
		return c, nil
	}
	c := s.lookupChannel(raw)
	if c == nil || !s.canSee(c) {
		return nil, fail("channel_not_found")
	}
	q.channel = c.id
	return c, nil
}

// content is the text, blocks and metadata of a message argument set.
type content struct {
	text           string
	blocks         json.RawMessage
	metadata       json.RawMessage
	hasAttachments bool
}

// parseContent validates text, blocks, attachments and metadata.
func parseContent(q *apiRequest) (content, *apiError) {
	var ct content
	ct.text = q.str("text")
	if a := strings.TrimSpace(q.str("attachments")); a != "" && a != "[]" && a != "null" {
		var list []any
		if decodeJSON([]byte(a), &list) != nil {
			return ct, fail("invalid_attachments")
		}
		ct.hasAttachments = len(list) > 0
	}
	if b := strings.TrimSpace(q.str("blocks")); b != "" {
		blocks, err := parseBlocks(b, maxMessageBlocks, "/blocks")
		if err != nil {
			return ct, err
		}
		ct.blocks = blocks
	}
	if ct.text == "" && len(ct.blocks) == 0 && !ct.hasAttachments {
		return ct, fail("no_text")
	}
	if utf8.RuneCountInString(ct.text) > maxTextLen {
		return ct, fail("msg_too_long")
	}
	if m := strings.TrimSpace(q.str("metadata")); m != "" {
		meta, err := parseMetadata(m)
		if err != nil {
			return ct, err
		}
		ct.metadata = meta
	}
	return ct, nil
}

// parseMetadata validates message metadata and returns it as stored.
func parseMetadata(raw string) (json.RawMessage, *apiError) {
	var meta map[string]any
	if decodeJSON([]byte(raw), &meta) != nil {
		return nil, fail("invalid_metadata_format")
	}
	eventType := str(meta, "event_type")
	if eventType == "" {
		// slack-go sends an empty SlackMetadata struct when none is set.
		if meta["event_payload"] == nil {
			return nil, nil
		}
		return nil, fail("invalid_metadata_schema")
	}
	// Slack's metadata always carries both: an event_type without an event_payload
	// object (missing, null, a string) is refused, not stored with an empty payload.
	payload, ok := meta["event_payload"].(map[string]any)
	if !ok {
		return nil, fail("invalid_metadata_schema")
	}
	return mustJSON(map[string]any{"event_type": eventType, "event_payload": payload}), nil
}

// storeBotMessage stores a message by the bot in c.
func (s *Server) storeBotMessage(c *channel, ct content, threadTS string, broadcast bool) *message {
	m := &message{channel: c.id, ts: s.nextTS(), user: s.botUserID, botID: s.botID, appID: s.appID,
		text: ct.text, blocks: ct.blocks, metadata: ct.metadata}
	s.attachToThread(c, m, threadTS)
	if broadcast && m.threadTS != "" {
		m.subtype = "thread_broadcast"
	}
	c.msgs = append(c.msgs, m)
	return m
}

// attachToThread makes m a reply of the thread threadTS belongs to. A
// thread_ts that matches no message leaves m a top-level message.
func (s *Server) attachToThread(c *channel, m *message, threadTS string) {
	if threadTS == "" {
		return
	}
	p := c.findMessage(threadTS)
	if p == nil {
		return
	}
	if p.threadTS != "" && p.threadTS != p.ts {
		if p = c.findMessage(p.threadTS); p == nil {
			return
		}
	}
	p.threadTS = p.ts
	m.threadTS = p.ts
}

func (s *Server) chatPostMessage(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.postTarget(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	if c.archived {
		return nil, fail("is_archived")
	}
	ct, err := parseContent(q)
	if err != nil {
		return nil, err
	}
	m := s.storeBotMessage(c, ct, q.str("thread_ts"), q.boolean("reply_broadcast"))
	return map[string]any{"channel": c.id, "ts": m.ts, "message": s.messageJSON(c, m, true)}, nil
}

func (s *Server) chatUpdate(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	m := c.findMessage(q.str("ts"))
	if m == nil {
		return nil, fail("message_not_found")
	}
	if m.botID != s.botID {
		return nil, fail("cant_update_message")
	}
	if c.archived {
		return nil, fail("is_archived")
	}
	if !q.has("text") && !q.has("blocks") && !q.has("attachments") {
		return nil, fail("no_text")
	}
	if utf8.RuneCountInString(q.str("text")) > maxTextLen {
		return nil, fail("msg_too_long")
	}
	if q.has("blocks") {
		blocks, err := parseBlocks(orEmptyArray(q.str("blocks")), maxMessageBlocks, "/blocks")
		if err != nil {
			return nil, err
		}
		m.blocks = blocks
	}
	if q.has("text") {
		m.text = q.str("text")
	}
	if raw := strings.TrimSpace(q.str("metadata")); raw != "" {
		meta, err := parseMetadata(raw)
		if err != nil {
			return nil, err
		}
		if meta != nil {
			m.metadata = meta
		}
	}
	m.editedBy, m.editedTS = s.botUserID, s.nextTS()
	return map[string]any{"channel": c.id, "ts": m.ts, "text": m.text, "message": s.messageJSON(c, m, true)}, nil
}

func orEmptyArray(s string) string {
	if strings.TrimSpace(s) == "" {
		return "[]"
	}
	return s
}

func (s *Server) chatDelete(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	ts := q.str("ts")
	m := c.findMessage(ts)
	if m == nil {
		return nil, fail("message_not_found")
	}
	if m.botID != s.botID {
		return nil, fail("cant_delete_message")
	}
	c.deleteMessage(ts)
	return map[string]any{"channel": c.id, "ts": ts}, nil
}

func (s *Server) chatPostEphemeral(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.postTarget(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	userID := q.str("user")
	if s.users[userID] == nil {
		return nil, fail("user_not_found")
	}
	if !c.isMember(userID) {
		return nil, fail("user_not_in_channel")
	}
	if c.archived {
		return nil, fail("is_archived")
	}
	ct, err := parseContent(q)
	if err != nil {
		return nil, err
	}
	m := s.storeEphemeral(c, userID, ct, q.str("thread_ts"))
	return map[string]any{"message_ts": m.ts}, nil
}

// storeEphemeral stores an ephemeral message by the bot to userID.
func (s *Server) storeEphemeral(c *channel, userID string, ct content, threadTS string) *message {
	m := &message{channel: c.id, ts: s.nextTS(), threadTS: threadTS, user: s.botUserID, botID: s.botID,
		appID: s.appID, text: ct.text, blocks: ct.blocks, ephemeralTo: userID}
	c.ephemerals = append(c.ephemerals, m)
	return m
}

func (s *Server) chatGetPermalink(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	m := c.findMessage(q.str("message_ts"))
	if m == nil {
		return nil, fail("message_not_found")
	}
	link := "https://" + TeamDomain + ".slack.com/archives/" + c.id + "/p" + strings.Replace(m.ts, ".", "", 1)
	if m.threadTS != "" && m.threadTS != m.ts {
		link += "?thread_ts=" + m.threadTS + "&cid=" + c.id
	}
	return map[string]any{"channel": c.id, "permalink": link}, nil
}

func (s *Server) pinsAdd(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	if !c.isMember(s.botUserID) {
		return nil, fail("not_in_channel")
	}
	ts := q.str("timestamp")
	if ts == "" {
		return nil, fail("no_item_specified")
	}
	m := c.findMessage(ts)
	if m == nil {
		return nil, fail("message_not_found")
	}
	if m.pinned {
		return nil, fail("already_pinned")
	}
	if s.pinRefusal != "" {
		return nil, fail(s.pinRefusal)
	}
	m.pinned = true
	return nil, nil
}

// RefusePins makes pins.add answer code (as Slack does with restricted_action when a
// workspace lets only admins pin, or not_pinnable); "" lets pins through again.
func (s *Server) RefusePins(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinRefusal = code
}
