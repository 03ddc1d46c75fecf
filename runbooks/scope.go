package runbooks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cbroglie/mustache"
	"github.com/runbookhq/runbook"
)

// The built-in template variables. The executor passes template data of this shape:
//
//	incident: {id, title, severity, status, service, commander, channel, url,
//	           created_at, fields: {custom fields…}}
//	Activity: the incident map again, with each custom field also at its top level
//	          (Harness-style templates: {{Activity.region}})
//	params:   the bound params
//	steps:    {<step id>: {<output>: value…}} for the steps run so far
//	run:      {id, runbook, started_by, started_at}
//	user:     {id, name} of whoever started the run
var (
	IncidentFields = []string{"id", "number", "title", "severity", "status", "service", "commander", "commander_id", "channel", "channel_id", "url", "created_at", "roles", "fields", "summary", "slack_channel"}
	RunFields      = []string{"id", "runbook", "started_by", "started_at"}
	UserFields     = []string{"id", "name"}
)

// roots are the top-level names of template data.
var roots = []string{"incident", "Activity", "params", "steps", "run", "user", "secrets"}

// Scope is what the templates of one step may refer to: the built-in incident, run and
// user fields, the runbook's params and the outputs of earlier steps that have an id.
// incident.fields.* are the configured custom fields (Fields).
type Scope struct {
	Params []string
	// Steps maps each earlier step's id to its action.
	Steps map[string]string
	// Later lists the ids of the steps after this one, to explain why they cannot be
	// used yet; Self is this step's own id.
	Later []string
	Self  string
	// Secrets are the configured secret names; Machine says the template is an input
	// of an action that sends to machines, the only place a secret may go.
	Secrets []string
	Machine bool
	// Roles are the configured roles (incidents.roles), the names incident.roles.*
	// may use; empty checks nothing.
	Roles []string
	// Fields are the configured custom incident fields' names.
	Fields []string
}

// ScopeAt returns the scope of the runbook's i-th step (0-based).
func (r *Runbook) ScopeAt(i int) Scope {
	s := Scope{Steps: map[string]string{}}
	for _, p := range r.Params {
		s.Params = append(s.Params, p.Name)
	}
	for j, st := range r.Steps {
		switch {
		case st.ID == "":
		case j < i:
			s.Steps[st.ID] = st.Action
		case j == i:
			s.Self = st.ID
		default:
			s.Later = append(s.Later, st.ID)
		}
	}
	return s
}

// rollbackScope is the scope of step i's rollback: the steps up to and including i,
// whose outputs it may use to undo what i did.
func (r *Runbook) rollbackScope(i int) Scope {
	s := r.ScopeAt(i + 1)
	if s.Self != "" {
		s.Later = append([]string{s.Self}, s.Later...)
		s.Self = ""
	}
	return s
}

// varKind is what a name refers to: one value, a group of named values, or a group
// whose names cannot be known before the run (custom incident fields).
type varKind int

const (
	kindValue varKind = iota
	kindGroup
	kindOpen
)

// Check reports whether name, a dotted variable name, is known in the scope. The
// error is runbook.EINVALID and says what is wrong, with a did-you-mean when one is
// close.
func (s Scope) Check(name string) error {
	_, err := s.kind(name)
	return err
}

func (s Scope) kind(name string) (varKind, error) {
	root, rest, _ := strings.Cut(name, ".")
	var parts []string
	if rest != "" || strings.HasSuffix(name, ".") {
		parts = strings.Split(rest, ".")
	}
	switch root {
	case "incident":
		if len(parts) > 0 && parts[0] == "roles" {
			return s.roleKind(name, root, parts)
		}
		if len(parts) > 0 && parts[0] == "fields" {
			return s.customFieldKind(name, parts[1:])
		}
		return fieldKind(name, root, parts, IncidentFields, "")
	case "Activity":
		if len(parts) > 0 && parts[0] == "roles" {
			return s.roleKind(name, root, parts)
		}
		if len(parts) > 0 && parts[0] == "fields" {
			return s.customFieldKind(name, parts[1:])
		}
		return fieldKind(name, root, parts, append(slices.Clone(IncidentFields), s.Fields...), fieldsHint(s.Fields))
	case "params":
		return fieldKind(name, root, parts, s.Params, paramsHint(s.Params))
	case "run":
		return fieldKind(name, root, parts, RunFields, "")
	case "user":
		return fieldKind(name, root, parts, UserFields, "")
	case "steps":
		return s.stepKind(name, parts)
	case "secrets":
		return s.secretKind(name, parts)
	}
	if sug := runbook.Suggest(root, roots); sug != "" {
		return 0, unknownVar(name, sug+strings.TrimPrefix(name, root), "")
	}
	return 0, unknownVar(name, "", "variables start with incident., Activity., params., steps., run. or user.")
}

