package runbooks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/runbookhq/runbook"
	"go.yaml.in/yaml/v3"
)

var (
	topKeys       = []string{"name", "description", "allowed", "on", "params", "steps"}
	triggerKeys   = []string{"event", "every", "if"}
	conditionKeys = []string{"severity", "service", "status", "fields", "roles"}
	paramKeys     = []string{"name", "type", "description", "required", "default", "values"}

	nameRe      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	paramNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// parse reads one runbook file. It returns what it could make of the file (nil when
// the YAML cannot be read) and every problem found.
func parse(file string, data []byte, s Settings) (*Runbook, Problems) {
	p := &parser{file: file, settings: s}
	root := p.document(data)
	if root == nil {
		return nil, p.probs.sorted()
	}
	return p.runbook(root), p.probs.sorted()
}

func (p *parser) runbook(root *yaml.Node) *Runbook {
	rb := &Runbook{File: p.file}
	if root.Kind != yaml.MappingNode {
		p.addf(root, "a runbook must be a mapping with name, steps and so on, got %s", describe(root))
		return rb
	}
	var nameNode, stepsNode *yaml.Node
	p.each(root, "", func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			nameNode, rb.Name = v, p.str(v, "", "name")
		case "description":
			rb.Description = p.str(v, "", "description")
		case "allowed":
			rb.Allowed = p.stringList(v, "", "allowed")
		case "on":
			rb.Triggers = p.triggers(v)
		case "params":
			rb.Params = p.params(v)
		case "steps":
			stepsNode = v
		default:
			p.unknownKey(k, "", "key", topKeys, "a runbook has "+strings.Join(topKeys, ", "))
		}
	})
	p.checkName(root, nameNode, rb.Name)
	if nameNode != nil {
		rb.nameLine = nameNode.Line
	}
	rb.Steps = p.steps(root, stepsNode, rb)
	return rb
}

func (p *parser) checkName(root, n *yaml.Node, name string) {
	switch {
	case n == nil:
		p.addf(root, "missing name")
	case n.Kind != yaml.ScalarNode:
		// reported as not text
	case name == "":
		p.addf(n, "name is empty")
	case !nameRe.MatchString(name):
		p.addf(n, `name %s must be lowercase letters, digits, "-" and "_", starting with a letter or digit`, quote(name))
	}
}

func (p *parser) triggers(n *yaml.Node) []Trigger {
	var out []Trigger
	for i, item := range p.items(n, "", "on", "a list of triggers", true) {
		out = append(out, p.trigger(fmt.Sprintf("trigger %d: ", i+1), item))
	}
	return out
}

func (p *parser) trigger(prefix string, n *yaml.Node) Trigger {
	var t Trigger
	if n.Kind != yaml.MappingNode {
		p.addf(n, "%smust be a mapping with event (or every) and if, got %s", prefix, describe(n))
		return t
	}
	var eventNode, everyNode *yaml.Node
	p.each(n, prefix, func(k, v *yaml.Node) {
		switch k.Value {
		case "event":
			eventNode, t.Event = v, p.str(v, prefix, "event")
		case "every":
			everyNode = v
			t.Every = p.every(v, prefix)
		case "if":
			p.conditions(v, prefix, &t)
		default:
			p.unknownKey(k, prefix, "key", triggerKeys, "a trigger has event or every, and if")
		}
	})
	switch {
	case everyNode != nil && eventNode != nil:
		p.addf(everyNode, "%shas both event and every: a trigger is one or the other; write two triggers", prefix)
	case everyNode != nil:
		// A periodic trigger needs no event.
	case eventNode == nil || t.Event == "":
		p.addf(n, "%smissing event", prefix)
	case !slices.Contains(runbook.IncidentEvents, t.Event):
		p.unknownValue(eventNode, prefix, "event", t.Event, runbook.IncidentEvents)
	}
	return t
}

// MinEvery is the shortest interval an every: trigger may have. Seconds are allowed,
// so that a runbook can be tried in a test or the demo without waiting minutes; in
// production an interval of minutes (every: 30m) is what a status update wants.
const MinEvery = time.Second

// every reads the interval of a periodic trigger.
func (p *parser) every(n *yaml.Node, prefix string) time.Duration {
	s := p.str(n, prefix, "every")
	if s == "" {
		p.addf(n, "%severy needs an interval such as 30m or 1h", prefix)
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		p.addf(n, "%severy %s is not an interval; write it like 30m, 1h or 90s", prefix, quote(s))
		return 0
	case d < MinEvery:
		p.addf(n, "%severy %s is too short; use at least %s, such as 30m", prefix, quote(s), MinEvery)
		return 0
	}
	return d
}

// unknownValue reports a value that is not one of allowed.
func (p *parser) unknownValue(n *yaml.Node, prefix, noun, value string, allowed []string) {
	if sug := runbook.Suggest(value, allowed); sug != "" {
		p.addf(n, "%sunknown %s %s (did you mean %q?)", prefix, noun, quote(value), sug)
		return
	}
	p.addf(n, "%sunknown %s %s; %ss are %s", prefix, noun, quote(value), noun, strings.Join(allowed, ", "))
}

