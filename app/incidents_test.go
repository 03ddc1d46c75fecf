package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// incidentWorld is a workspace set up the way the example config describes it.
type incidentWorld struct {
	*harness
	bob       slackfake.User
	incidents slackfake.Channel
	payments  slackfake.Channel
	updates   slackfake.Channel
}

func startIncidents(t *testing.T) *incidentWorld { return startIncidentsWith(t) }

func startIncidentsWith(t *testing.T, opts ...func(*config.Config)) *incidentWorld {
	t.Helper()
	var w incidentWorld
	setup := func(h *harness) {
		w.bob = h.Person("bob")
		h.Group("oncall", "bob")
		w.incidents = h.Channel("incidents")
		w.payments = h.Channel("payments-incidents")
		w.updates = h.Channel("incident-updates")
	}
	w.harness = startWith(t, setup, append([]func(*config.Config){func(c *config.Config) {
		c.Slack.DefaultChannel = "#incidents"
		c.Slack.InvestigationUpdates = true
		c.Slack.UpdateChannel = "#incident-updates"
		c.Services = map[string]config.Service{"payments": {Slack: config.ServiceSlack{Channel: "#payments-incidents"}}}
	}}, opts...)...)
	return &w
}

// command sends a slash command as alice in #general and returns its answer.
func (w *incidentWorld) command(text string) string {
	w.t.Helper()
	return w.Ask(w.alice.ID, w.general.ID, text)
}

// openDeclareForm types a bare declare, as Slack sends it, and waits for the form it
// opens.
func (w *incidentWorld) openDeclareForm(t *testing.T) slackfake.View {
	t.Helper()
	d := w.Slack.SlashCommand(w.alice.ID, w.general.ID, "/runbook", "declare")
	if _, err := d.WaitAck(w.Context()); err != nil {
		t.Fatal(err)
	}
	var form slackfake.View
	w.WaitFor("the declare form", func() bool {
		for _, v := range w.Slack.Views() {
			if v.CallbackID == "incident.declare" && v.Open {
				form = v
				return true
			}
		}
		return false
	})
	return form
}

