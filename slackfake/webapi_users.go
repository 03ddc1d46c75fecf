package slackfake

import (
	"strings"
)

func (s *Server) usersInfo(q *apiRequest) (map[string]any, *apiError) {
	u := s.users[q.str("user")]
	if u == nil {
		return nil, fail("user_not_found")
	}
	return map[string]any{"user": s.userJSON(u)}, nil
}

// usersListWhole is how many members users.list hands out in one answer when asked
// without a limit; Slack answers a larger workspace limit_required.
const usersListWhole = 1000

func (s *Server) usersList(q *apiRequest) (map[string]any, *apiError) {
	// Without a limit Slack tries to give the whole list, and refuses when the workspace
	// is too large for that; a limit is capped at 1000.
	def := len(s.userOrder)
	if q.intParam("limit", 0) <= 0 && def > usersListWhole {
		return nil, fail("limit_required")
	}
	items, next, err := page(q, "user", s.userOrder, func(id string) string { return id }, max(def, 1), 1000)
	if err != nil {
		return nil, err
	}
	members := make([]any, 0, len(items))
	for _, id := range items {
		members = append(members, s.userJSON(s.users[id]))
	}
	return map[string]any{"members": members, "cache_ts": s.lastTS / 1e6,
		"response_metadata": map[string]any{"next_cursor": next}}, nil
}

func (s *Server) usersLookupByEmail(q *apiRequest) (map[string]any, *apiError) {
	email := q.str("email")
	for _, id := range s.userOrder {
		if u := s.users[id]; email != "" && strings.EqualFold(u.email, email) {
			return map[string]any{"user": s.userJSON(u)}, nil
		}
	}
	return nil, fail("users_not_found")
}

func (s *Server) usergroupsList(q *apiRequest) (map[string]any, *apiError) {
	if s.opts.FreePlan {
		return nil, fail("plan_upgrade_required")
	}
	groups := make([]any, 0, len(s.groupOrder))
	for _, id := range s.groupOrder {
		g := s.groups[id]
		// A disabled group is left out unless asked for, as Slack does.
		if g.deleted != 0 && !q.boolean("include_disabled") {
			continue
		}
		groups = append(groups, s.userGroupJSON(g, q.boolean("include_users")))
	}
	return map[string]any{"usergroups": groups}, nil
}

func (s *Server) usergroupsUsersList(q *apiRequest) (map[string]any, *apiError) {
	if s.opts.FreePlan {
		return nil, fail("plan_upgrade_required")
	}
	g := s.groups[q.str("usergroup")]
	// Slack answers for a disabled group only when include_disabled ("allow results
	// that involve disabled User Groups") is set; otherwise it is no such group, the
	// one error the method documents for a group it will not answer for.
	if g == nil || (g.deleted != 0 && !q.boolean("include_disabled")) {
		return nil, fail("no_such_subteam")
	}
	return map[string]any{"users": append([]string{}, g.users...)}, nil
}
