package runbooks_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

func TestIncidentData(t *testing.T) {
	created := time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))

	t.Run("OK", func(t *testing.T) {
		inc := &runbook.Incident{
			ID: 42, Title: "Checkout is down", Severity: "sev1", Status: "investigating",
			Service: "checkout", Commander: "U123", Channel: "C456",
			Fields: map[string]string{"region": "eu-west-1"}, CreatedAt: created,
		}
		want := map[string]any{
			"id":            "INC-42",
			"number":        int64(42),
			"title":         "Checkout is down",
			"severity":      "sev1",
			"status":        "investigating",
			"service":       "checkout",
			"commander":     "<@U123>",
			"commander_id":  "U123",
			"channel":       "<#C456>",
			"channel_id":    "C456",
			"url":           "",
			"created_at":    "2026-03-01T08:30:00Z",
			"fields":        map[string]any{"region": "eu-west-1"},
			"summary":       "",
			"slack_channel": "<#C456>",
			"roles":         map[string]any{"commander": "<@U123>"},
		}
		if got := runbooks.IncidentData(inc); !reflect.DeepEqual(got, want) {
			t.Fatalf("IncidentData() =\n%#v\nwant\n%#v", got, want)
		}
	})

	t.Run("UnsetCommanderAndChannel", func(t *testing.T) {
		got := runbooks.IncidentData(&runbook.Incident{ID: 1, CreatedAt: created})
		for _, k := range []string{"commander", "commander_id", "channel", "channel_id"} {
			if got[k] != "" {
				t.Errorf("%s = %q, want \"\"", k, got[k])
			}
		}
		if fields, ok := got["fields"].(map[string]any); !ok || len(fields) != 0 {
			t.Errorf("fields = %#v, want an empty map", got["fields"])
		}
	})

	t.Run("Roles", func(t *testing.T) {
		inc := &runbook.Incident{ID: 1, Commander: "U1", Roles: map[string]string{"comms": "U2", "retired": "U3"}}
		got := runbooks.IncidentData(inc, "commander", "comms", "scribe")["roles"]
		want := map[string]any{"commander": "<@U1>", "comms": "<@U2>", "scribe": "", "retired": "<@U3>"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("roles = %#v, want %#v", got, want)
		}
	})

	t.Run("FieldsAreCopied", func(t *testing.T) {
		inc := &runbook.Incident{ID: 1, Fields: map[string]string{"a": "1"}}
		runbooks.IncidentData(inc)["fields"].(map[string]any)["a"] = "changed"
		if inc.Fields["a"] != "1" {
			t.Fatal("changing the template data changed the incident")
		}
	})
}

// TestTemplateIncident: every configured field is there, blank when unset, and
// Activity has the custom fields at its top level, never over the incident's own names.
func TestTemplateIncident(t *testing.T) {
	inc := &runbook.Incident{ID: 7, Title: "T", Channel: "C9", Summary: "db overloaded",
		Fields: map[string]string{"region": "eu", "title": "not the title"}}
	incident, activity := runbooks.TemplateIncident(inc, nil, []string{"region", "customer"})
	fields := incident["fields"].(map[string]any)
	if fields["region"] != "eu" || fields["customer"] != "" {
		t.Fatalf("incident.fields = %#v", fields)
	}
	if activity["region"] != "eu" || activity["customer"] != "" || activity["title"] != "T" ||
		activity["summary"] != "db overloaded" || activity["slack_channel"] != "<#C9>" {
		t.Fatalf("Activity = %#v", activity)
	}
	if _, ok := incident["region"]; ok {
		t.Fatal("incident.region is set: custom fields belong under incident.fields")
	}
}
