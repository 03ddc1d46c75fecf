package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// fieldsConfig is the custom fields the tests below configure.
var fieldsConfig = []config.Field{
	{Name: "region", Type: "enum", Values: []string{"eu", "us", "apac"}, Required: true, Description: "Where customers see it"},
	{Name: "customer", Type: "string"},
	{Name: "impacted", Type: "integer"},
	{Name: "ticket", Type: "url"},
	{Name: "lead", Type: "user"},
}

// fieldsRunbook uses the custom fields both ways a runbook may: as incident.fields.NAME
// and, as Harness runbooks do, Activity.NAME, with Activity.summary and
// Activity.slack_channel; it makes the incident channel from a title that needs
// cleaning, with Harness's description and is_private.
const fieldsRunbook = `name: fields-kickoff
on:
  - event: incident.declared
steps:
  - id: channel
    action: slack.create_channel
    with:
      name: "inc-{{incident.number}}-{{incident.title}}"
      description: "{{Activity.title}} in {{Activity.region}}"
      is_private: true
  - action: slack.send_message
    with:
      channel: "#ops"
      text: "fields: {{incident.fields.region}}/{{incident.fields.customer}} activity: {{Activity.region}}/{{Activity.customer}} impacted={{Activity.impacted}} in {{Activity.slack_channel}}"
`

// fieldsUpdateRunbook reports a field and the summary on every update.
const fieldsUpdateRunbook = `name: fields-update
on:
  - event: incident.updated
steps:
  - action: slack.send_message
    with:
      channel: "#ops"
      text: "updated: region={{Activity.region}} summary={{Activity.summary}}"
`

type fieldsWorld struct {
	*incidentWorld
	ops slackfake.Channel
}

// setFieldsRunbook sets custom fields and the summary from a runbook, one value from a
// param; badFieldRunbook gives an integer field a value that only the run can see is
// not one.
const setFieldsRunbook = `name: set-fields
params:
  - { name: customer, type: string, required: true }
steps:
  - action: incident.update
    with:
      fields: { region: us, customer: "{{params.customer}}" }
      summary: "Moved to us for {{params.customer}}"
`

const badFieldRunbook = `name: bad-field
params:
  - { name: n, type: string, required: true }
steps:
  - action: incident.update
    with:
      fields: { impacted: "{{params.n}}" }
`

func startFields(t *testing.T, extra ...string) *fieldsWorld {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"kickoff.yaml": fieldsRunbook, "update.yaml": fieldsUpdateRunbook}
	for i, src := range extra {
		files[fmt.Sprintf("extra-%d.yaml", i)] = src
	}
	if err := apptest.WriteRunbooks(dir, nil, files); err != nil {
		t.Fatal(err)
	}
	w := &fieldsWorld{}
	w.incidentWorld = startIncidentsWith(t, func(c *config.Config) {
		c.Incidents.Fields = fieldsConfig
		c.Runbooks.Dir = dir
	})
	w.ops = w.Channel("ops", "alice")
	return w
}

// opsLines returns the bot's messages in #ops, oldest first.
func (w *fieldsWorld) opsLines() []string {
	var out []string
	for _, m := range w.botTopLevel(w.ops.ID) {
		out = append(out, m.Text)
	}
	return out
}

func (w *fieldsWorld) waitOps(what, want string) string {
	w.t.Helper()
	var found string
	w.WaitFor(what, func() bool {
		for _, l := range w.opsLines() {
			if strings.Contains(l, want) {
				found = l
				return true
			}
		}
		return false
	})
	return found
}

