package runbooks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
	"go.yaml.in/yaml/v3"
)

// inputs checks a step's with against its action's inputs and stores the values in
// st.With, normalised by input type.
func (p *parser) inputs(st *Step, src stepSource, spec ActionSpec, sc Scope) {
	given := map[string]bool{}
	if !isNull(src.with) {
		p.each(src.with, src.prefix, func(k, v *yaml.Node) {
			in, ok := spec.Input(k.Value)
			if !ok {
				p.unknownKey(k, src.prefix, "input", spec.InputNames(), spec.Name+" takes "+strings.Join(spec.InputNames(), ", "))
				return
			}
			name := in.Name
			if in.AliasOf != "" {
				name = in.AliasOf
			}
			if given[name] {
				p.addf(k, "%s%s and %s are the same input; give one of them", src.prefix, name, aliasOf(spec, name))
				return
			}
			given[name], given[in.Name] = true, true
			if val, ok := p.input(in, v, src.prefix, sc); ok {
				st.With[name] = val
			}
		})
	}
	at := src.with
	if isNull(at) {
		at = src.node
	}
	for _, in := range spec.Inputs {
		if in.Required && !given[in.Name] {
			p.addf(at, "%smissing input %q", src.prefix, in.Name)
		}
	}
	if len(spec.OneOf) > 0 && !slices.ContainsFunc(spec.OneOf, func(name string) bool { return given[name] }) {
		p.addf(at, "%sneeds %s", src.prefix, orList(spec.OneOf))
	}
}

// aliasOf returns the other name of the input called name.
func aliasOf(spec ActionSpec, name string) string {
	for _, in := range spec.Inputs {
		if in.AliasOf == name {
			return in.Name
		}
	}
	return name
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// input checks one input's value by its type and returns it normalised.
func (p *parser) input(in InputSpec, v *yaml.Node, prefix string, sc Scope) (any, bool) {
	path := "with." + in.Name
	if isNull(v) {
		p.addf(v, "%s%s has no value", prefix, path)
		return nil, false
	}
	switch in.Type {
	case InputBool:
		return p.boolInput(v, prefix, path, sc)
	case InputInt:
		return p.intInput(in, v, prefix, path, sc)
	case InputList:
		return p.listInput(in, v, prefix, path, sc)
	case InputBlocks:
		return p.blocksInput(v, prefix, path, sc)
	case InputMap:
		return p.mapInput(in, v, prefix, path, sc)
	case InputJSON:
		return p.jsonInput(v, prefix, path, sc)
	case InputArgv:
		return p.argvInput(v, prefix, path, sc)
	}
	if v.Kind != yaml.ScalarNode {
		p.addf(v, "%s%s must be text, got %s", prefix, path, describe(v))
		return nil, false
	}
	return v.Value, p.stringInput(in, v, v.Value, prefix, path, sc)
}

// stringInput checks text: a template's variables, else the input's literal rules.
func (p *parser) stringInput(in InputSpec, n *yaml.Node, s, prefix, path string, sc Scope) bool {
	if in.StepOf != "" {
		return p.stepRef(in, n, s, prefix, path, sc)
	}
	if in.reach != nil {
		if msg := in.reach(p.settings, s); msg != "" {
			p.addf(n, "%s%s %s", prefix, path, msg)
			return false
		}
	}
	if p.template(n, prefix+path+": ", s, sc) {
		return true
	}
	msg := literalProblem(in, s)
	if msg != "" {
		p.addf(n, "%s%s %s", prefix, path, msg)
	}
	return msg == ""
}

// literalProblem says what is wrong with a literal value of an input, or "".
func literalProblem(in InputSpec, s string) string {
	switch {
	case len(in.Values) > 0 && !slices.Contains(in.Values, s):
		msg := fmt.Sprintf("must be one of %s, got %s", strings.Join(in.Values, ", "), quote(s))
		if sug := runbook.Suggest(s, in.Values); sug != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		return msg
	case in.Type == InputDuration:
		return checkDuration(s)
	case in.check != nil:
		return in.check(s)
	}
	return ""
}

// stepRef checks an input naming an earlier step of the action in.StepOf.
func (p *parser) stepRef(in InputSpec, n *yaml.Node, id, prefix, path string, sc Scope) bool {
	action, ok := sc.Steps[id]
	var msg string
	switch {
	case ok && action == in.StepOf:
		return true
	case ok:
		msg = fmt.Sprintf("step %q runs %s, not %s", id, action, in.StepOf)
	case id != "" && id == sc.Self:
		msg = "a step cannot refer to itself"
	case slices.Contains(sc.Later, id):
		msg = fmt.Sprintf("step %q comes later", id)
	default:
		msg = fmt.Sprintf("must be the id of an earlier %s step, got %s", in.StepOf, quote(id))
		if sug := runbook.Suggest(id, sortedKeys(sc.Steps)); sug != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
	}
	p.addf(n, "%s%s: %s", prefix, path, msg)
	return false
}

func (p *parser) boolInput(v *yaml.Node, prefix, path string, sc Scope) (any, bool) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		return strings.EqualFold(v.Value, "true"), true
	}
	if v.Kind == yaml.ScalarNode && p.template(v, prefix+path+": ", v.Value, sc) {
		return v.Value, true
	}
	p.addf(v, "%s%s must be true or false, got %s", prefix, path, describe(v))
	return nil, false
}

