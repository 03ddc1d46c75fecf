package runbooks

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Param types.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	TypeEnum    = "enum"
)

// ParamTypes lists the param types a runbook may declare.
var ParamTypes = []string{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeEnum}

// What a run does when a step fails.
const (
	OnErrorFail     = "fail"     // stop the run (the default)
	OnErrorContinue = "continue" // record the failure and go on with the next step
)

// Runbook is one runbook file, loaded and checked.
type Runbook struct {
	Name        string
	Description string
	// Allowed, when set, are the people who may run the runbook by hand (user ids,
	// usernames, user groups), besides admins; triggers run it regardless.
	Allowed []string
	// File is where the runbook was loaded from, as given to LoadDir, LoadFile or Parse.
	File     string
	Triggers []Trigger
	Params   []Param
	Steps    []Step

	nameLine int // where the name is, for problems found across files
}

// Trigger starts a runbook when an incident event happens and the incident matches
// every condition that is set. An empty condition matches anything. A trigger with
// Every instead of an Event runs the runbook every interval while an incident is
// open, each time the incident matches the conditions.
type Trigger struct {
	Event    string
	Every    time.Duration
	Severity []string
	Service  []string
	Status   []string
	// Fields are conditions on custom fields: field name → the values it may have.
	Fields map[string][]string
	// Roles are conditions on roles: role name → who may hold it, as user ids or the
	// words RoleAssigned and RoleUnassigned.
	Roles map[string][]string
}

// The words a role condition uses for "someone holds it" and "nobody does".
const (
	RoleAssigned   = "assigned"
	RoleUnassigned = "unassigned"
)

// Param is a typed input of a runbook, given in chat as key=value.
type Param struct {
	Name        string
	Type        string // one of ParamTypes
	Description string
	Required    bool
	// Default is used when the param is not given: nil, or a value of the param's Go
	// type (string for string and enum, int for integer, float64 for number, bool for
	// boolean).
	Default any
	// Values are the allowed values of an enum param.
	Values []string
}

// Step is one action of a runbook.
type Step struct {
	// ID names the step so later steps can use its outputs as {{steps.<id>.<output>}};
	// empty when no step refers to it.
	ID string
	// Action is a key of Actions.
	Action string
	// When is a template; the step is skipped unless it renders Truthy. Empty means
	// always.
	When string
	// OnError is OnErrorFail or OnErrorContinue (never empty).
	OnError string
	// With holds the action's inputs, checked against the action's InputSpec and
	// normalised by input type: string → string; bool → bool, or a template string;
	// int → int, or a template string; list → []any of strings; blocks → []any of
	// map[string]any, or a JSON/template string; duration → string. Nested values
	// are map[string]any, []any, string, bool, int, float64 or nil. Never nil.
	With map[string]any
	// Line is where the step starts in its file.
	Line int
	// Rollback undoes the step: run, newest first, for the steps that succeeded when a
	// later step fails, and offered by the Roll back button after the run succeeds.
	// It has no ID, OnError or Rollback of its own; nil when the step declares none.
	Rollback *Step
	// Idempotent says a command.run step may be run again after a crash interrupted
	// it; otherwise it is reported as interrupted.
	Idempotent bool
}

// Matches reports whether the trigger fires for event on an incident, given as the
// incident map of the template data (IncidentData: keys severity, service, status,
// fields and roles). Conditions compare case-insensitively; an incident without the
// field does not match a condition on it.
func (t Trigger) Matches(event string, incident map[string]any) bool {
	if t.Event != event {
		return false
	}
	return t.Holds(incident)
}

// Holds reports whether the incident matches every condition of the trigger.
func (t Trigger) Holds(incident map[string]any) bool {
	if !matchCondition(t.Severity, incident["severity"]) ||
		!matchCondition(t.Service, incident["service"]) ||
		!matchCondition(t.Status, incident["status"]) {
		return false
	}
	fields, _ := incident["fields"].(map[string]any)
	for name, allowed := range t.Fields {
		if v, _ := fields[name].(string); v == "" || !matchCondition(allowed, v) {
			return false
		}
	}
	roles, _ := incident["roles"].(map[string]any)
	for role, allowed := range t.Roles {
		if !matchRole(allowed, roles[role]) {
			return false
		}
	}
	return true
}

// matchRole reports whether a role's holder, as IncidentData gives it (a mention, or
// "" when nobody holds it), is one allowed: a user id, RoleAssigned or RoleUnassigned.
func matchRole(allowed []string, held any) bool {
	mention, _ := held.(string)
	user := strings.TrimSuffix(strings.TrimPrefix(mention, "<@"), ">")
	return slices.ContainsFunc(allowed, func(a string) bool {
		switch a {
		case RoleAssigned:
			return user != ""
		case RoleUnassigned:
			return user == ""
		}
		return user != "" && a == user
	})
}

// matchCondition reports whether value is one of allowed; an empty allowed matches all.
func matchCondition(allowed []string, value any) bool {
	if len(allowed) == 0 {
		return true
	}
	if value == nil {
		return false
	}
	s := strings.TrimSpace(fmt.Sprint(value))
	return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, s) })
}

// Triggered reports whether any of the runbook's triggers fires for event on incident.
func (r *Runbook) Triggered(event string, incident map[string]any) bool {
	return slices.ContainsFunc(r.Triggers, func(t Trigger) bool { return t.Matches(event, incident) })
}

// Periodic lists the distinct intervals of the runbook's every: triggers, shortest
// first.
func (r *Runbook) Periodic() []time.Duration {
	var out []time.Duration
	for _, t := range r.Triggers {
		if t.Every > 0 && !slices.Contains(out, t.Every) {
			out = append(out, t.Every)
		}
	}
	slices.Sort(out)
	return out
}

// DueEvery reports whether a run is due on the runbook's every: triggers of interval
// every for incident: some such trigger's conditions hold.
func (r *Runbook) DueEvery(every time.Duration, incident map[string]any) bool {
	return every > 0 && slices.ContainsFunc(r.Triggers, func(t Trigger) bool { return t.Every == every && t.Holds(incident) })
}

// StepIndex returns the index of the step with the given id, or -1.
func (r *Runbook) StepIndex(id string) int {
	if id == "" {
		return -1
	}
	return slices.IndexFunc(r.Steps, func(s Step) bool { return s.ID == id })
}

// Param returns the param called name.
func (r *Runbook) Param(name string) (Param, bool) {
	i := slices.IndexFunc(r.Params, func(p Param) bool { return p.Name == name })
	if i < 0 {
		return Param{}, false
	}
	return r.Params[i], true
}
