package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackfake"
)

// A request the bot started handling but never recorded as done is handled again with
// the same id: Slack redelivers it, or the next process resumes it. These tests hand
// the running bot's handler one request twice, as that would, and check that what it
// does in Slack and in the store happens once and that both answers agree.

// slashRequest is a slash command from alice in #general, as the bot decodes it.
func (w *incidentWorld) slashRequest(id, text string) *runbook.Request {
	return &runbook.Request{Kind: runbook.KindCommand, ID: id, TeamID: w.Slack.TeamID(), UserID: w.alice.ID,
		ChannelID: w.general.ID, Command: "/runbook", Text: text, ReceivedAt: time.Now()}
}

// handle hands req to the running bot's handler and returns its answer's text, or the
// sentence an error becomes.
func (w *incidentWorld) handle(req *runbook.Request) string {
	w.t.Helper()
	reply, err := w.App().Handler.Handle(w.Context(), req)
	if err != nil {
		return runbook.ErrorMessage(err)
	}
	if reply == nil {
		return ""
	}
	blocks, _ := json.Marshal(reply.Blocks)
	return reply.Text + string(blocks)
}

// handleTwice handles one request twice and fails unless both answers contain want.
func (w *incidentWorld) handleTwice(req *runbook.Request, want ...string) {
	w.t.Helper()
	for i := range 2 {
		answer := w.handle(req)
		for _, s := range want {
			if !strings.Contains(answer, s) {
				w.t.Fatalf("answer %d to %q = %q; want %q in it", i+1, req.Text, answer, s)
			}
		}
	}
}

// updateTexts returns the bot's replies in the investigation updates channel's threads.
// updateTexts are the lines of the investigation updates posted so far, once every
// update queued has been posted.
func (w *incidentWorld) updateTexts() []string {
	w.t.Helper()
	w.WaitFor("investigation updates to be posted", func() bool { return w.App().Incidents.UpdatesWaiting() == 0 })
	var out []string
	for _, m := range w.Slack.Messages(w.updates.ID) {
		if m.BotID != "" && m.ThreadTS != "" && m.ThreadTS != m.TS {
			out = append(out, strings.Split(m.Text, "\n")...)
		}
	}
	return out
}

// countContaining counts the texts that contain s.
func countContaining(texts []string, s string) int {
	n := 0
	for _, t := range texts {
		if strings.Contains(t, s) {
			n++
		}
	}
	return n
}

func texts(msgs []slackfake.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

func (w *incidentWorld) runsOf(incidentID int64) []*runbook.Run {
	runs, err := w.App().DB.Runs().ListRuns(context.Background(), incidentID, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	return runs
}

func (w *incidentWorld) timeline(incidentID int64) []string {
	entries, err := w.App().DB.Incidents().Timeline(context.Background(), incidentID)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Kind+": "+e.Text)
	}
	return out
}

func TestDeclareHandledTwice(t *testing.T) {
	w := startIncidents(t)
	w.handleTwice(w.slashRequest("Ev-declare", "declare sev1 checkout Checkout errors"),
		"Declared *INC-1*", "Announced in <#"+w.incidents.ID+">", "*sev1-kickoff* (R-1)")
	w.runsDone(1, 1)

	list, _ := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{})
	if len(list) != 1 {
		t.Fatalf("%d incidents, want 1", len(list))
	}
	if got := texts(w.botTopLevel(w.incidents.ID)); len(got) != 1 {
		t.Errorf("announcements %q, want one", got)
	}
	if runs := w.runsOf(1); len(runs) != 1 {
		t.Errorf("%d runs, want the one kickoff", len(runs))
	}
	var channels []string
	for _, ch := range w.Slack.Channels() {
		if strings.HasPrefix(ch.Name, "inc-1") {
			channels = append(channels, ch.Name)
		}
	}
	if len(channels) != 1 {
		t.Errorf("incident channels %v, want one", channels)
	}
	updates := w.updateTexts()
	if countContaining(updates, "INC-1 declared") != 1 || countContaining(updates, "started (R-1)") != 1 {
		t.Errorf("investigation updates say the declaration or the kickoff more than once:\n%s", strings.Join(updates, "\n"))
	}

	// Another request declares another incident, even with the same words.
	if answer := w.handle(w.slashRequest("Ev-declare-2", "declare sev1 checkout Checkout errors")); !strings.Contains(answer, "Declared *INC-2*") {
		t.Fatalf("another declaration answered %q", answer)
	}
	w.runsDone(2, 1)
}

