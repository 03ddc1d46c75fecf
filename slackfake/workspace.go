package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// User is a snapshot of a workspace member.
type User struct {
	ID       string
	TeamID   string
	Name     string // handle, e.g. "alice"
	RealName string
	Email    string
	IsBot    bool
	BotID    string // for bot users
	Deleted  bool
}

// Channel is a snapshot of a conversation.
type Channel struct {
	ID       string
	Name     string // empty for DMs
	Private  bool
	Archived bool
	IM       bool   // a direct message with User
	MPIM     bool   // a group direct message
	User     string // the other member of a DM
	Topic    string
	Purpose  string
	Creator  string
	Created  time.Time
	Members  []string
}

// Message is a snapshot of a stored message. Blocks and Metadata hold Slack's
// JSON as stored (blocks gain block_id/action_id where the poster left them
// out, as on Slack).
type Message struct {
	Channel   string
	TS        string
	ThreadTS  string // set on replies and on thread parents
	User      string // author; the bot user for the bot's messages
	BotID     string // set on the bot's messages
	SubType   string // e.g. "channel_join"; empty for ordinary messages
	Text      string
	Blocks    json.RawMessage
	Metadata  json.RawMessage // {"event_type":…,"event_payload":…}
	Pinned    bool
	Edited    bool
	Ephemeral bool
	To        string // recipient of an ephemeral message
}

// UserGroup is a snapshot of a user group.
type UserGroup struct {
	ID     string
	Handle string
	Name   string
	Users  []string
}

func (u *user) snapshot() User {
	return User{ID: u.id, Name: u.name, RealName: u.realName, Email: u.email, IsBot: u.isBot,
		BotID: u.botID, Deleted: u.deleted}
}

func (c *channel) snapshot() Channel {
	return Channel{ID: c.id, Name: c.name, Private: c.private, Archived: c.archived, IM: c.im,
		MPIM: c.mpim, User: c.imUser, Topic: c.topic.value, Purpose: c.purpose.value,
		Creator: c.creator, Created: time.Unix(c.created, 0), Members: slices.Clone(c.members)}
}

func (m *message) snapshot() Message {
	return Message{Channel: m.channel, TS: m.ts, ThreadTS: m.threadTS, User: m.user, BotID: m.botID,
		SubType: m.subtype, Text: m.text, Blocks: slices.Clone(m.blocks), Metadata: slices.Clone(m.metadata),
		Pinned: m.pinned, Edited: m.editedTS != "", Ephemeral: m.ephemeralTo != "", To: m.ephemeralTo}
}

func (g *userGroup) snapshot() UserGroup {
	return UserGroup{ID: g.id, Handle: g.handle, Name: g.name, Users: slices.Clone(g.users)}
}

// UserOption configures [Server.AddUser].
type UserOption func(*user)

// UserRealName sets the user's real name (default: the handle).
func UserRealName(name string) UserOption { return func(u *user) { u.realName = name } }

// UserEmail sets the user's email, for users.lookupByEmail.
func UserEmail(email string) UserOption { return func(u *user) { u.email = email } }

// UserBot marks the user as a bot (another app's bot user).
func UserBot() UserOption { return func(u *user) { u.isBot = true } }

// UserDeleted marks the user as deactivated.
func UserDeleted() UserOption { return func(u *user) { u.deleted = true } }

// UserEnterprise makes the user an Enterprise Grid member, whose id starts with W
// ("W0000002A") instead of U, as Slack gives people of an org.
func UserEnterprise() UserOption { return func(u *user) { u.enterprise = true } }

// UserSingleChannelGuest makes the user a single-channel guest: once in a channel, an
// invitation to another is refused with ura_max_channels.
func UserSingleChannelGuest() UserOption { return func(u *user) { u.guest = true } }

