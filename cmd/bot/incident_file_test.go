package main

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

var testRules = incidentRules{
	Severities: []string{"sev0", "sev1", "sev2"},
	Statuses:   []string{"detected", "investigating", "resolved"},
	Now:        time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC),
}

func TestParseIncident(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		inc, err := parseIncident([]byte(`
id: inc-4
title: "Checkout is down"
severity: SEV1
service: checkout
status: investigating
commander: <@U0123ABC>
channel: C0456DEF
fields:
  region: eu-west-1
  replicas: 3
`), testRules)
		if err != nil {
			t.Fatal(err)
		}
		want := &runbook.Incident{ID: 4, Title: "Checkout is down", Severity: "sev1", Service: "checkout", Status: "investigating",
			Commander: "U0123ABC", Channel: "C0456DEF", CreatedAt: testRules.Now, UpdatedAt: testRules.Now,
			Fields: map[string]string{"region": "eu-west-1", "replicas": "3"}}
		if !reflect.DeepEqual(inc, want) {
			t.Fatalf("got  %+v\nwant %+v", inc, want)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		inc, err := parseIncident([]byte("title: Down\n"), testRules)
		if err != nil || inc.ID != 0 || inc.Status != "detected" || inc.Severity != "" || inc.Fields == nil {
			t.Fatalf("got %+v, %v", inc, err)
		}
	})
	for _, tt := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"Typo", "title: x\nsevrity: sev1\n", 2, `unknown key "sevrity" (did you mean "severity"?)`},
		{"Unknown", "title: x\nowner: bob\n", 2, `unknown key "owner"; an incident has id, title, severity, service, status, commander, channel, fields`},
		{"Twice", "title: x\ntitle: y\n", 2, `"title" is given twice`},
		{"NotText", "title: [a, b]\n", 1, "title must be text"},
		{"Null", "title:\n", 1, "title must be text"},
		{"Severity", "severity: sev9\n", 1, `severity "sev9" is not one of sev0, sev1, sev2 (incidents.severities)`},
		{"Status", "status: fixed\n", 1, `status "fixed" is not one of detected, investigating, resolved (incidents.statuses)`},
		{"ID", "id: four\n", 1, "id: “four” is not an incident id (like INC-42)"},
		{"Commander", "commander: bob\n", 1, `commander must be a Slack user id like U0123ABC, got "bob"`},
		{"Channel", "channel: '#ops'\n", 1, `channel must be a Slack channel id like C0123ABC, got "#ops"`},
		{"FieldsNotMapping", "fields: [a]\n", 1, "fields must be a mapping of names to text"},
		{"FieldNotText", "fields:\n  a: {b: c}\n", 2, "field a must be text"},
		{"Alias", "title: &t x\nservice: *t\n", 2, "YAML aliases (*t) are not supported; repeat the value instead"},
		{"NotMapping", "- title: x\n", 1, "an incident is a mapping of keys such as title: and severity:"},
		{"Empty", "", 0, "the file is empty; give at least a title"},
		{"TwoDocuments", "title: x\n---\ntitle: y\n", 2, "a second YAML document starts here; give one incident"},
		{"Syntax", "title: \"x\n", 0, "invalid YAML: line 2: found unexpected end of stream"},
		{"Huge", "title: " + strings.Repeat("x", maxIncidentFile), 0, "the file is larger than 1024 KiB; an incident takes a few lines"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseIncident([]byte(tt.yaml), testRules)
			le, ok := errors.AsType[*lineError](err)
			if !ok || le.Line != tt.line || le.Msg != tt.want {
				t.Fatalf("err = %#v, want line %d: %s", err, tt.line, tt.want)
			}
		})
	}
}

// FuzzParseIncident checks that any file is either an incident the rules allow or
// one problem, never a panic, and that what is read holds no control characters.
func FuzzParseIncident(f *testing.F) {
	f.Add([]byte("id: INC-4\ntitle: Checkout is down\nseverity: sev1\nfields: {region: eu}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inc, err := parseIncident(data, testRules)
		if err != nil {
			if le, ok := errors.AsType[*lineError](err); !ok || le.Msg == "" || inc != nil {
				t.Fatalf("err = %#v, incident %v", err, inc)
			}
			return
		}
		if inc.Fields == nil || inc.Severity != "" && !slices.Contains(testRules.Severities, inc.Severity) ||
			!slices.Contains(testRules.Statuses, inc.Status) {
			t.Fatalf("accepted %+v", inc)
		}
		for _, s := range append([]string{inc.Title, inc.Service}, slices.Collect(maps.Values(inc.Fields))...) {
			if runbook.CleanText(s) != s {
				t.Fatalf("kept a control character: %q", s)
			}
		}
		if strings.ContainsAny(inc.Title+inc.Service, "\n\r") {
			t.Fatalf("a line break in a title or service: %+v", inc)
		}
	})
}
