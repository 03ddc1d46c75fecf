package runbooks

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
)

// updateIncident changes the run's incident's status or severity and adds a note to
// its timeline.
func updateIncident(ctx context.Context, s *stepRun) (map[string]any, error) {
	if _, err := s.incident(ctx); err != nil {
		return nil, err
	}
	status, severity := strings.ToLower(s.str("status")), strings.ToLower(s.str("severity"))
	if status != "" && len(s.e.d.Statuses) > 0 && !slices.Contains(s.e.d.Statuses, status) {
		return nil, runbook.Errorf(runbook.EINVALID, "%q is not a status; use one of %s", status, strings.Join(s.e.d.Statuses, ", "))
	}
	if severity != "" && len(s.e.d.Severities) > 0 && !slices.Contains(s.e.d.Severities, severity) {
		return nil, runbook.Errorf(runbook.EINVALID, "%q is not a severity; use one of %s", severity, strings.Join(s.e.d.Severities, ", "))
	}
	var before runbook.Incident
	inc, err := s.e.d.Incidents.UpdateIncident(ctx, s.run.IncidentID, func(inc *runbook.Incident) error {
		before = *inc
		if status != "" {
			inc.Status = status
		}
		if severity != "" {
			inc.Severity = severity
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.timeline(ctx, status, severity); err != nil {
		return nil, err
	}
	if s.e.d.OnIncidentChanged != nil {
		s.e.d.OnIncidentChanged(ctx, &before, inc, "runbook "+s.run.Key(), fmt.Sprintf("%s/%d", s.run.Key(), s.index))
	}
	return map[string]any{"status": inc.Status, "severity": inc.Severity}, nil
}

// timeline writes the step's entries; a retry after they were recorded skips them.
func (s *stepRun) timeline(ctx context.Context, status, severity string) error {
	if done, _ := s.progress["timeline"].(bool); done {
		return nil
	}
	actor := "runbook " + s.run.Key()
	var entries []runbook.TimelineEntry
	if status != "" {
		entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineStatus, Text: "status set to " + status})
	}
	if severity != "" {
		entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineSeverity, Text: "severity set to " + severity})
	}
	if note := s.str("note"); note != "" {
		entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineNote, Text: note})
	}
	for _, e := range entries {
		e.IncidentID, e.Actor = s.run.IncidentID, actor
		if err := s.e.d.Incidents.AddTimeline(ctx, e); err != nil {
			return err
		}
	}
	return s.saveProgress(ctx, map[string]any{"timeline": true})
}
