package slackfake

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const maxTopicLen = 250

// validateChannelName returns Slack's error code for an invalid channel
// name, or "".
func validateChannelName(name string) string {
	switch {
	case name == "":
		return "invalid_name_required"
	case utf8.RuneCountInString(name) > 80:
		return "invalid_name_maxlength"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "invalid_name_specials"
		}
	}
	if strings.Trim(name, "-_") == "" {
		return "invalid_name_punctuation"
	}
	return ""
}

func (s *Server) conversationsCreate(q *apiRequest) (map[string]any, *apiError) {
	name := q.str("name")
	if code := validateChannelName(name); code != "" {
		return nil, fail(code)
	}
	if s.channelByName(name) != nil {
		return nil, fail("name_taken")
	}
	c := &channel{id: s.newID("C"), name: name, private: q.boolean("is_private"),
		created: time.Now().Unix(), creator: s.botUserID}
	c.addMember(s.botUserID)
	s.addChannel(c)
	q.channel = c.id
	s.postSystem(c, s.botUserID, "channel_join", "<@"+s.botUserID+"> has joined the channel")
	return map[string]any{"channel": s.channelJSON(c, false)}, nil
}

// managed finds a channel the bot is a member of, for methods that change
// it; DMs are not supported.
func (s *Server) managed(q *apiRequest) (*channel, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	if c.im || c.mpim {
		return nil, fail("method_not_supported_for_channel_type")
	}
	return c, nil
}

func (s *Server) conversationsArchive(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.managed(q)
	if err != nil {
		return nil, err
	}
	switch {
	case c.archived:
		return nil, fail("already_archived")
	case !c.isMember(s.botUserID):
		return nil, fail("not_in_channel")
	case c.name == "general":
		return nil, fail("cant_archive_general")
	}
	s.postSystem(c, s.botUserID, "channel_archive", "<@"+s.botUserID+"> archived the channel")
	c.archived = true
	return nil, nil
}

func (s *Server) conversationsUnarchive(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.managed(q)
	if err != nil {
		return nil, err
	}
	if !c.archived {
		return nil, fail("not_archived")
	}
	if !s.botsUnarchive {
		// Slack's documentation: "Bot tokens (xoxb-...) cannot currently be used to
		// unarchive conversations." Slack answers them not_in_channel: archiving took
		// the bot out, and an archived channel cannot be joined.
		return nil, fail("not_in_channel")
	}
	c.archived = false
	// "The calling user is added to the conversation."
	c.addMember(s.botUserID)
	s.postSystem(c, s.botUserID, "channel_unarchive", "<@"+s.botUserID+"> un-archived the channel")
	return nil, nil
}

// LetBotsUnarchive makes conversations.unarchive work for the bot token, as Slack
// will once it lifts the limit its documentation announces; by default the bot is
// refused with not_in_channel, as on Slack today.
func (s *Server) LetBotsUnarchive(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botsUnarchive = ok
}

func (s *Server) conversationsInvite(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.managed(q)
	if err != nil {
		return nil, err
	}
	if c.archived {
		return nil, fail("is_archived")
	}
	if !c.isMember(s.botUserID) {
		return nil, fail("not_in_channel")
	}
	ids := q.list("users")
	if len(ids) == 0 {
		return nil, fail("no_user")
	}
	for _, id := range ids {
		if id == s.botUserID {
			return nil, fail("cant_invite_self")
		}
	}
	// Slack checks every user; without force=true one it cannot invite fails the whole
	// call and nobody is invited, with the reason per user in "errors". With force=true
	// the others are invited and the call still answers ok: false with the errors.
	var refused []any
	valid := ids[:0:0]
	for _, id := range ids {
		if code := s.uninvitable(c, id); code != "" {
			refused = append(refused, map[string]any{"user": id, "ok": false, "error": code})
			continue
		}
		valid = append(valid, id)
	}
	if len(refused) > 0 && !q.boolean("force") {
		first := refused[0].(map[string]any)["error"].(string)
		return nil, &apiError{code: first, extra: map[string]any{"errors": refused}}
	}
	ids = valid
	added := 0
	for _, id := range ids {
		if c.addMember(id) {
			added++
			s.postSystem(c, id, "channel_join", "<@"+id+"> has joined the channel")
		}
	}
	if len(refused) > 0 {
		first := refused[0].(map[string]any)["error"].(string)
		return nil, &apiError{code: first, extra: map[string]any{"errors": refused}}
	}
	if added == 0 {
		return nil, fail("already_in_channel")
	}
	return map[string]any{"channel": s.channelJSON(c, false)}, nil
}

