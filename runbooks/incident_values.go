package runbooks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cbroglie/mustache"
	"github.com/runbookhq/runbook"
)

// checkCondition says what is wrong with one value of a trigger condition, or "":
// a severity or status the config does not list can never match, and neither can a
// service when services are configured. Conditions match case-insensitively.
func (s Settings) checkCondition(key, value string) string {
	switch key {
	case "severity":
		return notListed(value, s.Severities, "incidents.severities", strings.EqualFold)
	case "status":
		return notListed(value, s.Statuses, "incidents.statuses", strings.EqualFold)
	case "service":
		return notListed(value, s.Services, "services", strings.EqualFold)
	}
	return ""
}

// checkStatusInput and checkSeverityInput check a literal incident.update value the
// way the incidents service will: lowercased, then one of the configured values.
func checkStatusInput(s Settings, v string) string {
	return notListed(v, s.Statuses, "incidents.statuses", lowerEqual)
}

func checkSeverityInput(s Settings, v string) string {
	return notListed(v, s.Severities, "incidents.severities", lowerEqual)
}

func lowerEqual(listed, v string) bool { return listed == strings.ToLower(v) }

// notListed says that a literal value is not one of the listed ones, with a
// did-you-mean, or "". A template, or an empty list, is not checked.
func notListed(v string, listed []string, key string, equal func(listed, v string) bool) string {
	if len(listed) == 0 || strings.Contains(v, "{{") || slices.ContainsFunc(listed, func(l string) bool { return equal(l, v) }) {
		return ""
	}
	msg := fmt.Sprintf("%s is not in %s (%s)", quote(v), key, strings.Join(listed, ", "))
	if sug := runbook.Suggest(strings.ToLower(v), listed); sug != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", sug)
	}
	return msg
}

// NeedsIncident reports whether the runbook can only run about an incident: a step
// runs incident.update, or a step's when or inputs use incident.* or Activity.* at
// the top level of a template (outside any section, where it always renders), which
// fails when there is no incident.
func (r *Runbook) NeedsIncident() bool {
	return slices.ContainsFunc(r.Steps, func(st Step) bool {
		return st.Action == "incident.update" || usesIncident(st.When) || usesIncident(st.With)
	})
}

// usesIncident reports whether a template, or any string in a value, refers to the
// incident at its top level.
func usesIncident(v any) bool {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "{{") {
			return false
		}
		t, err := parseTemplate(x)
		if err != nil {
			return false
		}
		return slices.ContainsFunc(t.Tags(), func(tag mustache.Tag) bool {
			root, _, _ := strings.Cut(tag.Name(), ".")
			return root == "incident" || root == "Activity"
		})
	case map[string]any:
		for _, item := range x {
			if usesIncident(item) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(x, usesIncident)
	}
	return false
}
