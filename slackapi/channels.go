package slackapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// ResolveChannel turns "#name", "<#C1|name>", "name" or an id into a channel id.
func (c *Client) ResolveChannel(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if id, ok := refID(ref, "<#"); ok {
		return id, nil
	}
	if runbook.LooksLikeID(ref, "CGD") {
		return ref, nil
	}
	ch, err := c.lookUpChannel(ctx, strings.TrimPrefix(ref, "#"), c.now().Add(-missTrust))
	if err != nil {
		return "", err
	}
	return ch.ID, nil
}

func (c *Client) now() time.Time { return c.limits.Load().clock.Now() }

// refID returns the id inside a Slack reference that starts with prefix:
// "<#C1|ops>" with "<#" gives "C1".
func refID(ref, prefix string) (string, bool) {
	inner, ok := strings.CutPrefix(ref, prefix)
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(strings.TrimSuffix(inner, ">"), "|")
	return id, true
}

// CreateChannel calls conversations.create.
func (c *Client) CreateChannel(ctx context.Context, name string, private bool) (runbook.Conversation, error) {
	ch, err := call(ctx, c, "conversations.create", func() (*slack.Channel, error) {
		return c.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: private})
	})
	if err != nil {
		return runbook.Conversation{}, err
	}
	created := conversation(ch)
	c.channels.put(created.Name, created)
	return created, nil
}

// FindChannel finds a channel of that exact name, archived ones included. Its callers
// look for a channel Slack said exists (name_taken) or that an earlier attempt may
// have created, so a miss is never answered from an earlier pass over
// conversations.list: it pages again.
func (c *Client) FindChannel(ctx context.Context, name string) (runbook.Conversation, error) {
	return c.findChannel(ctx, name, c.now())
}

// findChannel finds a channel by name in the channel directory, trusting a miss from a
// pass that started at or after since. A channel it remembers is asked about again
// (conversations.info, tier 3): whether it is archived, or still has that name,
// changes.
func (c *Client) findChannel(ctx context.Context, name string, since time.Time) (runbook.Conversation, error) {
	ch, err := c.lookUpChannel(ctx, name, since)
	if err != nil {
		return runbook.Conversation{}, err
	}
	info, err := call(ctx, c, "conversations.info", func() (*slack.Channel, error) {
		return c.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.ID})
	})
	if err == nil && info.Name == name {
		return conversation(info), nil
	}
	if err != nil && runbook.SlackCode(err) != "channel_not_found" {
		return runbook.Conversation{}, err
	}
	// Renamed or gone since the directory was read: read it again.
	c.channels.forget(name)
	return c.lookUpChannel(ctx, name, c.now())
}

// lookUpChannel finds a channel by name in the channel directory, paging
// conversations.list only when the directory cannot answer.
func (c *Client) lookUpChannel(ctx context.Context, name string, since time.Time) (runbook.Conversation, error) {
	ch, found, err := c.channels.find(ctx, name, since, c.listChannels)
	if err != nil {
		return runbook.Conversation{}, err
	}
	if !found {
		return runbook.Conversation{}, &runbook.SlackError{Method: "conversations.list", Code: "channel_not_found"}
	}
	return ch, nil
}

// ChannelInfo describes a channel given as "#name", "name", "<#C…>" or an id: one
// conversations.info call for an id; for a name, the channel directory first.
func (c *Client) ChannelInfo(ctx context.Context, ref string) (runbook.Conversation, error) {
	ref = strings.TrimSpace(ref)
	id, ok := refID(ref, "<#")
	if !ok && !runbook.LooksLikeID(ref, "CGD") {
		return c.findChannel(ctx, strings.TrimPrefix(ref, "#"), c.now().Add(-missTrust))
	}
	if !ok {
		id = ref
	}
	info, err := call(ctx, c, "conversations.info", func() (*slack.Channel, error) {
		return c.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
	})
	if err != nil {
		return runbook.Conversation{}, err
	}
	return conversation(info), nil
}

// Channels lists every public and private channel the bot can see, archived ones
// included: one pass over conversations.list (tier 2, 1,000 a page).
func (c *Client) Channels(ctx context.Context) ([]runbook.Conversation, error) {
	byName, err := c.listChannels(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Values(byName)), nil
}

