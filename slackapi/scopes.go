package slackapi

import (
	"maps"
	"slices"
)

// MethodScopes are the bot-token scopes each Web API method the adapter calls needs.
// The app manifest asks for exactly their union plus the scopes of the features the
// bot uses (the slash command, mentions); a test holds the two together.
var MethodScopes = map[string][]string{
	"auth.test":                {},
	"chat.postMessage":         {"chat:write", "chat:write.public"},
	"chat.update":              {"chat:write"},
	"chat.postEphemeral":       {"chat:write"},
	"chat.getPermalink":        {},
	"conversations.create":     {"channels:manage", "groups:write"},
	"conversations.archive":    {"channels:manage", "groups:write"},
	"conversations.unarchive":  {"channels:manage", "groups:write"},
	"conversations.setTopic":   {"channels:manage", "groups:write"},
	"conversations.setPurpose": {"channels:manage", "groups:write"},
	"conversations.invite":     {"channels:manage", "groups:write"},
	"conversations.list":       {"channels:read", "groups:read"},
	"conversations.info":       {"channels:read", "groups:read"},
	"conversations.members":    {"channels:read", "groups:read"},
	"conversations.history":    {"channels:history", "groups:history"},
	"conversations.replies":    {"channels:history", "groups:history"},
	"conversations.open":       {"im:write"},
	"users.list":               {"users:read"},
	"users.info":               {"users:read"},
	"users.conversations":      {"channels:read", "groups:read"},
	"usergroups.list":          {"usergroups:read"},
	"usergroups.users.list":    {"usergroups:read"},
	"pins.add":                 {"pins:write"},
	"views.open":               {},
}

// FeatureScopes are needed by what the app receives rather than what it calls: the
// /runbook command, @Runbook mentions, and the 📌 reactions that pin messages to an
// incident's timeline (reaction_added).
var FeatureScopes = []string{"commands", "app_mentions:read", "reactions:read"}

// Scopes is every bot-token scope Runbook needs, sorted.
func Scopes() []string {
	set := map[string]bool{}
	for _, s := range FeatureScopes {
		set[s] = true
	}
	for _, scopes := range MethodScopes {
		for _, s := range scopes {
			set[s] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
