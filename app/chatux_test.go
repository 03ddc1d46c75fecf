package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

func TestDeclareAsksAboutAMisspelledService(t *testing.T) {
	w := startIncidents(t) // the configured service is "payments"
	answer := w.command("declare sev3 paymnts card payments failing")
	for _, want := range []string{"Did you mean the service “payments”?", "`/runbook declare sev3 payments card payments failing`", "`/runbook declare sev3 -- paymnts card payments failing`"} {
		if !strings.Contains(answer, want) {
			t.Fatalf("a misspelled service answered %q; want %q", answer, want)
		}
	}
	if n := len(w.botTopLevel(w.incidents.ID)) + len(w.botTopLevel(w.payments.ID)); n != 0 {
		t.Fatalf("the misspelled declaration announced %d incident(s); want none", n)
	}

	w.command("declare sev3 -- paymnts is a word we use")
	if inc := w.incident(1); inc.Title != "paymnts is a word we use" || inc.Service != "" {
		t.Fatalf("declare with -- made %+v; want the whole title and no service", inc)
	}
	w.command("declare sev3 slow pages")
	if inc := w.incident(2); inc.Title != "slow pages" {
		t.Fatalf("a title far from any service made %+v", inc)
	}
	w.command("declare sev3 payments")
	if inc := w.incident(3); inc.Title != "payments" {
		t.Fatalf("a title that is a service's name made %+v", inc)
	}
	if help := w.command("help declare"); !strings.Contains(help, "--") {
		t.Fatalf("help declare does not say how to start a title with any word: %q", help)
	}
}

func TestDeclareWithoutServicesNeverAsks(t *testing.T) {
	w := startIncidentsWith(t, func(c *config.Config) { c.Services = nil })
	w.command("declare sev3 paymnts card payments failing")
	if inc := w.incident(1); inc.Title != "paymnts card payments failing" {
		t.Fatalf("with no services configured, declare made %+v", inc)
	}
}

func TestRunReportsEveryParamProblemAtOnce(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 slow pages")
	answer := w.command("run scale-up INC-1 serivce=checkout regoin=eu")
	for _, want := range []string{`scale-up has no param "regoin" and "serivce" (did you mean "service"?); its params are service, count`, "service and count are required"} {
		if !strings.Contains(answer, want) {
			t.Errorf("run with two typos and two params missing answered %q; want %q", answer, want)
		}
	}
}

func TestHelpRunShowsARunbooksParams(t *testing.T) {
	w := startIncidents(t)
	answer := strings.Join(w.AskBlocks(w.alice.ID, w.general.ID, "help run scale-up"), "\n")
	for _, want := range []string{"`/runbook run scale-up [INC-id] service=&lt;text&gt; count=&lt;whole number&gt; [--dry-run]`", "`service` (text, required)", "`count` (whole number, required)"} {
		if !strings.Contains(answer, want) {
			t.Errorf("help run scale-up answered %q; want %q", answer, want)
		}
	}
	if answer := w.command("help run scaleup"); !strings.Contains(answer, "Did you mean “scale-up”?") {
		t.Errorf("help run with a typo answered %q", answer)
	}
	if answer := w.command("help run"); !strings.Contains(answer, "help run &lt;runbook&gt;` shows a runbook's params") {
		t.Errorf("help run answered %q", answer)
	}
}

// chatRunbooks start runs in #general; dm-commander writes to the incident's commander,
// and carries-on goes on past a step that fails.
var chatRunbooks = map[string]string{
	"dm-commander": `
name: dm-commander
steps:
  - action: slack.dm
    with: { user: commander, text: "You command {{incident.id}}" }
`,
	"carries-on": `
name: carries-on
steps:
  - action: slack.send_message
    with: { channel: "#general", text: "first step" }
  - id: notify
    action: slack.dm
    on_error: continue
    with: { user: commander, text: "heads up" }
  - action: slack.send_message
    with: { channel: "#general", text: "last step" }
`,
}

func startChatRunbooks(t *testing.T) *actsWorld {
	t.Helper()
	return startActs(t, nil, chatRunbooks)
}

func TestDMToTheCommander(t *testing.T) {
	w := startChatRunbooks(t)
	w.Ask(w.alice.ID, w.general.ID, "declare sev3 slow pages commander=<@"+w.bob.ID+">")
	w.waitRun(w.run("dm-commander INC-1"), runbook.RunSucceeded)
	dm := dmWith(t, w.Slack, w.bob.ID)
	if msgs := w.Slack.Messages(dm.ID); len(msgs) != 1 || msgs[0].Text != "You command INC-1" {
		t.Fatalf("the commander's DMs = %+v", msgs)
	}

	// Declaring makes the declarer the commander; an incident without one is stored as
	// the store keeps one made by hand (or whose commander was handed to nobody).
	if err := w.App().DB.Incidents().CreateIncident(context.Background(), &runbook.Incident{Title: "nobody in charge",
		Severity: "sev3", Status: "investigating", CreatedBy: w.alice.ID}); err != nil {
		t.Fatal(err)
	}
	w.waitRun(w.run("dm-commander INC-2"), runbook.RunFailed)
	w.botSaid(w.general.ID, "user is “commander”, but INC-2 has no commander yet")
}

func TestContinuedFailureIsReportedToTheStarter(t *testing.T) {
	w := startChatRunbooks(t)
	id := w.run("carries-on") // no incident: the DM to its commander fails
	w.waitRun(id, runbook.RunSucceeded)
	said := w.botSaid(w.general.ID, "finished, but")
	for _, want := range []string{"<@" + w.alice.ID + ">", "*carries-on* (R-1) finished, but step 2 “notify” (slack.dm) failed:", "this run is not about an incident"} {
		if !strings.Contains(said, want) {
			t.Fatalf("the run's report = %q; want %q", said, want)
		}
	}
	w.botSaid(w.general.ID, "last step")
}

// dmWith waits for the bot's DM with a user and returns it.
func dmWith(t *testing.T, srv *slackfake.Server, user string) slackfake.Channel {
	t.Helper()
	for _, c := range srv.Channels() {
		if c.IM && c.User == user {
			return c
		}
	}
	t.Fatalf("no DM with %s", user)
	return slackfake.Channel{}
}
