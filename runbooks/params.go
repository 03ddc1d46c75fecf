package runbooks

import (
	"math"
	"strconv"
	"strings"

	"github.com/runbookhq/runbook"
)

// BindParams checks the key=value params given in chat against the runbook's params
// and returns them typed (string, int, float64 or bool), with defaults filled in. An
// optional param with no value and no default is bound to "", so templates can test
// it with {{^params.name}}…{{/params.name}}.
//
// The error is runbook.EINVALID with a one-line message for the person who typed the
// command, naming the param: an unknown key (with a did-you-mean), a missing required
// param, a value of the wrong type or not among an enum's values.
func (r *Runbook) BindParams(given map[string]string) (map[string]any, error) {
	if err := r.checkKeys(given); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(r.Params))
	for _, p := range r.Params {
		s, ok := given[p.Name]
		switch {
		case ok:
			v, msg := convertParam(p, s)
			if msg != "" {
				return nil, runbook.Errorf(runbook.EINVALID, "%s %s", p.Name, msg)
			}
			out[p.Name] = v
		case p.Default != nil:
			out[p.Name] = p.Default
		case p.Required:
			return nil, runbook.Errorf(runbook.EINVALID, "%s is required: add %s=<%s>", p.Name, p.Name, p.expected())
		default:
			out[p.Name] = ""
		}
	}
	return out, nil
}

// checkKeys reports the first given key (in sorted order) that is not a param.
func (r *Runbook) checkKeys(given map[string]string) error {
	names := make([]string, len(r.Params))
	for i, p := range r.Params {
		names[i] = p.Name
	}
	for _, key := range sortedKeys(given) {
		if _, ok := r.Param(key); ok {
			continue
		}
		switch sug := runbook.Suggest(key, names); {
		case sug != "":
			return runbook.Errorf(runbook.EINVALID, "%s has no param %q (did you mean %q?)", r.Name, key, sug)
		case len(names) == 0:
			return runbook.Errorf(runbook.EINVALID, "%s takes no params, got %q", r.Name, key)
		default:
			return runbook.Errorf(runbook.EINVALID, "%s has no param %q; its params are %s", r.Name, key, strings.Join(names, ", "))
		}
	}
	return nil
}

// expected describes the values a param takes, for messages.
func (p Param) expected() string {
	switch p.Type {
	case TypeInteger:
		return "a whole number"
	case TypeNumber:
		return "a number"
	case TypeBoolean:
		return "true or false"
	case TypeEnum:
		return strings.Join(p.Values, "|")
	}
	return "text"
}

// convertParam converts the text of a param value to the param's type. On failure it
// returns what is wrong, to follow the param's name: `must be a whole number, got "ten"`.
func convertParam(p Param, s string) (any, string) {
	t := strings.TrimSpace(s)
	switch p.Type {
	case TypeInteger:
		if n, err := strconv.Atoi(t); err == nil {
			return n, ""
		}
		return nil, "must be a whole number, got " + quote(s)
	case TypeNumber:
		if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, ""
		}
		return nil, "must be a number, got " + quote(s)
	case TypeBoolean:
		return convertBool(s)
	case TypeEnum:
		for _, v := range p.Values {
			if strings.EqualFold(v, t) {
				return v, ""
			}
		}
		return nil, "must be one of " + strings.Join(p.Values, ", ") + ", got " + quote(s)
	}
	return s, ""
}

func convertBool(s string) (any, string) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, ""
	case "false", "no", "off", "0":
		return false, ""
	}
	return nil, "must be true or false, got " + quote(s)
}
