package slackui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// Ids of an update reminder: the action ids of its buttons, whose value is the
// firing that posted it and its token (ReminderValue), and the block holding them.
const (
	ActionReminderUpdate = "reminder.update"
	ActionReminderSnooze = "reminder.snooze"
	ReminderBlocks       = "reminder"
)

// The Post update modal: its callback id, and the block and action ids of its inputs.
const (
	ReminderUpdateCallbackID = "reminder.update"
	UpdateStatusBlockID      = "status"
	UpdateStatusActionID     = "status"
	UpdateNoteBlockID        = "note"
	UpdateNoteActionID       = "note"
)

// MetaReminder marks an update reminder, with the timer and firing that posted it.
const MetaReminder = "runbook_reminder"

// ReminderTag marks the reminder posted by a timer's firing seq.
func ReminderTag(f *runbook.TimerFiring) runbook.MessageMetadata {
	return runbook.MessageMetadata{EventType: MetaReminder, Payload: map[string]any{
		"timer": strconv.FormatInt(f.TimerID, 10), "seq": strconv.FormatInt(f.Seq, 10)}}
}

// ReminderValue is the value of a reminder's buttons and the private metadata of the
// form Post update opens: the timer, the firing and its token ("3.2.Kx…").
func ReminderValue(f *runbook.TimerFiring) string {
	return strconv.FormatInt(f.TimerID, 10) + "." + strconv.FormatInt(f.Seq, 10) + "." + f.Token
}

// ParseReminderValue reads a value made by ReminderValue.
func ParseReminderValue(v string) (timerID, seq int64, token string, err error) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) != 3 {
		return 0, 0, "", runbook.Errorf(runbook.EINVALID, "That reminder button is not one of mine; nothing was changed.")
	}
	timerID, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || timerID <= 0 || seq <= 0 || parts[2] == "" {
		return 0, 0, "", runbook.Errorf(runbook.EINVALID, "That reminder button is not one of mine; nothing was changed.")
	}
	return timerID, seq, parts[2], nil
}

// Reminder is the nudge posted when an open incident has had no update since a time:
// it mentions the commander and offers Post update and Snooze (30m).
func Reminder(inc *runbook.Incident, since time.Time, snooze time.Duration, f *runbook.TimerFiring) runbook.Message {
	who := ""
	if inc.Commander != "" {
		who = Mention(inc.Commander) + " "
	}
	when := since.UTC().Format("15:04") + " UTC"
	text := fmt.Sprintf(":alarm_clock: %s*%s* %s (%s, %s) has had no update since %s. Post one so that everyone following it knows where it stands.",
		who, inc.Key(), Escape(inc.Title), Escape(inc.Severity), Escape(inc.Status), when)
	value := ReminderValue(f)
	update := slack.NewButtonBlockElement(ActionReminderUpdate, value, Plain("Post update"))
	update.Style = slack.StylePrimary
	snoozeBtn := slack.NewButtonBlockElement(ActionReminderSnooze, value, Plain("Snooze "+Duration(snooze)))
	blocks := []slack.Block{
		Section(text),
		slack.NewActionBlock(ReminderBlocks, update, snoozeBtn),
	}
	return runbook.Message{Text: fmt.Sprintf("%s has had no update since %s", inc.Key(), when), Blocks: blocks}
}

// ReminderSnoozed redraws a reminder once someone snoozed it: no buttons, who and until when.
func ReminderSnoozed(inc *runbook.Incident, by string, until time.Time) runbook.Message {
	text := fmt.Sprintf(":zzz: Reminder for *%s* snoozed by %s until %s UTC.", inc.Key(), personOrNobody(by), until.UTC().Format("15:04"))
	return runbook.Message{Text: text, Blocks: []slack.Block{Section(text)}}
}

// ReminderUpdated redraws a reminder once an update was posted from it.
func ReminderUpdated(inc *runbook.Incident, by string) runbook.Message {
	text := fmt.Sprintf(":white_check_mark: %s posted an update to *%s*: %s.", personOrNobody(by), inc.Key(), Escape(inc.Status))
	return runbook.Message{Text: text, Blocks: []slack.Block{Section(text)}}
}

// UpdateForm is the Post update modal: the incident's status (its current one
// selected) and a note. value is the reminder's (ReminderValue), kept as the
// form's private metadata so that the submission is checked like the click.
func UpdateForm(inc *runbook.Incident, statuses []string, value string) slack.ModalViewRequest {
	var options []*slack.OptionBlockObject
	var current *slack.OptionBlockObject
	for _, st := range statuses {
		o := slack.NewOptionBlockObject(st, Plain(st), nil)
		options = append(options, o)
		if st == inc.Status {
			current = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, Plain("Status"), UpdateStatusActionID, options...)
	sel.InitialOption = current
	status := slack.NewInputBlock(UpdateStatusBlockID, Plain("Status"), nil, sel)
	noteInput := slack.NewPlainTextInputBlockElement(Plain("What changed, what is being tried"), UpdateNoteActionID)
	noteInput.Multiline = true
	noteInput.MaxLength = MaxNoteShown * 4
	note := slack.NewInputBlock(UpdateNoteBlockID, Plain("Note"), nil, noteInput)
	note.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      ReminderUpdateCallbackID,
		PrivateMetadata: value,
		Title:           Plain(Truncate("Update "+inc.Key(), 24)),
		Submit:          Plain("Post update"),
		Close:           Plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{status, note}},
	}
}
