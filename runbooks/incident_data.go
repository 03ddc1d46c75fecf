package runbooks

import (
	"maps"
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
		// Harness's names: summary as responders wrote it, slack_channel as a channel
		// reference that is both a link in text and a channel input.
		"summary":       i.Summary,
		"slack_channel": slackui.ChannelRef(i.Channel),
	}
}

// TemplateIncident is the incident as a run's templates see it: incident.* with the
// configured roles (see IncidentData) and every
// configured custom field present (blank where the incident has none, so that a
// template naming a field a past incident lacks renders empty instead of failing the
// run), and Activity.*, which is incident.* with each custom field also at its top
// level, as Harness runbooks name them ({{Activity.region}}).
func TemplateIncident(i *runbook.Incident, roles, fieldNames []string) (incident, activity map[string]any) {
	incident = IncidentData(i, roles...)
	fields := incident["fields"].(map[string]any)
	for _, name := range fieldNames {
		if _, ok := fields[name]; !ok {
			fields[name] = ""
		}
	}
	activity = maps.Clone(incident)
	for name, v := range fields {
		// Configuration reserves the incident's own names, so a field never hides one;
		// a stored field the configuration no longer guards still must not.
		if _, own := activity[name]; !own {
			activity[name] = v
		}
	}
	return incident, activity
}
