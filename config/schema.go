package config

import (
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// The schema is derived from the Config struct's koanf tags, so the key list
// used for defaults, unknown-key checks, environment overrides, suggestions
// and redacted output cannot drift from the struct.

type nodeKind int

const (
	kindSection nodeKind = iota // a struct: fixed keys
	kindMap                     // a map: user-chosen keys, all of elem's shape
	kindLeaf                    // a value
	kindList                    // a list of sections (incidents.fields), each of elem's shape
)

type node struct {
	name   string // camelCase key; "" for the root
	path   string // full dotted path; map elements use "<name>"
	index  int    // the struct field's index in its section's struct, which may have unexported fields
	kind   nodeKind
	typ    reflect.Type
	fields []*node // kindSection, in declaration order
	elem   *node   // kindMap, kindList
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

var rootSchema = sync.OnceValue(func() *node {
	return buildNode("", "", reflect.TypeFor[Config]())
})

func buildNode(name, path string, t reflect.Type) *node {
	n := &node{name: name, path: path, typ: t}
	switch t.Kind() {
	case reflect.Struct:
		n.kind = kindSection
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			key := f.Tag.Get("koanf")
			if key == "" || key == "-" {
				panic("config: field " + t.Name() + "." + f.Name + " has no koanf tag")
			}
			field := buildNode(key, joinPath(path, key), f.Type)
			field.index = i
			n.fields = append(n.fields, field)
		}
	case reflect.Map:
		n.kind = kindMap
		n.elem = buildNode("", joinPath(path, "<name>"), t.Elem())
	case reflect.Slice:
		n.kind = kindLeaf
		if t.Elem().Kind() == reflect.Struct {
			n.kind = kindList
			n.elem = buildNode("", path+"[]", t.Elem())
		}
	default:
		n.kind = kindLeaf
	}
	return n
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// field returns the section's field with exactly this key.
func (n *node) field(key string) *node {
	for _, f := range n.fields {
		if f.name == key {
			return f
		}
	}
	return nil
}

// fieldFold matches an environment-variable segment: case-insensitive, with
// underscores ignored (BOT_TOKEN and BOTTOKEN both match botToken).
func (n *node) fieldFold(seg string) *node {
	seg = strings.ReplaceAll(seg, "_", "")
	for _, f := range n.fields {
		if strings.EqualFold(f.name, seg) {
			return f
		}
	}
	return nil
}

// describe says what a leaf's value must look like, for type errors.
func (n *node) describe() string {
	switch {
	case n.kind == kindSection || n.kind == kindMap:
		return "a mapping of keys"
	case n.kind == kindList:
		return "a list of mappings"
	case n.typ == durationType:
		return "a duration such as 45s, 30m or 1h"
	}
	switch n.typ.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of strings"
	}
	return "a " + n.typ.String()
}

// lookupPath resolves a path as mapstructure names it: dotted struct fields,
// map keys and slice indexes in brackets (approvals.required[high],
// approvals.approvers[2]). It returns the node and the path in the form this
// package prints (map keys dotted, indexes in brackets).
func lookupPath(name string) (*node, string) {
	n := rootSchema()
	var out strings.Builder
	for name != "" {
		var seg string
		bracket := false
		switch {
		case name[0] == '[':
			end := strings.IndexByte(name, ']')
			if end < 0 {
				return nil, ""
			}
			seg, name, bracket = name[1:end], name[end+1:], true
		case name[0] == '.':
			name = name[1:]
			continue
		default:
			end := strings.IndexAny(name, ".[")
			if end < 0 {
				end = len(name)
			}
			seg, name = name[:end], name[end:]
		}
		switch {
		case n.kind == kindSection && !bracket:
			f := n.field(seg)
			if f == nil {
				return nil, ""
			}
			n = f
			writeSeg(&out, seg)
		case n.kind == kindMap:
			n = n.elem
			writeSeg(&out, seg)
		case n.kind == kindList && bracket:
			if _, err := strconv.Atoi(seg); err != nil {
				return nil, ""
			}
			out.WriteString("[" + seg + "]")
			n = n.elem
		case n.kind == kindLeaf && bracket && n.typ.Kind() == reflect.Slice:
			if _, err := strconv.Atoi(seg); err != nil {
				return nil, ""
			}
			out.WriteString("[" + seg + "]")
			n = &node{name: seg, kind: kindLeaf, typ: n.typ.Elem()}
		default:
			return nil, ""
		}
	}
	return n, out.String()
}

func writeSeg(b *strings.Builder, seg string) {
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(seg)
}

// displayKey makes a key safe to print on one terminal line: keys with
// spaces, control characters or an empty key are quoted.
func displayKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' {
			return strconv.Quote(k)
		}
	}
	return k
}

// displayPath prints a path built from raw segments.
func displayPath(segs []string) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = displayKey(s)
	}
	return strings.Join(out, ".")
}

// ---- values <-> maps ----

// toMap turns a section value into the nested map koanf works with (and that
// Redacted returns): durations as strings ("30m0s"), lists as []any, maps as
// map[string]any. With redact, secrets print as "[redacted]".
func toMap(v reflect.Value, n *node, redact bool) map[string]any {
	out := make(map[string]any, len(n.fields))
	for _, f := range n.fields {
		out[f.name] = toValue(v.Field(f.index), f, redact)
	}
	return out
}

