package runbooks

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	stepKeys     = []string{"id", "action", "with", "when", "on_error", "rollback", "idempotent"}
	rollbackKeys = []string{"action", "with", "when", "idempotent"}
	stepIDRe     = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// stepSource keeps the nodes of a step that are checked once every step is known.
type stepSource struct {
	node, id, with, when, rollback, idempotent *yaml.Node
	prefix                                     string // "step 3 (slack.send_message): "
}

// steps reads the steps, then checks their ids, inputs and templates; a step's scope
// depends on the steps around it.
func (p *parser) steps(root, n *yaml.Node, rb *Runbook) []Step {
	items := p.items(n, "", "steps", "a list of steps", false)
	if len(items) == 0 {
		if n == nil {
			n = root
		}
		p.addf(n, "no steps; a runbook needs at least one")
		return nil
	}
	steps := make([]Step, len(items))
	srcs := make([]stepSource, len(items))
	for i, item := range items {
		steps[i], srcs[i] = p.step(i+1, item)
	}
	p.checkIDs(steps, srcs)
	rb.Steps = steps
	for i := range steps {
		p.stepBody(&steps[i], srcs[i], rb.ScopeAt(i))
		if srcs[i].rollback != nil {
			steps[i].Rollback = p.rollback(srcs[i], rb.rollbackScope(i))
		}
	}
	return steps
}

// stepPrefix names a step in messages by id if it has one, else by position.
func stepPrefix(i int, n *yaml.Node) string {
	label := fmt.Sprintf("step %d", i)
	if id := scalarAt(n, "id"); id != "" {
		label = fmt.Sprintf("step %s", quote(id))
	}
	if action := scalarAt(n, "action"); action != "" {
		label += fmt.Sprintf(" (%s)", action)
	}
	return label + ": "
}

func (p *parser) step(i int, n *yaml.Node) (Step, stepSource) {
	st := Step{OnError: OnErrorFail, With: map[string]any{}, Line: n.Line}
	src := stepSource{node: n, prefix: stepPrefix(i, n)}
	if n.Kind != yaml.MappingNode {
		p.addf(n, "%smust be a mapping with action and with, got %s", src.prefix, describe(n))
		return st, src
	}
	var actionNode *yaml.Node
	p.each(n, src.prefix, func(k, v *yaml.Node) {
		switch k.Value {
		case "id":
			src.id, st.ID = v, p.str(v, src.prefix, "id")
		case "action":
			actionNode, st.Action = v, p.str(v, src.prefix, "action")
		case "with":
			src.with = v
		case "when":
			src.when, st.When = v, p.str(v, src.prefix, "when")
		case "on_error":
			st.OnError = p.onError(v, src.prefix)
		case "rollback":
			src.rollback = v
		case "idempotent":
			src.idempotent, st.Idempotent = v, p.flag(v, src.prefix, "idempotent")
		default:
			p.unknownKey(k, src.prefix, "key", stepKeys, "a step has "+strings.Join(stepKeys, ", "))
		}
	})
	p.checkAction(n, actionNode, src.prefix, st.Action)
	return st, src
}

func (p *parser) onError(v *yaml.Node, prefix string) string {
	switch s := p.str(v, prefix, "on_error"); s {
	case OnErrorFail, OnErrorContinue:
		return s
	case "":
		return OnErrorFail
	default:
		p.addf(v, "%son_error must be fail or continue, got %s", prefix, quote(s))
		return OnErrorFail
	}
}

func (p *parser) checkAction(n, actionNode *yaml.Node, prefix, action string) {
	if action == "" {
		p.addf(n, "%smissing action", prefix)
		return
	}
	if _, ok := Actions[action]; !ok {
		p.unknownValue(actionNode, prefix, "action", action, ActionNames())
	}
}

// checkIDs reports ids that are malformed or used twice.
func (p *parser) checkIDs(steps []Step, srcs []stepSource) {
	seen := map[string]int{}
	for i, st := range steps {
		if srcs[i].id == nil || st.ID == "" {
			continue
		}
		if !stepIDRe.MatchString(st.ID) {
			p.addf(srcs[i].id, `%sid must be lowercase letters, digits and "_"`, srcs[i].prefix)
		}
		if first, dup := seen[st.ID]; dup {
			p.addf(srcs[i].id, "%sduplicate step id %q (first at line %d)", srcs[i].prefix, st.ID, first)
			continue
		}
		seen[st.ID] = srcs[i].id.Line
	}
}

