package runbooks

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
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

// fieldSettings configure the custom fields region (enum), impacted (integer) and lead
// (user), and the roles comms and scribe.
var fieldSettings = Settings{
	Fields: []string{"region", "impacted", "lead"},
	FieldSpecs: []runbook.FieldSpec{
		{Name: "region", Type: runbook.FieldEnum, Values: []string{"eu", "us"}},
		{Name: "impacted", Type: runbook.FieldInteger},
		{Name: "lead", Type: runbook.FieldUser},
	},
	Roles: []string{"commander", "comms", "scribe"},
}

// TestUpdateFieldsChecked: an incident.update step's fields are checked as the update
// command checks them — a name that is not configured with a did-you-mean, a literal
// value against its field's type — and a templated value is left to the run.
func TestUpdateFieldsChecked(t *testing.T) {
	src := `name: fields
params:
  - { name: where, type: string }
steps:
  - action: incident.update
    with: { fields: { region: us, impacted: "12", lead: "{{params.where}}" }, summary: "Failing over to {{params.where}}" }
  - action: incident.update
    with: { fields: { regoin: us } }
  - action: incident.update
    with: { fields: { region: mars, impacted: many } }
  - action: incident.update
    with: { fields: {} }
`
	_, err := fieldSettings.Parse("fields.yaml", []byte(src))
	got := problemLines(t, err)
	want := []string{
		`fields.yaml:8: step 2 (incident.update): with.fields.regoin: "regoin" is not a custom field (did you mean "region"?); the custom fields are region, impacted, lead`,
		`fields.yaml:10: step 3 (incident.update): with.fields.region: region is one of eu, us.`,
		`fields.yaml:10: step 3 (incident.update): with.fields.impacted: impacted is a whole number, like impacted=3.`,
		`fields.yaml:12: step 4 (incident.update): with.fields is empty; name what to set, or leave it out`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	t.Run("NoFieldsConfigured", func(t *testing.T) {
		src := "name: any\nsteps:\n  - action: incident.update\n    with: { fields: { region: eu } }\n"
		got := problemLines(t, func() error { _, err := (Settings{}).Parse("any.yaml", []byte(src)); return err }())
		if len(got) != 1 || !strings.Contains(got[0], `"region" is not a custom field: none are configured (incidents.fields in the config file)`) {
			t.Errorf("problems = %q", got)
		}
	})
}

// TestTriggerConditionsOnFieldsAndRoles: if.fields and if.roles are checked against the
// configured names and types, and match the incident as templates see it.
func TestTriggerConditionsOnFieldsAndRoles(t *testing.T) {
	src := `name: conds
on:
  - event: incident.declared
    if: { severity: [sev1], fields: { region: [eu, US] }, roles: { comms: unassigned } }
  - event: incident.updated
    if: { fields: { regoin: eu } }
  - event: incident.updated
    if: { fields: { region: mars }, roles: { coms: assigned } }
  - event: incident.updated
    if: { roles: { scribe: [somebody] } }
steps:
  - action: incident.update
    with: { note: hi }
`
	_, err := fieldSettings.Parse("conds.yaml", []byte(src))
	got := problemLines(t, err)
	want := []string{
		`conds.yaml:6: trigger 2: if.fields.regoin: "regoin" is not a custom field (did you mean "region"?); the custom fields are region, impacted, lead`,
		`conds.yaml:8: trigger 3: if.fields.region: region is one of eu, us.`,
		`conds.yaml:8: trigger 3: if.roles.coms: "coms" is not a role (did you mean "comms"?); the roles are commander, comms, scribe (incidents.roles)`,
		`conds.yaml:10: trigger 4: if.roles.scribe: "somebody" is not "assigned", "unassigned" or a user id (U012AB3CD)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	tr := Trigger{Event: "incident.declared", Fields: map[string][]string{"region": {"eu", "US"}},
		Roles: map[string][]string{"comms": {RoleUnassigned}, "commander": {"U1"}}}
	inc := &runbook.Incident{Severity: "sev1", Commander: "U1", Fields: map[string]string{"region": "us"}}
	if !tr.Matches("incident.declared", IncidentData(inc, "comms")) {
		t.Error("a us incident with nobody in comms, led by U1, does not match")
	}
	inc.Roles = map[string]string{"comms": "U2"}
	if tr.Matches("incident.declared", IncidentData(inc, "comms")) {
		t.Error("matches with comms assigned")
	}
	inc.Roles, inc.Fields = nil, nil
	if tr.Matches("incident.declared", IncidentData(inc, "comms")) {
		t.Error("matches an incident without the field")
	}
	inc.Fields, inc.Commander = map[string]string{"region": "eu"}, "U3"
	if tr.Matches("incident.declared", IncidentData(inc, "comms")) {
		t.Error("matches another commander")
	}
}