// uninvitable is why Slack would refuse to invite user id to c, or "".
func (s *Server) uninvitable(c *channel, id string) string {
	u := s.users[id]
	switch {
	case u == nil:
		return "user_not_found"
	case u.guest && !c.isMember(id) && s.memberships(id) > 0:
		return "ura_max_channels"
	}
	return ""
}

// memberships counts the channels a user is in, direct messages aside.
func (s *Server) memberships(id string) int {
	n := 0
	for _, c := range s.channels {
		if !c.im && !c.mpim && c.isMember(id) {
			n++
		}
	}
	return n
}

// setText implements conversations.setTopic and conversations.setPurpose.
func (s *Server) setText(q *apiRequest, arg string) (*channel, *apiError) {
	c, err := s.managed(q)
	if err != nil {
		return nil, err
	}
	switch {
	case c.archived:
		return nil, fail("is_archived")
	case !c.isMember(s.botUserID):
		return nil, fail("not_in_channel")
	case utf8.RuneCountInString(q.str(arg)) > maxTopicLen:
		return nil, fail("too_long")
	}
	return c, nil
}

func (s *Server) conversationsSetTopic(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.setText(q, "topic")
	if err != nil {
		return nil, err
	}
	topic := q.str("topic")
	c.topic = textSet{value: topic, creator: s.botUserID, lastSet: time.Now().Unix()}
	s.postSystem(c, s.botUserID, "channel_topic", "set the channel topic: "+topic)
	return map[string]any{"channel": s.channelJSON(c, false)}, nil
}

func (s *Server) conversationsSetPurpose(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.setText(q, "purpose")
	if err != nil {
		return nil, err
	}
	purpose := q.str("purpose")
	c.purpose = textSet{value: purpose, creator: s.botUserID, lastSet: time.Now().Unix()}
	s.postSystem(c, s.botUserID, "channel_purpose", "set the channel description: "+purpose)
	return map[string]any{"channel": s.channelJSON(c, false)}, nil
}

func (s *Server) conversationsInfo(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	ch := s.channelJSON(c, q.boolean("include_num_members"))
	if q.boolean("include_locale") {
		ch["locale"] = "en-US"
	}
	return map[string]any{"channel": ch}, nil
}

// readable finds a conversation whose messages the bot may read.
func (s *Server) readable(q *apiRequest) (*channel, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	if !c.isMember(s.botUserID) {
		return nil, fail("not_in_channel")
	}
	return c, nil
}

// tsMicros parses a Slack timestamp ("1700000000.000100") into microseconds.
func tsMicros(ts string) (int64, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	frac = (frac + "000000")[:6]
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return n*1e6 + f, true
}

// inWindow applies the oldest/latest/inclusive arguments.
func inWindow(q *apiRequest, ts string) bool {
	t, _ := tsMicros(ts)
	incl := q.boolean("inclusive")
	if o, ok := tsMicros(q.str("oldest")); ok && (t < o || t == o && !incl) {
		return false
	}
	if l, ok := tsMicros(q.str("latest")); ok && (t > l || t == l && !incl) {
		return false
	}
	return true
}

func encodeCursor(prefix, v string) string {
	return base64.StdEncoding.EncodeToString([]byte(prefix + ":" + v))
}

func decodeCursor(prefix, cursor string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(b), prefix+":")
}