// fieldKind resolves the parts after a root whose fields are known.
func fieldKind(name, root string, parts, fields []string, hint string) (varKind, error) {
	if len(parts) == 0 {
		return kindGroup, nil
	}
	if root != "params" && parts[0] == "fields" {
		return kindOpen, nil
	}
	if !slices.Contains(fields, parts[0]) {
		return 0, unknownVar(name, suggestIn(root, parts[0], fields), hint)
	}
	if len(parts) > 1 {
		return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q: %s.%s has no fields", name, root, parts[0])
	}
	return kindValue, nil
}

// customFieldKind resolves incident.fields.<name>: a configured custom field.
func (s Scope) customFieldKind(name string, parts []string) (varKind, error) {
	if len(parts) == 0 {
		return kindGroup, nil
	}
	if len(s.Fields) == 0 {
		return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q; no custom fields are configured (incidents.fields in the config file)", name)
	}
	if !slices.Contains(s.Fields, parts[0]) {
		prefix := strings.TrimSuffix(name, "."+strings.Join(parts, "."))
		return 0, unknownVar(name, suggestIn(prefix, parts[0], s.Fields), fieldsHint(s.Fields))
	}
	if len(parts) > 1 {
		return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q: the custom field %s is one value and has no fields", name, parts[0])
	}
	return kindValue, nil
}

func fieldsHint(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	return "the custom fields are " + strings.Join(fields, ", ")
}

// stepKind resolves steps.<id>.<output>.
func (s Scope) stepKind(name string, parts []string) (varKind, error) {
	if len(parts) == 0 {
		return kindGroup, nil
	}
	id := parts[0]
	action, ok := s.Steps[id]
	switch {
	case ok:
	case id != "" && id == s.Self:
		return 0, runbook.Errorf(runbook.EINVALID, "%q refers to this step's own outputs; a step can use only earlier steps' outputs", name)
	case slices.Contains(s.Later, id):
		return 0, runbook.Errorf(runbook.EINVALID, "%q refers to step %q, which comes later", name, id)
	default:
		return 0, unknownVar(name, suggestIn("steps", id, sortedKeys(s.Steps)), fmt.Sprintf("no earlier step has id %q", id))
	}
	if len(parts) == 1 {
		return kindGroup, nil
	}
	spec, known := Actions[action]
	if !known {
		return kindOpen, nil // the unknown action is reported on its own
	}
	if parts[1] == "json" && spec.HasOutput("json") {
		return kindOpen, nil // the response's shape is the server's
	}
	if !spec.HasOutput(parts[1]) {
		hint := fmt.Sprintf("%s outputs %s", action, strings.Join(spec.Outputs, ", "))
		return 0, unknownVar(name, suggestIn("steps."+id, parts[1], spec.Outputs), hint)
	}
	if len(parts) > 2 {
		return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q: steps.%s.%s has no fields", name, id, parts[1])
	}
	return kindValue, nil
}

// roleKind resolves incident.roles.<role>, a configured role.
func (s Scope) roleKind(name, root string, parts []string) (varKind, error) {
	switch {
	case len(parts) == 1:
		return kindGroup, nil
	case len(s.Roles) == 0:
		if len(parts) > 2 {
			return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q: %s.roles.%s has no fields", name, root, parts[1])
		}
		return kindValue, nil
	}
	roles := s.Roles
	if !slices.Contains(roles, runbook.RoleCommander) {
		roles = append([]string{runbook.RoleCommander}, roles...)
	}
	if !slices.Contains(roles, parts[1]) {
		return 0, unknownVar(name, suggestIn(root+".roles", parts[1], roles), "the configured roles (incidents.roles) are "+strings.Join(roles, ", "))
	}
	if len(parts) > 2 {
		return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q: %s.roles.%s has no fields", name, root, parts[1])
	}
	return kindValue, nil
}

