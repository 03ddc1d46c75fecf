package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// state is the workspace, guarded by Server.mu.
type state struct {
	teamID, appID, botID, botUserID string
	botToken, appToken, verifyToken string
	seq                             map[string]int
	lastTS                          int64 // microseconds

	users      map[string]*user
	userOrder  []string
	channels   map[string]*channel
	chanOrder  []string
	groups     map[string]*userGroup
	groupOrder []string
	views      map[string]*view
	viewOrder  []string
	triggers   map[string]*trigger
	hooks      map[string]*responseHook

	// enterpriseID is set for an org-wide install on Enterprise Grid
	// (SetOrgWideInstall): payloads then carry the enterprise, and team: null.
	enterpriseID string
}

type user struct {
	id, name, realName, email string
	displayName               string // "" shows the handle, as the emulator always did
	isBot, deleted            bool
	guest                     bool // a single-channel guest: in one channel at most
	enterprise                bool // an Enterprise Grid member: a W… id
	botID, appID              string
	updated                   int64
}

type textSet struct {
	value, creator string
	lastSet        int64
}

type channel struct {
	id, name         string
	private          bool
	archived         bool
	im, mpim         bool
	imUser           string
	topic, purpose   textSet
	creator          string
	created          int64
	members          []string
	msgs             []*message // ts order, top-level and replies
	ephemerals       []*message
	previousNameList []string
}

type message struct {
	channel, ts, threadTS string
	user, botID, appID    string
	subtype, text         string
	clientMsgID           string
	blocks                json.RawMessage
	metadata              json.RawMessage
	editedBy, editedTS    string
	pinned                bool
	reactions             map[string][]string // emoji name → users, in the order they reacted
	ephemeralTo           string              // recipient of an ephemeral message
}

type userGroup struct {
	id, handle, name string
	users            []string
	created          int64
	// deleted is when the group was disabled (usergroups.disable), 0 while enabled:
	// Slack reports it as date_delete.
	deleted int64
}

type trigger struct {
	userID  string
	created time.Time
	used    bool
}

func (st *state) init() {
	st.seq = make(map[string]int)
	st.users = make(map[string]*user)
	st.channels = make(map[string]*channel)
	st.groups = make(map[string]*userGroup)
	st.views = make(map[string]*view)
	st.triggers = make(map[string]*trigger)
	st.hooks = make(map[string]*responseHook)

	st.teamID = st.newID("T")
	st.appID = st.newID("A")
	st.botID = st.newID("B")
	st.botToken = fmt.Sprintf("xoxb-%s-%s-%s", randDigits(13), randDigits(13), randAlnum(24))
	st.appToken = fmt.Sprintf("xapp-1-%s-%s-%s", st.appID, randDigits(13), randHex(64))
	st.verifyToken = randAlnum(24)

	now := time.Now().Unix()
	bot := &user{id: st.newID("U"), name: BotName, realName: BotName, isBot: true,
		botID: st.botID, appID: st.appID, updated: now}
	st.botUserID = bot.id
	st.addUser(bot)
	st.addUser(&user{id: "USLACKBOT", name: "slackbot", realName: "Slackbot", updated: now})
}

// newID returns the next Slack-looking ID with the given prefix.
func (st *state) newID(prefix string) string {
	st.seq[prefix]++
	return fmt.Sprintf("%s%08X", prefix, st.seq[prefix])
}

// nextTS returns a message timestamp, unique and increasing, close to now.
func (st *state) nextTS() string {
	us := time.Now().UnixMicro()
	if us <= st.lastTS {
		us = st.lastTS + 1
	}
	st.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

func (st *state) addUser(u *user) {
	st.users[u.id] = u
	st.userOrder = append(st.userOrder, u.id)
}

func (st *state) addChannel(c *channel) {
	st.channels[c.id] = c
	st.chanOrder = append(st.chanOrder, c.id)
}

// channelByName finds a named channel, archived ones included.
func (st *state) channelByName(name string) *channel {
	for _, id := range st.chanOrder {
		if c := st.channels[id]; !c.im && !c.mpim && c.name == name {
			return c
		}
	}
	return nil
}

// lookupChannel finds a channel by ID, "#name" or name.
func (st *state) lookupChannel(idOrName string) *channel {
	if c, ok := st.channels[idOrName]; ok {
		return c
	}
	return st.channelByName(strings.TrimPrefix(idOrName, "#"))
}

func (c *channel) isMember(userID string) bool { return slices.Contains(c.members, userID) }

func (c *channel) addMember(userID string) bool {
	if c.isMember(userID) {
		return false
	}
	c.members = append(c.members, userID)
	return true
}

func (c *channel) findMessage(ts string) *message {
	for _, m := range c.msgs {
		if m.ts == ts {
			return m
		}
	}
	return nil
}

func (c *channel) findEphemeral(ts string) *message {
	for _, m := range c.ephemerals {
		if m.ts == ts {
			return m
		}
	}
	return nil
}

func (c *channel) deleteMessage(ts string) {
	c.msgs = slices.DeleteFunc(c.msgs, func(m *message) bool { return m.ts == ts })
}

// replies returns a thread's replies, oldest first.
func (c *channel) replies(threadTS string) []*message {
	var out []*message
	for _, m := range c.msgs {
		if m.threadTS == threadTS && m.ts != threadTS {
			out = append(out, m)
		}
	}
	return out
}

// dmWith returns the DM between the bot and userID, creating it if needed.
func (st *state) dmWith(userID string) (c *channel, existed bool) {
	for _, id := range st.chanOrder {
		if c := st.channels[id]; c.im && c.imUser == userID {
			return c, true
		}
	}
	c = &channel{id: st.newID("D"), im: true, imUser: userID, created: time.Now().Unix(),
		members: []string{userID, st.botUserID}}
	st.addChannel(c)
	return c, false
}

// postSystem stores a system message (channel_join, channel_topic, …).
func (st *state) postSystem(c *channel, userID, subtype, text string) {
	c.msgs = append(c.msgs, &message{channel: c.id, ts: st.nextTS(), user: userID, subtype: subtype, text: text})
}
