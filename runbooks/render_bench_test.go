package runbooks

import (
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// benchData is what a step of an incident runbook sees.
func benchData() map[string]any {
	inc := &runbook.Incident{ID: 42, Title: "Checkout errors after the 14:05 deploy <!channel> & more", Severity: "sev1",
		Status: "investigating", Service: "payments", Commander: "U0123ABCD", Channel: "C0INC42",
		CreatedAt: time.Date(2026, 3, 1, 14, 7, 0, 0, time.UTC), Fields: map[string]string{"region": "eu-west-1"}}
	return map[string]any{
		"incident": IncidentData(inc),
		"params":   map[string]any{"service": "checkout-api", "count": 8},
		"steps": map[string]any{"channel": map[string]any{"id": "C0INC42", "name": "inc-42-payments"},
			"scale": map[string]any{"approved": true, "decided_by": "<@U0BOB>", "approval_id": "APR-7"}},
		"run":  map[string]any{"id": "R-12", "runbook": "sev1-kickoff", "started_by": "<@U0123ABCD>"},
		"user": map[string]any{"id": "U0123ABCD", "name": "<@U0123ABCD>"},
	}
}

func BenchmarkRender(b *testing.B) {
	data := benchData()
	for _, bc := range []struct{ name, tmpl string }{
		{"ChannelName", "inc-{{incident.number}}-{{incident.service}}"},
		{"Announcement", ":rotating_light: *{{incident.id}} {{incident.title}}* ({{incident.severity}}). Commander: {{incident.commander}}{{^incident.commander_id}}nobody yet{{/incident.commander_id}}"},
		{"HarnessAlias", "{{Activity.title}} in {{Activity.service}}: scaled {{params.service}} to {{params.count}} tasks, approved by {{steps.scale.decided_by}} ({{steps.scale.approval_id}})"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(bc.tmpl, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderValue renders a whole step's inputs, as the executor does per step.
func BenchmarkRenderValue(b *testing.B) {
	data := benchData()
	with := map[string]any{
		"name":    "inc-{{incident.number}}-{{incident.service}}",
		"topic":   "{{incident.severity}} | {{incident.status}} | {{incident.title}}",
		"purpose": "Incident {{incident.id}}: {{incident.title}}",
		"invite":  []any{"commander", "@oncall"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderValue(with, data); err != nil {
			b.Fatal(err)
		}
	}
}
