package runbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// People resolves one entry of a list of people — an approver, an invitee — to user
// ids: "U123" or "<@U123>" is that member; "S123" or "<!subteam^S123>" is a user
// group's members; "@handle" or "handle" is the user group with that handle when there
// is one, else the member with that username. A disabled group is no group. Display and real names are never
// matched: members choose them, and they need not be unique. An entry that names
// nobody is ENOTFOUND.
func People(ctx context.Context, slack Channels, entry string) ([]string, error) {
	e := strings.TrimSpace(entry)
	if id, ok := UserRef(e); ok {
		return []string{id}, nil
	}
	if GroupRef(e) {
		members, err := slack.GroupMembers(ctx, e)
		switch {
		case errors.Is(err, ErrGroupDisabled):
			return nil, errors.Join(Errorf(ENOTFOUND, "%s is a disabled user group", quoted(e)), ErrGroupDisabled)
		case isNoGroup(err):
			return nil, Errorf(ENOTFOUND, "%s is not a user group in this workspace", quoted(e))
		case SlackCode(err) == "plan_upgrade_required":
			return nil, errors.Join(Errorf(ENOTFOUND, "%s is a user group, and this workspace's Slack plan has none", quoted(e)), ErrNoUserGroups)
		}
		return members, err
	}
	handle := "@" + strings.TrimPrefix(e, "@")
	members, err := slack.GroupMembers(ctx, handle)
	if err == nil {
		return members, nil
	}
	// No group by that handle, or a workspace without user groups (Slack's Free plan):
	// the handle can still be a member's username.
	noGroups := SlackCode(err) == "plan_upgrade_required"
	disabled := errors.Is(err, ErrGroupDisabled)
	if !isNoGroup(err) && !noGroups {
		return nil, fmt.Errorf("look up %s: %w", handle, err)
	}
	id, err := slack.ResolveUser(ctx, handle)
	if SlackCode(err) == "user_not_found" {
		if noGroups {
			return nil, errors.Join(Errorf(ENOTFOUND, "%s is no member's username, and this workspace's Slack plan has no user groups", quoted(handle)), ErrNoUserGroups)
		}
		if disabled {
			return nil, errors.Join(Errorf(ENOTFOUND, "%s is a disabled user group in this workspace, and no member's username", quoted(handle)), ErrGroupDisabled)
		}
		return nil, Errorf(ENOTFOUND, "%s is neither a user nor a user group in this workspace", quoted(handle))
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", handle, err)
	}
	return []string{id}, nil
}

// ErrNoUserGroups marks an entry that names nobody because the workspace's Slack plan
// (Free) has no user groups: a warning to the operator, not a mistake in the list.
var ErrNoUserGroups = errors.New("the workspace's Slack plan has no user groups")

// ErrGroupDisabled marks an entry that names nobody because it names a user group that
// was disabled in Slack: a disabled group is no group, and its members count for
// nothing, but the person who named it is told why.
var ErrGroupDisabled = errors.New("the user group is disabled")

// GroupUnusable reports whether err says an entry names a user group this workspace
// cannot use (no user groups on its plan, or the group disabled): places that take a
// list of people skip such an entry with the sentence, and go on with the rest.
func GroupUnusable(err error) bool {
	return errors.Is(err, ErrNoUserGroups) || errors.Is(err, ErrGroupDisabled)
}

// isNoGroup reports whether Slack said a user group does not exist.
func isNoGroup(err error) bool {
	switch SlackCode(err) {
	case "no_such_subteam", "subteam_not_found":
		return true
	}
	return false
}

// UserRef returns the member an entry names by id: "U123", "W123" or "<@U123>"
// ("<@U123|name>" too).
func UserRef(entry string) (string, bool) {
	e := strings.TrimSpace(entry)
	if inner, ok := strings.CutPrefix(e, "<@"); ok {
		id, _, _ := strings.Cut(strings.TrimSuffix(inner, ">"), "|")
		return id, LooksLikeID(id, "UW")
	}
	return e, LooksLikeID(e, "UW")
}

// GroupRef reports whether an entry names a user group by id: "S123" or
// "<!subteam^S123>".
func GroupRef(entry string) bool {
	e := strings.TrimSpace(entry)
	return strings.HasPrefix(e, "<!subteam^") || LooksLikeID(e, "S")
}

// LooksLikeID reports whether s has the shape of a Slack id starting with one of the
// given letters ("C123ABC" for "CGD"): upper-case letters and digits only.
func LooksLikeID(s, prefixes string) bool {
	if len(s) < 3 || !strings.ContainsRune(prefixes, rune(s[0])) {
		return false
	}
	return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// Membership answers whether people are among lists of entries (see People) for the
// length of one question — a click, a command — asking Slack about each entry once.
type Membership struct {
	slack   Channels
	members map[string][]string
	// Unusable says why entries that name nobody could not count ("S123 is a user
	// group, and this workspace's Slack plan has none"), for the person refused.
	Unusable []string
}

// NewMembership starts one question.
func NewMembership(slack Channels) *Membership {
	return &Membership{slack: slack, members: map[string][]string{}}
}

// Has reports whether user is one of entries, or a member of one. An empty list holds
// nobody. Entries naming a user id are checked first, without asking Slack; an entry
// that names nobody is skipped.
func (m *Membership) Has(ctx context.Context, user string, entries []string) (bool, error) {
	for _, e := range entries {
		if id, ok := UserRef(e); ok && id == user {
			return true, nil
		}
	}
	for _, e := range entries {
		if _, ok := UserRef(e); ok {
			continue
		}
		members, err := m.resolve(ctx, e)
		if err != nil {
			return false, err
		}
		if slices.Contains(members, user) {
			return true, nil
		}
	}
	return false, nil
}

// resolve returns the people an entry names, once per question.
func (m *Membership) resolve(ctx context.Context, entry string) ([]string, error) {
	if members, ok := m.members[entry]; ok {
		return members, nil
	}
	members, err := People(ctx, m.slack, entry)
	if ErrorCode(err) == ENOTFOUND {
		m.Unusable = append(m.Unusable, ErrorMessage(err))
		members, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", entry, err)
	}
	m.members[entry] = members
	return members, nil
}