// A first attempt that posted the announcement and died before recording it: the
// second finds the announcement by its metadata instead of posting another.
func TestDeclareAdoptsAnInterruptedAnnouncement(t *testing.T) {
	w := startIncidents(t)
	req := w.slashRequest("Ev-declare", "declare sev3 search is slow")
	w.handle(req)
	first := w.incident(1)
	if first.AnnouncementTS == "" {
		t.Fatal("the incident was not announced")
	}
	if _, err := w.App().DB.Incidents().UpdateIncident(context.Background(), 1, func(i *runbook.Incident) error {
		i.AnnouncementChannel, i.AnnouncementTS = "", ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if answer := w.handle(req); !strings.Contains(answer, "Declared *INC-1*") || !strings.Contains(answer, "Announced in <#"+w.incidents.ID+">") {
		t.Fatalf("second answer = %q", answer)
	}
	if got := w.incident(1); got.AnnouncementTS != first.AnnouncementTS || got.AnnouncementChannel != w.incidents.ID {
		t.Errorf("announcement recorded at %s/%s, want the first one %s", got.AnnouncementChannel, got.AnnouncementTS, first.AnnouncementTS)
	}
	if got := texts(w.botTopLevel(w.incidents.ID)); len(got) != 1 {
		t.Errorf("announcements %q, want one", got)
	}
}

func TestDeclareFormHandledTwice(t *testing.T) {
	w := startIncidents(t)
	req := &runbook.Request{Kind: runbook.KindViewSubmission, ID: "Ev-form", UserID: w.alice.ID, ReceivedAt: time.Now(),
		View: &runbook.ViewSubmission{CallbackID: "incident.declare", PrivateMetadata: w.general.ID, Values: map[string]map[string]string{
			"title": {"title": "Login is slow"}, "severity": {"severity": "sev1"}, "service": {"service": ""}}}}
	w.handle(req)
	w.handle(req)
	w.runsDone(1, 1)
	list, _ := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{})
	if len(list) != 1 || len(w.runsOf(1)) != 1 || len(w.botTopLevel(w.incidents.ID)) != 1 {
		t.Fatalf("%d incidents, %d runs, %d announcements; want one of each", len(list), len(w.runsOf(1)), len(w.botTopLevel(w.incidents.ID)))
	}
	// Both confirmations name the one incident.
	for _, m := range w.Slack.Ephemerals(w.general.ID, w.alice.ID) {
		if !strings.Contains(m.Text, "Declared *INC-1*") {
			t.Errorf("confirmation = %q", m.Text)
		}
	}
}

func TestRunHandledTwice(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 slow pages")
	w.handleTwice(w.slashRequest("Ev-run", "run scale-up INC-1 service=checkout count=8"), "Started *scale-up* (R-1) for *INC-1*")
	w.WaitFor("the run to wait for approval", func() bool {
		r, err := w.App().DB.Runs().Run(context.Background(), 1)
		return err == nil && r.State == runbook.RunWaitingApproval
	})
	if runs := w.runsOf(0); len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	pending, err := w.App().DB.Approvals().PendingApprovals(context.Background())
	if err != nil || len(pending) != 1 {
		t.Fatalf("%d pending approvals (%v), want 1", len(pending), err)
	}
	if n := countContaining(w.updateTexts(), "started (R-1)"); n != 1 {
		t.Errorf("the run's start was reported %d times, want once:\n%s", n, strings.Join(w.updateTexts(), "\n"))
	}
}

func TestPostHandledTwice(t *testing.T) {
	w := startIncidents(t)
	ops := w.Slack.AddChannel("ops")
	w.handleTwice(w.slashRequest("Ev-post", "post to <#"+ops.ID+"|ops>: deploys are paused"), "Posted to <#"+ops.ID+">")
	if got := texts(w.botTopLevel(ops.ID)); len(got) != 1 {
		t.Fatalf("posted %q, want one message", got)
	}
	// The same words in another request are another post.
	w.handle(w.slashRequest("Ev-post-2", "post to <#"+ops.ID+"|ops>: deploys are paused"))
	if got := texts(w.botTopLevel(ops.ID)); len(got) != 2 {
		t.Fatalf("posted %q, want two messages", got)
	}
	// A public channel the bot is not in cannot be searched, and is posted to.
	lobby := w.Slack.AddChannel("lobby", slackfake.ChannelWithoutBot())
	if answer := w.handle(w.slashRequest("Ev-post-3", "post to <#"+lobby.ID+"|lobby>: hello")); !strings.Contains(answer, "Posted") {
		t.Fatalf("post to a channel the bot is not in answered %q", answer)
	}
}

func TestUpdateHandledTwice(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 slow pages")
	w.handleTwice(w.slashRequest("Ev-update", `update INC-1 status=mitigating note="rolled back"`),
		"Updated *INC-1*: sev3, mitigating, commander <@"+w.alice.ID+">")
	timeline := w.timeline(1)
	if countContaining(timeline, "rolled back") != 1 || countContaining(timeline, "status detected → mitigating") != 1 {
		t.Errorf("timeline:\n%s\nwant the change once", strings.Join(timeline, "\n"))
	}
	if n := countContaining(w.updateTexts(), "status detected → *mitigating*"); n != 1 {
		t.Errorf("the change was reported %d times, want once:\n%s", n, strings.Join(w.updateTexts(), "\n"))
	}
	// The same change asked for again, by another request, is another note.
	w.handle(w.slashRequest("Ev-update-2", `update INC-1 note="rolled back"`))
	if n := countContaining(w.timeline(1), "rolled back"); n != 2 {
		t.Errorf("%d notes after a second request, want 2", n)
	}
}

func TestResolveHandledTwice(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 slow pages")
	w.handleTwice(w.slashRequest("Ev-resolve", "resolve INC-1 fixed"), "Resolved *INC-1* slow pages")
	w.runsDone(1, 1)
	if runs := w.runsOf(1); len(runs) != 1 || runs[0].Runbook != "wrap-up" {
		t.Fatalf("runs %+v, want one wrap-up", runs)
	}
	if got := texts(w.botTopLevel(w.incidents.ID)); len(got) != 2 {
		t.Errorf("#incidents shows %q; want the announcement and one summary", got)
	}
	if n := countContaining(w.timeline(1), "resolved:"); n != 1 {
		t.Errorf("%d resolutions on the timeline, want 1", n)
	}
	// Another request to resolve it is told it is resolved already.
	if answer := w.handle(w.slashRequest("Ev-resolve-2", "resolve INC-1")); !strings.Contains(answer, "INC-1 is already resolved") {
		t.Errorf("a second resolve answered %q", answer)
	}
}