// AddUser adds a member with the given handle and returns it with its new
// "U…" ID.
func (s *Server) AddUser(name string, opts ...UserOption) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &user{name: name, realName: name, updated: time.Now().Unix()}
	for _, o := range opts {
		o(u)
	}
	u.id = s.newID("U")
	if u.enterprise {
		u.id = s.newID("W")
	}
	if u.isBot && u.botID == "" {
		u.botID = s.newID("B")
	}
	s.addUser(u)
	s.notifyLocked()
	snap := u.snapshot()
	snap.TeamID = s.teamID
	return snap
}

// Populate adds users people ("user-00001"…, every tenth an Enterprise Grid member
// with a W id) and channels public channels ("channel-00001"…, the bot in each, every
// tenth archived), for tests of workspaces as large as real ones: 10,000 people and
// 5,000 channels take well under a second. Names are numbered after what the
// workspace already holds, so Populate may be called more than once.
func (s *Server) Populate(users, channels int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().Unix()
	first := len(s.userOrder)
	for i := range users {
		n := first + i + 1
		u := &user{name: fmt.Sprintf("user-%05d", n), realName: fmt.Sprintf("User %d", n), updated: now}
		u.enterprise = n%10 == 0
		u.id = s.newID("U")
		if u.enterprise {
			u.id = s.newID("W")
		}
		s.addUser(u)
	}
	first = len(s.chanOrder)
	for i := range channels {
		n := first + i + 1
		c := &channel{id: s.newID("C"), name: fmt.Sprintf("channel-%05d", n), archived: n%10 == 0,
			created: now, creator: s.botUserID, members: []string{s.botUserID}}
		s.addChannel(c)
	}
	s.notifyLocked()
}

// SetOrgWideInstall makes the app an org-wide install on an Enterprise Grid org with
// this id ("E…"), as Slack sends it: interaction payloads carry "team": null, the
// enterprise and is_enterprise_install true; slash commands carry enterprise_id,
// enterprise_name and is_enterprise_install "true" (a string); Events API
// authorizations name the enterprise, with team_id null. An empty id ends it.
func (s *Server) SetOrgWideInstall(enterpriseID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enterpriseID = enterpriseID
}

// EnterpriseName is the name of the Enterprise Grid org of an org-wide install.
const EnterpriseName = "Runbook Org"

// enterpriseJSON is the "enterprise" of interaction payloads: null unless the app is
// installed org-wide.
func (s *Server) enterpriseJSON() map[string]any {
	if s.enterpriseID == "" {
		return nil
	}
	return map[string]any{"id": s.enterpriseID, "name": EnterpriseName}
}

// ChannelOption configures [Server.AddChannel].
type ChannelOption func(*channelSeed)

type channelSeed struct {
	private, archived, withoutBot bool
	members                       []string
	topic, purpose, creator       string
}

// ChannelPrivate makes the channel private. The bot is a member of a private
// channel only if listed in [ChannelMembers].
func ChannelPrivate() ChannelOption { return func(c *channelSeed) { c.private = true } }

// ChannelMembers adds members to the channel.
func ChannelMembers(userIDs ...string) ChannelOption {
	return func(c *channelSeed) { c.members = append(c.members, userIDs...) }
}

// ChannelArchived creates the channel archived.
func ChannelArchived() ChannelOption { return func(c *channelSeed) { c.archived = true } }

// ChannelWithoutBot keeps the bot out of a public channel.
func ChannelWithoutBot() ChannelOption { return func(c *channelSeed) { c.withoutBot = true } }

// ChannelTopic sets the channel's topic.
func ChannelTopic(topic string) ChannelOption { return func(c *channelSeed) { c.topic = topic } }

// ChannelPurpose sets the channel's purpose.
func ChannelPurpose(purpose string) ChannelOption {
	return func(c *channelSeed) { c.purpose = purpose }
}

// ChannelCreator sets the channel's creator (default: the first member, or
// the bot).
func ChannelCreator(userID string) ChannelOption {
	return func(c *channelSeed) { c.creator = userID }
}