func toValue(v reflect.Value, n *node, redact bool) any {
	switch n.kind {
	case kindSection:
		return toMap(v, n, redact)
	case kindMap:
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out[iter.Key().String()] = toValue(iter.Value(), n.elem, redact)
		}
		return out
	case kindList:
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = toValue(v.Index(i), n.elem, redact)
		}
		return out
	}
	switch {
	case n.typ == secretType:
		if redact {
			return Secret(v.String()).String()
		}
		return v.String()
	case n.typ == durationType:
		return time.Duration(v.Int()).String()
	case n.typ.Kind() == reflect.Slice:
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = v.Index(i).Interface()
		}
		return out
	}
	return v.Interface()
}

// toAttrs is toMap for log/slog, keeping declaration order.
func toAttrs(v reflect.Value, n *node) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(n.fields))
	for _, f := range n.fields {
		attrs = append(attrs, toAttr(f.name, v.Field(f.index), f))
	}
	return attrs
}

func toAttr(key string, v reflect.Value, n *node) slog.Attr {
	switch n.kind {
	case kindSection:
		return slog.Attr{Key: key, Value: slog.GroupValue(toAttrs(v, n)...)}
	case kindMap:
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		attrs := make([]slog.Attr, 0, len(keys))
		for _, k := range keys {
			attrs = append(attrs, toAttr(k, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), n.elem))
		}
		// An empty group would vanish from the output; say it is empty.
		if len(attrs) == 0 {
			return slog.String(key, "{}")
		}
		return slog.Attr{Key: key, Value: slog.GroupValue(attrs...)}
	case kindList:
		attrs := make([]slog.Attr, 0, v.Len())
		for i := range v.Len() {
			attrs = append(attrs, toAttr(strconv.Itoa(i), v.Index(i), n.elem))
		}
		if len(attrs) == 0 {
			return slog.String(key, "[]")
		}
		return slog.Attr{Key: key, Value: slog.GroupValue(attrs...)}
	}
	switch {
	case n.typ == secretType:
		return slog.String(key, Secret(v.String()).String())
	case n.typ == durationType:
		return slog.String(key, time.Duration(v.Int()).String())
	case n.typ.Kind() == reflect.Slice:
		return slog.Any(key, slices.Clone(v.Interface().([]string)))
	}
	return slog.Any(key, v.Interface())
}

// ---- suggestions ----

// suggest returns a known key close to the unknown key seg under parent, as a
// full path, or "".
func suggest(parent *node, parentPath []string, seg string) string {
	if parent.kind == kindSection {
		if best := closest(seg, parent.fields); best != nil {
			return displayPath(append(slices.Clone(parentPath), best.name))
		}
	}
	// The key may be in the wrong section (workers at the top level):
	// look for a near-identical key anywhere.
	var all []*node
	var walk func(*node)
	walk = func(n *node) {
		for _, f := range n.fields {
			all = append(all, f)
			walk(f)
		}
	}
	walk(rootSchema())
	best, d := (*node)(nil), 2
	for _, f := range all {
		if fd := distance(strings.ToLower(seg), strings.ToLower(f.name)); fd < d {
			best, d = f, fd
		}
	}
	if best != nil {
		return best.path
	}
	return ""
}

// closest returns the field nearest to seg if it is near enough to be a typo.
func closest(seg string, fields []*node) *node {
	s := strings.ToLower(seg)
	limit := max(2, len([]rune(s))/3)
	var best *node
	bestD := limit + 1
	for _, f := range fields {
		d := distance(s, strings.ToLower(f.name))
		if d < bestD && d < len([]rune(s)) {
			best, bestD = f, d
		}
	}
	return best
}

// distance is the optimal-string-alignment edit distance: insertions,
// deletions, substitutions and transpositions of neighbours each cost 1.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return max(len(ra), len(rb))
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// ---- unknown keys ----

// checkKeys reports every key in raw that the schema does not know, with its
// full dotted path and a suggestion when one is close.
func checkKeys(raw map[string]any) []error {
	var errs []error
	var walk func(m map[string]any, n *node, path []string)
	walk = func(m map[string]any, n *node, path []string) {
		for _, k := range sortedKeys(m) {
			f := n.field(k)
			if f == nil {
				p := displayPath(append(slices.Clone(path), k))
				if s := suggest(n, path, k); s != "" && s != p {
					errs = append(errs, fmt.Errorf("config: unknown key %s (did you mean %s?)", p, s))
				} else {
					errs = append(errs, fmt.Errorf("config: unknown key %s", p))
				}
				continue
			}
			if f.kind == kindList {
				items, _ := m[k].([]any)
				for i, item := range items {
					if elem, ok := item.(map[string]any); ok {
						walk(elem, f.elem, append(slices.Clone(path), fmt.Sprintf("%s[%d]", k, i)))
					}
				}
				continue
			}
			sub, ok := m[k].(map[string]any)
			if !ok {
				continue // a wrong shape is reported when decoding
			}
			child := append(slices.Clone(path), k)
			switch f.kind {
			case kindSection:
				walk(sub, f, child)
			case kindMap:
				if f.elem.kind != kindSection {
					continue
				}
				for _, name := range sortedKeys(sub) {
					if elem, ok := sub[name].(map[string]any); ok {
						walk(elem, f.elem, append(slices.Clone(child), name))
					}
				}
			}
		}
	}
	walk(raw, rootSchema(), nil)
	return errs
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
