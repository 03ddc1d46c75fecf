package timers

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// MessageRef locates the message a button was clicked on.
type MessageRef struct{ Channel, TS string }

// Reminder returns the reminder firing a Post update or Snooze button names — or the
// form Post update opened, whose metadata is the button's value — once the value
// carries the firing's token and, for a click (on not zero), the click is on the very
// message that firing posted: a button copied into another message, or forged from a
// guessed number, is refused.
func (s *Service) Reminder(ctx context.Context, value string, on MessageRef) (*runbook.TimerFiring, error) {
	timerID, seq, token, err := slackui.ParseReminderValue(value)
	if err != nil {
		return nil, err
	}
	f, err := s.d.Timers.Firing(ctx, timerID, seq)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND || (err == nil && f.Kind != runbook.TimerReminder) {
		return nil, runbook.Errorf(runbook.EFORBIDDEN, "That button is not on one of my reminders; nothing was changed. Use `/runbook update` instead.")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(f.Token)) != 1 {
		return nil, runbook.Errorf(runbook.EFORBIDDEN, "That button is not on one of my reminders; nothing was changed. Use `/runbook update` instead.")
	}
	if on != (MessageRef{}) && (!f.Done || f.Channel != on.Channel || f.TS != on.TS) {
		return nil, runbook.Errorf(runbook.EFORBIDDEN, "That button was copied from a reminder onto another message; nothing was changed. Use the buttons on the reminder itself, or `/runbook update`.")
	}
	return f, nil
}

// SnoozeReminder puts off an incident's reminder until Snooze from now, and redraws the
// nudge clicked on to say who snoozed it and until when.
func (s *Service) SnoozeReminder(ctx context.Context, f *runbook.TimerFiring, inc *runbook.Incident, by string) (time.Time, error) {
	until := s.cfg.Now().Add(Snooze)
	moved, err := s.d.Timers.MoveTimer(ctx, runbook.TimerReminder, inc.ID, "", until)
	if err != nil {
		return time.Time{}, err
	}
	if !moved {
		return time.Time{}, runbook.Errorf(runbook.ECONFLICT, "%s has no reminder to snooze: it is resolved, or its severity is not reminded of.", inc.Key())
	}
	s.wake()
	s.redraw(ctx, f, inc, slackui.ReminderSnoozed(inc, by, until))
	return until, nil
}

// Answered redraws the nudge an update was posted from, without its buttons.
func (s *Service) Answered(ctx context.Context, f *runbook.TimerFiring, inc *runbook.Incident, by string) {
	s.redraw(ctx, f, inc, slackui.ReminderUpdated(inc, by))
}

func (s *Service) redraw(ctx context.Context, f *runbook.TimerFiring, inc *runbook.Incident, msg runbook.Message) {
	if f.Channel == "" || f.TS == "" {
		return
	}
	if err := s.d.Slack.UpdateMessage(ctx, f.Channel, f.TS, msg); err != nil {
		// The reminder keeps its buttons; pressing them again is harmless.
		s.log.Warn("cannot redraw a reminder", "incident", inc.Key(), "err", err)
	}
}
