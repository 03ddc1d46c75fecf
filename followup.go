package runbook

import (
	"context"
	"strings"
	"time"
)

// Timeline entry kinds of what people add to an incident from Slack: a message pinned
// with 📌, investigation notes by kind, and follow-ups.
const (
	TimelinePinned       = "pinned"
	TimelineHypothesis   = "hypothesis"
	TimelineRootCause    = "root cause"
	TimelineRemediation  = "remediation"
	TimelineAction       = "action"
	TimelineFollowUp     = "followup"
	TimelineFollowUpDone = "followup done"
)

// NoteKinds are the kinds an investigation note may start with ("root cause: …"), in
// the order an investigation usually finds them.
var NoteKinds = []string{TimelineHypothesis, TimelineRootCause, TimelineRemediation, TimelineAction}

// SplitNote reads the kind a note starts with — "hypothesis:", "root cause:",
// "remediation:" or "action:", in any letter case — and returns it with the rest of the
// text. A note without one is a plain TimelineNote.
func SplitNote(text string) (kind, rest string) {
	t := strings.TrimSpace(text)
	for _, k := range NoteKinds {
		p := k + ":"
		if len(t) >= len(p) && strings.EqualFold(t[:len(p)], p) {
			return k, strings.TrimSpace(t[len(p):])
		}
	}
	return TimelineNote, t
}

// FollowUp is an action item that outlives the incident: "add an alert on queue depth".
type FollowUp struct {
	// ID is the follow-up's number; people see it as its Key, "F-<ID>".
	ID         int64
	IncidentID int64
	Text       string
	// Owner is the Slack user id of who will do it, or "".
	Owner     string
	CreatedBy string
	CreatedAt time.Time
	// DoneBy and DoneAt are set once it is done.
	DoneBy string
	DoneAt time.Time
	// RequestKey is the id of the request that added it, so that a request handled
	// twice adds it once.
	RequestKey string
}

// Key returns the follow-up's human key, such as "F-3".
func (f *FollowUp) Key() string { return FollowUpKey(f.ID) }

// Done reports whether the follow-up is done.
func (f *FollowUp) Done() bool { return !f.DoneAt.IsZero() }

// IncidentNotes keeps what people add to an incident beyond its state: keyed timeline
// entries (notes, pinned messages) and follow-ups.
type IncidentNotes interface {
	// AddTimelineOnce appends an entry unless one was added under key already (a
	// request handled twice, or a message pinned twice); added says whether it was.
	// An empty key always adds.
	AddTimelineOnce(ctx context.Context, e TimelineEntry, key string) (added bool, err error)
	// AddFollowUp stores f and a "followup" timeline entry, setting its ID and
	// CreatedAt. If f.RequestKey is set and a follow-up was added under it already,
	// nothing is written and f is set to that follow-up.
	AddFollowUp(ctx context.Context, f *FollowUp) error
	// FollowUp returns the follow-up numbered id, or ENOTFOUND.
	FollowUp(ctx context.Context, id int64) (*FollowUp, error)
	// FollowUps returns an incident's follow-ups, oldest first.
	FollowUps(ctx context.Context, incidentID int64) ([]*FollowUp, error)
	// CompleteFollowUp marks a follow-up done by by, with a "followup done" timeline
	// entry, once: the same key again returns it with applied false; a follow-up done
	// under another key is ECONFLICT.
	CompleteFollowUp(ctx context.Context, id int64, by, key string) (f *FollowUp, applied bool, err error)
}
