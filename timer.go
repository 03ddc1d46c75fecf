package runbook

import (
	"context"
	"strconv"
	"time"
)

// Timer kinds.
const (
	// TimerReminder nudges an open incident's people for an update; one per incident.
	TimerReminder = "reminder"
	// TimerEvery runs a runbook on its `every:` trigger; one per incident, runbook and
	// interval.
	TimerEvery = "every"
)

// AuditReminderSnoozed is a click on a reminder's Snooze that put it off.
const AuditReminderSnoozed = "reminder.snoozed"

// Timer is a durable timer about an incident: it is due at DueAt, and each time it
// fires the firing is recorded (TimerFiring) before anything is done for it, so that a
// firing interrupted by a crash is finished by the next process, not lost or repeated.
type Timer struct {
	ID         int64
	Kind       string // TimerReminder or TimerEvery
	IncidentID int64
	// Name tells apart timers of one kind for one incident: for TimerEvery, the
	// runbook and its interval ("status-update@30m0s"); "" for a reminder.
	Name  string
	DueAt time.Time
	// Seq counts the firings claimed so far; the next one is Seq+1.
	Seq int64
}

// TimerFiring is one firing of a timer, recorded when it is claimed.
type TimerFiring struct {
	TimerID    int64
	Seq        int64
	Kind       string
	IncidentID int64
	Name       string
	// Token is carried by the buttons of what the firing posted (a reminder's Post
	// update and Snooze): a click counts only with it.
	Token string
	// Channel and TS locate the message the firing posted, once it is recorded as done.
	Channel string
	TS      string
	Done    bool
	FiredAt time.Time
}

// Key is the firing's idempotency key: a run it starts is started under it, so that a
// firing delivered again after a crash finds that run instead of starting another.
func (f *TimerFiring) Key() string {
	return "timer/" + strconv.FormatInt(f.TimerID, 10) + "/" + strconv.FormatInt(f.Seq, 10)
}

// TimerStore keeps timers and their firings.
type TimerStore interface {
	// SetTimer arms the timer of kind, incident and name to be due at due, creating it
	// if needed; an armed one is moved to due.
	SetTimer(ctx context.Context, kind string, incidentID int64, name string, due time.Time) error
	// EnsureTimer creates the timer, due at due, unless it exists: an existing timer
	// keeps its due time.
	EnsureTimer(ctx context.Context, kind string, incidentID int64, name string, due time.Time) error
	// MoveTimer moves an existing timer to due; moved is false when there is none.
	MoveTimer(ctx context.Context, kind string, incidentID int64, name string, due time.Time) (moved bool, err error)
	// DeleteTimer removes one timer; its recorded firings stay.
	DeleteTimer(ctx context.Context, id int64) error
	// DeleteIncidentTimers removes every timer of an incident; their firings stay.
	DeleteIncidentTimers(ctx context.Context, incidentID int64) error
	// DueTimers lists the timers due at or before now, soonest first.
	DueTimers(ctx context.Context, now time.Time) ([]*Timer, error)
	// NextDue is when the soonest timer is due; ok is false when there is none.
	NextDue(ctx context.Context) (due time.Time, ok bool, err error)
	// IncidentTimers lists an incident's timers.
	IncidentTimers(ctx context.Context, incidentID int64) ([]*Timer, error)
	// ClaimTimer records the firing Seq+1 of a timer that was at seq and is due at or
	// before now, and moves the timer to next, in one transaction. claimed is false
	// (and nothing is written) when the timer moved on, was deleted or is not due: a
	// firing is claimed once.
	ClaimTimer(ctx context.Context, id, seq int64, now, next time.Time) (f *TimerFiring, claimed bool, err error)
	// UndoneFirings lists firings claimed but not recorded as done, oldest first.
	UndoneFirings(ctx context.Context) ([]*TimerFiring, error)
	// FiringDone records that a firing was acted on and where it posted (channel and
	// ts may be "").
	FiringDone(ctx context.Context, timerID, seq int64, channel, ts string) error
	// Firing returns one firing, or ENOTFOUND.
	Firing(ctx context.Context, timerID, seq int64) (*TimerFiring, error)
}
