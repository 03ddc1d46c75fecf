package slackfake

import (
	"slices"
)

// This file renders workspace state as Slack's wire JSON. Every function
// here is called with s.mu held.

func (s *Server) channelJSON(c *channel, withNumMembers bool) map[string]any {
	if c.im {
		u := s.users[c.imUser]
		return map[string]any{
			"id": c.id, "created": c.created, "is_archived": false, "is_im": true,
			"is_org_shared": false, "context_team_id": s.teamID, "updated": c.created * 1000,
			"user": c.imUser, "is_user_deleted": u != nil && u.deleted, "priority": 0,
		}
	}
	prev := c.previousNameList
	if prev == nil {
		prev = []string{}
	}
	m := map[string]any{
		"id": c.id, "name": c.name, "is_channel": !c.mpim, "is_group": false, "is_im": false,
		"is_mpim": c.mpim, "is_private": c.private || c.mpim, "created": c.created,
		"is_archived": c.archived, "is_general": c.name == "general", "unlinked": 0,
		"name_normalized": c.name, "is_shared": false, "is_org_shared": false,
		"is_pending_ext_shared": false, "pending_shared": []string{}, "context_team_id": s.teamID,
		"updated": c.created * 1000, "parent_conversation": nil, "creator": c.creator,
		"is_ext_shared": false, "shared_team_ids": []string{s.teamID},
		"pending_connected_team_ids": []string{}, "is_member": c.isMember(s.botUserID),
		"topic":          map[string]any{"value": c.topic.value, "creator": c.topic.creator, "last_set": c.topic.lastSet},
		"purpose":        map[string]any{"value": c.purpose.value, "creator": c.purpose.creator, "last_set": c.purpose.lastSet},
		"previous_names": prev,
	}
	if withNumMembers {
		m["num_members"] = len(c.members)
	}
	return m
}

func (s *Server) userJSON(u *user) map[string]any {
	avatar := "https://secure.gravatar.com/avatar/" + u.id + ".jpg?s="
	profile := map[string]any{
		"title": "", "phone": "", "skype": "", "real_name": u.realName,
		"real_name_normalized": u.realName, "display_name": u.shownName(), "display_name_normalized": u.shownName(),
		"fields": nil, "status_text": "", "status_emoji": "", "status_emoji_display_info": []any{},
		"status_expiration": 0, "avatar_hash": "g" + u.id, "first_name": u.realName, "last_name": "",
		"image_24": avatar + "24", "image_32": avatar + "32", "image_48": avatar + "48",
		"image_72": avatar + "72", "image_192": avatar + "192", "image_512": avatar + "512",
		"status_text_canonical": "", "team": s.teamID,
	}
	if u.email != "" {
		profile["email"] = u.email
	}
	if u.isBot {
		profile["bot_id"] = u.botID
		profile["always_active"] = true
		if u.appID != "" {
			profile["api_app_id"] = u.appID
		}
	}
	return map[string]any{
		"id": u.id, "team_id": s.teamID, "name": u.name, "deleted": u.deleted, "color": "9f69e7",
		"real_name": u.realName, "tz": "Europe/London", "tz_label": "Greenwich Mean Time",
		"tz_offset": 0, "profile": profile, "is_admin": false, "is_owner": false,
		"is_primary_owner": false, "is_restricted": false, "is_ultra_restricted": false,
		"is_bot": u.isBot, "is_app_user": false, "updated": u.updated,
		"is_email_confirmed": !u.isBot, "who_can_share_contact_card": "EVERYONE",
	}
}

func (s *Server) botProfileJSON() map[string]any {
	icon := "https://a.slack-edge.com/80588/img/plugins/app/bot_"
	return map[string]any{
		"id": s.botID, "deleted": false, "name": BotName, "updated": s.users[s.botUserID].updated,
		"app_id": s.appID, "team_id": s.teamID,
		"icons": map[string]any{"image_36": icon + "36.png", "image_48": icon + "48.png", "image_72": icon + "72.png"},
	}
}

// messageJSON renders a stored message as conversations.history and
// chat.postMessage return it. Metadata is included only when withMeta.
func (s *Server) messageJSON(c *channel, m *message, withMeta bool) map[string]any {
	out := map[string]any{"type": "message", "ts": m.ts, "text": m.text}
	if m.user != "" {
		out["user"] = m.user
	}
	if m.subtype != "" {
		out["subtype"] = m.subtype
	} else {
		out["team"] = s.teamID
	}
	if m.clientMsgID != "" {
		out["client_msg_id"] = m.clientMsgID
	}
	if m.botID != "" {
		out["bot_id"] = m.botID
		out["app_id"] = m.appID
		out["bot_profile"] = s.botProfileJSON()
	}
	if len(m.blocks) > 0 {
		out["blocks"] = m.blocks
	}
	if m.threadTS != "" {
		out["thread_ts"] = m.threadTS
		if m.threadTS != m.ts {
			if p := c.findMessage(m.threadTS); p != nil {
				out["parent_user_id"] = p.user
			}
		}
	}
	if m.threadTS == m.ts {
		replies := c.replies(m.ts)
		var users []string
		for _, r := range replies {
			if !slices.Contains(users, r.user) {
				users = append(users, r.user)
			}
		}
		out["reply_count"] = len(replies)
		out["reply_users_count"] = len(users)
		out["reply_users"] = users
		out["is_locked"] = false
		out["subscribed"] = false
		if len(replies) > 0 {
			out["latest_reply"] = replies[len(replies)-1].ts
		}
	}
	if m.editedTS != "" {
		out["edited"] = map[string]any{"user": m.editedBy, "ts": m.editedTS}
	}
	if m.pinned {
		out["pinned_to"] = []string{c.id}
	}
	if withMeta && len(m.metadata) > 0 {
		out["metadata"] = m.metadata
	}
	return out
}

func (s *Server) teamJSON() map[string]any {
	if s.enterpriseID != "" {
		return nil // an org-wide install: the payload is the org's, not one workspace's
	}
	return map[string]any{"id": s.teamID, "domain": TeamDomain}
}

// payloadUserJSON is the short user object of interaction payloads.
func (s *Server) payloadUserJSON(userID string) map[string]any {
	name := ""
	if u := s.users[userID]; u != nil {
		name = u.name
	}
	return map[string]any{"id": userID, "username": name, "name": name, "team_id": s.teamID}
}

// payloadChannelName is the channel name Slack puts in payloads.
func payloadChannelName(c *channel) string {
	switch {
	case c.im:
		return "directmessage"
	case c.mpim, c.private:
		return "privategroup"
	default:
		return c.name
	}
}

func (s *Server) userGroupJSON(g *userGroup, withUsers bool) map[string]any {
	m := map[string]any{
		"id": g.id, "team_id": s.teamID, "is_usergroup": true, "is_subteam": true,
		"name": g.name, "description": "", "handle": g.handle, "is_external": false,
		"date_create": g.created, "date_update": max(g.created, g.deleted), "date_delete": g.deleted, "auto_type": nil,
		"auto_provision": false, "enterprise_subteam_id": "", "created_by": s.botUserID,
		"updated_by": s.botUserID, "deleted_by": nil,
		"prefs":      map[string]any{"channels": []string{}, "groups": []string{}},
		"user_count": len(g.users),
	}
	if g.deleted != 0 {
		m["deleted_by"] = s.botUserID
	}
	if withUsers {
		m["users"] = append([]string{}, g.users...)
	}
	return m
}