// AddChannel adds a channel and returns it with its new "C…" ID. Public
// channels get the bot as a member unless [ChannelWithoutBot] is given. It
// panics if the name is invalid or taken, which is a mistake in the caller's
// seed data.
func (s *Server) AddChannel(name string, opts ...ChannelOption) Channel {
	var seed channelSeed
	for _, o := range opts {
		o(&seed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := validateChannelName(name); code != "" {
		panic(fmt.Sprintf("slackfake: AddChannel(%q): %s", name, code))
	}
	if s.channelByName(name) != nil {
		panic(fmt.Sprintf("slackfake: AddChannel(%q): name_taken", name))
	}
	c := s.seedChannelLocked(s.newID("C"), name, seed)
	s.addChannel(c)
	s.notifyLocked()
	return c.snapshot()
}

// seedChannelLocked builds a channel as the workspace had it before the test began:
// the bot in it (if public, unless seed says otherwise), the seed's members, creator,
// topic and purpose. The caller adds it.
func (s *Server) seedChannelLocked(id, name string, seed channelSeed) *channel {
	now := time.Now().Unix()
	c := &channel{id: id, name: name, private: seed.private, archived: seed.archived, created: now}
	if !seed.private && !seed.withoutBot {
		c.addMember(s.botUserID)
	}
	for _, m := range seed.members {
		c.addMember(m)
	}
	c.creator = seed.creator
	if c.creator == "" {
		c.creator = s.botUserID
		if len(seed.members) > 0 {
			c.creator = seed.members[0]
		}
	}
	if seed.topic != "" {
		c.topic = textSet{value: seed.topic, creator: c.creator, lastSet: now}
	}
	if seed.purpose != "" {
		c.purpose = textSet{value: seed.purpose, creator: c.creator, lastSet: now}
	}
	return c
}

// AddUserGroup adds a user group ("S…") with the given handle and members.
func (s *Server) AddUserGroup(handle string, userIDs ...string) UserGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &userGroup{id: s.newID("S"), handle: handle, name: handle, users: slices.Clone(userIDs),
		created: time.Now().Unix()}
	s.groups[g.id] = g
	s.groupOrder = append(s.groupOrder, g.id)
	s.notifyLocked()
	return g.snapshot()
}

// User returns a snapshot of a user by ID or handle.
func (s *Server) User(idOrName string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[idOrName]; ok {
		return s.userSnap(u), true
	}
	for _, id := range s.userOrder {
		if u := s.users[id]; u.name == idOrName {
			return s.userSnap(u), true
		}
	}
	return User{}, false
}

func (s *Server) userSnap(u *user) User {
	snap := u.snapshot()
	snap.TeamID = s.teamID
	return snap
}

// Channel returns a snapshot of a channel by ID, "#name" or name.
func (s *Server) Channel(idOrName string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.lookupChannel(idOrName); c != nil {
		return c.snapshot(), true
	}
	return Channel{}, false
}

// Channels returns snapshots of every conversation, DMs included, in
// creation order.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, 0, len(s.chanOrder))
	for _, id := range s.chanOrder {
		out = append(out, s.channels[id].snapshot())
	}
	return out
}

// Messages returns the messages of a channel (by ID or name), oldest first,
// top-level messages and thread replies alike.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupChannel(channelID)
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.msgs))
	for _, m := range c.msgs {
		out = append(out, m.snapshot())
	}
	return out
}

// Ephemerals returns the ephemeral messages shown to userID in a channel (by
// ID or name), oldest first.
func (s *Server) Ephemerals(channelID, userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupChannel(channelID)
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.ephemerals {
		if m.ephemeralTo == userID {
			out = append(out, m.snapshot())
		}
	}
	return out
}

// Message returns one message (a reply or an ephemeral message too) by
// channel and ts.
func (s *Server) Message(channelID, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupChannel(channelID)
	if c == nil {
		return Message{}, false
	}
	if m := c.findMessage(ts); m != nil {
		return m.snapshot(), true
	}
	if m := c.findEphemeral(ts); m != nil {
		return m.snapshot(), true
	}
	return Message{}, false
}