func (p *parser) intInput(in InputSpec, v *yaml.Node, prefix, path string, sc Scope) (any, bool) {
	var n int
	switch {
	case v.Kind != yaml.ScalarNode:
	case v.ShortTag() == "!!int" && v.Decode(&n) == nil:
		if msg := literalProblem(in, strconv.Itoa(n)); msg != "" {
			p.addf(v, "%s%s %s", prefix, path, msg)
			return nil, false
		}
		return n, true
	case p.template(v, prefix+path+": ", v.Value, sc):
		return v.Value, true
	}
	p.addf(v, "%s%s must be a whole number, got %s", prefix, path, describe(v))
	return nil, false
}

// listInput accepts a list of text, or one text as a one-item list.
func (p *parser) listInput(in InputSpec, v *yaml.Node, prefix, path string, sc Scope) (any, bool) {
	items := []*yaml.Node{v}
	switch v.Kind {
	case yaml.SequenceNode:
		items = v.Content
	case yaml.MappingNode:
		p.addf(v, "%s%s must be a list, got a mapping", prefix, path)
		return nil, false
	}
	if in.Required && len(items) == 0 {
		p.addf(v, "%s%s is empty", prefix, path)
		return nil, false
	}
	out, ok := make([]any, 0, len(items)), true
	for i, item := range items {
		itemPath := path
		if v.Kind == yaml.SequenceNode {
			itemPath = fmt.Sprintf("%s[%d]", path, i)
		}
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p.addf(item, "%s%s must be text, got %s", prefix, itemPath, describe(item))
			ok = false
			continue
		}
		ok = p.stringInput(in, item, item.Value, prefix, itemPath, sc) && ok
		out = append(out, item.Value)
	}
	return out, ok
}

// blocksInput accepts a list of Block Kit objects, or a JSON string (or template) of
// them.
func (p *parser) blocksInput(v *yaml.Node, prefix, path string, sc Scope) (any, bool) {
	switch v.Kind {
	case yaml.ScalarNode:
		return v.Value, p.jsonBlocks(v, prefix, path, sc)
	case yaml.MappingNode:
		p.addf(v, "%s%s must be a list of blocks, got a mapping", prefix, path)
		return nil, false
	}
	if len(v.Content) > slackui.MaxBlocks {
		p.addf(v, "%s%s has %d blocks; Slack allows at most %d", prefix, path, len(v.Content), slackui.MaxBlocks)
	}
	ok := true
	for i, b := range v.Content {
		if b.Kind != yaml.MappingNode || scalarAt(b, "type") == "" {
			p.addf(b, "%s%s[%d] must be a Block Kit block (a mapping with a type), got %s", prefix, path, i, describe(b))
			ok = false
		}
	}
	return p.value(v, prefix, path, sc), ok
}