// IsMember reports whether user is a member of channel, reading its members afresh
// (conversations.members, page by page): it decides who may read a private channel.
func (c *Client) IsMember(ctx context.Context, channel, user string) (bool, error) {
	params := &slack.GetUsersInConversationParameters{ChannelID: channel, Limit: 1000}
	for {
		type page struct {
			members []string
			next    string
		}
		p, err := call(ctx, c, "conversations.members", func() (page, error) {
			members, next, err := c.api.GetUsersInConversationContext(ctx, params)
			return page{members, next}, err
		})
		if err != nil {
			return false, err
		}
		if slices.Contains(p.members, user) {
			return true, nil
		}
		if p.next == "" {
			return false, nil
		}
		params.Cursor = p.next
	}
}

// PrivateChannelsOf lists the private channels user and the bot are both members of
// (users.conversations, tier 3, 999 a page): deciding which private incidents someone
// may see is then one call, not one per channel. An answer is kept for membersTTL, as
// a group's members are: someone removed from a channel stops seeing it within that
// long, and a burst of lists by one person costs one call. Callers must not change
// the map.
func (c *Client) PrivateChannelsOf(ctx context.Context, user string) (map[string]bool, error) {
	key := "private-channels:" + user
	if v, ok := c.cache.get(key); ok {
		return v.(map[string]bool), nil
	}
	params := &slack.GetConversationsForUserParameters{UserID: user, Types: []string{"private_channel"}, Limit: 999}
	in := map[string]bool{}
	for {
		p, err := call(ctx, c, "users.conversations", func() (channelPage, error) {
			chs, next, err := c.api.GetConversationsForUserContext(ctx, params)
			return channelPage{chs, next}, err
		})
		if err != nil {
			return nil, fmt.Errorf("list the private channels of %s: %w", user, err)
		}
		for _, ch := range p.channels {
			in[ch.ID] = true
		}
		if p.next == "" {
			c.cache.putFor(key, in, membersTTL)
			return in, nil
		}
		params.Cursor = p.next
	}
}

// Page sizes for the directories. Slack recommends pages of about 200, and takes up to
// 1000; both lists are tier 2 (20 calls a minute), so the largest page reads a
// workspace of 10,000 people in 10 calls instead of 50, and 5,000 channels in 5. Slack
// may answer with fewer than asked, even none, before the end: only an empty
// next_cursor ends a list.
const (
	channelsPage = 1000
	usersPage    = 1000
)

// listChannels reads every public and private channel the bot can see, archived ones
// included, by name. Each page waits for the method's budget; a page Slack refuses
// with a 429 is asked again with the same cursor, so the pass goes on from where it
// was.
func (c *Client) listChannels(ctx context.Context) (map[string]runbook.Conversation, error) {
	all := map[string]runbook.Conversation{}
	cursor := ""
	for {
		p, err := call(ctx, c, "conversations.list", func() (channelPage, error) {
			chs, next, err := c.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, Limit: channelsPage, Types: []string{"public_channel", "private_channel"}})
			return channelPage{chs, next}, err
		})
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		for i := range p.channels {
			all[p.channels[i].Name] = conversation(&p.channels[i])
		}
		if p.next == "" {
			return all, nil
		}
		cursor = p.next
	}
}

type channelPage struct {
	channels []slack.Channel
	next     string
}

func conversation(ch *slack.Channel) runbook.Conversation {
	return runbook.Conversation{ID: ch.ID, Name: ch.Name, Private: ch.IsPrivate, Archived: ch.IsArchived,
		Creator: ch.Creator, Topic: ch.Topic.Value}
}

// InviteToChannel calls conversations.invite; people already in the channel are fine.
func (c *Client) InviteToChannel(ctx context.Context, channel string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	err := do(ctx, c, "conversations.invite", func() error {
		_, err := c.api.InviteUsersToConversationContext(ctx, channel, users...)
		return err
	})
	if runbook.SlackCode(err) == "already_in_channel" {
		return nil
	}
	return err
}

// SetTopic calls conversations.setTopic.
func (c *Client) SetTopic(ctx context.Context, channel, topic string) error {
	return do(ctx, c, "conversations.setTopic", func() error {
		_, err := c.api.SetTopicOfConversationContext(ctx, channel, topic)
		return err
	})
}