// flag reads a true/false key.
func (p *parser) flag(v *yaml.Node, prefix, key string) bool {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
		p.addf(v, "%s%s must be true or false, got %s", prefix, key, describe(v))
		return false
	}
	return strings.EqualFold(v.Value, "true")
}

// checkIdempotent reports idempotent on a step it means nothing for.
func (p *parser) checkIdempotent(st Step, src stepSource) {
	if src.idempotent != nil && st.Action != "command.run" {
		p.addf(src.idempotent, "%sidempotent applies to command.run only: other actions are safe to resume after a crash already", src.prefix)
	}
}

// rollback reads a step's rollback: one step, run in the scope of the step it undoes
// (whose outputs it may use).
func (p *parser) rollback(parent stepSource, sc Scope) *Step {
	n := parent.rollback
	prefix := strings.TrimSuffix(parent.prefix, ": ") + " rollback: "
	st := Step{OnError: OnErrorContinue, With: map[string]any{}, Line: n.Line}
	src := stepSource{node: n, prefix: prefix}
	if n.Kind != yaml.MappingNode {
		p.addf(n, "%smust be one step, a mapping with action and with, got %s", prefix, describe(n))
		return nil
	}
	var actionNode *yaml.Node
	p.each(n, prefix, func(k, v *yaml.Node) {
		switch k.Value {
		case "action":
			actionNode, st.Action = v, p.str(v, prefix, "action")
		case "with":
			src.with = v
		case "when":
			src.when, st.When = v, p.str(v, prefix, "when")
		case "idempotent":
			src.idempotent, st.Idempotent = v, p.flag(v, prefix, "idempotent")
		default:
			p.unknownKey(k, prefix, "key", rollbackKeys, "a rollback has "+strings.Join(rollbackKeys, ", "))
		}
	})
	p.checkAction(n, actionNode, prefix, st.Action)
	if st.Action == "approval.request" {
		p.addf(actionNode, "%sa rollback cannot ask for approval: the Roll back button asks, and a failed run rolls back at once", prefix)
	}
	p.stepBody(&st, src, sc)
	return &st
}

// stepBody checks a step's when and inputs against its action and scope.
func (p *parser) stepBody(st *Step, src stepSource, sc Scope) {
	p.checkIdempotent(*st, src)
	sc.Secrets = p.settings.Secrets
	sc.Roles = p.settings.Roles
	sc.Fields = p.settings.Fields
	if src.when != nil {
		p.template(src.when, src.prefix+"when: ", st.When, sc)
	}
	sc.Machine = Actions[st.Action].Machine
	if !isNull(src.with) && src.with.Kind != yaml.MappingNode {
		p.addf(src.with, "%swith must be a mapping of inputs, got %s", src.prefix, describe(src.with))
		return
	}
	spec, ok := Actions[st.Action]
	if !ok {
		if !isNull(src.with) {
			st.With, _ = p.value(src.with, src.prefix, "with", sc).(map[string]any)
		}
		return
	}
	p.inputs(st, src, spec, sc)
}

// template checks a template string at node n and reports whether text is a template.
func (p *parser) template(n *yaml.Node, prefix, text string, sc Scope) bool {
	if !strings.Contains(text, "{{") {
		return false
	}
	for _, msg := range sc.checkTemplate(text) {
		p.addf(n, "%s%s", prefix, msg)
	}
	return true
}

// value converts a node to map[string]any, []any or a scalar, checking every string
// in it as a template. path names the node in messages ("with.blocks[0]").
func (p *parser) value(n *yaml.Node, prefix, path string, sc Scope) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		p.each(n, prefix+path+": ", func(k, v *yaml.Node) {
			m[k.Value] = p.value(v, prefix, path+"."+k.Value, sc)
		})
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, item := range n.Content {
			l[i] = p.value(item, prefix, fmt.Sprintf("%s[%d]", path, i), sc)
		}
		return l
	}
	v := scalarValue(n)
	if s, ok := v.(string); ok {
		p.template(n, prefix+path+": ", s, sc)
	}
	return v
}
