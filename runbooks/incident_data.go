package runbooks

import (
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// IncidentData is the incident as runbook templates see it under incident.* (and
// Activity.*). commander and channel are Slack mentions ("<@U…>", "<#C…>"), or "" when
// unset; commander_id and channel_id are the bare ids.
func IncidentData(i *runbook.Incident) map[string]any {
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
	}
}