// jsonBlocks checks blocks given as text: a template, or a JSON array of blocks (or
// an object with a "blocks" array, as Block Kit Builder exports).
func (p *parser) jsonBlocks(v *yaml.Node, prefix, path string, sc Scope) bool {
	if p.template(v, prefix+path+": ", v.Value, sc) {
		return true
	}
	var blocks []map[string]any
	err := json.Unmarshal([]byte(v.Value), &blocks)
	if err != nil {
		var wrapped struct{ Blocks []map[string]any }
		if json.Unmarshal([]byte(v.Value), &wrapped) == nil && wrapped.Blocks != nil {
			blocks, err = wrapped.Blocks, nil
		}
	}
	if err != nil {
		p.addf(v, "%s%s must be a list of blocks or a JSON array of them: %v", prefix, path, err)
		return false
	}
	if len(blocks) > slackui.MaxBlocks {
		p.addf(v, "%s%s has %d blocks; Slack allows at most %d", prefix, path, len(blocks), slackui.MaxBlocks)
		return false
	}
	return true
}

// mapInput accepts a mapping of names to text (headers, environment variables).
func (p *parser) mapInput(in InputSpec, v *yaml.Node, prefix, path string, sc Scope) (any, bool) {
	if v.Kind != yaml.MappingNode {
		p.addf(v, "%s%s must be a mapping of names to text, got %s", prefix, path, describe(v))
		return nil, false
	}
	if in.entry != nil && len(v.Content) == 0 {
		p.addf(v, "%s%s is empty; name what to set, or leave it out", prefix, path)
		return nil, false
	}
	out, ok := map[string]any{}, true
	p.each(v, prefix+path+": ", func(k, item *yaml.Node) {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p.addf(item, "%s%s.%s must be text, got %s", prefix, path, k.Value, describe(item))
			ok = false
			return
		}
		if in.entry != nil {
			if msg := in.entry(p.settings, k.Value, item.Value); msg != "" {
				p.addf(k, "%s%s.%s: %s", prefix, path, k.Value, msg)
				ok = false
				return
			}
		}
		p.template(item, prefix+path+"."+k.Value+": ", item.Value, sc)
		out[k.Value] = item.Value
	})
	return out, ok
}

// jsonInput accepts a mapping or list to send as JSON; its strings are templates.
func (p *parser) jsonInput(v *yaml.Node, prefix, path string, sc Scope) (any, bool) {
	if v.Kind != yaml.MappingNode && v.Kind != yaml.SequenceNode {
		p.addf(v, "%s%s must be a mapping or a list (sent as JSON), got %s; use body for raw text", prefix, path, describe(v))
		return nil, false
	}
	return p.value(v, prefix, path, sc), true
}

// argvInput accepts a list of arguments; each item is one argument once rendered,
// however many spaces it holds. The first is the program, which must be allowed.
func (p *parser) argvInput(v *yaml.Node, prefix, path string, sc Scope) (any, bool) {
	if v.Kind != yaml.SequenceNode {
		p.addf(v, `%s%s must be a list, the program first: ["kubectl", "rollout", "status", …]; there is no shell`, prefix, path)
		return nil, false
	}
	if len(v.Content) == 0 {
		p.addf(v, "%s%s is empty", prefix, path)
		return nil, false
	}
	out, ok := make([]any, 0, len(v.Content)), true
	for i, item := range v.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p.addf(item, "%s%s[%d] must be text, got %s", prefix, path, i, describe(item))
			ok = false
			continue
		}
		isTemplate := p.template(item, fmt.Sprintf("%s%s[%d]: ", prefix, path, i), item.Value, sc)
		if i == 0 && !isTemplate {
			if msg := checkProgram(item.Value, p.settings.AllowedPrograms); msg != "" {
				p.addf(item, "%s%s[0]: %s", prefix, path, msg)
				ok = false
			}
		}
		out = append(out, item.Value)
	}
	return out, ok
}
