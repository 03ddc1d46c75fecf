package runbooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cbroglie/mustache"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// The library's strict mode is a package global: it is set once, before anything can
// render, and never toggled, so concurrent renders only ever read it.
func init() { mustache.AllowMissingVariables = false }

// errPartials is returned for {{> name}}: partials would read files and bypass escaping.
var errPartials = errors.New("partials ({{> name}}) are not supported")

// noPartials refuses every partial, should a template with one ever be rendered.
type noPartials struct{}

func (noPartials) Get(string) (string, error) { return "", errPartials }

// parseTemplate compiles tmpl with Slack escaping and without partials.
func parseTemplate(tmpl string) (*mustache.Template, error) {
	return parseEscaped(tmpl, slackui.Escape)
}

// parseEscaped compiles tmpl without partials, escaping {{x}} values with escape.
func parseEscaped(tmpl string, escape func(string) string) (*mustache.Template, error) {
	t, err := mustache.ParseStringPartials(tmpl, noPartials{})
	if err != nil {
		return nil, fmt.Errorf("template does not parse: %w", err)
	}
	t.Escape(escape)
	return t, nil
}

// Render fills in a Mustache template. Values from data are escaped for Slack unless
// the tag is raw ({{{x}}} or {{& x}}). A variable or section that names something
// missing from data (or nil) is an error naming it; pass "" for an empty value.
// Activity is an alias of incident when data has no Activity of its own.
//
// data is copied into plain maps, lists and scalars first (times become RFC 3339
// strings, other types their fmt form), so no method of a value is ever called by a
// template. Render is safe for concurrent use. Its errors are runbook.EINVALID.
func Render(tmpl string, data map[string]any) (string, error) {
	return render(tmpl, normalize(data))
}

// RenderValue renders every string in v (a Step's With value: maps, lists, scalars),
// returning a copy; other values pass through unchanged. An error names the path of
// the string that failed, e.g. "blocks[0].text.text: missing variable ...".
func RenderValue(v any, data map[string]any) (any, error) {
	return renderValue(v, normalize(data), "", asValue(render))
}

// Truthy reports whether rendered text counts as true for a step's When: anything but
// "", "false", "0", "no" and "off" (trimmed, case-insensitive).
func Truthy(rendered string) bool {
	switch strings.ToLower(strings.TrimSpace(rendered)) {
	case "", "false", "0", "no", "off":
		return false
	}
	return true
}

// TemplateVars lists the names a template refers to, in order of first use and without
// repeats: variables ({{a.b}}, {{{a.b}}}, {{& a.b}}) and sections ({{#a}}, {{^a}}).
// Names inside a section are listed as written; "." is left out. A template that does
// not parse, or uses a partial, is an error.
func TemplateVars(tmpl string) ([]string, error) {
	t, err := parseTemplate(tmpl)
	if err != nil {
		return nil, err
	}
	var names []string
	err = walkTags(t.Tags(), func(tag mustache.Tag) error {
		if tag.Name() != "." && !slices.Contains(names, tag.Name()) {
			names = append(names, tag.Name())
		}
		return nil
	})
	return names, err
}