// SetPurpose calls conversations.setPurpose.
func (c *Client) SetPurpose(ctx context.Context, channel, purpose string) error {
	return do(ctx, c, "conversations.setPurpose", func() error {
		_, err := c.api.SetPurposeOfConversationContext(ctx, channel, purpose)
		return err
	})
}

// ArchiveChannel calls conversations.archive; an archived channel is fine.
func (c *Client) ArchiveChannel(ctx context.Context, channel string) error {
	err := do(ctx, c, "conversations.archive", func() error { return c.api.ArchiveConversationContext(ctx, channel) })
	if runbook.SlackCode(err) == "already_archived" {
		return nil
	}
	return err
}

// UnarchiveChannel calls conversations.unarchive; a channel that is not archived is
// fine. Slack's documentation warns that bot tokens cannot currently unarchive, and
// Slack answers them not_in_channel (archiving took the bot out of the channel, and
// an archived channel cannot be joined): callers say so and offer another way.
func (c *Client) UnarchiveChannel(ctx context.Context, channel string) error {
	err := do(ctx, c, "conversations.unarchive", func() error { return c.api.UnArchiveConversationContext(ctx, channel) })
	if runbook.SlackCode(err) == "not_archived" {
		return nil
	}
	return err
}

// History calls conversations.history with metadata.
func (c *Client) History(ctx context.Context, channel string, limit int) ([]runbook.HistoryMessage, error) {
	res, err := call(ctx, c, "conversations.history", func() (*slack.GetConversationHistoryResponse, error) {
		return c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: limit, IncludeAllMetadata: true})
	})
	if err != nil {
		return nil, err
	}
	return historyMessages(res.Messages), nil
}

// ThreadReplies calls conversations.replies with metadata: the thread's root message
// first, then its replies, oldest first.
func (c *Client) ThreadReplies(ctx context.Context, channel, threadTS string, limit int) ([]runbook.HistoryMessage, error) {
	msgs, err := call(ctx, c, "conversations.replies", func() ([]slack.Message, error) {
		msgs, _, _, err := c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: threadTS, Limit: limit, IncludeAllMetadata: true})
		return msgs, err
	})
	if err != nil {
		return nil, err
	}
	return historyMessages(msgs), nil
}

// Message reads one message: conversations.history with the message's ts as latest,
// inclusive, limit 1; a thread reply is not in a channel's history, so when the newest
// message there is another one, conversations.replies is asked for it instead.
func (c *Client) Message(ctx context.Context, channel, ts string) (runbook.HistoryMessage, error) {
	res, err := call(ctx, c, "conversations.history", func() (*slack.GetConversationHistoryResponse, error) {
		return c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Latest: ts, Inclusive: true, Limit: 1, IncludeAllMetadata: true})
	})
	if err != nil {
		return runbook.HistoryMessage{}, err
	}
	for _, m := range historyMessages(res.Messages) {
		if m.TS == ts {
			return m, nil
		}
	}
	msgs, err := call(ctx, c, "conversations.replies", func() ([]slack.Message, error) {
		msgs, _, _, err := c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: ts, Oldest: ts, Latest: ts, Inclusive: true, Limit: 2, IncludeAllMetadata: true})
		return msgs, err
	})
	if err != nil && runbook.SlackCode(err) != "thread_not_found" {
		return runbook.HistoryMessage{}, err
	}
	for _, m := range historyMessages(msgs) {
		if m.TS == ts {
			return m, nil
		}
	}
	return runbook.HistoryMessage{}, runbook.Errorf(runbook.ENOTFOUND, "There is no message %s in <#%s>.", ts, channel)
}

func historyMessages(msgs []slack.Message) []runbook.HistoryMessage {
	out := make([]runbook.HistoryMessage, 0, len(msgs))
	for _, m := range msgs {
		hm := runbook.HistoryMessage{TS: m.Timestamp, User: m.User, BotID: m.BotID, Text: m.Text}
		if m.Metadata.EventType != "" {
			hm.Metadata = &runbook.MessageMetadata{EventType: m.Metadata.EventType, Payload: m.Metadata.EventPayload}
		}
		out = append(out, hm)
	}
	return out
}

