package timers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// world is the real bot against the emulator, on a clock only the test moves:
// reminders every 2 s for sev1, none for other severities.
type world struct {
	*apptest.Kit
	t         *testing.T
	clock     *apptest.Clock
	alice     slackfake.User // declares, so leads
	mallory   slackfake.User // a member of the workspace with no part in the incident
	incidents slackfake.Channel
}

func newWorld(t *testing.T, runbooks map[string]string, adjust ...func(*apptest.Kit)) *world {
	t.Helper()
	k := apptest.New(t, apptest.Options{Runbooks: runbooks})
	w := &world{Kit: k, t: t, clock: apptest.NewClock(time.Now().UTC().Truncate(time.Second))}
	w.alice, w.mallory = k.Person("alice"), k.Person("mallory")
	w.incidents = k.Channel("incidents", "alice", "mallory")
	k.Config.Slack.DefaultChannel = "#incidents"
	k.Config.Incidents.Reminders = map[string]time.Duration{"sev1": 2 * time.Second}
	w.clock.Use(&k.AppOptions)
	for _, f := range adjust {
		f(k)
	}
	k.Start()
	return w
}

// declare declares an incident as alice and returns its number.
func (w *world) declare(severity, title string) int64 {
	w.t.Helper()
	answer := w.Ask(w.alice.ID, w.incidents.ID, "declare "+severity+" "+title)
	open := true
	incs, err := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{Open: &open})
	if err != nil || len(incs) == 0 || !strings.Contains(answer, incs[0].Key()) {
		w.t.Fatalf("declare answered %q (%v)", answer, err)
	}
	return incs[0].ID
}

// advance moves the clock on and waits until the timers have swept up to it.
func (w *world) advance(d time.Duration) {
	w.t.Helper()
	w.clock.Advance(d)
	w.settle()
}

// settle waits until the timers have swept up to the clock's time: everything due by
// then has fired, and a nudge it posted is in the emulator.
func (w *world) settle() {
	w.t.Helper()
	target := w.clock.Now()
	w.App().Timers.Wake()
	w.WaitFor("the timers to sweep", func() bool { return !w.App().Timers.Swept().Before(target) })
}

// restart stops the bot and starts the next process on the same database and clock.
func (w *world) restart() {
	w.t.Helper()
	w.Restart()
	w.settle()
}

// nudges are the reminders posted in #incidents, oldest first.
func (w *world) nudges() []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.Slack.Messages(w.incidents.ID) {
		if m.BotID != "" && strings.Contains(string(m.Metadata), slackui.MetaReminder) {
			out = append(out, m)
		}
	}
	return out
}

func (w *world) wantNudges(n int, when string) {
	w.t.Helper()
	if got := len(w.nudges()); got != n {
		w.t.Fatalf("%s: %d reminders posted, want %d", when, got, n)
	}
}

// value is the value of a reminder's buttons.
func (w *world) value(m slackfake.Message) string {
	w.t.Helper()
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		w.t.Fatal(err)
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == slackui.ActionReminderSnooze {
				return e.Value
			}
		}
	}
	w.t.Fatalf("the reminder has no Snooze button: %s", m.Blocks)
	return ""
}

// click has user click a button of the reminder at ts and returns the private answer.
func (w *world) click(user slackfake.User, ts, action string) string {
	w.t.Helper()
	before := len(w.Slack.Ephemerals(w.incidents.ID, user.ID))
	d, err := w.Slack.ClickButton(user.ID, w.incidents.ID, ts, action)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := d.WaitAck(w.Context()); err != nil {
		w.t.Fatal(err)
	}
	var got string
	w.WaitFor("the answer to the click", func() bool {
		eph := w.Slack.Ephemerals(w.incidents.ID, user.ID)
		if len(eph) > before {
			got = eph[len(eph)-1].Text
		}
		return len(eph) > before
	})
	return got
}

