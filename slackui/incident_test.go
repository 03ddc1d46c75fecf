package slackui_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// TestAnnouncementFields: custom fields are drawn in their configured order, ten to a
// section as Slack allows, a user field as a mention, anything typed escaped.
func TestAnnouncementFields(t *testing.T) {
	var specs []runbook.FieldSpec
	inc := &runbook.Incident{ID: 3, Title: "t", Severity: "sev2", Status: "detected", Fields: map[string]string{}}
	for i := range 12 {
		name := fmt.Sprintf("f%02d", i)
		specs = append(specs, runbook.FieldSpec{Name: name, Type: runbook.FieldString})
		inc.Fields[name] = "v"
	}
	specs = append(specs, runbook.FieldSpec{Name: "lead", Type: runbook.FieldUser})
	inc.Fields["lead"] = "U07"
	inc.Fields["customer"] = "<!channel> & co" // no longer configured, still shown
	msg := slackui.Announcement(inc, specs...)
	b, err := json.Marshal(msg.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []struct {
		Type   string            `json:"type"`
		Fields []json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(b, &blocks); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, bl := range blocks {
		if len(bl.Fields) > 10 {
			t.Errorf("a section has %d fields; Slack allows 10", len(bl.Fields))
		}
		total += len(bl.Fields)
	}
	if total != 3+14 {
		t.Errorf("%d fields drawn, want 17", total)
	}
	s := string(b)
	if !strings.Contains(s, `*lead*\n\u003c@U07\u003e`) || strings.Contains(s, "<!channel>") || !strings.Contains(s, `\u0026lt;!channel\u0026gt; \u0026amp; co`) {
		t.Errorf("blocks = %s", s)
	}
	if strings.Index(s, "f00") > strings.Index(s, "f11") || strings.Index(s, "f11") > strings.Index(s, "lead") {
		t.Errorf("fields out of order: %s", s)
	}
}

// TestDeclareFormFields: one input per field, optional unless required, starting at
// the default.
func TestDeclareFormFields(t *testing.T) {
	v := slackui.DeclareForm("C1", []string{"sev1"},
		runbook.FieldSpec{Name: "region", Type: runbook.FieldEnum, Values: []string{"eu", "us"}, Required: true, Default: "us"},
		runbook.FieldSpec{Name: "lead", Type: runbook.FieldUser, Description: "Who leads"},
		runbook.FieldSpec{Name: "n", Type: runbook.FieldInteger, Default: "2"})
	b, _ := json.Marshal(v)
	s := string(b)
	for _, want := range []string{`"block_id":"field.region"`, `"initial_option":{"text":{"type":"plain_text","text":"us"`, `"block_id":"field.lead"`, `"type":"users_select"`, `"hint":{"type":"plain_text","text":"Who leads"`, `"initial_value":"2"`} {
		if !strings.Contains(s, want) {
			t.Errorf("form lacks %s:\n%s", want, s)
		}
	}
	if strings.Count(s, `"optional":true`) != 3 { // service, lead, n
		t.Errorf("optional inputs: %s", s)
	}
}
