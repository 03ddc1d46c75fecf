package config

import (
	"slices"
	"strconv"
	"strings"
)

// expander replaces ${NAME} references in string values with environment
// values. Only the braced form with NAME matching [A-Za-z_][A-Za-z0-9_]* is a
// reference; "$$" and any other "$" are copied unchanged (so "$${X}" stays
// "$${X}"). An unset NAME expands to "" and is recorded in unset, for the loader to
// report or note; a set but empty one expands to "".
type expander struct {
	lookup func(string) (string, bool)
	unset  []unsetRef
}

// unsetRef is a ${NAME} reference to a variable that is not set, and the key it is in.
type unsetRef struct {
	key  []string // the key path; a list item's index is on the last segment ("approvers[0]")
	name string
}

// value returns a copy of v with every string expanded. path is the key path
// for error messages.
func (e *expander) value(v any, path []string) any {
	switch x := v.(type) {
	case string:
		return e.str(x, path)
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			out[k] = e.value(x[k], append(slices.Clone(path), k))
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			p := slices.Clone(path)
			if len(p) > 0 {
				p[len(p)-1] += "[" + strconv.Itoa(i) + "]"
			}
			out[i] = e.value(item, p)
		}
		return out
	}
	return v
}

func (e *expander) str(s string, path []string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteString("$$")
			i += 2
			continue
		}
		name, n := refAt(s[i:])
		if n == 0 {
			b.WriteByte('$')
			i++
			continue
		}
		val, ok := e.lookup(name)
		if !ok {
			e.unset = append(e.unset, unsetRef{key: slices.Clone(path), name: name})
		}
		b.WriteString(val)
		i += n
	}
	return b.String()
}

// refAt reports whether s starts with ${NAME}, returning NAME and the length
// of the reference.
func refAt(s string) (string, int) {
	if len(s) < 4 || s[0] != '$' || s[1] != '{' {
		return "", 0
	}
	for j := 2; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '}':
			if j == 2 {
				return "", 0
			}
			return s[2:j], j + 1
		case c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && j > 2:
		default:
			return "", 0
		}
	}
	return "", 0
}