// incident reads an incident from the store.
func (w *world) incident(id int64) *runbook.Incident {
	w.t.Helper()
	inc, err := w.App().DB.Incidents().Incident(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

// The must-show: a sev1 with a 2 s reminder interval is nudged once after 2 s, again
// every 2 s; Snooze puts it off by 30 minutes; restarts in between neither lose nor
// double a nudge; after resolve there are none.
func TestReminderNudgesSnoozesSurvivesRestartsAndStopsAtResolve(t *testing.T) {
	w := newWorld(t, nil)
	other := w.declare("sev2", "Search is slow") // sev2 has no reminder configured
	id := w.declare("sev1", "Checkout is down")
	w.wantNudges(0, "at declaration")
	w.advance(time.Second)
	w.wantNudges(0, "1 s after")
	// A restart before the reminder is due does not lose it.
	w.restart()
	w.wantNudges(0, "1 s after, restarted")
	w.advance(time.Second)
	w.wantNudges(1, "2 s after")
	first := w.nudges()[0]
	for _, want := range []string{"<@" + w.alice.ID + ">", "INC-2", "Checkout is down", "has had no update since"} {
		if !strings.Contains(string(first.Blocks), want) {
			t.Errorf("the reminder does not say %q: %s", want, first.Blocks)
		}
	}
	for _, want := range []string{`"text":"Post update"`, `"text":"Snooze 30m"`} {
		if !strings.Contains(string(first.Blocks), want) {
			t.Errorf("the reminder has no %s button: %s", want, first.Blocks)
		}
	}

	// A restart right after a nudge does not post it again.
	w.restart()
	w.wantNudges(1, "after a restart")
	w.advance(2 * time.Second)
	w.wantNudges(2, "one interval later")

	// Snooze 30m, then a restart: the reminder stays put off for 30 minutes.
	if answer := w.click(w.alice, w.nudges()[1].TS, slackui.ActionReminderSnooze); !strings.Contains(answer, "Snoozed") {
		t.Fatalf("Snooze answered %q", answer)
	}
	if m, _ := w.Slack.Message(w.incidents.ID, w.nudges()[1].TS); !strings.Contains(m.Text, "snoozed by <@"+w.alice.ID+">") {
		t.Errorf("the snoozed reminder reads %q", m.Text)
	}
	audit, err := w.App().DB.Audit().Audit(context.Background(), id, 0)
	if err != nil || !slices.ContainsFunc(audit, func(e runbook.AuditEntry) bool {
		return e.Action == runbook.AuditReminderSnoozed && e.Actor == w.alice.ID
	}) {
		t.Errorf("the snooze is not in the audit log: %+v (%v)", audit, err)
	}
	w.advance(2 * time.Second)
	w.wantNudges(2, "2 s after a snooze")
	w.restart()
	w.advance(28 * time.Minute)
	w.wantNudges(2, "28 min after a snooze and a restart")

	// Down when the snooze ends: the next process nudges once, not once per interval
	// missed.
	w.Stop()
	w.clock.Advance(5 * time.Minute)
	w.Start()
	w.settle()
	w.wantNudges(3, "after the snooze ran out while the bot was down")

	if answer := w.Ask(w.alice.ID, w.incidents.ID, "resolve INC-2 fixed"); !strings.Contains(answer, "Resolved") {
		t.Fatalf("resolve answered %q", answer)
	}
	// Resolving removes them at once, not when a firing finds the incident resolved.
	if timers, err := w.App().DB.Timers().IncidentTimers(context.Background(), id); err != nil || len(timers) != 0 {
		t.Errorf("the incident just resolved keeps timers %v (%v)", timers, err)
	}
	w.advance(time.Hour)
	w.restart()
	w.advance(time.Hour)
	w.wantNudges(3, "after resolve")
	for _, m := range w.nudges() {
		if strings.Contains(m.Text, runbook.IncidentKey(other)) {
			t.Errorf("the sev2 incident, which has no reminder interval, was nudged: %q", m.Text)
		}
	}
	timers, err := w.App().DB.Timers().IncidentTimers(context.Background(), id)
	if err != nil || len(timers) != 0 {
		t.Errorf("a resolved incident keeps timers %v (%v)", timers, err)
	}
}

// A firing claimed by a process that died before it posted is posted by the next; one
// that died after posting but before recording it is found by its metadata, not
// posted twice.
func TestReminderFiringInterruptedByACrashIsFinishedOnce(t *testing.T) {
	w := newWorld(t, nil)
	id := w.declare("sev1", "Checkout is down")
	w.Stop()
	db := w.NewApp().DB
	ctx := context.Background()

	// Died after the claim, before the post.
	w.clock.Advance(2 * time.Second)
	due, err := db.Timers().DueTimers(ctx, w.clock.Now())
	if err != nil || len(due) != 1 {
		t.Fatalf("due = %v, %v", due, err)
	}
	if _, claimed, err := db.Timers().ClaimTimer(ctx, due[0].ID, due[0].Seq, w.clock.Now(), w.clock.Now().Add(time.Hour)); err != nil || !claimed {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	w.Start()
	w.settle()
	w.wantNudges(1, "after a crash between claim and post")

	// Died after the post, before recording it: the post is there, the firing undone.
	w.Stop()
	a := w.NewApp()
	due, _ = a.DB.Timers().IncidentTimers(ctx, id)
	f, claimed, err := a.DB.Timers().ClaimTimer(ctx, due[0].ID, due[0].Seq, due[0].DueAt, due[0].DueAt.Add(time.Hour))
	if err != nil || !claimed {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	tag := slackui.ReminderTag(f)
	inc, err := a.DB.Incidents().Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	msg := slackui.Reminder(inc, time.Now(), 30*time.Minute, f)
	msg.Channel, msg.Metadata = w.incidents.ID, &tag
	if _, err := a.Slack.PostMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	w.wantNudges(2, "the post before the crash")
	w.Start()
	w.settle()
	w.wantNudges(2, "after a crash between post and record")
	got, err := w.App().DB.Timers().Firing(ctx, f.TimerID, f.Seq)
	if err != nil || !got.Done || got.TS != w.nudges()[1].TS {
		t.Errorf("the firing = %+v, %v; want it done, on the message posted before the crash", got, err)
	}
}

// The incident's own channel, once it has one, is where it is nudged.
func TestReminderGoesToTheIncidentChannel(t *testing.T) {
	w := newWorld(t, nil)
	id := w.declare("sev1", "Checkout is down")
	room := w.Channel("inc-checkout", "alice")
	if err := w.App().Incidents.ClaimChannel(context.Background(), id, runbook.Conversation{ID: room.ID}); err != nil {
		t.Fatal(err)
	}
	w.advance(2 * time.Second)
	w.wantNudges(0, "in the announcement channel")
	n := 0
	for _, m := range w.Slack.Messages(room.ID) {
		if strings.Contains(string(m.Metadata), slackui.MetaReminder) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d reminders in the incident channel, want 1", n)
	}
}

// statusUpdate runs every 2 s for sev1 incidents.
const statusUpdate = `name: status-update
on:
  - every: 2s
    if: { severity: [sev1] }
steps:
  - { action: slack.send_message, with: { channel: "#incidents", text: "status of {{incident.id}}: {{incident.status}}" } }
`

// runs are the runs of status-update for an incident, each waited for until it ends.
func (w *world) runs(id int64) int {
	w.t.Helper()
	runs, err := w.App().DB.Runs().ListRuns(context.Background(), id, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Runbook != "status-update" {
			continue
		}
		n++
		if got := w.WaitRun(w.App().DB, r.ID, runbook.RunSucceeded); got.StartedBy != "" {
			w.t.Errorf("%s names %q as starting it; a periodic run is started by nobody", r.Key(), got.StartedBy)
		}
	}
	return n
}

func (w *world) wantRuns(id int64, n int, when string) {
	w.t.Helper()
	if got := w.runs(id); got != n {
		w.t.Fatalf("%s: %d periodic runs, want %d", when, got, n)
	}
}

// The must-show: an every: 2s runbook runs every 2 s while the incident is open, first
// one interval after the declaration; a restart after downtime brings one catch-up run,
// not a burst; resolve stops it. Its if: keeps it off incidents that do not match.
func TestEveryRunbookRunsWhileOpenAndStopsAtResolve(t *testing.T) {
	w := newWorld(t, map[string]string{"status.yaml": statusUpdate}, func(k *apptest.Kit) {
		k.Config.Incidents.Reminders = nil
	})
	sev2 := w.declare("sev2", "Search is slow")
	id := w.declare("sev1", "Checkout is down")
	w.advance(time.Second)
	w.wantRuns(id, 0, "1 s after the declaration")
	w.advance(time.Second)
	w.wantRuns(id, 1, "2 s after")
	w.advance(2 * time.Second)
	w.wantRuns(id, 2, "4 s after")
	w.restart()
	w.wantRuns(id, 2, "right after a restart")

	// Down for five intervals: one catch-up run, then the usual rhythm from there.
	w.Stop()
	w.clock.Advance(10 * time.Second)
	w.Start()
	w.settle()
	w.wantRuns(id, 3, "after ten seconds down")
	w.advance(time.Second)
	w.wantRuns(id, 3, "1 s after the catch-up")
	w.advance(time.Second)
	w.wantRuns(id, 4, "2 s after the catch-up")

	if answer := w.Ask(w.alice.ID, w.incidents.ID, "resolve INC-2"); !strings.Contains(answer, "Resolved") {
		t.Fatalf("resolve answered %q", answer)
	}
	if timers, err := w.App().DB.Timers().IncidentTimers(context.Background(), id); err != nil || len(timers) != 0 {
		t.Errorf("the incident just resolved keeps timers %v (%v)", timers, err)
	}
	w.advance(10 * time.Second)
	w.restart()
	w.advance(10 * time.Second)
	w.wantRuns(id, 4, "after resolve")
	w.wantRuns(sev2, 0, "for a sev2 incident its if: does not match")
	said := 0
	for _, m := range w.Slack.Messages(w.incidents.ID) {
		if m.BotID != "" && m.Text == "status of INC-2: detected" {
			said++
		}
	}
	if said != 4 {
		t.Errorf("the periodic runbook posted %d times, want 4", said)
	}
}

// A periodic run does not start while the one before it is still going.
func TestEveryRunbookDoesNotPileUp(t *testing.T) {
	w := newWorld(t, map[string]string{"slow.yaml": `name: status-update
on: [{ every: 2s }]
steps:
  - { action: wait, with: { duration: 1h } }
`}, func(k *apptest.Kit) { k.Config.Incidents.Reminders = nil })
	id := w.declare("sev1", "Checkout is down")
	w.advance(2 * time.Second)
	w.advance(2 * time.Second)
	w.advance(2 * time.Second)
	runs, err := w.App().DB.Runs().ListRuns(context.Background(), id, 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %d (%v), want the one still waiting", len(runs), err)
	}
}

// On the real clock the scheduler sleeps until the reminder is due and wakes by itself.
func TestReminderOnTheRealClock(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	alice := k.Person("alice")
	incidents := k.Channel("incidents", "alice")
	k.Config.Slack.DefaultChannel = "#incidents"
	k.Config.Incidents.Reminders = map[string]time.Duration{"default": 200 * time.Millisecond}
	k.Start()
	if answer := k.Ask(alice.ID, incidents.ID, "declare sev3 Search is slow"); !strings.Contains(answer, "INC-1") {
		t.Fatalf("declare answered %q", answer)
	}
	k.WaitFor("a reminder", func() bool {
		for _, m := range k.Slack.Messages(incidents.ID) {
			if strings.Contains(string(m.Metadata), slackui.MetaReminder) {
				return true
			}
		}
		return false
	})
}

// The example periodic-status runbook, as shipped: every 30 minutes while the incident
// is open it posts the status and the summary in the incident's channel (none before
// the first interval, none after resolve).
func TestPeriodicStatusExample(t *testing.T) {
	src, err := os.ReadFile("../runbooks/examples/periodic-status.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, map[string]string{"periodic-status.yaml": string(src)}, func(k *apptest.Kit) {
		k.Config.Incidents.Reminders = nil
	})
	id := w.declare("sev2", "Checkout is slow")
	room := w.Channel("inc-checkout", "alice")
	if err := w.App().Incidents.ClaimChannel(context.Background(), id, runbook.Conversation{ID: room.ID}); err != nil {
		t.Fatal(err)
	}
	posts := func() []string {
		var out []string
		for _, m := range w.Slack.Messages(room.ID) {
			if m.BotID != "" && strings.Contains(m.Text, "Checkout is slow* is") {
				out = append(out, m.Text)
			}
		}
		return out
	}
	wait := func(n int, when string) []string {
		t.Helper()
		runs, err := w.App().DB.Runs().ListRuns(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			w.WaitRun(w.App().DB, r.ID, runbook.RunSucceeded)
		}
		if got := posts(); len(got) != n {
			t.Fatalf("%s: %d status posts, want %d: %q", when, len(got), n, got)
		}
		return posts()
	}
	w.advance(29 * time.Minute)
	wait(0, "29 minutes in")
	w.advance(time.Minute)
	got := wait(1, "30 minutes in")
	if !strings.Contains(got[0], "*INC-1 Checkout is slow* is detected (sev2)") || !strings.Contains(got[0], "No summary yet") {
		t.Errorf("first status post = %q", got[0])
	}
	w.Ask(w.alice.ID, w.incidents.ID, `update INC-1 status=investigating summary="Cache & DB contention"`)
	w.advance(30 * time.Minute)
	got = wait(2, "an hour in")
	if !strings.Contains(got[1], "is investigating (sev2)") || !strings.Contains(got[1], "Summary: Cache &amp; DB contention") {
		t.Errorf("second status post = %q", got[1])
	}
	w.Ask(w.alice.ID, w.incidents.ID, "resolve INC-1")
	w.advance(2 * time.Hour)
	wait(2, "after resolve")
}

// An incident moved to a severity that is not nudged keeps no reminder: a Snooze says
// there is none to put off rather than promising a nudge that never comes, and once the
// configuration nudges that severity, the next start arms it.
func TestReminderOfASeverityNotNudged(t *testing.T) {
	w := newWorld(t, nil)
	id := w.declare("sev1", "Checkout is down")
	if answer := w.Ask(w.alice.ID, w.incidents.ID, fmt.Sprintf("update INC-%d severity=sev2", id)); !strings.Contains(answer, "Updated") {
		t.Fatalf("update answered %q", answer)
	}
	reminders := func() int {
		timers, err := w.App().DB.Timers().IncidentTimers(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tm := range timers {
			if tm.Kind == runbook.TimerReminder {
				n++
			}
		}
		return n
	}
	if n := reminders(); n != 0 {
		t.Fatalf("%d reminders kept for a sev2 incident, whose severity is not nudged", n)
	}
	w.advance(time.Hour)
	w.wantNudges(0, "an hour at sev2")

	w.Config.Incidents.Reminders["sev2"] = 2 * time.Second
	w.restart()
	if n := reminders(); n != 1 {
		t.Fatalf("%d reminders after a start that nudges sev2, want 1", n)
	}
	w.advance(2 * time.Second)
	w.wantNudges(1, "2 s after the start that nudges sev2")
}