// TestCustomFieldsEndToEnd is the must-show: declare with two custom fields
// stores both, shows them in status and the announcement, and a runbook sees them as
// incident.fields.* and Activity.*; update changes one (on the timeline, seen by the
// next run); a bad enum is refused with the allowed values.
func TestCustomFieldsEndToEnd(t *testing.T) {
	w := startFields(t)
	answer := w.command(`declare sev1 payments Checkout & payments <failing> region=eu customer="Acme Corp"`)
	if !strings.Contains(answer, "Declared *INC-1*") {
		t.Fatalf("declare answered %q", answer)
	}
	inc := w.incident(1)
	if inc.Fields["region"] != "eu" || inc.Fields["customer"] != "Acme Corp" || len(inc.Fields) != 2 {
		t.Fatalf("fields = %#v", inc.Fields)
	}
	line := w.waitOps("the kickoff's message", "fields:")
	w.runsDone(1, 1)
	inc = w.incident(1)
	if want := "fields: eu/Acme Corp activity: eu/Acme Corp impacted= in <#" + inc.Channel + ">"; line != want {
		t.Errorf("runbook rendered %q, want %q", line, want)
	}
	// The title's & reads "and"; < and > leave no trace; the channel is private, with
	// Harness's description as its purpose.
	ch, ok := w.Slack.Channel(inc.Channel)
	if !ok || ch.Name != "inc-1-checkout-and-payments-failing" || !ch.Private || ch.Purpose != "Checkout &amp; payments &lt;failing&gt; in eu" {
		t.Fatalf("incident channel = %+v", ch)
	}

	status := w.command("status INC-1")
	for _, want := range []string{"*region*\\neu", "*customer*\\nAcme Corp"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	ann, _ := w.Slack.Message(inc.AnnouncementChannel, inc.AnnouncementTS)
	if !strings.Contains(string(ann.Blocks), `*region*\neu`) || !strings.Contains(string(ann.Blocks), `*customer*\nAcme Corp`) {
		t.Errorf("announcement lacks the fields: %s", ann.Blocks)
	}

	answer = w.command(`update INC-1 region=us summary="db primary overloaded"`)
	if !strings.Contains(answer, "Updated *INC-1*") || !strings.Contains(answer, "region us") || !strings.Contains(answer, "summary set") {
		t.Fatalf("update answered %q", answer)
	}
	inc = w.incident(1)
	if inc.Fields["region"] != "us" || inc.Fields["customer"] != "Acme Corp" || inc.Summary != "db primary overloaded" {
		t.Fatalf("after update: fields %#v, summary %q", inc.Fields, inc.Summary)
	}
	w.waitOps("the update runbook", "updated: region=us summary=db primary overloaded")
	ann, _ = w.Slack.Message(inc.AnnouncementChannel, inc.AnnouncementTS)
	if !strings.Contains(string(ann.Blocks), `*region*\nus`) || !strings.Contains(string(ann.Blocks), "db primary overloaded") {
		t.Errorf("announcement not redrawn with the change: %s", ann.Blocks)
	}
	status = w.command("status INC-1")
	if !strings.Contains(status, "*Summary*\\ndb primary overloaded") {
		t.Errorf("status lacks the summary:\n%s", status)
	}
	timeline := w.command("timeline INC-1")
	for _, want := range []string{"region eu → us", "summary: db primary overloaded"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}

	answer = w.command("update INC-1 region=mars")
	if !strings.Contains(answer, "region is one of eu, us, apac") {
		t.Fatalf("bad enum answered %q", answer)
	}
	if inc := w.incident(1); inc.Fields["region"] != "us" {
		t.Fatalf("a refused update changed region to %q", inc.Fields["region"])
	}
}

// TestCustomFieldsRefused: every wrong value is answered privately with the fix, and a
// refused declare creates nothing.
func TestCustomFieldsRefused(t *testing.T) {
	w := startFields(t)
	bad := []struct{ cmd, want string }{
		{"declare sev2 checkout slow pages", "region is required: add region=… to the declaration."},
		{"declare sev2 checkout slow pages region=eu regoin=us", "I don't know “regoin” (did you mean “region”?); use service, commander, summary, or a field: region, customer, impacted, ticket, lead."},
		{"declare sev2 checkout slow pages region=mars", "region is one of eu, us, apac."},
		{"declare sev2 checkout slow pages region=e", "region is one of eu, us, apac (did you mean eu?)."},
		{"declare sev2 checkout slow pages region=eu impacted=many", "impacted is a whole number, like impacted=3."},
		{"declare sev2 checkout slow pages region=eu ticket=ftp://x", "ticket is a web address starting with https:// or http://."},
		{"declare sev2 checkout slow pages region=eu lead=@nobody", "lead is a person: I can't find a user @nobody."},
		{"declare sev2 checkout slow pages region=eu customer=" + `"` + strings.Repeat("x", 400) + `"`, "The value of customer is 400 characters long; keep it under 300."},
	}
	for _, b := range bad {
		if answer := w.command(b.cmd); !strings.Contains(answer, b.want) {
			t.Errorf("%s\nanswered %q\nwant %q", b.cmd, answer, b.want)
		}
	}
	if list, _ := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{}); len(list) != 0 {
		t.Fatalf("refused declarations created %d incidents", len(list))
	}

	answer := w.command("declare sev2 checkout slow pages region=EU impacted=12 ticket=<https://tickets.example.com/7> lead=<@" + w.bob.ID + ">")
	if !strings.Contains(answer, "Declared *INC-1*") {
		t.Fatalf("declare answered %q", answer)
	}
	inc := w.incident(1)
	want := map[string]string{"region": "eu", "impacted": "12", "ticket": "https://tickets.example.com/7", "lead": w.bob.ID}
	for k, v := range want {
		if inc.Fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, inc.Fields[k], v)
		}
	}
	// The kickoff makes the incident's channel private without inviting alice, who
	// may see the summary once she is in it.
	w.WaitFor("the kickoff to claim a channel", func() bool { return w.incident(1).Channel != "" })
	w.Slack.JoinChannel(w.incident(1).Channel, w.alice.ID)
	// The summary shows a person field as the person, not an id.
	if sum := w.command("summary INC-1"); !strings.Contains(sum, `*lead:* \u003c@`+w.bob.ID+`\u003e`) {
		t.Errorf("summary = %q; want the lead as a mention", sum)
	}
	if answer := w.command("update INC-1 region="); !strings.Contains(answer, "region is required; give it a value instead of clearing it.") {
		t.Errorf("clearing a required field answered %q", answer)
	}
	if answer := w.command("update INC-1 tikcet=https://x.example.com"); !strings.Contains(answer, "(did you mean “ticket”?)") {
		t.Errorf("unknown field on update answered %q", answer)
	}
	if answer := w.command("update INC-1 lead=@bob"); !strings.Contains(answer, "lead <@"+w.bob.ID+">") {
		t.Errorf("a lead by @handle answered %q", answer)
	}
	if help := w.command("help declare"); !strings.Contains(help, "• `region` one of eu, us, apac, required — Where customers see it") {
		t.Errorf("help declare does not list the fields: %q", help)
	}
}

