package runbooks

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

func testData() map[string]any {
	return map[string]any{
		"incident": map[string]any{
			"id":         "42",
			"title":      "<!channel> checkout & payments down",
			"severity":   "sev1",
			"status":     "investigating",
			"service":    "checkout",
			"commander":  "U024BE7LH",
			"channel":    "C024BE91L",
			"url":        "https://runbook.example/incidents/42",
			"created_at": time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
			"fields": map[string]any{
				"responders": []string{"alice", "<@U1>"},
				"region":     "eu",
				"quote":      `say "hi"`,
				"empty":      []any{},
				"none":       "",
			},
		},
		"params": map[string]any{"count": 12, "ratio": 1.5, "dry_run": false, "big": 1e21},
		"steps": map[string]any{
			"scale":   map[string]any{"approved": true, "decided_by": "U1"},
			"refused": map[string]any{"approved": false},
		},
		"run":  map[string]any{"id": "r1", "runbook": "sev1-kickoff", "started_by": "U2"},
		"user": map[string]any{"id": "U2", "name": "bob"},
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{"plain text", "no tags <here>", "no tags <here>"},
		{"escapes mentions", "{{incident.title}}", "&lt;!channel&gt; checkout &amp; payments down"},
		{"quote stays", "{{incident.fields.quote}}", `say "hi"`},
		{"triple is raw", "{{{incident.title}}}", "<!channel> checkout & payments down"},
		{"ampersand is raw", "{{& incident.title}}", "<!channel> checkout & payments down"},
		{"template text is not escaped", "<@{{incident.commander}}>", "<@U024BE7LH>"},
		{"Activity alias", "{{Activity.title}} / {{Activity.severity}}", "&lt;!channel&gt; checkout &amp; payments down / sev1"},
		{"section true", "{{#steps.scale.approved}}yes{{/steps.scale.approved}}", "yes"},
		{"section false", "{{#steps.refused.approved}}yes{{/steps.refused.approved}}", ""},
		{"inverted false", "{{^steps.refused.approved}}no{{/steps.refused.approved}}", "no"},
		{"inverted true", "{{^steps.scale.approved}}no{{/steps.scale.approved}}", ""},
		{"inverted empty string", "{{^incident.fields.none}}nobody{{/incident.fields.none}}", "nobody"},
		{"list", "{{#incident.fields.responders}}[{{.}}]{{/incident.fields.responders}}", "[alice][&lt;@U1&gt;]"},
		{"empty list", "{{#incident.fields.empty}}x{{/incident.fields.empty}}{{^incident.fields.empty}}none{{/incident.fields.empty}}", "none"},
		{"section over a map", "{{#incident}}{{title}} ({{severity}}){{/incident}}", "&lt;!channel&gt; checkout &amp; payments down (sev1)"},
		{"outer names in a list", "{{#incident.fields.responders}}{{incident.id}}{{/incident.fields.responders}}", "4242"},
		{"integer", "{{params.count}}", "12"},
		{"float", "{{params.ratio}}", "1.5"},
		{"big float", "{{params.big}}", "1e+21"},
		{"bool", "{{steps.scale.approved}}/{{params.dry_run}}", "true/false"},
		{"time", "{{incident.created_at}}", "2025-03-01T12:00:00Z"},
		{"comment", "a{{! ignored }}b", "ab"},
		{"custom delimiters", "{{=<% %>=}}<% incident.id %>", "42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, testData())
			if err != nil || got != tt.want {
				t.Errorf("Render(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{"missing top-level", "{{nope}}", `missing variable "nope"`},
		{"missing nested", "{{incident.titel}}", `missing variable "incident.titel"`},
		{"missing deep", "{{steps.later.approved}}", `missing variable "steps.later.approved"`},
		{"missing raw", "{{{incident.nope}}}", `missing variable "incident.nope"`},
		{"missing section", "{{#steps.nope.approved}}x{{/steps.nope.approved}}", `missing variable "steps.nope.approved"`},
		{"missing inverted", "{{^params.nope}}x{{/params.nope}}", `missing variable "params.nope"`},
		{"missing inside a section", "{{#incident}}{{titel}}{{/incident}}", `missing variable "titel"`},
		{"missing inside a list", "{{#incident.fields.responders}}{{name}}{{/incident.fields.responders}}", `missing variable "name"`},
		{"does not parse", "{{#incident.title}}", "template does not parse"},
		{"unclosed tag", "hello {{incident.title", "template does not parse"},
		{"partial", "{{> /etc/passwd}}", "partials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, testData())
			if err == nil || !strings.Contains(runbook.ErrorMessage(err), tt.want) {
				t.Fatalf("Render(%q) = %q, %v; want an error containing %q", tt.tmpl, got, err, tt.want)
			}
			if runbook.ErrorCode(err) != runbook.EINVALID {
				t.Errorf("code = %s, want invalid", runbook.ErrorCode(err))
			}
		})
	}
}

func TestRenderNilIsMissing(t *testing.T) {
	data := map[string]any{"incident": map[string]any{"commander": nil}}
	if _, err := Render("{{incident.commander}}", data); err == nil {
		t.Error("a nil value must be an error, not <nil> or an empty string")
	}
	if got, err := Render("x", nil); err != nil || got != "x" {
		t.Errorf("nil data: %q, %v", got, err)
	}
}

func TestRenderDoesNotCallMethods(t *testing.T) {
	data := map[string]any{"v": stringer{}, "p": &struct{ Secret string }{"s"}}
	got, err := Render("{{v}} {{v.Secret}}", data)
	if err == nil {
		t.Errorf("a method of a value must not be reachable, got %q", got)
	}
	if got, err := Render("{{v}}", data); err != nil || got != "&lt;str&gt;" {
		t.Errorf("a Stringer renders as its escaped text, got %q, %v", got, err)
	}
}

type stringer struct{}

func (stringer) String() string { return "<str>" }
func (stringer) Secret() string { return "secret" }

func TestRenderValue(t *testing.T) {
	with := map[string]any{
		"channel": "{{incident.channel}}",
		"private": true,
		"count":   3,
		"invite":  []any{"commander", "{{user.id}}"},
		"blocks": []any{map[string]any{
			"type": "section",
			"text": map[string]any{"type": "mrkdwn", "text": "*{{incident.title}}*"},
		}},
	}
	got, err := RenderValue(with, testData())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"channel": "C024BE91L",
		"private": true,
		"count":   3,
		"invite":  []any{"commander", "U2"},
		"blocks": []any{map[string]any{
			"type": "section",
			"text": map[string]any{"type": "mrkdwn", "text": "*&lt;!channel&gt; checkout &amp; payments down*"},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RenderValue = %#v\nwant %#v", got, want)
	}
	if with["channel"] != "{{incident.channel}}" {
		t.Error("RenderValue changed its input")
	}
	with["blocks"] = []any{map[string]any{"text": map[string]any{"text": "{{incident.nope}}"}}}
	_, err = RenderValue(with, testData())
	if want := `blocks[0].text.text: missing variable "incident.nope"`; runbook.ErrorMessage(err) != want {
		t.Errorf("error = %q, want %q", runbook.ErrorMessage(err), want)
	}
}

func TestTruthy(t *testing.T) {
	for s, want := range map[string]bool{
		"": false, "  ": false, "false": false, "FALSE": false, " 0 ": false, "no": false, "Off": false,
		"true": true, "1": true, "yes": true, "approved": true, "nope": true, "00": true,
	} {
		if Truthy(s) != want {
			t.Errorf("Truthy(%q) = %v", s, !want)
		}
	}
}

func TestTemplateVars(t *testing.T) {
	got, err := TemplateVars("{{a.b}} {{{c}}} {{& d.e}} {{#f}}{{.}}{{g}}{{/f}}{{^h.i}}x{{/h.i}} {{a.b}}")
	want := []string{"a.b", "c", "d.e", "f", "g", "h.i"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TemplateVars = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"{{#a}}", "{{a", "{{/a}}", "{{> p}}"} {
		if _, err := TemplateVars(bad); err == nil {
			t.Errorf("TemplateVars(%q): want an error", bad)
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			data := testData()
			data["params"] = map[string]any{"n": i}
			for range 50 {
				got, err := Render("{{params.n}}:{{#incident.fields.responders}}{{.}},{{/incident.fields.responders}}", data)
				if want := fmt.Sprintf("%d:alice,&lt;@U1&gt;,", i); err != nil || got != want {
					t.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestRenderBoundsNestedLists(t *testing.T) {
	data := map[string]any{"l": []any{1, 2, 3, 4}}
	tmpl := strings.Repeat("{{#l}}", 12) + "x" + strings.Repeat("{{/l}}", 12)
	if _, err := Render(tmpl, data); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("4^12 section renders: err = %v", err)
	}
	tmpl = strings.Repeat("{{#l}}", 3) + "x" + strings.Repeat("{{/l}}", 3)
	if got, err := Render(tmpl, data); err != nil || len(got) != 64 {
		t.Errorf("4^3 section renders: %d bytes, %v", len(got), err)
	}
}
