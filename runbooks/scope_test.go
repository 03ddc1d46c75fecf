package runbooks

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestScopeCheck(t *testing.T) {
	s := Scope{
		Params: []string{"count"},
		Steps:  map[string]string{"channel": "slack.create_channel", "scale": "approval.request", "odd": "no.such_action"},
		Later:  []string{"notify"},
		Self:   "me",
		Fields: []string{"region", "customer"},
	}
	tests := []struct{ name, want string }{
		{"incident.title", ""},
		{"Activity.title", ""},
		{"incident.fields.region", ""},
		{"incident.fields", ""},
		{"Activity.region", ""},
		{"Activity.fields.customer", ""},
		{"incident.summary", ""},
		{"Activity.summary", ""},
		{"Activity.slack_channel", ""},
		{"incident.fields.regoin", `unknown variable "incident.fields.regoin" (did you mean "incident.fields.region"?)`},
		{"incident.fields.zzz", `unknown variable "incident.fields.zzz"; the custom fields are region, customer`},
		{"incident.fields.region.x", `unknown variable "incident.fields.region.x": the custom field region is one value and has no fields`},
		{"Activity.custmer", `unknown variable "Activity.custmer" (did you mean "Activity.customer"?)`},
		{"incident.region", `unknown variable "incident.region"`},
		{"params.count", ""},
		{"steps.channel.id", ""},
		{"steps.odd.whatever", ""},
		{"run.started_by", ""},
		{"user.name", ""},
		{"incident", ""},
		{"incident.titel", `unknown variable "incident.titel" (did you mean "incident.title"?)`},
		{"Activity.titel", `unknown variable "Activity.titel" (did you mean "Activity.title"?)`},
		{"Incident.title", `unknown variable "Incident.title" (did you mean "incident.title"?)`},
		{"foo", `unknown variable "foo"; variables start with incident., Activity., params., steps., run. or user.`},
		{"incident.title.x", `unknown variable "incident.title.x": incident.title has no fields`},
		{"params.cout", `unknown variable "params.cout" (did you mean "params.count"?)`},
		{"params.region", `unknown variable "params.region"; the runbook's params are count`},
		{"params.fields", `unknown variable "params.fields"; the runbook's params are count`},
		{"steps.notify.ts", `"steps.notify.ts" refers to step "notify", which comes later`},
		{"steps.me.ts", `"steps.me.ts" refers to this step's own outputs; a step can use only earlier steps' outputs`},
		{"steps.chanel.id", `unknown variable "steps.chanel.id" (did you mean "steps.channel"?)`},
		{"steps.xyz.id", `unknown variable "steps.xyz.id"; no earlier step has id "xyz"`},
		{"steps.scale.aproved", `unknown variable "steps.scale.aproved" (did you mean "steps.scale.approved"?)`},
		{"steps.scale.zzz", `unknown variable "steps.scale.zzz"; approval.request outputs approved, decided_by, decided_at, reason, approval_id`},
		{"steps.scale.approved.x", `unknown variable "steps.scale.approved.x": steps.scale.approved has no fields`},
		{"run.startd_by", `unknown variable "run.startd_by" (did you mean "run.started_by"?)`},
	}
	for _, tt := range tests {
		err := s.Check(tt.name)
		if tt.want == "" {
			if err != nil {
				t.Errorf("Check(%q) = %v, want nil", tt.name, err)
			}
			continue
		}
		if runbook.ErrorCode(err) != runbook.EINVALID || runbook.ErrorMessage(err) != tt.want {
			t.Errorf("Check(%q) = %v\nwant %q", tt.name, err, tt.want)
		}
	}
}

func TestScopeCheckTemplate(t *testing.T) {
	s := Scope{Steps: map[string]string{"scale": "approval.request"}, Fields: []string{"responders"}}
	tests := []struct{ tmpl, want string }{
		{"{{#incident}}{{title}} {{incident.id}}{{/incident}}", ""},
		{"{{#incident.fields.responders}}{{.}}{{/incident.fields.responders}}", ""},
		{"{{#incident.fields}}{{responders}}{{/incident.fields}}", ""},
		{"{{#incident.fields}}{{respnders}}{{/incident.fields}}", `unknown variable "incident.fields.respnders" (did you mean "incident.fields.responders"?)`},
		{"{{#steps.scale.approved}}by {{steps.scale.decided_by}}{{/steps.scale.approved}}", ""},
		{"{{#steps.scale}}{{decided_by}}{{/steps.scale}}", ""},
		{"{{#incident}}{{titel}}{{/incident}}", `unknown variable "incident.titel" (did you mean "incident.title"?)`},
		{"{{#incident}}{{steps.nope.x}}{{/incident}}", `unknown variable "steps.nope.x"; no earlier step has id "nope"`},
		{"{{incident}}", `"incident" is a group of values, not a value; name one of them`},
		{"{{^steps.scale.approved}}{{user.nam}}{{/steps.scale.approved}}", `unknown variable "user.nam" (did you mean "user.name"?)`},
		{"{{#a}}", "template does not parse: line 1: Section a has no closing tag"},
	}
	for _, tt := range tests {
		got := strings.Join(s.checkTemplate(tt.tmpl), "; ")
		if got != tt.want {
			t.Errorf("checkTemplate(%q) = %q\nwant %q", tt.tmpl, got, tt.want)
		}
	}
}

func TestScopeAt(t *testing.T) {
	rb, err := LoadFile("testdata/valid/sev1-kickoff.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := rb.ScopeAt(1)
	if s.Self != "kickoff" || len(s.Steps) != 1 || s.Steps["channel"] != "slack.create_channel" || strings.Join(s.Later, ",") != "scale" {
		t.Errorf("ScopeAt(1) = %+v", s)
	}
	if rb.StepIndex("scale") != 3 || rb.StepIndex("") != -1 || rb.StepIndex("nope") != -1 {
		t.Error("StepIndex")
	}
}

func TestActionsSpec(t *testing.T) {
	if len(Actions) != 12 {
		t.Errorf("%d actions, want 12", len(Actions))
	}
	for name, spec := range Actions {
		if spec.Name != name || spec.Summary == "" || len(spec.Outputs) == 0 {
			t.Errorf("%s: incomplete spec %+v", name, spec)
		}
		for _, in := range spec.Inputs {
			switch in.Type {
			case InputString, InputBool, InputInt, InputList, InputBlocks, InputDuration, InputMap, InputJSON, InputArgv:
			default:
				t.Errorf("%s.%s: unknown type %q", name, in.Name, in.Type)
			}
		}
		for _, o := range spec.OneOf {
			if _, ok := spec.Input(o); !ok {
				t.Errorf("%s: OneOf names unknown input %q", name, o)
			}
		}
	}
}

// TestScopeNoFields: with no custom fields configured, incident.fields.NAME can never
// have a value, so it is refused at validation rather than failing every run.
func TestScopeNoFields(t *testing.T) {
	err := Scope{}.Check("incident.fields.region")
	want := `unknown variable "incident.fields.region"; no custom fields are configured (incidents.fields in the config file)`
	if runbook.ErrorMessage(err) != want {
		t.Fatalf("Check = %v, want %q", err, want)
	}
}