// Permalink builds a message's link from the workspace's address, as Slack does:
// chat.getPermalink is a rate-limited call per message (tier 4), and a runbook that
// posts would otherwise spend one per step on a link it may never use. Before the
// address is known (no Identify yet), it asks chat.getPermalink.
func (c *Client) Permalink(ctx context.Context, channel, ts, threadTS string) (string, error) {
	if id := c.identity.Load(); id != nil && id.URL != "" {
		return permalink(id.URL, channel, ts, threadTS), nil
	}
	return call(ctx, c, "chat.getPermalink", func() (string, error) {
		return c.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
	})
}

// permalink is Slack's link to a message: the archive path with the ts's dot dropped,
// and for a reply its thread and channel as query parameters.
func permalink(base, channel, ts, threadTS string) string {
	link := strings.TrimSuffix(base, "/") + "/archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
	if threadTS != "" && threadTS != ts {
		link += "?thread_ts=" + url.QueryEscape(threadTS) + "&cid=" + url.QueryEscape(channel)
	}
	return link
}

// Pin calls pins.add.
func (c *Client) Pin(ctx context.Context, channel, ts string) error {
	err := do(ctx, c, "pins.add", func() error { return c.api.AddPinContext(ctx, channel, slack.NewRefToMessage(channel, ts)) })
	if runbook.SlackCode(err) == "already_pinned" {
		return nil
	}
	return err
}

// OpenDM calls conversations.open.
func (c *Client) OpenDM(ctx context.Context, user string) (string, error) {
	return call(ctx, c, "conversations.open", func() (string, error) {
		ch, _, _, err := c.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		if err != nil {
			return "", err
		}
		return ch.ID, nil
	})
}

// ResolveUser turns "U123", "<@U123>", "@handle" or "handle" into a user id.
func (c *Client) ResolveUser(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if id, ok := refID(ref, "<@"); ok {
		return id, nil
	}
	if runbook.LooksLikeID(ref, "UW") {
		return ref, nil
	}
	handle := strings.TrimPrefix(ref, "@")
	id, found, err := c.users.find(ctx, handle, c.now().Add(-missTrust), c.listUsers)
	if err != nil {
		return "", err
	}
	if !found {
		return "", &runbook.SlackError{Method: "users.list", Code: "user_not_found"}
	}
	return id, nil
}

// UserExists calls users.info: an id Slack does not know, or a deactivated member, is
// no one to give a role to.
func (c *Client) UserExists(ctx context.Context, id string) (bool, error) {
	u, err := call(ctx, c, "users.info", func() (*slack.User, error) { return c.api.GetUserInfoContext(ctx, id) })
	switch {
	case runbook.SlackCode(err) == "user_not_found":
		return false, nil
	case err != nil:
		return false, err
	}
	return !u.Deleted, nil
}

// listUsers reads every active member's username and id (U… or, on Enterprise Grid,
// W…), a page of users.list at a time, each page within the method's budget and a page
// refused with a 429 asked again with its cursor.
func (c *Client) listUsers(ctx context.Context) (map[string]string, error) {
	all := map[string]string{}
	cursor := ""
	for {
		p, err := call(ctx, c, "users.list", func() (slack.UserPagination, error) {
			return c.api.GetUsersPaginated(slack.GetUsersOptionLimit(usersPage), slack.GetUsersOptionCursor(cursor)).Next(ctx)
		})
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		for _, u := range p.Users {
			// The username only: display and real names are chosen by each member and
			// need not be unique, so "@bob" must never match whoever calls themselves bob.
			if !u.Deleted {
				all[u.Name] = u.ID
			}
		}
		if p.Cursor == "" {
			return all, nil
		}
		cursor = p.Cursor
	}
}