// page cuts a list at the cursor and the limit. key gives an item's cursor
// value.
func page[T any](q *apiRequest, prefix string, items []T, key func(T) string, def, maxLimit int) (
	out []T, next string, err *apiError) {
	if cur := q.str("cursor"); cur != "" {
		v, ok := decodeCursor(prefix, cur)
		i := slices.IndexFunc(items, func(t T) bool { return key(t) == v })
		if !ok || i < 0 {
			return nil, "", fail("invalid_cursor")
		}
		items = items[i:]
	}
	limit := q.intParam("limit", def)
	if limit <= 0 {
		limit = def
	}
	limit = min(limit, maxLimit)
	if len(items) > limit {
		return items[:limit], encodeCursor(prefix, key(items[limit])), nil
	}
	return items, "", nil
}

func msgTS(m *message) string { return m.ts }

func (s *Server) conversationsHistory(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.readable(q)
	if err != nil {
		return nil, err
	}
	var list []*message
	pins := 0
	for i := len(c.msgs) - 1; i >= 0; i-- {
		m := c.msgs[i]
		if m.pinned {
			pins++
		}
		isReply := m.threadTS != "" && m.threadTS != m.ts && m.subtype != "thread_broadcast"
		if !isReply && inWindow(q, m.ts) {
			list = append(list, m)
		}
	}
	items, next, err := page(q, "next_ts", list, msgTS, 100, 999)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"messages": s.messagesJSON(c, items, q.boolean("include_all_metadata")), "has_more": next != "",
		"pin_count": pins, "channel_actions_ts": nil, "channel_actions_count": 0,
	}
	if next != "" {
		out["response_metadata"] = map[string]any{"next_cursor": next}
	}
	return out, nil
}

func (s *Server) messagesJSON(c *channel, list []*message, withMeta bool) []any {
	out := make([]any, 0, len(list))
	for _, m := range list {
		out = append(out, s.messageJSON(c, m, withMeta))
	}
	return out
}

func (s *Server) conversationsReplies(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.readable(q)
	if err != nil {
		return nil, err
	}
	m := c.findMessage(q.str("ts"))
	if m == nil {
		return nil, fail("thread_not_found")
	}
	if m.threadTS != "" && m.threadTS != m.ts {
		if m = c.findMessage(m.threadTS); m == nil {
			return nil, fail("thread_not_found")
		}
	}
	var list []*message
	for _, r := range append([]*message{m}, c.replies(m.ts)...) {
		if r == m || inWindow(q, r.ts) {
			list = append(list, r)
		}
	}
	items, next, err := page(q, "next_ts", list, msgTS, 1000, 1000)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"messages": s.messagesJSON(c, items, q.boolean("include_all_metadata")), "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next},
	}, nil
}

func (s *Server) conversationsList(q *apiRequest) (map[string]any, *apiError) {
	types, err := conversationTypes(q)
	if err != nil {
		return nil, err
	}
	// Slack cuts the page first and filters it after: a page may hold fewer channels
	// than the limit, none at all, and still have a next_cursor. A client that stops
	// at a short page misses the rest.
	items, next, err := page(q, "team", s.chanOrder, func(id string) string { return id }, 100, 1000)
	if err != nil {
		return nil, err
	}
	chans := make([]any, 0, len(items))
	for _, id := range items {
		c := s.channels[id]
		if !slices.Contains(types, conversationType(c)) || !s.canSee(c) || c.archived && q.boolean("exclude_archived") {
			continue
		}
		chans = append(chans, s.channelJSON(c, true))
	}
	return map[string]any{"channels": chans, "response_metadata": map[string]any{"next_cursor": next}}, nil
}

// usersConversations lists the conversations user (the caller when not given) is a
// member of. Public channels are listed for anyone; private channels and group DMs
// only where the caller shares membership. Like conversations.list, a page is cut
// before it is filtered; the limit is capped at 999, and the objects carry no
// is_member or num_members.
func (s *Server) usersConversations(q *apiRequest) (map[string]any, *apiError) {
	userID := q.str("user")
	if userID == "" {
		userID = s.botUserID
	}
	if u := s.users[userID]; u == nil {
		return nil, fail("user_not_found")
	}
	types, err := conversationTypes(q)
	if err != nil {
		return nil, err
	}
	items, next, err := page(q, "team", s.chanOrder, func(id string) string { return id }, 100, 999)
	if err != nil {
		return nil, err
	}
	chans := make([]any, 0, len(items))
	for _, id := range items {
		c := s.channels[id]
		if !slices.Contains(types, conversationType(c)) || !c.isMember(userID) || !s.canSee(c) ||
			c.archived && q.boolean("exclude_archived") {
			continue
		}
		m := s.channelJSON(c, false)
		delete(m, "is_member")
		chans = append(chans, m)
	}
	return map[string]any{"channels": chans, "response_metadata": map[string]any{"next_cursor": next}}, nil
}

