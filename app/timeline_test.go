package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// handled waits until the bot has acked and finished handling a delivery, so that a
// test can check what it did not do.
func (w *incidentWorld) handled(d *slackfake.Delivery) {
	w.t.Helper()
	var p struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil || p.EventID == "" {
		w.t.Fatalf("delivery without an event id: %s", d.Payload)
	}
	w.WaitFor("the event's ack", func() bool { return len(w.Slack.Acks(d.EnvelopeID)) > 0 })
	w.WaitFor("the event to be handled", func() bool {
		open, err := w.App().DB.Inbox().Unfinished(context.Background())
		return err == nil && !slices.ContainsFunc(open, func(e runbook.Envelope) bool { return e.ID == p.EventID })
	})
}

// entries are an incident's timeline entries of a kind.
func (w *incidentWorld) entries(incidentID int64, kind string) []runbook.TimelineEntry {
	w.t.Helper()
	all, err := w.App().DB.Incidents().Timeline(context.Background(), incidentID)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []runbook.TimelineEntry
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// react adds a reaction as a person, failing the test if the emulator refuses it.
func (w *incidentWorld) react(user, channel, ts, name string) *slackfake.Delivery {
	w.t.Helper()
	d, err := w.Slack.ReactionAdded(user, channel, ts, name)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// declareWithChannel declares a sev1, whose kickoff runbook opens its channel with
// alice (the commander) and @oncall (bob) in it, and returns the channel.
func (w *incidentWorld) declareWithChannel() string {
	w.t.Helper()
	w.command("declare sev1 checkout Checkout is down")
	w.runsDone(1, 1)
	ch := w.incident(1).Channel
	if ch == "" {
		w.t.Fatal("the kickoff runbook opened no channel")
	}
	return ch
}

func TestPushpinAddsMessageToTimelineOnce(t *testing.T) {
	w := startIncidents(t)
	ch := w.declareWithChannel()
	msg, err := w.Slack.PostAs(w.alice.ID, ch, "cache hit rate fell to 3% <!channel> at deploy")
	if err != nil {
		t.Fatal(err)
	}
	d := w.react(w.bob.ID, ch, msg.TS, "pushpin")
	w.WaitFor("the pinned message on the timeline", func() bool { return len(w.entries(1, runbook.TimelinePinned)) == 1 })
	if _, err := d.WaitAck(w.Context()); err != nil {
		t.Fatal(err)
	}

	// Slack redelivers the event; someone else pins the same message too.
	if err := w.Slack.Redeliver(d.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	w.WaitFor("the redelivery's ack", func() bool { return len(w.Slack.Acks(d.EnvelopeID)) >= 2 })
	w.handled(w.react(w.alice.ID, ch, msg.TS, "pushpin"))
	// Another reaction is no pin.
	w.handled(w.react(w.bob.ID, ch, msg.TS, "eyes"))

	pins := w.entries(1, runbook.TimelinePinned)
	if len(pins) != 1 {
		t.Fatalf("%d pinned entries, want exactly one: %+v", len(pins), pins)
	}
	e := pins[0]
	if e.Actor != w.alice.ID {
		t.Errorf("pinned entry by %q, want the message's author %s", e.Actor, w.alice.ID)
	}
	if want := tsMillis(t, msg.TS); e.At.UnixMilli() != want {
		t.Errorf("pinned entry at %d, want the message's own time %d", e.At.UnixMilli(), want)
	}
	if !strings.Contains(e.Text, "cache hit rate fell to 3%") || strings.Contains(e.Text, "<!channel>") {
		t.Errorf("pinned text %q: want the message, its mass mention neutralized", e.Text)
	}
	timeline := w.command("timeline INC-1")
	if !strings.Contains(timeline, "cache hit rate") || strings.Contains(timeline, "<!channel>") {
		t.Errorf("timeline = %q", timeline)
	}
	if n := countContaining(w.updateTexts(), "Pinned to the timeline"); n != 1 {
		t.Errorf("the pin was reported %d times, want once:\n%s", n, strings.Join(w.updateTexts(), "\n"))
	}
}

func TestPushpinOnAThreadReplyAndElsewhere(t *testing.T) {
	w := startIncidents(t)
	ch := w.declareWithChannel()
	root, err := w.Slack.PostAs(w.alice.ID, ch, "looking at the db")
	if err != nil {
		t.Fatal(err)
	}
	reply, err := w.Slack.PostReplyAs(w.bob.ID, ch, root.TS, "replica lag is 40s")
	if err != nil {
		t.Fatal(err)
	}
	w.react(w.alice.ID, ch, reply.TS, "pushpin")
	w.WaitFor("the reply on the timeline", func() bool { return len(w.entries(1, runbook.TimelinePinned)) == 1 })
	if e := w.entries(1, runbook.TimelinePinned)[0]; e.Text != "replica lag is 40s" || e.Actor != w.bob.ID {
		t.Errorf("pinned %+v, want bob's thread reply", e)
	}
	if w.Slack.Calls("conversations.replies") == 0 {
		t.Error("a thread reply was read without conversations.replies")
	}

	// A pin in a channel that is no incident's adds nothing anywhere.
	other, err := w.Slack.PostAs(w.alice.ID, w.general.ID, "lunch?")
	if err != nil {
		t.Fatal(err)
	}
	w.handled(w.react(w.alice.ID, w.general.ID, other.TS, "pushpin"))
	if n := len(w.entries(1, runbook.TimelinePinned)); n != 1 {
		t.Errorf("%d pinned entries after a pin in #general, want 1", n)
	}

	// A private channel the bot is not in: Slack sends the bot nothing, and nothing is
	// added even if an event claims otherwise.
	secret := w.Slack.AddChannel("secret", slackfake.ChannelPrivate(), slackfake.ChannelWithoutBot(),
		slackfake.ChannelMembers(w.alice.ID))
	hidden, err := w.Slack.PostAs(w.alice.ID, secret.ID, "private words")
	if err != nil {
		t.Fatal(err)
	}
	if d := w.react(w.alice.ID, secret.ID, hidden.TS, "pushpin"); d.EnvelopeID != "" {
		t.Fatal("the emulator sent a reaction from a channel the bot is not in")
	}
	if n := len(w.entries(1, runbook.TimelinePinned)); n != 1 {
		t.Errorf("%d pinned entries after a pin in a private channel, want 1", n)
	}
}

func TestNoteKindsFollowUpsAndSummary(t *testing.T) {
	w := startIncidents(t)
	ch := w.declareWithChannel()
	for _, tc := range []struct{ text, kind, stored, update string }{
		{"note hypothesis: the cache expired at deploy", runbook.TimelineHypothesis, "the cache expired at deploy", "Hypothesis formed"},
		{"note INC-1 root cause: cache TTL set to 0 by config push", runbook.TimelineRootCause, "cache TTL set to 0 by config push", "Root cause identified"},
		{"note remediation: restore TTL=300", runbook.TimelineRemediation, "restore TTL=300", "Remediation suggested"},
		{"note action: rolled back config 41", runbook.TimelineAction, "rolled back config 41", "Action executed"},
		{"note customers see 502s", runbook.TimelineNote, "customers see 502s", "Note on INC-1"},
		// In the incident's channel, a number first is the note's, not an incident id.
		{"note 40 pods restarted", runbook.TimelineNote, "40 pods restarted", "40 pods restarted"},
	} {
		if answer := w.Ask(w.alice.ID, ch, tc.text); !strings.Contains(answer, "Added") {
			t.Fatalf("%q answered %q", tc.text, answer)
		}
		if n := countContaining(w.timeline(1), tc.kind+": "+tc.stored); n != 1 {
			t.Errorf("%q: %d “%s: %s” entries, want 1:\n%s", tc.text, n, tc.kind, tc.stored, strings.Join(w.timeline(1), "\n"))
		}
		if n := countContaining(w.updateTexts(), tc.update); n != 1 {
			t.Errorf("%q: %d investigation updates saying %q, want 1", tc.text, n, tc.update)
		}
	}
	if e := w.entries(1, runbook.TimelineRemediation)[0]; e.Text != "restore TTL=300" {
		t.Errorf("remediation stored as %q", e.Text)
	}
	if answer := w.Ask(w.alice.ID, ch, "note root cause:"); !strings.Contains(answer, "Write the root cause after “root cause:”") {
		t.Errorf("an empty root cause answered %q", answer)
	}

	// Follow-ups: added, listed, done by whom may, refused otherwise.
	answer := w.Ask(w.alice.ID, ch, `followup "alert on cache TTL <!channel>" <@`+w.bob.ID+`>`)
	if !strings.Contains(answer, "Added follow-up *F-1*") || strings.Contains(answer, "<!channel>") {
		t.Fatalf("followup answered %q", answer)
	}
	w.Ask(w.alice.ID, ch, `followup "write the postmortem"`)
	if list := w.Ask(w.alice.ID, ch, "followups"); !strings.Contains(list, "F-1") || !strings.Contains(list, "F-2") || strings.Contains(list, "<!channel>") {
		t.Errorf("followups = %q", list)
	}
	if answer := w.Ask(w.alice.ID, ch, `followup "`+strings.Repeat("x", 100_000)+`"`); !strings.Contains(answer, "keep it under 500") {
		t.Errorf("a 100 KB follow-up answered %q", truncate(answer))
	}
	// In the incident's channel a number first is the follow-up's, even when another
	// incident has that number.
	w.command("declare sev3 payments Refunds slow")
	if answer := w.Ask(w.alice.ID, ch, "followup 2 more replicas"); !strings.Contains(answer, "INC-1") || strings.Contains(answer, "INC-2") {
		t.Errorf("followup 2 more replicas in INC-1's channel answered %q", answer)
	}
	carol := w.Person("carol")
	if answer := w.Ask(carol.ID, w.general.ID, "done F-1"); !strings.Contains(answer, "may mark it done") {
		t.Errorf("done by someone not permitted answered %q", answer)
	}
	if answer := w.Ask(w.bob.ID, ch, "done F-9"); !strings.Contains(answer, "There is no follow-up F-9") {
		t.Errorf("done F-9 answered %q", answer)
	}
	if answer := w.Ask(w.bob.ID, ch, "done X-1"); !strings.Contains(answer, "is not a follow-up id (like F-3)") {
		t.Errorf("done X-1 answered %q", answer)
	}
	if answer := w.Ask(w.bob.ID, ch, "done F-1"); !strings.Contains(answer, "*F-1* of *INC-1* is done") {
		t.Errorf("done F-1 by its owner answered %q", answer)
	}
	if answer := w.Ask(w.alice.ID, ch, "done F-1"); !strings.Contains(answer, "F-1 is already done") {
		t.Errorf("done F-1 again answered %q", answer)
	}

	// The summary, in the incident's channel, is public.
	d := w.Slack.SlashCommand(w.alice.ID, ch, "/runbook", "summary")
	ack, err := d.WaitAck(w.Context())
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		ResponseType string          `json:"response_type"`
		Blocks       json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(ack.Payload, &body); err != nil {
		t.Fatalf("summary ack %s: %v", ack.Payload, err)
	}
	summary := string(body.Blocks)
	for _, want := range []string{"cache TTL set to 0 by config push", "restore TTL=300", "Duration:", "F-2", "write the postmortem", "Checkout is down", "1 follow-up done"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if _, followUps, _ := strings.Cut(summary, "Follow-ups*"); strings.Contains(followUps, "alert on cache TTL") {
		t.Errorf("summary lists the done follow-up F-1 as open:\n%s", summary)
	}
	if body.ResponseType != "in_channel" {
		t.Errorf("summary in the incident channel answered %s, want in_channel", body.ResponseType)
	}
}

func TestSummaryOfPrivateIncidentDoesNotLeak(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 payments Card refunds stuck")
	dave := w.Person("dave")
	secret := w.Slack.AddChannel("inc-secret", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.alice.ID, dave.ID, w.Slack.BotUserID()))
	if err := w.App().Incidents.ClaimChannel(context.Background(), 1, runbook.Conversation{ID: secret.ID, Private: true}); err != nil {
		t.Fatal(err)
	}
	w.Ask(w.alice.ID, secret.ID, "note root cause: refund worker deadlocked on acct 4417")
	carol := w.Person("carol")
	answer := w.Ask(carol.ID, w.general.ID, "summary INC-1")
	if !strings.Contains(answer, "only its members may see its summary") || strings.Contains(answer, "deadlocked") {
		t.Fatalf("summary of a private incident for an outsider answered %q", answer)
	}
	w.Ask(w.alice.ID, secret.ID, `followup "rotate acct 4417 keys"`)
	if answer := w.Ask(carol.ID, w.general.ID, "followups INC-1"); !strings.Contains(answer, "only its members may see its followups") || strings.Contains(answer, "4417") {
		t.Errorf("followups of a private incident for an outsider answered %q", answer)
	}
	// While Slack cannot say who is in the channel, a member (not its declarer, who
	// may see it anyway) is told Slack had a problem, never that they may not see it.
	w.Slack.FailNextWith("conversations.members", 100, slackfake.Failure{Code: "fatal_error"})
	if answer := w.Ask(dave.ID, w.general.ID, "summary INC-1"); !strings.Contains(answer, "Slack had a problem") || strings.Contains(answer, "only its members") {
		t.Errorf("summary for a member while Slack fails answered %q", answer)
	}
	w.Slack.FailNextWith("conversations.members", 0, slackfake.Failure{})
	// Its member, in a public channel, sees it privately.
	d := w.Slack.SlashCommand(w.alice.ID, w.general.ID, "/runbook", "summary INC-1")
	ack, err := d.WaitAck(w.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ack.Payload), "deadlocked") || !strings.Contains(string(ack.Payload), `"response_type":"ephemeral"`) {
		t.Errorf("summary for a member in #general acked %s; want it shown only to them", truncate(string(ack.Payload)))
	}
	for _, m := range w.Slack.Messages(w.general.ID) {
		if strings.Contains(m.Text+string(m.Blocks), "deadlocked") && !m.Ephemeral {
			t.Errorf("the private incident's root cause was posted in #general: %+v", m)
		}
	}
}

func TestSummaryStepPostsOnceAcrossRestart(t *testing.T) {
	w := startIncidents(t)
	ch := w.declareWithChannel()
	w.Ask(w.alice.ID, ch, "note root cause: a bad deploy")
	w.command("resolve INC-1 rolled back")
	w.runsDone(1, 2)
	summaries := func() int {
		n := 0
		for _, m := range w.botTopLevel(ch) {
			if strings.Contains(m.Text, "Summary of INC-1") {
				n++
			}
		}
		return n
	}
	if n := summaries(); n != 1 {
		t.Fatalf("%d summaries in the incident channel after wrap-up, want 1", n)
	}
	runs := w.runsOf(1)
	wrap := runs[0]
	if wrap.Runbook != "wrap-up" {
		t.Fatalf("newest run is %s, want wrap-up", wrap.Runbook)
	}
	// As if the process died after posting the summary and before recording it: the
	// step and the steps after it are running and pending again when the bot restarts.
	w.Stop()
	db, err := sql.Open("sqlite3", "file:"+w.Config.Store.Path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE runs SET state = 'running' WHERE id = ?",
		"UPDATE run_steps SET state = 'running', finished_at = NULL WHERE run_id = ? AND idx = 1",
		"UPDATE run_steps SET state = 'pending', attempts = 0, started_at = NULL, finished_at = NULL WHERE run_id = ? AND idx = 2",
	} {
		if _, err := db.Exec(q, wrap.ID); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	w.Start()
	again := w.WaitRun(w.App().DB, wrap.ID, runbook.RunSucceeded)
	if a := again.Steps[1].Attempts; a != 2 {
		t.Fatalf("the summary step ran %d times, want a second attempt after the restart", a)
	}
	if n := summaries(); n != 1 {
		t.Errorf("%d summaries after the step was retried across a restart, want 1", n)
	}
}

func tsMillis(t *testing.T, ts string) int64 {
	t.Helper()
	sec, frac, _ := strings.Cut(ts, ".")
	var s, f int64
	for _, c := range sec {
		s = s*10 + int64(c-'0')
	}
	for _, c := range (frac + "000")[:3] {
		f = f*10 + int64(c-'0')
	}
	return s*1000 + f
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// A step that acts outside Slack and succeeds is an "action executed" investigation
// update; one that only talks in Slack is not.
func TestActingStepIsAnActionExecutedUpdate(t *testing.T) {
	w := startActs(t, func(int, apptest.APIRequest) apptest.APIAnswer { return apptest.APIAnswer{Body: "ok"} },
		map[string]string{"purge": `name: purge
steps:
  - { id: call, action: http.request, with: { url: "$API/purge", method: POST, body: "all" } }
  - { action: slack.send_message, with: { channel: "#general", text: "purged" } }
`}, func(c *config.Config) {
			c.Slack.InvestigationUpdates = true
			c.Slack.UpdateChannel = "#general"
		})
	w.Ask(w.alice.ID, w.general.ID, "declare sev3 -- cache is stale")
	w.waitRun(w.run("purge INC-1"), runbook.RunSucceeded)
	w.WaitFor("investigation updates to be posted", func() bool { return w.App().Incidents.UpdatesWaiting() == 0 })
	var executed []string
	for _, m := range w.Slack.Messages(w.general.ID) {
		if m.BotID != "" && strings.Contains(m.Text, "Action executed") {
			executed = append(executed, m.Text)
		}
	}
	joined := strings.Join(executed, "\n")
	if strings.Count(joined, "Action executed") != 1 || !strings.Contains(joined, "(http.request)") || !strings.Contains(joined, "HTTP 200") {
		t.Errorf("action executed updates:\n%s\nwant one, for the http.request step, with its status", joined)
	}
}

// unJSON reads an answer's blocks, which come as JSON with <, > and & escaped, as the
// mrkdwn Slack is given.
func unJSON(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}

// TestTimelineMentionsAndTypedText: what the bot writes on the timeline with mentions
// (a role assigned, taken back) shows as mentions; what people typed — a note, a pinned
// message — cannot ping a channel or a group, cannot show a mention under another
// name, and is escaped exactly once (a pinned "a < b" reads "a < b", not "a &lt; b").
func TestTimelineMentionsAndTypedText(t *testing.T) {
	w := startIncidentsWith(t, func(c *config.Config) { c.Incidents.Roles = []string{"commander", "comms"} })
	ch := w.declareWithChannel()
	bob := "<@" + w.bob.ID + ">"
	w.command("assign INC-1 " + bob + " comms")
	// Slack sends a mention typed in the note as <@U…|name>; a person can also type the
	// characters of one, which Slack sends escaped.
	w.command("note INC-1 <!channel> <!subteam^S1|@oncall> says <@" + w.bob.ID + "|the CEO> approved &lt;@" + w.alice.ID + "|the CFO&gt; &lt;!here&gt;")
	msg, err := w.Slack.PostAs(w.alice.ID, ch, "error rate &lt; 1% &amp; falling <!everyone> <@"+w.bob.ID+"|ceo>")
	if err != nil {
		t.Fatal(err)
	}
	w.handled(w.react(w.bob.ID, ch, msg.TS, "pushpin"))

	tl := unJSON(w.command("timeline INC-1"))
	for _, want := range []string{bob + " is now comms", "@channel @oncall says " + bob + " approved <@" + w.alice.ID + "> @here",
		"error rate &lt; 1% &amp; falling @everyone " + bob} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
	for _, bad := range []string{"<!", "|the CEO", "|the CFO", "|ceo", "&amp;lt;", "&amp;amp;"} {
		if strings.Contains(tl, bad) {
			t.Errorf("timeline holds %q:\n%s", bad, tl)
		}
	}
	summary := unJSON(w.command("summary INC-1"))
	for _, bad := range []string{"<!", "|the CEO", "&amp;lt;"} {
		if strings.Contains(summary, bad) {
			t.Errorf("summary holds %q:\n%s", bad, summary)
		}
	}
}
