package runbooks

import (
	"reflect"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestBindParams(t *testing.T) {
	rb := &Runbook{Name: "sev1-kickoff", Params: []Param{
		{Name: "count", Type: TypeInteger, Required: true},
		{Name: "region", Type: TypeEnum, Values: []string{"eu", "us"}, Default: "eu"},
		{Name: "ratio", Type: TypeNumber},
		{Name: "dry_run", Type: TypeBoolean, Default: false},
		{Name: "note", Type: TypeString},
	}}
	tests := []struct {
		name    string
		given   map[string]string
		want    map[string]any
		wantErr string
	}{
		{"defaults", map[string]string{"count": "10"},
			map[string]any{"count": 10, "region": "eu", "ratio": "", "dry_run": false, "note": ""}, ""},
		{"all given", map[string]string{"count": " 3 ", "region": "US", "ratio": "0.5", "dry_run": "yes", "note": "a=b <c>"},
			map[string]any{"count": 3, "region": "us", "ratio": 0.5, "dry_run": true, "note": "a=b <c>"}, ""},
		{"unknown with suggestion", map[string]string{"count": "1", "regoin": "eu"}, nil,
			`sev1-kickoff has no param "regoin" (did you mean "region"?)`},
		{"unknown without suggestion", map[string]string{"count": "1", "colour": "red"}, nil,
			`sev1-kickoff has no param "colour"; its params are count, region, ratio, dry_run, note`},
		{"missing required", map[string]string{}, nil, "count is required: add count=<a whole number>"},
		{"not an integer", map[string]string{"count": "ten"}, nil, `count must be a whole number, got "ten"`},
		{"float for integer", map[string]string{"count": "1.5"}, nil, `count must be a whole number, got "1.5"`},
		{"not a number", map[string]string{"count": "1", "ratio": "NaN"}, nil, `ratio must be a number, got "NaN"`},
		{"not a boolean", map[string]string{"count": "1", "dry_run": "maybe"}, nil, `dry_run must be true or false, got "maybe"`},
		{"not in enum", map[string]string{"count": "1", "region": "asia"}, nil, `region must be one of eu, us, got "asia"`},
		{"every problem at once", map[string]string{"regoin": "eu", "colour": "red", "ratio": "x"}, nil,
			`sev1-kickoff has no param "colour" and "regoin" (did you mean "region"?); its params are count, region, ratio, dry_run, note; ` +
				`ratio must be a number, got "x"; count is required: add count=<a whole number>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rb.BindParams(tt.given)
			if tt.wantErr != "" {
				if runbook.ErrorCode(err) != runbook.EINVALID || runbook.ErrorMessage(err) != tt.wantErr {
					t.Fatalf("err = %v; want invalid %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BindParams = %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

func TestBindParamsEveryMissingParam(t *testing.T) {
	rb := &Runbook{Name: "scale-up", Params: []Param{
		{Name: "service", Type: TypeString, Required: true},
		{Name: "count", Type: TypeInteger, Required: true},
		{Name: "region", Type: TypeEnum, Values: []string{"eu", "us"}, Required: true},
	}}
	_, err := rb.BindParams(nil)
	want := "service, count and region are required: add service=<text> count=<a whole number> region=<eu|us>"
	if runbook.ErrorMessage(err) != want {
		t.Errorf("err = %q, want %q", runbook.ErrorMessage(err), want)
	}
}

func TestBindParamsNone(t *testing.T) {
	rb := &Runbook{Name: "resolve"}
	if got, err := rb.BindParams(nil); err != nil || len(got) != 0 {
		t.Errorf("no params: %v, %v", got, err)
	}
	_, err := rb.BindParams(map[string]string{"x": "1"})
	if want := `resolve takes no params, got "x"`; runbook.ErrorMessage(err) != want {
		t.Errorf("err = %q, want %q", runbook.ErrorMessage(err), want)
	}
}

func TestTriggerMatches(t *testing.T) {
	sev1 := map[string]any{"severity": "sev1", "service": "checkout", "status": "investigating"}
	tests := []struct {
		name     string
		trigger  Trigger
		event    string
		incident map[string]any
		want     bool
	}{
		{"event only", Trigger{Event: runbook.EventIncidentDeclared}, runbook.EventIncidentDeclared, sev1, true},
		{"other event", Trigger{Event: runbook.EventIncidentDeclared}, runbook.EventIncidentResolved, sev1, false},
		{"severity in list", Trigger{Event: runbook.EventIncidentDeclared, Severity: []string{"sev0", "sev1"}}, runbook.EventIncidentDeclared, sev1, true},
		{"severity not in list", Trigger{Event: runbook.EventIncidentDeclared, Severity: []string{"sev0"}}, runbook.EventIncidentDeclared, sev1, false},
		{"case-insensitive", Trigger{Event: runbook.EventIncidentUpdated, Service: []string{"Checkout"}}, runbook.EventIncidentUpdated, sev1, true},
		{"all conditions", Trigger{Event: runbook.EventIncidentUpdated, Severity: []string{"sev1"}, Service: []string{"checkout"}, Status: []string{"investigating"}}, runbook.EventIncidentUpdated, sev1, true},
		{"one condition fails", Trigger{Event: runbook.EventIncidentUpdated, Severity: []string{"sev1"}, Status: []string{"resolved"}}, runbook.EventIncidentUpdated, sev1, false},
		{"field missing", Trigger{Event: runbook.EventIncidentDeclared, Service: []string{"checkout"}}, runbook.EventIncidentDeclared, map[string]any{}, false},
		{"nil incident", Trigger{Event: runbook.EventIncidentDeclared}, runbook.EventIncidentDeclared, nil, true},
		{"non-string field", Trigger{Event: runbook.EventIncidentDeclared, Severity: []string{"1"}}, runbook.EventIncidentDeclared, map[string]any{"severity": 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.trigger.Matches(tt.event, tt.incident); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCatalogTriggered(t *testing.T) {
	c, err := LoadDir("testdata/valid")
	if err != nil {
		t.Fatal(err)
	}
	names := func(rbs []*Runbook) (out []string) {
		for _, rb := range rbs {
			out = append(out, rb.Name)
		}
		return out
	}
	if got := names(c.Triggered(runbook.EventIncidentDeclared, map[string]any{"severity": "sev1"})); !reflect.DeepEqual(got, []string{"sev1-kickoff"}) {
		t.Errorf("declared sev1 → %v", got)
	}
	if got := names(c.Triggered(runbook.EventIncidentDeclared, map[string]any{"severity": "sev3"})); got != nil {
		t.Errorf("declared sev3 → %v", got)
	}
	if got := names(c.Triggered(runbook.EventIncidentResolved, nil)); !reflect.DeepEqual(got, []string{"resolve"}) {
		t.Errorf("resolved → %v", got)
	}
}
