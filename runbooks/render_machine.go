package runbooks

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The inputs of actions that send to machines (ActionSpec.Machine) are rendered for
// the machine, never as Slack text: a value can add neither mrkdwn escapes to a
// command's argument nor structure to a JSON body or a URL.

// RenderRaw fills in a template with values as they are, unescaped.
func RenderRaw(tmpl string, data map[string]any) (string, error) {
	return renderRaw(tmpl, normalize(data))
}

func renderRaw(tmpl string, data map[string]any) (string, error) {
	return renderEscaped(tmpl, data, func(s string) string { return s })
}

// RenderURL fills in a URL template: a {{x}} value is percent-encoded, so that it
// stays one path segment or query value (a "/", "?", "&" or "#" in it cannot reach
// another path or add a parameter); a {{{x}}} value is put in as it is, for a
// template that takes a whole URL or path from a parameter.
func RenderURL(tmpl string, data map[string]any) (string, error) {
	return renderEscaped(tmpl, normalize(data), func(s string) string {
		return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	})
}

// oneTag matches a template that is exactly one variable tag.
var oneTag = regexp.MustCompile(`^\{\{(?:\{\s*([^{}\s]+)\s*\}|&?\s*([^{}\s#^/!>=]+)\s*)\}\}$`)

// RenderBody renders a json input — a mapping or list whose strings are templates —
// into the value to send as JSON. Each string is rendered unescaped and stays a JSON
// string, whatever it holds; a string that is exactly one tag of a param typed
// integer, number or boolean ("{{params.count}}") becomes that param's value, a JSON
// number or boolean, and so does one tag of an earlier step's output that is a number
// or boolean ("{{steps.scale.json.previous_count}}", "{{steps.check.status}}").
func (r *Runbook) RenderBody(v any, data map[string]any) (any, error) {
	return renderValue(v, normalize(data), "", func(tmpl string, data map[string]any) (any, error) {
		if value, ok := r.typedParam(tmpl, data); ok {
			return value, nil
		}
		return renderRaw(tmpl, data)
	})
}

// typedParam returns the value of a string that is exactly one tag of a param typed
// integer, number or boolean.
func (r *Runbook) typedParam(s string, data map[string]any) (any, bool) {
	m := oneTag.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	tag := m[1] + m[2]
	if strings.HasPrefix(tag, "steps.") {
		return stepScalar(tag, data)
	}
	name, ok := strings.CutPrefix(tag, "params.")
	if !ok {
		return nil, false
	}
	i := slices.IndexFunc(r.Params, func(p Param) bool { return p.Name == name })
	if i < 0 || !slices.Contains([]string{TypeInteger, TypeNumber, TypeBoolean}, r.Params[i].Type) {
		return nil, false
	}
	params, _ := data["params"].(map[string]any)
	value, ok := params[name]
	return value, ok && value != nil
}

// RenderMachineValue renders a mapping, list or text input of a machine action
// (headers, env, argv, body, stdin) unescaped. An error names the path of the value.
func RenderMachineValue(v any, data map[string]any) (any, error) {
	return renderValue(v, normalize(data), "", asValue(renderRaw))
}

// stepScalar returns the value of an earlier step's output named by tag when it is a
// number or boolean.
func stepScalar(tag string, data map[string]any) (any, bool) {
	v, ok := lookupData([]any{data}, tag)
	if !ok {
		return nil, false
	}
	switch v.(type) {
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v, true
	}
	return nil, false
}