func (w *incidentWorld) incident(id int64) *runbook.Incident {
	w.t.Helper()
	a := w.App()
	inc, err := a.DB.Incidents().Incident(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

func (w *incidentWorld) runsDone(incidentID int64, n int) {
	w.t.Helper()
	w.WaitFor("runs of INC to finish", func() bool {
		runs, _ := w.App().DB.Runs().ListRuns(context.Background(), incidentID, 50)
		finished := 0
		for _, r := range runs {
			if r.State.Final() {
				finished++
			}
		}
		return finished >= n
	})
}

func TestDeclareUpdateResolve(t *testing.T) {
	w := startIncidents(t)
	answer := w.command(`declare sev1 checkout “Checkout <!channel> errors”`)
	if !strings.Contains(answer, "Declared *INC-1*") || !strings.Contains(answer, "sev1-kickoff") {
		t.Fatalf("declare answered %q", answer)
	}
	w.runsDone(1, 1)
	inc := w.incident(1)
	if inc.Title != "checkout Checkout <!channel> errors" && inc.Title != "Checkout <!channel> errors" {
		t.Fatalf("title = %q", inc.Title)
	}
	// Announced in the default channel, as text that cannot page anyone.
	ann, ok := w.Slack.Message(w.incidents.ID, inc.AnnouncementTS)
	if !ok || !strings.Contains(ann.Text, "INC-1") || strings.Contains(ann.Text, "<!channel>") {
		t.Fatalf("announcement = %+v", ann)
	}
	// The kickoff runbook made the incident channel.
	ch, ok := w.Slack.Channel(inc.Channel)
	if !ok || !strings.HasPrefix(ch.Name, "inc-1") {
		t.Fatalf("incident channel = %+v", ch)
	}

	answer = w.command(`update INC-1 status=mitigating severity=sev2 commander=<@` + w.bob.ID + `> note="rolled back"`)
	if !strings.Contains(answer, "Updated *INC-1*: sev2, mitigating, commander <@"+w.bob.ID+">") {
		t.Fatalf("update answered %q", answer)
	}
	ch, _ = w.Slack.Channel(inc.Channel)
	if !strings.Contains(ch.Topic, "SEV2 | mitigating | Commander: <@"+w.bob.ID+">") {
		t.Errorf("topic after update = %q", ch.Topic)
	}
	ann, _ = w.Slack.Message(w.incidents.ID, inc.AnnouncementTS)
	if !ann.Edited || !strings.Contains(string(ann.Blocks), "mitigating") {
		t.Errorf("announcement not edited in place: %+v", ann)
	}
	if n := len(w.botTopLevel(w.incidents.ID)); n != 1 {
		t.Errorf("%d top-level bot messages in #incidents before resolving, want the one announcement", n)
	}

	answer = w.command("resolve INC-1 fixed by rollback")
	if !strings.Contains(answer, "Resolved *INC-1*") {
		t.Fatalf("resolve answered %q", answer)
	}
	w.runsDone(1, 2)
	if ch, _ := w.Slack.Channel(inc.Channel); !ch.Archived {
		t.Error("the wrap-up runbook did not archive the incident channel")
	}
	timeline := w.command("timeline INC-1")
	for _, want := range []string{"status detected → mitigating", "severity sev1 → sev2", "rolled back", "status mitigating → resolved", "fixed by rollback"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	if list := w.command("list"); !strings.Contains(list, "No open incidents") {
		t.Errorf("list after resolving = %q", list)
	}
	if list := w.command("list all"); !strings.Contains(list, "INC-1") {
		t.Errorf("list all = %q", list)
	}
}

func TestDeclareRoutesByService(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 payments card payments failing")
	inc := w.incident(1)
	if inc.Service != "payments" || inc.Title != "card payments failing" || inc.AnnouncementChannel != w.payments.ID {
		t.Fatalf("incident = %+v; want service payments announced in #payments-incidents", inc)
	}
}

func TestInvestigationUpdatesAreThreaded(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev2 search results are stale")
	w.runsDone(1, 0)
	w.command("update INC-1 status=mitigating")
	w.command("resolve INC-1")
	// Updates are posted apart from the commands, lines for one incident together.
	var roots int
	var all string
	w.WaitFor("the resolution in the updates thread", func() bool {
		roots, all = 0, ""
		var rootTS string
		msgs := w.Slack.Messages(w.updates.ID)
		for _, m := range msgs {
			if m.BotID != "" && m.SubType == "" && (m.ThreadTS == "" || m.ThreadTS == m.TS) {
				roots++
				rootTS = m.TS
			}
		}
		var texts []string
		for _, m := range msgs {
			if m.ThreadTS == rootTS && m.TS != rootTS {
				texts = append(texts, m.Text)
			}
		}
		all = strings.Join(texts, "\n")
		return strings.Contains(all, "resolved")
	})
	if roots != 1 {
		t.Fatalf("%d roots in the updates channel; want one thread per incident", roots)
	}
	last := -1
	for _, want := range []string{"INC-1 declared", "status detected → *mitigating*", "resolved"} {
		i := strings.Index(all, want)
		if i < 0 {
			t.Errorf("updates lack %q:\n%s", want, all)
		} else if i < last {
			t.Errorf("%q is out of order:\n%s", want, all)
		}
		last = i
	}
}

func TestDeclareForm(t *testing.T) {
	w := startIncidents(t)
	viewID := w.openDeclareForm(t).ID
	// An empty title keeps the form open with the problem beside it.
	sub, err := w.Slack.SubmitView(w.alice.ID, viewID, map[string]map[string]string{"title": {"title": " "}, "severity": {"severity": "sev1"}})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := sub.WaitAck(w.Context())
	if err != nil || !strings.Contains(string(ack.Payload), `"response_action":"errors"`) || !strings.Contains(string(ack.Payload), "Give the incident a title") {
		t.Fatalf("ack = %s, %v", ack.Payload, err)
	}
	sub, err = w.Slack.SubmitView(w.alice.ID, viewID, map[string]map[string]string{"title": {"title": "Login is slow"}, "severity": {"severity": "sev2"}, "service": {"service": ""}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.WaitAck(w.Context()); err != nil {
		t.Fatal(err)
	}
	w.WaitFor("the incident", func() bool {
		inc, err := w.App().DB.Incidents().Incident(context.Background(), 1)
		return err == nil && inc.Title == "Login is slow" && inc.Severity == "sev2"
	})
}

func TestPostAndShowRecentMessages(t *testing.T) {
	w := startIncidents(t)
	ops := w.Slack.AddChannel("ops")
	answer := w.command("post to <#" + ops.ID + "|ops>: deploys are paused <!channel>")
	if !strings.Contains(answer, "Posted to <#"+ops.ID+">") {
		t.Fatalf("post answered %q", answer)
	}
	msgs := w.botTopLevel(ops.ID)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, "deploys are paused @channel") || !strings.Contains(msgs[0].Text, "<@"+w.alice.ID+">") {
		t.Fatalf("posted = %+v", msgs)
	}
	answer = w.command("post to #ops: second: with a colon")
	if !strings.Contains(answer, "Posted") || !strings.HasPrefix(w.botTopLevel(ops.ID)[1].Text, "second: with a colon") {
		t.Fatalf("plain #name post: %q %+v", answer, w.botTopLevel(ops.ID))
	}
	shown := w.command("show recent messages in #ops")
	if !strings.Contains(shown, "deploys are paused") || !strings.Contains(shown, "second: with a colon") {
		t.Fatalf("show answered %q", shown)
	}
	secret := w.Slack.AddChannel("secret", slackfake.ChannelPrivate(), slackfake.ChannelWithoutBot())
	for _, cmd := range []string{"post to #nowhere: hi", "post to <#" + secret.ID + "|secret>: hi", "show recent messages in #nowhere", "show recent messages in <#" + secret.ID + "|secret>"} {
		if answer := w.command(cmd); !strings.Contains(answer, "I can't see") {
			t.Errorf("%s answered %q; want a sentence saying the channel cannot be seen", cmd, answer)
		}
	}
}

func TestRunCommand(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 slow pages")
	if answer := w.command("run scale-up INC-1 service=checkout count=ten"); !strings.Contains(answer, "count must be a whole number") {
		t.Fatalf("bad param answered %q", answer)
	}
	if answer := w.command("run scale-up INC-1 service=checkout"); !strings.Contains(answer, "count") {
		t.Fatalf("missing param answered %q", answer)
	}
	if answer := w.command("run scaleup INC-1"); !strings.Contains(answer, "Did you mean “scale-up”?") {
		t.Fatalf("typo answered %q", answer)
	}
	answer := w.command("run scale-up INC-1 service=checkout count=8")
	if !strings.Contains(answer, "Started *scale-up* (R-1) for *INC-1*") {
		t.Fatalf("run answered %q", answer)
	}
	w.WaitFor("the run to wait for approval", func() bool {
		r, err := w.App().DB.Runs().Run(context.Background(), 1)
		return err == nil && r.State == runbook.RunWaitingApproval
	})
	if runs := w.command("runs INC-1"); !strings.Contains(runs, "R-1* scale-up — waiting approval") {
		t.Fatalf("runs answered %q", runs)
	}
	if answer := w.command("cancel R-1"); !strings.Contains(answer, "Cancelled R-1") {
		t.Fatalf("cancel answered %q", answer)
	}
	if answer := w.command("cancel R-1"); !strings.Contains(answer, "R-1 has already ended (cancelled)") {
		t.Fatalf("second cancel answered %q", answer)
	}
	if list := w.command("runbooks"); !strings.Contains(list, "scale-up") || !strings.Contains(list, "`count` (whole number, required)") {
		t.Fatalf("runbooks answered %q", list)
	}
}

func TestCommandErrors(t *testing.T) {
	w := startIncidents(t)
	for cmd, want := range map[string]string{
		"declare sev9 oops":            "“sev9” is not a severity; use one of sev0, sev1, sev2, sev3, sev4.",
		"declare sev1":                 "Give the incident a title.",
		"status":                       "Which incident? Give its id, like INC-42",
		"status INC-99":                "INC-99 does not exist",
		"status INC-x":                 "“INC-x” is not an incident id",
		"update INC-1 stauts=resolved": "INC-1 does not exist",
		"list some":                    "List “open” or “all” incidents",
		"cancel twelve":                "“twelve” is not a run id",
		"post #ops hi":                 "Say where to post",
		"post to #ops":                 "Nothing to post",
		`declare sev1 "unclosed`:       "I could not read that",
		"run":                          "Which runbook?",
		"show messages":                "Say which channel",
		"timeline":                     "Which incident?",
		"frobnicate":                   "I don't know the command `frobnicate`",
	} {
		if answer := w.command(cmd); !strings.Contains(answer, want) {
			t.Errorf("%q answered %q; want %q", cmd, answer, want)
		}
	}
	w.command("declare sev3 slow pages")
	if answer := w.command("update INC-1 stauts=resolved"); !strings.Contains(answer, "did you mean “status”?") {
		t.Errorf("typo in an option answered %q", answer)
	}
	if answer := w.command("update INC-1 status=fixed"); !strings.Contains(answer, "“fixed” is not a status") {
		t.Errorf("bad status answered %q", answer)
	}
}

func TestStatusInIncidentChannel(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev1 checkout down")
	w.runsDone(1, 1)
	inc := w.incident(1)
	w.Slack.AddUser("carol")
	d := w.Slack.Mention(w.alice.ID, inc.Channel, "status", "")
	w.WaitFor("the status reply", func() bool { return len(w.BotReplies(inc.Channel, d.TS)) > 0 })
	if reply := w.BotReplies(inc.Channel, d.TS)[0]; !strings.Contains(reply.Text, "INC-1") {
		t.Fatalf("status in the incident channel = %q", reply.Text)
	}
}

func TestHugeInputIsAnswered(t *testing.T) {
	w := startIncidents(t)
	long := strings.Repeat("x", 40000)
	if answer := w.command(long); !strings.Contains(answer, "I don't know the command") {
		t.Fatalf("a 40,000-character word answered %q", answer)
	}
	if answer := w.command("declare sev1 " + long); !strings.Contains(answer, "keep it under 200") {
		t.Fatalf("a 40,000-character title answered %.200q", answer)
	}
}

// TestEditedMentionDoesNotRunAgain edits a mention that declared an incident, as
// people do to fix a typo: Slack sends app_mention again, and it must not declare a
// second incident.
func TestEditedMentionDoesNotRunAgain(t *testing.T) {
	w := startIncidents(t)
	d := w.Slack.Mention(w.alice.ID, w.general.ID, "declare sev2 databse down", "")
	w.WaitFor("the declare reply", func() bool { return len(w.BotReplies(w.general.ID, d.TS)) == 1 })
	if reply := w.BotReplies(w.general.ID, d.TS)[0].Text; !strings.Contains(reply, "INC-1") {
		t.Fatalf("declare by mention answered %q", reply)
	}
	edit, err := w.Slack.EditMention(w.alice.ID, w.general.ID, d.TS, "declare sev2 database down")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := edit.WaitAck(w.Context()); err != nil {
		t.Fatalf("the edited mention was not acked: %v", err)
	}
	w.WaitFor("the answer to the edit", func() bool { return len(w.BotReplies(w.general.ID, d.TS)) == 2 })
	if reply := w.BotReplies(w.general.ID, d.TS)[1].Text; !strings.Contains(reply, "editing it does not run it again") {
		t.Errorf("the edit was answered %q", reply)
	}
	if list := w.command("list all"); !strings.Contains(list, "INC-1") || strings.Contains(list, "INC-2") {
		t.Fatalf("after editing the mention, list all = %q; want INC-1 only", list)
	}
	if n := len(w.botTopLevel(w.incidents.ID)); n != 1 {
		t.Errorf("#incidents has %d announcements, want 1", n)
	}
}

// TestDeclareIsAnsweredBeforeItIsAnnounced: a declaration is answered as soon as the
// incident is recorded; the announcement and the kickoff follow the answer. With
// Slack slower to answer than the ack can wait, the person still hears at once, in the
// ack, and the announcement is posted once; what fails of it is told in a follow-up.
func TestDeclareIsAnsweredBeforeItIsAnnounced(t *testing.T) {
	// Slack answers every Web API call later than the bot may wait to ack (its
	// default budget, 2 s): an answer that waited for the announcement would miss the
	// ack.
	w := startIncidents(t)
	w.Slack.SetLatency(2*w.Config.Bot.AckBudget + time.Second)
	d := w.Slack.SlashCommand(w.alice.ID, w.general.ID, "/runbook", "declare sev1 checkout Checkout errors")
	ack, err := d.WaitAck(w.Context())
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ Text string }
	json.Unmarshal(ack.Payload, &answer)
	for _, want := range []string{"Declared *INC-1*", "Announcing it in #incidents.", "Starting *sev1-kickoff*"} {
		if !strings.Contains(answer.Text, want) {
			t.Fatalf("the ack carried %q; want %q in it, before Slack answered the announcement", answer.Text, want)
		}
	}
	w.Slack.SetLatency(0)
	w.WaitDone(d.EnvelopeID)
	if inc := w.incident(1); inc.AnnouncementTS == "" {
		t.Fatal("the announcement was not recorded")
	}
	if n := len(w.botTopLevel(w.incidents.ID)); n != 1 {
		t.Fatalf("%d announcements in #incidents, want 1", n)
	}
	w.runsDone(1, 1)
	w.WaitFor("the investigation updates to be posted", func() bool { return w.App().Incidents.UpdatesWaiting() == 0 })

	w.Slack.FailNextWith("chat.postMessage", 1, slackfake.Failure{Code: "channel_not_found"})
	if answer := w.command("declare sev2 payments Card declines"); !strings.Contains(answer, "Announcing it in #payments-incidents.") {
		t.Fatalf("declare answered %q", answer)
	}
	warning := ":warning: *INC-2* is declared, but I could not announce it in #payments-incidents: "
	w.WaitFor("the follow-up about the announcement", func() bool {
		for _, m := range w.Slack.Ephemerals(w.general.ID, w.alice.ID) {
			if strings.HasPrefix(m.Text, warning) {
				return true
			}
		}
		return false
	})

	// A mention is acked before it is handled, so its declaration is announced before
	// the answer, which says what failed.
	w.WaitFor("INC-2's runs to end", func() bool {
		runs, err := w.App().DB.Runs().ListRuns(context.Background(), 2, 50)
		for _, r := range runs {
			if !r.State.Final() {
				return false
			}
		}
		return err == nil
	})
	w.WaitFor("the investigation updates to be posted", func() bool { return w.App().Incidents.UpdatesWaiting() == 0 })
	w.Slack.FailNextWith("chat.postMessage", 1, slackfake.Failure{Code: "channel_not_found"})
	m := w.Slack.Mention(w.alice.ID, w.general.ID, "declare sev2 payments Refunds stuck", "")
	w.WaitFor("the answer to the mention", func() bool { return len(w.BotReplies(w.general.ID, m.TS)) > 0 })
	if got := w.BotReplies(w.general.ID, m.TS)[0].Text; !strings.Contains(got, "Declared *INC-3*") ||
		!strings.Contains(got, ":warning: *INC-3* is declared, but I could not announce it in #payments-incidents: ") {
		t.Fatalf("the mentioned declaration was answered %q", got)
	}
}