// walkTags calls fn for every tag, depth first; partials are an error.
func walkTags(tags []mustache.Tag, fn func(mustache.Tag) error) error {
	for _, tag := range tags {
		if tag.Type() == mustache.Partial {
			return errPartials
		}
		if err := fn(tag); err != nil {
			return err
		}
		if tag.Type() == mustache.Section || tag.Type() == mustache.InvertedSection {
			if err := walkTags(tag.Tags(), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// render is Render on data that normalize has made plain.
func render(tmpl string, data map[string]any) (string, error) {
	return renderEscaped(tmpl, data, slackui.Escape)
}

// renderEscaped renders with the given escaping of {{x}} values.
func renderEscaped(tmpl string, data map[string]any, escape func(string) string) (string, error) {
	if !strings.Contains(tmpl, "{{") {
		return tmpl, nil
	}
	t, err := parseEscaped(tmpl, escape)
	if err != nil {
		return "", runbook.Errorf(runbook.EINVALID, "%v", err)
	}
	if err := checkPresent(t.Tags(), []any{data}); err != nil {
		return "", err
	}
	out, err := t.Render(data)
	if err != nil {
		return "", runbook.Errorf(runbook.EINVALID, "template: %v", err)
	}
	return out, nil
}

// renderFunc renders one template string on plain data into a value.
type renderFunc func(tmpl string, data map[string]any) (any, error)

// asValue makes a text renderer a renderFunc.
func asValue(render func(string, map[string]any) (string, error)) renderFunc {
	return func(tmpl string, data map[string]any) (any, error) { return render(tmpl, data) }
}

func renderValue(v any, data map[string]any, path string, render renderFunc) (any, error) {
	switch v := v.(type) {
	case string:
		s, err := render(v, data)
		if err != nil {
			return nil, atPath(path, err)
		}
		return s, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			r, err := renderValue(v[k], data, joinPath(path, k), render)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := renderValue(e, data, fmt.Sprintf("%s[%d]", path, i), render)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// atPath puts the path of a With value in front of a render error's message.
func atPath(path string, err error) error {
	if path == "" {
		return err
	}
	var e *runbook.Error
	if errors.As(err, &e) {
		return runbook.Errorf(e.Code, "%s: %s", path, e.Message)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// maxSectionRenders bounds how many times one render may render section bodies: lists
// nested in lists grow exponentially, and the check below does the same work as the
// render, before it.
const maxSectionRenders = 10000

// checkPresent walks the tags the way the library renders them and reports the first
// variable or section whose name resolves to nothing. The library itself only errors
// on missing variables, and names just the last part of a dotted name.
func checkPresent(tags []mustache.Tag, chain []any) error {
	budget := maxSectionRenders
	return checkTags(tags, chain, &budget)
}

func checkTags(tags []mustache.Tag, chain []any, budget *int) error {
	for _, tag := range tags {
		if tag.Type() == mustache.Partial {
			return runbook.Errorf(runbook.EINVALID, "%v", errPartials)
		}
		v, ok := lookupData(chain, tag.Name())
		if !ok {
			return runbook.Errorf(runbook.EINVALID, "missing variable %q", tag.Name())
		}
		if err := checkSection(tag, v, chain, budget); err != nil {
			return err
		}
	}
	return nil
}

// checkSection checks the tags inside a section in each context it renders in.
func checkSection(tag mustache.Tag, v any, chain []any, budget *int) error {
	switch {
	case tag.Type() == mustache.InvertedSection && isEmpty(v):
		return checkBody(tag, chain, budget)
	case tag.Type() != mustache.Section || isEmpty(v):
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	for _, item := range items {
		if err := checkBody(tag, append(chain, item), budget); err != nil {
			return err
		}
	}
	return nil
}

func checkBody(tag mustache.Tag, chain []any, budget *int) error {
	if *budget--; *budget < 0 {
		return runbook.Errorf(runbook.EINVALID, "template renders sections more than %d times", maxSectionRenders)
	}
	return checkTags(tag.Tags(), chain, budget)
}

// lookupData resolves name as the library does: the first part of a dotted name in the
// innermost context that has it (chain is outermost first), the rest inside that value.
func lookupData(chain []any, name string) (any, bool) {
	if first, rest, dotted := strings.Cut(name, "."); dotted && name != "." {
		v, ok := lookupData(chain, first)
		if !ok {
			return nil, false
		}
		return lookupData([]any{v}, rest)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if name == "." {
			return chain[i], chain[i] != nil
		}
		if m, ok := chain[i].(map[string]any); ok {
			if v, ok := m[name]; ok {
				return v, v != nil
			}
		}
	}
	return nil, false
}

// isEmpty is the library's test for a false section value.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return false
	}
	return reflect.ValueOf(v).IsZero()
}

// maxDataDepth bounds normalize, so a cyclic value cannot recurse forever.
const maxDataDepth = 32

// normalize copies template data into plain maps, lists and scalars, and makes
// Activity an alias of incident.
func normalize(data map[string]any) map[string]any {
	out, _ := plain(data, 0).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if _, ok := out["Activity"]; !ok && out["incident"] != nil {
		out["Activity"] = out["incident"]
	}
	return out
}

// plain converts v for templates: maps with string keys, slices and arrays, and the
// scalar kinds stay; nil map entries are dropped and nil list items become ""; times
// become RFC 3339 text; anything else becomes its fmt form.
func plain(v any, depth int) any {
	if depth > maxDataDepth {
		return nil
	}
	switch v := v.(type) {
	case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v
	case time.Time:
		return v.Format(time.RFC3339)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if p := plain(e, depth+1); p != nil {
				out[k] = p
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			if out[i] = plain(e, depth+1); out[i] == nil {
				out[i] = ""
			}
		}
		return out
	}
	return plainReflect(reflect.ValueOf(v), depth)
}

// plainReflect handles the types plain has no case for.
func plainReflect(rv reflect.Value, depth int) any {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return plain(rv.Elem().Interface(), depth+1)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return plain(m, depth)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = rv.Index(i).Interface()
		}
		return plain(l, depth)
	}
	return plainScalar(rv)
}

// plainScalar turns a named scalar type into its base type, unless it has a String
// method; anything else becomes its fmt form.
func plainScalar(rv reflect.Value) any {
	if _, ok := rv.Interface().(fmt.Stringer); ok {
		return fmt.Sprint(rv.Interface())
	}
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint()
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	}
	return fmt.Sprint(rv.Interface())
}

// RenderJSON fills in a template that is JSON text — Block Kit given as a JSON string —
// so that no value can add structure to it: every value from data is escaped as the
// inside of a JSON string (and, for {{x}}, for Slack as Render does). A tag is meant
// to stand inside a JSON string of the template; one outside makes the result fail to
// parse, never add a block.
func RenderJSON(tmpl string, data map[string]any) (string, error) {
	return render(tmpl, jsonStrings(normalize(data)).(map[string]any))
}

// jsonStrings escapes every string in v as the inside of a JSON string.
func jsonStrings(v any) any {
	switch t := v.(type) {
	case string:
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // Slack escaping handles <, > and &
		_ = enc.Encode(t)        // a string always encodes
		s := strings.TrimSuffix(b.String(), "\n")
		return s[1 : len(s)-1]
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = jsonStrings(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonStrings(x)
		}
		return out
	}
	return v
}
