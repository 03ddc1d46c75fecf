package runbooks

import (
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// IncidentData is the incident as runbook templates see it under incident.* (and
// Activity.*). commander and channel are Slack mentions ("<@U…>", "<#C…>"), or "" when
// unset; commander_id and channel_id are the bare ids. roles maps each role — commander,
// the configured roles (incidents.roles) and any other one assigned — to its holder's
// mention, "" when unassigned, so that {{incident.roles.comms}} renders empty rather
// than failing the run.
func IncidentData(i *runbook.Incident, roles ...string) map[string]any {
	held := map[string]any{runbook.RoleCommander: slackui.Mention(i.Commander)}
	for _, r := range roles {
		held[r] = slackui.Mention(i.Role(r))
	}
	for r, user := range i.Roles {
		held[r] = slackui.Mention(user)
	}
	fields := make(map[string]any, len(i.Fields))
	for k, v := range i.Fields {
		fields[k] = v
	}
	return map[string]any{
		"id":           i.Key(),
		"number":       i.ID,
		"title":        i.Title,
		"severity":     i.Severity,
		"status":       i.Status,
		"service":      i.Service,
		"commander":    slackui.Mention(i.Commander),
		"commander_id": i.Commander,
		"channel":      slackui.ChannelRef(i.Channel),
		"channel_id":   i.Channel,
		"url":          "",
		"created_at":   i.CreatedAt.UTC().Format(time.RFC3339),
		"fields":       fields,
		"roles":        held,
	}
}
