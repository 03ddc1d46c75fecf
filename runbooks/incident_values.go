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

// checkFieldCondition says what is wrong with one value of a trigger's condition on a
// custom field, or "": the field must be configured, and a value must be one the
// field can hold (an enum's value, a whole number, a user id).
func (s Settings) checkFieldCondition(name, value string) string {
	if msg := checkFieldEntry(s, name, value); msg != "" {
		return msg
	}
	if strings.Contains(value, "{{") {
		return "a condition is a value, not a template"
	}
	return ""
}

// checkRoleCondition says what is wrong with one value of a trigger's condition on a
// role, or "": the role must be configured (commander always is), and the value a user
// id, "assigned" or "unassigned".
func (s Settings) checkRoleCondition(role, value string) string {
	roles := s.Roles
	if !slices.Contains(roles, runbook.RoleCommander) {
		roles = append([]string{runbook.RoleCommander}, roles...)
	}
	if len(s.Roles) > 0 && !slices.Contains(roles, role) {
		msg := fmt.Sprintf("%s is not a role", quote(role))
		if sug := runbook.Suggest(role, roles); sug != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		return msg + "; the roles are " + strings.Join(roles, ", ") + " (incidents.roles)"
	}
	if value == RoleAssigned || value == RoleUnassigned || runbook.LooksLikeID(value, "UW") {
		return ""
	}
	msg := fmt.Sprintf("%s is not %q, %q or a user id (U012AB3CD)", quote(value), RoleAssigned, RoleUnassigned)
	if sug := runbook.Suggest(strings.ToLower(value), []string{RoleAssigned, RoleUnassigned}); sug != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", sug)
	}
	return msg
}

// checkStatusInput and checkSeverityInput check a literal incident.update value the
// way the incidents service will: lowercased, then one of the configured values.
func checkStatusInput(s Settings, v string) string {
	return notListed(v, s.Statuses, "incidents.statuses", lowerEqual)
}

func checkSeverityInput(s Settings, v string) string {
	return notListed(v, s.Severities, "incidents.severities", lowerEqual)
}

// checkFieldEntry checks one custom field an incident.update step sets, the way the
// incidents service will: the name must be configured (with a did-you-mean), and a
// literal value must fit the field's type. A templated value is checked when the step
// runs, against what it rendered.
func checkFieldEntry(s Settings, name, value string) string {
	if len(s.Fields) == 0 {
		return fmt.Sprintf("%s is not a custom field: none are configured (incidents.fields in the config file)", quote(name))
	}
	if !slices.Contains(s.Fields, name) {
		msg := fmt.Sprintf("%s is not a custom field", quote(name))
		if sug := runbook.Suggest(name, s.Fields); sug != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		return msg + "; the custom fields are " + strings.Join(s.Fields, ", ")
	}
	spec, typed := runbook.FieldByName(s.FieldSpecs, name)
	if !typed || strings.Contains(value, "{{") {
		return ""
	}
	if _, err := spec.Check(value); err != nil {
		return runbook.ErrorMessage(err)
	}
	return ""
}

// checkSummary checks a literal summary's length, as the incidents service will.
func checkSummary(v string) string {
	if n := len([]rune(strings.TrimSpace(v))); n > runbook.MaxSummary {
		return fmt.Sprintf("is %d characters long; keep it under %d", n, runbook.MaxSummary)
	}
	return ""
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
