package runbooks

import (
	"fmt"
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
// The error is runbook.EINVALID with one message for the person who typed the command
// that names every problem at once, so that one correction is enough: unknown keys
// (with a did-you-mean), the required params missing, values of the wrong type or not
// among an enum's values.
func (r *Runbook) BindParams(given map[string]string) (map[string]any, error) {
	var problems []string
	if p := r.unknownKeys(given); p != "" {
		problems = append(problems, p)
	}
	out := make(map[string]any, len(r.Params))
	var missing []Param
	for _, p := range r.Params {
		s, ok := given[p.Name]
		switch {
		case ok:
			v, msg := convertParam(p, s)
			if msg != "" {
				problems = append(problems, p.Name+" "+msg)
			}
			out[p.Name] = v
		case p.Default != nil:
			out[p.Name] = p.Default
		case p.Required:
			missing = append(missing, p)
		default:
			out[p.Name] = ""
		}
	}
	if len(missing) > 0 {
		problems = append(problems, missingParams(missing))
	}
	if len(problems) > 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "%s", strings.Join(problems, "; "))
	}
	return out, nil
}

// missingParams says which required params are missing and how to give them:
// "service and count are required: add service=<text> count=<a whole number>".
func missingParams(missing []Param) string {
	names := make([]string, len(missing))
	adds := make([]string, len(missing))
	for i, p := range missing {
		names[i] = p.Name
		adds[i] = fmt.Sprintf("%s=<%s>", p.Name, p.expected())
	}
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	return fmt.Sprintf("%s %s required: add %s", andList(names), verb, strings.Join(adds, " "))
}

// unknownKeys names the given keys (in sorted order) that are not params, each with a
// did-you-mean when one is close, or "" when every key is a param.
func (r *Runbook) unknownKeys(given map[string]string) string {
	names := make([]string, len(r.Params))
	for i, p := range r.Params {
		names[i] = p.Name
	}
	var unknown []string
	listParams := false
	for _, key := range sortedKeys(given) {
		if _, ok := r.Param(key); ok {
			continue
		}
		if sug := runbook.Suggest(key, names); sug != "" {
			unknown = append(unknown, fmt.Sprintf("%q (did you mean %q?)", key, sug))
			continue
		}
		unknown = append(unknown, fmt.Sprintf("%q", key))
		listParams = true
	}
	switch {
	case len(unknown) == 0:
		return ""
	case len(names) == 0:
		return fmt.Sprintf("%s takes no params, got %s", r.Name, andList(unknown))
	}
	msg := fmt.Sprintf("%s has no param %s", r.Name, andList(unknown))
	if listParams {
		msg += "; its params are " + strings.Join(names, ", ")
	}
	return msg
}

// andList joins words as a sentence does: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
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
