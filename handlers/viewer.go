package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
)

// A viewer decides, for one list (list, runs, audit, approvals), which of its lines
// the person asking may see. What belongs to an incident whose channel is private —
// the incident, its runs, their approvals and audit entries — is shown only to that
// channel's members and to whoever declared or leads the incident; what was done in a
// private channel outside an incident, only to its members and to whoever did it.
// Everyone else's list leaves those lines out, without a trace.
//
// An incident keeps its channel's privacy from when the channel became its own, so a
// list asks Slack nothing about public channels, and about private ones a single
// question: which of them the asker is in. A channel whose privacy is not known is
// asked about once. Answers are kept for the list.
// listScan is how many of the newest rows a list reads, at most, to find the ones its
// asker may see. Someone outside most recent private incidents gets a shorter list
// rather than a read of the whole history.
const listScan = 200

type viewer struct {
	h        *Handlers
	user     string
	here     string // the channel the list was asked for in
	incident map[int64]bool
	channel  map[string]bool
	private  map[string]bool // the private channels the asker shares with the bot, once read
}

func (h *Handlers) viewer(inv *invocation) *viewer {
	return &viewer{h: h, user: inv.req.UserID, here: inv.req.ChannelID,
		incident: map[int64]bool{}, channel: map[string]bool{}}
}

// seesIncident says whether the asker may see inc in a list.
func (v *viewer) seesIncident(ctx context.Context, inc *runbook.Incident) (bool, error) {
	if ok, known := v.incident[inc.ID]; known {
		return ok, nil
	}
	ok, err := v.decideIncident(ctx, inc)
	if err != nil {
		return false, err
	}
	v.incident[inc.ID] = ok
	return ok, nil
}

func (v *viewer) decideIncident(ctx context.Context, inc *runbook.Incident) (bool, error) {
	switch {
	case inc.Channel == "", inc.Channel == v.here, inc.ChannelPrivacy == runbook.ChannelPublic,
		v.user == inc.CreatedBy, v.user == inc.Commander:
		return true, nil
	case inc.ChannelPrivacy == runbook.ChannelPrivate:
		return v.isMember(ctx, inc.Channel)
	}
	return v.seesChannel(ctx, inc.Channel)
}

// seesIncidentID is seesIncident for an incident known by its number; 0 is no incident.
func (v *viewer) seesIncidentID(ctx context.Context, id int64) (bool, error) {
	if id == 0 {
		return true, nil
	}
	if ok, known := v.incident[id]; known {
		return ok, nil
	}
	inc, err := v.h.store.Incident(ctx, id)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		v.incident[id] = false
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v.seesIncident(ctx, inc)
}

// seesChannel says whether the asker may see what was done in channel: any public
// channel, and a private one they are a member of. A direct message is its people's
// own. A channel Slack no longer shows the bot counts as private.
func (v *viewer) seesChannel(ctx context.Context, channel string) (bool, error) {
	if channel == "" || channel == v.here {
		return true, nil
	}
	if ok, known := v.channel[channel]; known {
		return ok, nil
	}
	ok, err := v.decideChannel(ctx, channel)
	if err != nil {
		return false, err
	}
	v.channel[channel] = ok
	return ok, nil
}

func (v *viewer) decideChannel(ctx context.Context, channel string) (bool, error) {
	if strings.HasPrefix(channel, "D") {
		return false, nil // a direct message with someone else: whoever did it is let through by the caller
	}
	conv, err := v.h.Slack.ChannelInfo(ctx, channel)
	if runbook.SlackUnanswered(err) {
		return false, fmt.Errorf("check whether %s is private: %w", channel, err)
	}
	if err == nil && !conv.Private {
		return true, nil
	}
	return v.isMember(ctx, channel)
}

// isMember says whether the asker is a member of a private channel, from one read of
// the private channels they share with the bot, made the first time a list needs it.
// A channel the bot is not in is one nobody here may see. Slack failing, or refusing
// (a missing scope), is an error: never a silent "no" that empties someone's list.
func (v *viewer) isMember(ctx context.Context, channel string) (bool, error) {
	if v.private == nil {
		in, err := v.h.Slack.PrivateChannelsOf(ctx, v.user)
		if err != nil {
			return false, fmt.Errorf("check which private channels may be shown: %w", err)
		}
		v.private = in
	}
	return v.private[channel], nil
}

// seesRun says whether the asker may see a run: by its incident's rule if it has one,
// else whoever started it, and those who may see the channel it was started in.
func (v *viewer) seesRun(ctx context.Context, r *runbook.Run) (bool, error) {
	if r.IncidentID != 0 {
		return v.seesIncidentID(ctx, r.IncidentID)
	}
	if r.StartedBy != "" && r.StartedBy == v.user {
		return true, nil
	}
	return v.seesChannel(ctx, r.Channel)
}

// seesApproval says whether the asker may see an approval request: by its incident's
// rule if it has one; else whoever asked, and those who may see both the run that
// asked (if one did) and the channel it was asked in.
func (v *viewer) seesApproval(ctx context.Context, a *runbook.Approval) (bool, error) {
	if a.IncidentID != 0 {
		return v.seesIncidentID(ctx, a.IncidentID)
	}
	if a.RequestedBy != "" && a.RequestedBy == v.user {
		return true, nil
	}
	if a.RunID != 0 {
		r, err := v.h.Runs.Run(ctx, a.RunID)
		if err != nil {
			return false, hiddenIfGone(err)
		}
		if ok, err := v.seesRun(ctx, r); !ok || err != nil {
			return false, err
		}
	}
	return v.seesChannel(ctx, a.Channel)
}

// seesEntry says whether the asker may see an audit entry: their own, and those of
// what they may see (its incident, else its run, else its approval).
func (v *viewer) seesEntry(ctx context.Context, e runbook.AuditEntry) (bool, error) {
	switch {
	case e.Actor == v.user:
		return true, nil
	case e.IncidentID != 0:
		return v.seesIncidentID(ctx, e.IncidentID)
	case e.RunID != 0:
		r, err := v.h.Runs.Run(ctx, e.RunID)
		if err != nil {
			return false, hiddenIfGone(err)
		}
		return v.seesRun(ctx, r)
	case e.ApprovalID != 0:
		a, err := v.h.Approvals.Approval(ctx, e.ApprovalID)
		if err != nil {
			return false, hiddenIfGone(err)
		}
		return v.seesApproval(ctx, a)
	}
	return true, nil
}

// hiddenIfGone turns "not found" into a plain no: an entry whose subject is gone is
// left out, not an error.
func hiddenIfGone(err error) error {
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return nil
	}
	return err
}

// visible reads the newest n rows and keeps those the asker may see; when some are
// left out, it reads further back, up to listScan rows, to fill the list.
func visible[T any](ctx context.Context, n int, read func(limit int) ([]T, error), sees func(context.Context, T) (bool, error)) ([]T, error) {
	items, err := read(n)
	if err != nil {
		return nil, err
	}
	out, err := keep(ctx, items, n, sees)
	if err != nil || len(out) == n || len(items) < n {
		return out, err
	}
	if items, err = read(listScan); err != nil {
		return nil, err
	}
	return keep(ctx, items, n, sees)
}

// keep returns the first n of items the asker may see, in order, asking about no more
// of them than it takes to find n.
func keep[T any](ctx context.Context, items []T, n int, sees func(context.Context, T) (bool, error)) ([]T, error) {
	var out []T
	for _, it := range items {
		if len(out) == n {
			break
		}
		ok, err := sees(ctx, it)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// everything sees every item: a list already checked as a whole.
func everything[T any](context.Context, T) (bool, error) { return true, nil }