// TestDeclareFormFields: the form has an input per field (an enum as a menu, a user as
// a people picker); a missing required field and a bad value stay beside their inputs,
// and a good submission stores every field.
func TestDeclareFormFields(t *testing.T) {
	w := startFields(t)
	view := w.openDeclareForm(t)
	blocks := string(view.Blocks)
	for _, want := range []string{`"block_id":"field.region"`, `"type":"static_select"`, `"value":"apac"`, `"block_id":"field.lead"`, `"type":"users_select"`, `"block_id":"field.impacted"`, "Where customers see it"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("form lacks %s:\n%s", want, blocks)
		}
	}
	submit := func(values map[string]map[string]string) slackfake.Ack {
		t.Helper()
		sub, err := w.Slack.SubmitView(w.alice.ID, view.ID, values)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := sub.WaitAck(w.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	base := func() map[string]map[string]string {
		return map[string]map[string]string{"title": {"title": "Login is slow"}, "severity": {"severity": "sev2"}, "field.region": {"value": "eu"}}
	}
	vals := base()
	vals["field.impacted"] = map[string]string{"value": "lots"}
	ack := submit(vals)
	if p := string(ack.Payload); !strings.Contains(p, `"response_action":"errors"`) || !strings.Contains(p, `"field.impacted":"impacted is a whole number`) {
		t.Fatalf("a bad integer: ack = %s", p)
	}
	vals = base()
	vals["field.lead"] = map[string]string{"value": w.bob.ID}
	vals["field.ticket"] = map[string]string{"value": "https://tickets.example.com/9"}
	submit(vals)
	w.WaitFor("the incident", func() bool {
		inc, err := w.App().DB.Incidents().Incident(context.Background(), 1)
		return err == nil && inc.Fields["region"] == "eu" && inc.Fields["lead"] == w.bob.ID && inc.Fields["ticket"] == "https://tickets.example.com/9"
	})
}

// TestFieldValuesCannotPage: values people type are shown so that they cannot page a
// channel or a team, whichever way they were typed.
func TestFieldValuesCannotPage(t *testing.T) {
	w := startFields(t)
	answer := w.command(`declare sev3 checkout slow region=eu customer="<!channel> and <!subteam^S1|@oncall> &lt;!here&gt;"`)
	if !strings.Contains(answer, "Declared *INC-1*") {
		t.Fatalf("declare answered %q", answer)
	}
	w.command("update INC-1 customer=<!here>")
	inc := w.incident(1)
	status := w.command("status INC-1")
	ann, _ := w.Slack.Message(w.incidents.ID, inc.AnnouncementTS)
	for what, text := range map[string]string{"status": status, "announcement": string(ann.Blocks) + ann.Text, "timeline": w.command("timeline INC-1")} {
		for _, mass := range []string{"<!channel>", "<!here>", "<!subteam^"} {
			if strings.Contains(text, mass) {
				t.Errorf("%s carries %s:\n%s", what, mass, text)
			}
		}
	}
	w.runsDone(1, 1)
	for _, l := range w.opsLines() {
		if strings.Contains(l, "<!") {
			t.Errorf("a runbook posted %q", l)
		}
	}
}

// TestUserFieldIgnoresDisplayNames: a user field names a person by mention, id or
// username, never by display name, which anyone can set to anything.
func TestUserFieldIgnoresDisplayNames(t *testing.T) {
	w := startFields(t)
	w.Slack.AddUser("mallory", slackfake.UserDisplayName("boss"))
	for _, name := range []string{"@boss", `"boss"`} {
		answer := w.command("declare sev3 checkout slow region=eu lead=" + name)
		if !strings.Contains(answer, "lead is a person: I can't find a user") {
			t.Fatalf("the display name %s answered %q", name, answer)
		}
	}
	answer := w.command(`declare sev3 checkout slow region=eu lead=@bob`)
	if !strings.Contains(answer, "Declared *INC-1*") {
		t.Fatalf("declare answered %q", answer)
	}
	if got := w.incident(1).Fields["lead"]; got != w.bob.ID {
		t.Fatalf("lead = %q, want bob's id %s", got, w.bob.ID)
	}
}

// TestFieldChangeAppliedOnce: a request handled twice — redelivered after a crash that
// lost its answer — declares one incident and records each field change once.
func TestFieldChangeAppliedOnce(t *testing.T) {
	w := startFields(t)
	svc := w.App().Incidents
	ctx := context.Background()
	d := incidents.Declaration{Severity: "sev3", Title: "slow", Fields: map[string]string{"region": "eu"}, By: w.alice.ID, Key: "Ev-declare"}
	for range 2 {
		if _, err := svc.Declare(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	c := incidents.Change{Fields: map[string]string{"region": "us"}, By: w.alice.ID, Key: "Ev-update"}
	for range 2 {
		if _, err := svc.Update(ctx, 1, c); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := w.App().DB.Incidents().ListIncidents(ctx, runbook.IncidentFilter{}); len(list) != 1 {
		t.Fatalf("%d incidents, want 1", len(list))
	}
	timeline, err := w.App().DB.Incidents().Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range timeline {
		if e.Kind == runbook.TimelineField {
			n++
		}
	}
	// One for the fields declared, one for the change.
	if n != 2 || w.incident(1).Fields["region"] != "us" {
		t.Fatalf("%d field entries on the timeline, region %q; want 2 and us", n, w.incident(1).Fields["region"])
	}
}

// TestDeclaredFieldsOnTimeline: the fields given at declaration (and a default) are one
// timeline entry from the start, in the configured order, a user field as a mention;
// the declaring request handled again writes it no second time, and later changes
// are entries of their own.
func TestDeclaredFieldsOnTimeline(t *testing.T) {
	w := startFields(t)
	req := w.slashRequest("req-declare", "declare sev2 checkout Slow pages customer=acme region=eu lead=<@"+w.bob.ID+">")
	w.handleTwice(req, "Declared *INC-1*")
	want := "fields: region eu, customer acme, lead <@" + w.bob.ID + ">"
	if got := w.entries(1, runbook.TimelineField); len(got) != 1 || got[0].Text != want || got[0].Actor != w.alice.ID {
		t.Fatalf("field entries = %+v; want one %q by alice", got, want)
	}
	w.command("update INC-1 region=us")
	got := w.entries(1, runbook.TimelineField)
	if len(got) != 2 || got[1].Text != "region eu → us" {
		t.Errorf("field entries after update = %+v", got)
	}
	// A declaration with one field records that one.
	w.command("declare sev3 checkout Quiet region=apac")
	if got := w.entries(2, runbook.TimelineField); len(got) != 1 || got[0].Text != "fields: region apac" {
		t.Errorf("field entries of INC-2 = %+v", got)
	}
}

// TestRunbookSetsFieldsAndSummary: incident.update sets custom fields and the summary
// by the same rules as the update command: stored as the text they say (a param with &
// and < is not kept escaped), on the timeline once as the run's, seen by the runbooks
// the change triggers; a templated value that does not fit fails the step with the
// command's sentence and changes nothing.
func TestRunbookSetsFieldsAndSummary(t *testing.T) {
	w := startFields(t, setFieldsRunbook, badFieldRunbook)
	w.command("declare sev2 checkout Slow pages region=eu")
	w.runsDone(1, 1)
	if answer := w.command(`run set-fields INC-1 customer="A&B <corp>"`); !strings.Contains(answer, "set-fields") {
		t.Fatalf("run answered %q", answer)
	}
	w.runsDone(1, 3) // the kickoff, set-fields and the fields-update it triggers
	inc := w.incident(1)
	if inc.Fields["region"] != "us" || inc.Fields["customer"] != "A&B <corp>" || inc.Summary != "Moved to us for A&B <corp>" {
		t.Fatalf("after the run: fields %v, summary %q", inc.Fields, inc.Summary)
	}
	var texts []string
	for _, e := range w.entries(1, runbook.TimelineField) {
		texts = append(texts, e.Text+" by "+e.Actor)
	}
	want := []string{"fields: region eu by " + w.alice.ID, "region eu → us by runbook R-2", "customer set to A&B <corp> by runbook R-2"}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("field entries:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if got := w.entries(1, runbook.TimelineSummary); len(got) != 1 || got[0].Text != "summary: Moved to us for A&B <corp>" {
		t.Errorf("summary entries = %+v", got)
	}
	// The channel's topic shows the fields after the incident.
	if ch, _ := w.Slack.Channel(inc.Channel); !strings.HasSuffix(ch.Topic, "INC-1 checkout Slow pages | Region: us | Customer: A&B <corp>") {
		t.Errorf("topic = %q; want the fields after the incident", ch.Topic)
	}
	// Shown in Slack, the values are escaped once.
	w.waitOps("the update runbook's report", "updated: region=us summary=Moved to us for A&amp;B &lt;corp&gt;")

	w.command("run bad-field INC-1 n=many")
	w.runsDone(1, 4)
	runs := w.runsOf(1)
	var bad *runbook.Run
	for _, r := range runs {
		if r.Runbook == "bad-field" {
			bad = r
		}
	}
	if bad == nil || bad.State != runbook.RunFailed || !strings.Contains(bad.Steps[0].Error, "impacted is a whole number") {
		t.Fatalf("bad-field run = %+v", bad)
	}
	if got := w.incident(1).Fields["impacted"]; got != "" {
		t.Errorf("impacted = %q after a refused value", got)
	}
}

// usOnlyRunbook starts on declarations in the us region only.
const usOnlyRunbook = `name: us-only
on:
  - event: incident.declared
    if: { fields: { region: us } }
steps:
  - action: slack.send_message
    with:
      channel: "#ops"
      text: "us incident {{incident.id}}"
`

// TestTriggerOnCustomField: a trigger's if.fields picks incidents by a custom field.
func TestTriggerOnCustomField(t *testing.T) {
	w := startFields(t, usOnlyRunbook)
	w.command("declare sev2 checkout Slow pages region=eu")
	w.command("declare sev2 checkout Slow pages region=us")
	w.waitOps("the us-only runbook", "us incident INC-2")
	w.runsDone(2, 2)
	w.runsDone(1, 1)
	for _, l := range w.opsLines() {
		if strings.Contains(l, "us incident INC-1") {
			t.Errorf("the us-only runbook ran for the eu incident: %q", l)
		}
	}
	if n := len(w.runsOf(1)); n != 1 {
		t.Errorf("%d runs for the eu incident, want the kickoff alone", n)
	}
}