// conversationTypes reads the types argument of conversations.list and
// users.conversations: public channels when not given.
func conversationTypes(q *apiRequest) ([]string, *apiError) {
	types := q.list("types")
	if len(types) == 0 {
		return []string{"public_channel"}, nil
	}
	for _, t := range types {
		switch t {
		case "public_channel", "private_channel", "im", "mpim":
		default:
			return nil, fail("invalid_types")
		}
	}
	return types, nil
}

// conversationType is how the types argument of conversations.list and
// users.conversations names a conversation.
func conversationType(c *channel) string {
	switch {
	case c.im:
		return "im"
	case c.mpim:
		return "mpim"
	case c.private:
		return "private_channel"
	}
	return "public_channel"
}

func (s *Server) conversationsJoin(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.managed(q)
	if err != nil {
		return nil, err
	}
	if c.archived {
		return nil, fail("is_archived")
	}
	if c.isMember(s.botUserID) {
		return map[string]any{"channel": s.channelJSON(c, false), "warning": "already_in_channel",
			"response_metadata": map[string]any{"warnings": []string{"already_in_channel"}}}, nil
	}
	if c.private {
		return nil, fail("method_not_supported_for_channel_type")
	}
	c.addMember(s.botUserID)
	s.postSystem(c, s.botUserID, "channel_join", "<@"+s.botUserID+"> has joined the channel")
	return map[string]any{"channel": s.channelJSON(c, false)}, nil
}

func (s *Server) conversationsMembers(q *apiRequest) (map[string]any, *apiError) {
	c, err := s.visible(q, q.str("channel"))
	if err != nil {
		return nil, err
	}
	items, next, err := page(q, "user", c.members, func(id string) string { return id }, 100, 1000)
	if err != nil {
		return nil, err
	}
	return map[string]any{"members": append([]string{}, items...),
		"response_metadata": map[string]any{"next_cursor": next}}, nil
}

func (s *Server) conversationsOpen(q *apiRequest) (map[string]any, *apiError) {
	var (
		c       *channel
		existed bool
	)
	if id := q.str("channel"); id != "" {
		var err *apiError
		if c, err = s.visible(q, id); err != nil {
			return nil, err
		}
		existed = true
	} else {
		ids := q.list("users")
		if len(ids) == 0 {
			return nil, fail("users_list_not_supplied")
		}
		for _, id := range ids {
			if s.users[id] == nil {
				return nil, fail("user_not_found")
			}
		}
		if len(ids) == 1 {
			c, existed = s.dmWith(ids[0])
		} else {
			c, existed = s.groupDM(ids)
		}
		q.channel = c.id
	}
	out := map[string]any{"channel": map[string]any{"id": c.id}}
	if existed {
		out["no_op"], out["already_open"] = true, true
	}
	if q.boolean("return_im") {
		out["channel"] = s.channelJSON(c, false)
	}
	return out, nil
}

// groupDM returns the group DM of the bot and userIDs, creating it if
// needed.
func (s *Server) groupDM(userIDs []string) (*channel, bool) {
	want := append(slices.Clone(userIDs), s.botUserID)
	slices.Sort(want)
	want = slices.Compact(want)
	for _, id := range s.chanOrder {
		c := s.channels[id]
		if !c.mpim {
			continue
		}
		have := slices.Clone(c.members)
		slices.Sort(have)
		if slices.Equal(have, want) {
			return c, true
		}
	}
	var names []string
	for _, id := range want {
		names = append(names, s.users[id].name)
	}
	c := &channel{id: s.newID("C"), name: "mpdm-" + strings.Join(names, "--") + "-1", mpim: true,
		created: time.Now().Unix(), creator: s.botUserID, members: want}
	s.addChannel(c)
	return c, false
}
