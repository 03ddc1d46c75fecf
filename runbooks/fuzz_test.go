package runbooks

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

// FuzzParse feeds arbitrary bytes to the loader: it must never panic, and must either
// return a runbook with a name and steps, or problems that each have a line ≥ 0, a
// message and the file name. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, err := Parse("fuzz.yaml", data)
		if err == nil {
			if rb == nil || rb.Name == "" || len(rb.Steps) == 0 {
				t.Fatalf("no problems but runbook %+v", rb)
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error is not *Problems: %v", err)
		}
		for _, p := range ps {
			if p.Line < 0 || strings.TrimSpace(p.Message) == "" || p.File != "fuzz.yaml" {
				t.Fatalf("bad problem %#v", p)
			}
		}
	})
}

// safeTemplates use only escaped tags, so no value may put a "<" in their output.
var safeTemplates = []string{
	"{{incident.title}}",
	"*{{Activity.title}}* ({{incident.severity}}) by {{ user.name }}",
	"{{#incident.fields.responders}}{{.}}, {{/incident.fields.responders}}",
	"{{#incident}}{{title}}{{/incident}}{{^params.x}}none{{/params.x}}",
	"{{#steps.s.approved}}approved by {{steps.s.decided_by}}{{/steps.s.approved}}",
	"{{.}}",
}

// FuzzRender renders arbitrary templates over data whose every value is the fuzzed
// value: it must never panic, and a "<" in a value must never reach the output
// through an escaped tag. Seeds: testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		data := fuzzData(value)
		out, err := Render(tmpl, data)
		if err == nil && escapedOnly(tmpl) && strings.Contains(out, "<") {
			t.Fatalf("Render(%q) with value %q = %q: a raw < from a value", tmpl, value, out)
		}
		for _, safe := range safeTemplates {
			out, err := Render(safe, data)
			if err != nil || strings.ContainsAny(out, "<>") {
				t.Fatalf("Render(%q) with value %q = %q, %v", safe, value, out, err)
			}
		}
		_, _ = TemplateVars(tmpl)
		_ = Scope{}.checkTemplate(tmpl)
	})
}

func fuzzData(v string) map[string]any {
	incident := map[string]any{"fields": map[string]any{"responders": []any{v, v}, "x": v}}
	for _, f := range IncidentFields {
		if f != "fields" {
			incident[f] = v
		}
	}
	return map[string]any{
		"incident": incident,
		"params":   map[string]any{"x": v},
		"steps":    map[string]any{"s": map[string]any{"approved": v, "decided_by": v}},
		"run":      map[string]any{"id": v},
		"user":     map[string]any{"id": v, "name": v},
	}
}

// escapedOnly reports, conservatively, whether a template can only have escaped tags
// and no "<" of its own: no raw tags ({{{x}}}, {{& x}}), no delimiter changes.
func escapedOnly(tmpl string) bool {
	if strings.ContainsAny(tmpl, "&=<") {
		return false
	}
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '{' {
			continue
		}
		if !strings.HasPrefix(tmpl[i:], "{{") {
			return false
		}
		rest := strings.TrimLeftFunc(tmpl[i+2:], unicode.IsSpace)
		if strings.HasPrefix(rest, "{") {
			return false
		}
		i++
	}
	return true
}
