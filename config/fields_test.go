package config

import (
	"strings"
	"testing"
)

// TestIncidentFields loads incidents.fields and checks that every kind of mistake is
// reported at load, each naming the field and the fix.
func TestIncidentFields(t *testing.T) {
	good := `incidents:
  fields:
    - {name: region, type: enum, values: [eu, us], required: true, default: eu, description: Where}
    - {name: customer, type: string}
    - {name: impacted, type: integer, default: 3}
    - {name: lead, type: user, default: U012AB3CD}
    - {name: ticket, type: url, default: "https://tickets.example.com/1"}
`
	cfg, err := Load(writeFile(t, good), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	specs := cfg.Incidents.FieldSpecs()
	if len(specs) != 5 || specs[0].Name != "region" || !specs[0].Required || specs[0].Default != "eu" ||
		specs[2].Default != "3" || specs[0].Description != "Where" || len(specs[0].Values) != 2 {
		t.Fatalf("FieldSpecs = %+v", specs)
	}
	if out := cfg.String(); !strings.Contains(out, "region") {
		t.Errorf("String() does not show the fields:\n%s", out)
	}

	for _, tt := range []struct{ name, field, want string }{
		{"bad type", `{name: region, type: text}`, `incidents.fields[0] (region): type "text" is not a field type; use one of string, integer, enum, user, url`},
		{"type typo", `{name: region, type: strng}`, `(did you mean "string"?)`},
		{"enum without values", `{name: region, type: enum}`, "incidents.fields[0] (region): an enum needs values"},
		{"values on a string", `{name: region, type: string, values: [a]}`, "values are for enum fields only"},
		{"default not allowed", `{name: region, type: enum, values: [eu, us], default: mars}`, "incidents.fields[0] (region): default: region is one of eu, us."},
		{"default not an integer", `{name: impacted, type: integer, default: many}`, "default: impacted is a whole number"},
		{"default not a url", `{name: ticket, type: url, default: "ftp://x"}`, "default: ticket is a web address"},
		{"default user by name", `{name: lead, type: user, default: "@alice"}`, "default of a user field must be a user id"},
		{"reserved", `{name: status, type: string}`, `name "status" is taken by the incident itself`},
		{"reserved summary", `{name: summary, type: string}`, `name "summary" is taken`},
		{"bad name", `{name: "Re gion", type: string}`, "name must be lowercase letters, digits and _"},
		{"no name", `{type: string}`, "incidents.fields[0]: name must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "incidents:\n  fields:\n    - "+tt.field+"\n"), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want %q", err, tt.want)
			}
		})
	}

	t.Run("duplicate", func(t *testing.T) {
		_, err := Load(writeFile(t, "incidents:\n  fields:\n    - {name: region, type: string}\n    - {name: region, type: url}\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "incidents.fields[1] (region): name region is used by an earlier field") {
			t.Fatalf("Load = %v", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := Load(writeFile(t, "incidents:\n  fields:\n    - {name: region, type: string, requird: true}\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "unknown key incidents.fields[0].requird (did you mean incidents.fields[0].required?)") {
			t.Fatalf("Load = %v", err)
		}
	})
	t.Run("environment", func(t *testing.T) {
		_, err := Load("", []string{"RUNBOOK_INCIDENTS__FIELDS=region"})
		if err == nil || !strings.Contains(err.Error(), "a list of mappings, which the environment cannot set") {
			t.Fatalf("Load = %v", err)
		}
	})
	t.Run("not a list", func(t *testing.T) {
		_, err := Load(writeFile(t, "incidents:\n  fields: region\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "incidents.fields[0] must be a mapping of keys") {
			t.Fatalf("Load = %v", err)
		}
	})
}
