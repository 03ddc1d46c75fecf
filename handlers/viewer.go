package handlers

import (
	"context"

	"github.com/runbookhq/runbook"
)

// A viewer decides, for one list (list, runs, audit, approvals), which of its lines
// the person asking may see, by the rules of runbook.Sight: what belongs to an
// incident whose channel is private — the incident, its runs, their approvals and
// audit entries — only for that channel's members and whoever declared or leads the
// incident; what was done in a private channel outside an incident, only for its
// members and whoever did it. Everyone else's list leaves those lines out, without a
// trace. A list trusts an incident's record of its channel's privacy, so it asks Slack
// nothing about public channels and, about private ones, one question.
type viewer struct {
	h     *Handlers
	user  string
	sight *runbook.Sight
}

// listScan is how many of the newest rows a list reads, at most, to find the ones its
// asker may see. Someone outside most recent private incidents gets a shorter list
// rather than a read of the whole history.
const listScan = 200

func (h *Handlers) viewer(inv *invocation) *viewer {
	return &viewer{h: h, user: inv.req.UserID, sight: runbook.NewSight(h.Slack, h.store, inv.req.UserID, inv.req.ChannelID)}
}

func (v *viewer) seesIncident(ctx context.Context, inc *runbook.Incident) (bool, error) {
	return v.sight.Incident(ctx, inc)
}

// seesRun says whether the asker may see a run: by its incident's rule if it has one,
// else whoever started it, and those who may see the channel it was started in.
func (v *viewer) seesRun(ctx context.Context, r *runbook.Run) (bool, error) {
	if r.IncidentID != 0 {
		return v.sight.IncidentID(ctx, r.IncidentID)
	}
	if r.StartedBy != "" && r.StartedBy == v.user {
		return true, nil
	}
	return v.sight.Channel(ctx, r.Channel)
}

// seesApproval says whether the asker may see an approval request (runbook.Sight's
// rule), and, for a run's request outside an incident, the run that asked.
func (v *viewer) seesApproval(ctx context.Context, a *runbook.Approval) (bool, error) {
	if a.RunID != 0 && a.IncidentID == 0 && a.RequestedBy != v.user {
		r, err := v.h.Runs.Run(ctx, a.RunID)
		if err != nil {
			return false, hiddenIfGone(err)
		}
		if ok, err := v.seesRun(ctx, r); !ok || err != nil {
			return false, err
		}
	}
	return v.sight.Approval(ctx, a)
}

// seesEntry says whether the asker may see an audit entry: their own, and those of
// what they may see (its incident, else its run, else its approval).
func (v *viewer) seesEntry(ctx context.Context, e runbook.AuditEntry) (bool, error) {
	switch {
	case e.Actor == v.user:
		return true, nil
	case e.IncidentID != 0:
		return v.sight.IncidentID(ctx, e.IncidentID)
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
