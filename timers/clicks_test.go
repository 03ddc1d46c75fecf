package timers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// openForm clicks Post update on the reminder at ts as user and returns the form that
// opened.
func (w *world) openForm(user slackfake.User, ts string) slackfake.View {
	w.t.Helper()
	before := len(w.Slack.Views())
	d, err := w.Slack.ClickButton(user.ID, w.incidents.ID, ts, slackui.ActionReminderUpdate)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := d.WaitAck(w.Context()); err != nil {
		w.t.Fatal(err)
	}
	var form slackfake.View
	w.WaitFor("the Post update form", func() bool {
		views := w.Slack.Views()
		if len(views) > before && views[len(views)-1].CallbackID == slackui.ReminderUpdateCallbackID {
			form = views[len(views)-1]
			return true
		}
		return false
	})
	return form
}

// submit submits the Post update form as user and returns the ack's payload.
func (w *world) submit(user slackfake.User, form slackfake.View, status, note string) string {
	w.t.Helper()
	values := map[string]map[string]string{slackui.UpdateStatusBlockID: {slackui.UpdateStatusActionID: status}}
	if note != "" {
		values[slackui.UpdateNoteBlockID] = map[string]string{slackui.UpdateNoteActionID: note}
	}
	d, err := w.Slack.SubmitView(user.ID, form.ID, values)
	if err != nil {
		w.t.Fatal(err)
	}
	ack, err := d.WaitAck(w.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	return string(ack.Payload)
}

// Post update opens a form with the incident's status; submitting it applies the
// status and the note as the update command would, redraws the reminder without its
// buttons, and puts the next reminder a whole interval after the update.
func TestPostUpdateFormAppliesTheUpdateAndResetsTheReminder(t *testing.T) {
	w := newWorld(t, nil)
	id := w.declare("sev1", "Checkout is down")
	w.advance(2 * time.Second)
	w.wantNudges(1, "2 s after")
	ts := w.nudges()[0].TS

	form := w.openForm(w.alice, ts)
	if !strings.Contains(string(form.Blocks), `"initial_option"`) || !strings.Contains(string(form.Blocks), "detected") {
		t.Errorf("the form does not start at the incident's status: %s", form.Blocks)
	}
	// Neither a new status nor a note: the form stays open and says what to do.
	if ack := w.submit(w.alice, form, "detected", ""); !strings.Contains(ack, `"response_action":"errors"`) || !strings.Contains(ack, "Write a note or choose another status") {
		t.Fatalf("an empty update was acked %s", ack)
	}
	w.advance(time.Second)
	if ack := w.submit(w.alice, form, "mitigating", "Rolled back the deploy"); strings.Contains(ack, "errors") {
		t.Fatalf("the update was refused: %s", ack)
	}
	w.WaitFor("the update", func() bool { return w.incident(id).Status == "mitigating" })
	timeline, err := w.App().DB.Incidents().Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := timeline[len(timeline)-1]
	if last.Kind != runbook.TimelineNote || last.Text != "Rolled back the deploy" || last.Actor != w.alice.ID {
		t.Errorf("the timeline ends with %+v", last)
	}
	if m, _ := w.Slack.Message(w.incidents.ID, ts); strings.Contains(string(m.Blocks), slackui.ActionReminderSnooze) || !strings.Contains(m.Text, "posted an update") {
		t.Errorf("the answered reminder still reads %q %s", m.Text, m.Blocks)
	}

	// The update was at +3 s: no reminder at +4 s, one at +5 s.
	w.advance(time.Second)
	w.wantNudges(1, "1 s after the update")
	w.advance(time.Second)
	w.wantNudges(2, "2 s after the update")
}

// An update by command — a note, or a status change — puts the reminder off too.
func TestUpdateCommandResetsTheReminder(t *testing.T) {
	w := newWorld(t, nil)
	w.declare("sev1", "Checkout is down")
	w.advance(1500 * time.Millisecond)
	if answer := w.Ask(w.alice.ID, w.incidents.ID, `update INC-1 note="looking at the database"`); !strings.Contains(answer, "Updated") {
		t.Fatalf("update answered %q", answer)
	}
	w.advance(time.Second)
	w.wantNudges(0, "2.5 s after the declaration, 1 s after a note")
	w.advance(time.Second)
	w.wantNudges(1, "2 s after the note")
	if answer := w.Ask(w.alice.ID, w.incidents.ID, "update INC-1 status=investigating"); !strings.Contains(answer, "Updated") {
		t.Fatalf("update answered %q", answer)
	}
	w.advance(time.Second)
	w.wantNudges(1, "1 s after a status change")
	w.advance(time.Second)
	w.wantNudges(2, "2 s after a status change")
	// A note made halfway to the next reminder puts it off by a whole interval.
	w.advance(time.Second)
	if answer := w.Ask(w.alice.ID, w.incidents.ID, "note INC-1 hypothesis: the cache expired"); !strings.Contains(strings.ToLower(answer), "hypothesis") {
		t.Fatalf("note answered %q", answer)
	}
	w.advance(time.Second)
	w.wantNudges(2, "1 s after an investigation note")
	w.advance(time.Second)
	w.wantNudges(3, "2 s after an investigation note")
}

// A Snooze button copied onto another message, or with a forged token, snoozes
// nothing; someone who may not update the incident can press neither button.
func TestReminderButtonsRefuseForgeriesAndStrangers(t *testing.T) {
	w := newWorld(t, nil, func(k *apptest.Kit) {
		k.Config.Slack.InvestigationUpdates = true
		k.Config.Slack.UpdateChannel = "#updates"
		k.Channel("updates", "alice")
	})
	w.declare("sev1", "Checkout is down")
	w.advance(2 * time.Second)
	w.wantNudges(1, "2 s after")
	nudge := w.nudges()[0]
	value := w.value(nudge)

	// The same button value, pressed on another message.
	other := w.Channel("random", "alice")
	posted, err := w.Slack.PostAs(w.alice.ID, other.ID, "look, a button")
	if err != nil {
		t.Fatal(err)
	}
	answer := w.Press(w.alice.ID, other.ID, posted.TS, slackui.ActionReminderSnooze, value)
	if !strings.Contains(answer, "copied from a reminder onto another message") {
		t.Errorf("a copied Snooze answered %q", answer)
	}
	// On the reminder, with a guessed token.
	id, seq, _, _ := slackui.ParseReminderValue(value)
	forged := slackui.ReminderValue(&runbook.TimerFiring{TimerID: id, Seq: seq, Token: "AAAAAAAAAAAAAAAAAAAAAA"})
	if answer := w.Press(w.alice.ID, w.incidents.ID, nudge.TS, slackui.ActionReminderSnooze, forged); !strings.Contains(answer, "not on one of my reminders") {
		t.Errorf("a forged Snooze answered %q", answer)
	}
	// Someone with no part in the incident.
	if answer := w.click(w.mallory, nudge.TS, slackui.ActionReminderSnooze); !strings.Contains(answer, "Only whoever declared INC-1") {
		t.Errorf("a stranger's Snooze answered %q", answer)
	}
	if answer := w.click(w.mallory, nudge.TS, slackui.ActionReminderUpdate); !strings.Contains(answer, "Only whoever declared INC-1") {
		t.Errorf("a stranger's Post update answered %q", answer)
	}
	for _, v := range w.Slack.Views() {
		if v.UserID == w.mallory.ID {
			t.Errorf("a form opened for a stranger: %+v", v)
		}
	}
	// Nothing was snoozed: the next reminder comes on time.
	w.advance(2 * time.Second)
	w.wantNudges(2, "after refused snoozes")

	// A hostile note goes in as text: no mass mention, no disguised link. (Mentioning a
	// person in a note is allowed, as in the update command.)
	form := w.openForm(w.alice, w.nudges()[1].TS)
	hostile := "<!channel> see <https://evil.example|the fix> *now* <@" + w.mallory.ID + ">"
	if ack := w.submit(w.alice, form, "detected", hostile); strings.Contains(ack, "errors") {
		t.Fatalf("the note was refused: %s", ack)
	}
	updates := w.Channel("updates")
	w.WaitFor("the investigation update", func() bool {
		for _, m := range w.Slack.Messages(updates.ID) {
			if strings.Contains(m.Text, "evil.example") {
				return true
			}
		}
		return false
	})
	for _, ch := range []string{updates.ID, w.incidents.ID} {
		for _, m := range w.Slack.Messages(ch) {
			if m.BotID == "" {
				continue
			}
			text := m.Text + string(m.Blocks)
			for _, bad := range []string{"<!channel>", "<https://evil.example"} {
				if strings.Contains(text, bad) {
					t.Errorf("a bot message in %s carries %q from the note: %s", ch, bad, text)
				}
			}
		}
	}
}