// secretKind resolves secrets.<name>, where a secret may go.
func (s Scope) secretKind(name string, parts []string) (varKind, error) {
	if !s.Machine {
		return 0, runbook.Errorf(runbook.EINVALID, "%q: secrets may be used only in the inputs of http.request and command.run, never where people can read them", name)
	}
	if len(parts) == 0 {
		return kindGroup, nil
	}
	if len(s.Secrets) == 0 {
		return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q; no secrets are configured (secrets: in the config file)", name)
	}
	if !slices.Contains(s.Secrets, parts[0]) {
		return 0, unknownVar(name, suggestIn("secrets", parts[0], s.Secrets), "the configured secrets are "+strings.Join(s.Secrets, ", "))
	}
	if len(parts) > 1 {
		return 0, runbook.Errorf(runbook.EINVALID, "unknown variable %q: secrets.%s has no fields", name, parts[0])
	}
	return kindValue, nil
}

func paramsHint(params []string) string {
	if len(params) == 0 {
		return "the runbook has no params"
	}
	return "the runbook's params are " + strings.Join(params, ", ")
}

// suggestIn returns prefix.<the candidate closest to word>, or "".
func suggestIn(prefix, word string, candidates []string) string {
	if sug := runbook.Suggest(word, candidates); sug != "" {
		return prefix + "." + sug
	}
	return ""
}

// unknownVar is the error for an unknown name, with a suggestion or else a hint.
func unknownVar(name, suggestion, hint string) error {
	switch {
	case suggestion != "":
		return runbook.Errorf(runbook.EINVALID, "unknown variable %q (did you mean %q?)", name, suggestion)
	case hint != "":
		return runbook.Errorf(runbook.EINVALID, "unknown variable %q; %s", name, hint)
	}
	return runbook.Errorf(runbook.EINVALID, "unknown variable %q", name)
}

// checkTemplate parses tmpl and checks every name it uses against the scope, the way
// the names resolve when rendered: inside a section over a group, names are looked up
// in that group first. It returns one message per problem.
func (s Scope) checkTemplate(tmpl string) []string {
	if !strings.Contains(tmpl, "{{") {
		return nil
	}
	t, err := parseTemplate(tmpl)
	if err != nil {
		return []string{err.Error()}
	}
	var msgs []string
	s.checkTags(t.Tags(), nil, &msgs)
	return msgs
}

// checkTags checks tags nested in the sections named by stack (full names, outermost
// first).
func (s Scope) checkTags(tags []mustache.Tag, stack []string, msgs *[]string) {
	for _, tag := range tags {
		name := tag.Name()
		switch {
		case tag.Type() == mustache.Partial:
			*msgs = append(*msgs, errPartials.Error())
			continue
		case name == ".":
			continue
		}
		full, kind, err := s.resolveIn(stack, name)
		switch {
		case err != nil:
			*msgs = append(*msgs, runbook.ErrorMessage(err))
		case tag.Type() == mustache.Variable && kind == kindGroup:
			*msgs = append(*msgs, fmt.Sprintf("%q is a group of values, not a value; name one of them", full))
		case tag.Type() == mustache.Section && kind != kindValue:
			s.checkTags(tag.Tags(), append(stack, full), msgs)
		case tag.Type() != mustache.Variable:
			s.checkTags(tag.Tags(), stack, msgs)
		}
	}
}

// resolveIn resolves a name used inside sections: in the innermost enclosing group
// that has its first part, else at the top level.
func (s Scope) resolveIn(stack []string, name string) (string, varKind, error) {
	first, _, _ := strings.Cut(name, ".")
	for i := len(stack) - 1; i >= 0; i-- {
		kind, _ := s.kind(stack[i])
		if kind == kindOpen {
			return stack[i] + "." + name, kindOpen, nil
		}
		if _, err := s.kind(stack[i] + "." + first); err == nil {
			kind, err := s.kind(stack[i] + "." + name)
			return stack[i] + "." + name, kind, err
		}
	}
	kind, err := s.kind(name)
	if err != nil && len(stack) > 0 && !slices.Contains(roots, first) {
		if _, inner := s.kind(stack[len(stack)-1] + "." + name); inner != nil {
			err = inner
		}
	}
	return name, kind, err
}