func (p *parser) conditions(n *yaml.Node, prefix string, t *Trigger) {
	if n.Kind != yaml.MappingNode {
		p.addf(n, "%sif must be a mapping of conditions (%s), got %s", prefix, strings.Join(conditionKeys, ", "), describe(n))
		return
	}
	p.each(n, prefix, func(k, v *yaml.Node) {
		var dst *[]string
		switch k.Value {
		case "fields":
			t.Fields = p.namedConditions(v, prefix, "fields", p.settings.checkFieldCondition)
			return
		case "roles":
			t.Roles = p.namedConditions(v, prefix, "roles", p.settings.checkRoleCondition)
			return
		case "severity":
			dst = &t.Severity
		case "service":
			dst = &t.Service
		case "status":
			dst = &t.Status
		default:
			p.unknownKey(k, prefix, "condition", conditionKeys, "conditions are "+strings.Join(conditionKeys, ", "))
			return
		}
		if *dst = p.stringList(v, prefix, "if."+k.Value); len(*dst) == 0 {
			p.addf(v, "%sif.%s has no values, so it would never match", prefix, k.Value)
		}
		for _, value := range *dst {
			if msg := p.settings.checkCondition(k.Value, value); msg != "" {
				p.addf(v, "%sif.%s: %s", prefix, k.Value, msg)
			}
		}
	})
}

// namedConditions reads if.fields or if.roles: a mapping from a name to the values it
// may have (one value or a list), each name and value checked by check.
func (p *parser) namedConditions(n *yaml.Node, prefix, key string, check func(name, value string) string) map[string][]string {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.addf(n, "%sif.%s must be a mapping of names to values, like { region: [eu, us] }, got %s", prefix, key, describe(n))
		return nil
	}
	out := map[string][]string{}
	p.each(n, prefix, func(k, v *yaml.Node) {
		path := "if." + key + "." + k.Value
		values := p.stringList(v, prefix, path)
		if len(values) == 0 {
			p.addf(v, "%s%s has no values, so it would never match", prefix, path)
		}
		for _, value := range values {
			if msg := check(k.Value, value); msg != "" {
				p.addf(v, "%s%s: %s", prefix, path, msg)
				return
			}
		}
		out[k.Value] = values
	})
	return out
}

func (p *parser) params(n *yaml.Node) []Param {
	var out []Param
	seen := map[string]int{}
	for i, item := range p.items(n, "", "params", "a list of params", false) {
		prm := p.param(i+1, item)
		if first, dup := seen[prm.Name]; dup && prm.Name != "" {
			p.addf(item, "duplicate param %q (first at line %d)", prm.Name, first)
			continue
		}
		seen[prm.Name] = item.Line
		out = append(out, prm)
	}
	return out
}

func (p *parser) param(i int, n *yaml.Node) Param {
	prefix := paramPrefix(i, n)
	prm := Param{Type: TypeString}
	if n.Kind != yaml.MappingNode {
		p.addf(n, "%smust be a mapping with name and type, got %s", prefix, describe(n))
		return prm
	}
	var nameNode, typeNode, defNode, valuesNode *yaml.Node
	p.each(n, prefix, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			nameNode, prm.Name = v, p.str(v, prefix, "name")
		case "type":
			typeNode, prm.Type = v, p.str(v, prefix, "type")
		case "description":
			prm.Description = p.str(v, prefix, "description")
		case "required":
			prm.Required = p.boolean(v, prefix, "required")
		case "default":
			defNode = v
		case "values":
			valuesNode, prm.Values = v, p.stringList(v, prefix, "values")
		default:
			p.unknownKey(k, prefix, "key", paramKeys, "a param has "+strings.Join(paramKeys, ", "))
		}
	})
	p.checkParamName(n, nameNode, prefix, prm.Name)
	if p.checkParamType(n, typeNode, valuesNode, prefix, &prm) {
		prm.Default = p.paramDefault(defNode, prefix, prm)
	}
	return prm
}

// paramPrefix names a param in messages by name if it has one, else by position.
func paramPrefix(i int, n *yaml.Node) string {
	if name := scalarAt(n, "name"); name != "" {
		return fmt.Sprintf("param %s: ", quote(name))
	}
	return fmt.Sprintf("param %d: ", i)
}

func (p *parser) checkParamName(n, nameNode *yaml.Node, prefix, name string) {
	switch {
	case nameNode != nil && nameNode.Kind != yaml.ScalarNode:
		// reported as not text
	case name == "":
		p.addf(n, "%smissing name", prefix)
	case !paramNameRe.MatchString(name):
		p.addf(nameNode, `%sname must start with a lowercase letter and use only a-z, 0-9 and "_"`, prefix)
	}
}

// checkParamType checks the type and enum values, and reports whether the type is
// good enough to check the default against.
func (p *parser) checkParamType(n, typeNode, valuesNode *yaml.Node, prefix string, prm *Param) bool {
	if typeNode != nil && prm.Type == "" {
		prm.Type = TypeString
	}
	if !slices.Contains(ParamTypes, prm.Type) {
		p.unknownValue(typeNode, prefix, "type", prm.Type, ParamTypes)
		return false
	}
	switch {
	case prm.Type == TypeEnum && len(prm.Values) == 0:
		p.addf(n, "%stype enum needs values", prefix)
		return false
	case prm.Type != TypeEnum && valuesNode != nil:
		p.addf(valuesNode, "%svalues are only for type enum", prefix)
	}
	return true
}

func (p *parser) paramDefault(n *yaml.Node, prefix string, prm Param) any {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		p.addf(n, "%sdefault must be a single value, got %s", prefix, describe(n))
		return nil
	}
	v, msg := convertParam(prm, n.Value)
	if msg != "" {
		p.addf(n, "%sdefault %s", prefix, msg)
	}
	return v
}
