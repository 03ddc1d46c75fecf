package runbooks

import (
	"strings"
	"testing"
)

// TestSettingsCheckIncidentValues checks that literal severities, statuses and
// services that could never match or apply are refused, with file and line and a
// did-you-mean, the way the incidents service compares them (any letter case).
func TestSettingsCheckIncidentValues(t *testing.T) {
	s := Settings{Severities: []string{"sev1", "sev2"}, Statuses: []string{"investigating", "mitigating", "resolved"},
		Services: []string{"checkout", "Payments"}}
	src := `name: values
on:
  - event: incident.declared
    if: { severity: [sev9, SEV1], service: [chekout, payments] }
  - event: incident.updated
    if: { status: mitigatin }
params:
  - { name: to, type: string }
steps:
  - action: incident.update
    with: { status: mitigatin, severity: SEV2 }
  - action: incident.update
    with: { status: "{{params.to}}", severity: sev3 }
  - action: incident.update
    with: { status: Resolved }
`
	_, err := s.Parse("values.yaml", []byte(src))
	got := problemLines(t, err)
	want := []string{
		`values.yaml:4: trigger 1: if.severity: "sev9" is not in incidents.severities (sev1, sev2) (did you mean "sev1"?)`,
		`values.yaml:4: trigger 1: if.service: "chekout" is not in services (checkout, Payments) (did you mean "checkout"?)`,
		`values.yaml:6: trigger 2: if.status: "mitigatin" is not in incidents.statuses (investigating, mitigating, resolved) (did you mean "mitigating"?)`,
		`values.yaml:11: step 1 (incident.update): with.status "mitigatin" is not in incidents.statuses (investigating, mitigating, resolved) (did you mean "mitigating"?)`,
		`values.yaml:13: step 2 (incident.update): with.severity "sev3" is not in incidents.severities (sev1, sev2) (did you mean "sev1"?)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	t.Run("NoServicesConfigured", func(t *testing.T) {
		src := "name: any\non:\n  - event: incident.declared\n    if: { service: [anything] }\nsteps:\n  - action: incident.update\n    with: { note: hi }\n"
		if _, err := (Settings{Severities: s.Severities}).Parse("any.yaml", []byte(src)); err != nil {
			t.Fatalf("a service condition without configured services: %v", err)
		}
	})
}

func TestNeedsIncident(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps string
		want  bool
	}{
		{"ParamsOnly", `[{action: slack.send_message, with: {channel: "#ops", text: "{{params.x}}"}}]`, false},
		{"IncidentInInput", `[{action: slack.send_message, with: {channel: "#ops", text: "for {{incident.id}}"}}]`, true},
		{"ActivityInInput", `[{action: slack.send_message, with: {channel: "#ops", text: "{{Activity.title}}"}}]`, true},
		{"IncidentInWhen", `[{action: slack.send_message, when: "{{incident.channel_id}}", with: {channel: "#ops", text: hi}}]`, true},
		{"IncidentInNestedInput", `[{action: http.request, with: {url: "https://x.example/", json: {a: ["{{incident.id}}"]}}}]`, true},
		{"IncidentUpdate", `[{action: incident.update, with: {note: hi}}]`, true},
		{"InsideAParamSection", `[{action: slack.send_message, with: {channel: "#ops", text: "{{#params.x}}{{incident.id}}{{/params.x}}"}}]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: n\nparams:\n  - { name: x, type: string }\nsteps: " + tc.steps + "\n"
			rb, err := Parse("n.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if got := rb.NeedsIncident(); got != tc.want {
				t.Errorf("NeedsIncident() = %v, want %v", got, tc.want)
			}
		})
	}
	for _, file := range []string{"examples/scale-up.yaml", "examples/acting/scale-up.yaml"} {
		rb, err := (Settings{Secrets: []string{"deploy_token"}}).LoadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !rb.NeedsIncident() {
			t.Errorf("%s: NeedsIncident() = false; it uses incident.* outside any section", file)
		}
	}
}
