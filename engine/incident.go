package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// IncidentUpdater changes incidents by the same rules for a runbook as for a person:
// the incidents service validates the change, sets ResolvedAt, records the timeline,
// edits the announcement, re-topics the channel and starts triggered runbooks.
type IncidentUpdater interface {
	Update(ctx context.Context, id int64, c runbook.IncidentChange) (*runbook.Incident, error)
}

// incidentActions are the steps that change the run's incident.
type incidentActions struct{ incidents IncidentUpdater }

// IncidentActions changes the run's incident through incidents.
func IncidentActions(incidents IncidentUpdater) Family { return incidentActions{incidents: incidents} }

func (f incidentActions) register(e *Executor) { e.handle("incident.update", f.update) }

// update changes the run's incident's status, severity, custom fields or summary and
// adds a note to its timeline. The change is keyed by the step, so a retry after a
// crash applies it once and only brings Slack in step.
func (f incidentActions) update(ctx context.Context, s *stepRun) (map[string]any, error) {
	if _, err := s.incident(ctx); err != nil {
		return nil, err
	}
	c := runbook.IncidentChange{
		Status:   s.str("status"),
		Severity: s.str("severity"),
		Note:     slackui.Unescape(s.str("note")),
		By:       runbook.RunActor(s.run.ID),
		Key:      fmt.Sprintf("%s/%d", s.run.Key(), s.index),
	}
	// Inputs are rendered escaped for Slack; the note, fields and summary are stored as
	// the text they say, as the update command stores them, and escaped where shown.
	if fields, ok := s.in["fields"].(map[string]any); ok {
		c.Fields = make(map[string]string, len(fields))
		for name, v := range fields {
			c.Fields[name] = slackui.Unescape(strings.TrimSpace(fmt.Sprint(v)))
		}
	}
	if _, ok := s.in["summary"]; ok {
		summary := slackui.Unescape(s.str("summary"))
		c.Summary = &summary
	}
	inc, err := f.incidents.Update(ctx, s.run.IncidentID, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": inc.Status, "severity": inc.Severity}, nil
}
