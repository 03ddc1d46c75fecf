package slackfake

import (
	"fmt"
	"slices"
	"time"
)

// Things members do to themselves and to their groups while the bot runs. Slack lets
// anyone choose a display name — including another member's handle or a user group's —
// so a bot must never trust one; user groups change members at any moment.

// UserDisplayName sets the user's display name at creation (default: the handle).
func UserDisplayName(name string) UserOption { return func(u *user) { u.displayName = name } }

// shownName is the display name Slack reports for the user.
func (u *user) shownName() string {
	if u.displayName != "" {
		return u.displayName
	}
	return u.name
}

// SetDisplayName changes a member's display name, as they can in their profile.
func (s *Server) SetDisplayName(userID, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return false
	}
	u.displayName, u.updated = name, time.Now().Unix()
	s.notifyLocked()
	return true
}

// SetUserGroupMembers replaces a user group's members, as usergroups.users.update does.
func (s *Server) SetUserGroupMembers(groupID string, userIDs ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[groupID]
	if !ok {
		return false
	}
	g.users = slices.Clone(userIDs)
	s.notifyLocked()
	return true
}

// DisableUserGroup disables a user group, by id or handle, as usergroups.disable does:
// it keeps its handle and members, but usergroups.list leaves it out and
// usergroups.users.list answers no_such_subteam for it, unless asked with
// include_disabled.
func (s *Server) DisableUserGroup(idOrHandle string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.lookupGroup(idOrHandle)
	if g == nil {
		return false
	}
	g.deleted = time.Now().Unix()
	s.notifyLocked()
	return true
}

// EnableUserGroup enables a disabled user group again, by id or handle, as
// usergroups.enable does.
func (s *Server) EnableUserGroup(idOrHandle string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.lookupGroup(idOrHandle)
	if g == nil {
		return false
	}
	g.deleted = 0
	s.notifyLocked()
	return true
}

// lookupGroup finds a user group by id or handle ("oncall" or "@oncall").
func (s *Server) lookupGroup(idOrHandle string) *userGroup {
	if g, ok := s.groups[idOrHandle]; ok {
		return g
	}
	for _, id := range s.groupOrder {
		if g := s.groups[id]; "@"+g.handle == idOrHandle || g.handle == idOrHandle {
			return g
		}
	}
	return nil
}

// PostAs stores a message a member wrote in a channel, as the Slack client would; the
// bot hears nothing of it (it subscribes to mentions only).
func (s *Server) PostAs(userID, channelID, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupChannel(channelID)
	if c == nil {
		return Message{}, fmt.Errorf("slackfake: PostAs: no channel %s", channelID)
	}
	if !c.isMember(userID) {
		return Message{}, fmt.Errorf("slackfake: PostAs: %s is not in %s", userID, channelID)
	}
	m := &message{channel: c.id, ts: s.nextTS(), user: userID, text: text, clientMsgID: newUUID()}
	c.msgs = append(c.msgs, m)
	s.notifyLocked()
	return m.snapshot(), nil
}

// JoinChannel adds members to a channel, by id or name, as their joining or being
// invited by another member would; it reports false for no such channel.
func (s *Server) JoinChannel(idOrName string, userIDs ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupChannel(idOrName)
	if c == nil {
		return false
	}
	for _, id := range userIDs {
		c.addMember(id)
	}
	s.notifyLocked()
	return true
}