// GroupMembers lists the users of a user group given as "S123", "<!subteam^S123>" or
// "@handle". A disabled group is no group (no_such_subteam, as Slack answers for it),
// marked with runbook.ErrGroupDisabled so that people are told why.
func (c *Client) GroupMembers(ctx context.Context, ref string) ([]string, error) {
	id := strings.TrimSpace(ref)
	if sub, ok := refID(id, "<!subteam^"); ok {
		id = sub
	}
	handle := ""
	if !runbook.LooksLikeID(id, "S") {
		handle = strings.TrimPrefix(id, "@")
		var err error
		if id, err = c.groupID(ctx, handle); err != nil {
			return nil, err
		}
	}
	// Members are remembered only briefly: they decide who may approve.
	if v, ok := c.cache.get("members:" + id); ok {
		return v.([]string), nil
	}
	if err := c.noGroups(); err != nil {
		return nil, err
	}
	members, err := call(ctx, c, "usergroups.users.list", func() ([]string, error) { return c.api.GetUserGroupMembersContext(ctx, id) })
	if err == nil {
		c.cache.putFor("members:"+id, members, membersTTL)
	}
	c.rememberNoGroups(err)
	if runbook.SlackCode(err) == "no_such_subteam" {
		// The group was disabled or deleted since its handle was looked up (Slack
		// answers so for a disabled group): the handle is looked up afresh next time.
		if handle != "" {
			c.cache.forget("group:" + handle)
		}
		if c.disabled(ctx, id) {
			return nil, errors.Join(err, runbook.ErrGroupDisabled)
		}
	}
	return members, err
}

// groupID finds a user group's id by its handle. A handle that only a disabled group
// has is no group.
func (c *Client) groupID(ctx context.Context, handle string) (string, error) {
	v, known := c.cache.get("group:" + handle)
	if !known {
		if err := c.listGroups(ctx); err != nil {
			return "", err
		}
		v, known = c.cache.get("group:" + handle)
	}
	if known && v.(string) != "" {
		return v.(string), nil
	}
	if !known {
		// Remembered briefly, from this listing only (a remembered miss is not
		// remembered again, or a group created meanwhile would stay unknown while it
		// is asked for): "@alice" is asked as a group before it is tried as a
		// username, on every click.
		c.cache.putFor("group:"+handle, "", membersTTL)
	}
	err := &runbook.SlackError{Method: "usergroups.list", Code: "no_such_subteam"}
	if _, off := c.cache.get("disabled:@" + handle); off {
		return "", errors.Join(err, runbook.ErrGroupDisabled)
	}
	return "", err
}

// listGroups remembers every user group's id by handle and which groups are disabled.
// Disabled groups are listed too (include_disabled), only so that a person can be
// told that a group they named is disabled rather than unknown; they are never used.
func (c *Client) listGroups(ctx context.Context) error {
	if err := c.noGroups(); err != nil {
		return err
	}
	groups, err := call(ctx, c, "usergroups.list", func() ([]slack.UserGroup, error) {
		return c.api.GetUserGroupsContext(ctx, slack.GetUserGroupsOptionIncludeDisabled(true))
	})
	if err != nil {
		c.rememberNoGroups(err)
		return err
	}
	enabled := map[string]bool{}
	for _, g := range groups {
		if g.DateDelete == 0 {
			enabled[g.Handle] = true
			c.cache.put("group:"+g.Handle, g.ID)
		}
	}
	for _, g := range groups {
		if g.DateDelete == 0 {
			continue
		}
		// Briefly, as a group that is not found: a group enabled again counts soon.
		c.cache.putFor("disabled:"+g.ID, true, membersTTL)
		if !enabled[g.Handle] {
			c.cache.putFor("disabled:@"+g.Handle, true, membersTTL)
		}
	}
	c.cache.putFor("groups:listed", true, membersTTL)
	return nil
}

// disabled reports whether a group Slack said does not exist is a disabled one, from
// a recent listing or a fresh one.
func (c *Client) disabled(ctx context.Context, id string) bool {
	if _, ok := c.cache.get("groups:listed"); !ok {
		if err := c.listGroups(ctx); err != nil {
			return false
		}
	}
	_, off := c.cache.get("disabled:" + id)
	return off
}

// noGroups answers at once, without a call, once Slack has said the workspace's plan
// has no user groups (Free): usergroups.* are tier-2 methods, and every click would
// otherwise wait for the rate budget only to hear it again.
func (c *Client) noGroups() error {
	if _, ok := c.cache.get("groups:none"); ok {
		return &runbook.SlackError{Method: "usergroups.list", Code: "plan_upgrade_required"}
	}
	return nil
}

func (c *Client) rememberNoGroups(err error) {
	if runbook.SlackCode(err) == "plan_upgrade_required" {
		c.cache.put("groups:none", true)
	}
}
