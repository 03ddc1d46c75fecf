package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/slackui"
	"github.com/runbookhq/runbook/timers"
)

// reminderClick answers Post update and Snooze on an update reminder. The click counts
// only on the reminder it belongs to, with its token, and only from someone who may
// update the incident.
func (h *Handlers) reminderClick(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	inv := &invocation{req: req, prefix: prefix(req), verb: "update"}
	if h.Timers == nil {
		return slackui.PrivateText(":grey_question: That button is no longer in use; nothing was changed."), nil
	}
	f, err := h.Timers.Reminder(ctx, req.Action.Value, timers.MessageRef{Channel: req.ChannelID, TS: req.Action.MessageTS})
	if err != nil {
		if runbook.ErrorCode(err) == runbook.EFORBIDDEN {
			h.refused(ctx, inv, "reminder button: "+runbook.ErrorMessage(err))
		}
		return nil, err
	}
	inc, err := h.store.Incident(ctx, f.IncidentID)
	if err != nil {
		return nil, err
	}
	if !inc.ResolvedAt.IsZero() {
		return nil, runbook.Errorf(runbook.ECONFLICT, "%s is resolved; it needs no more updates.", inc.Key())
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	if req.Action.ActionID == slackui.ActionReminderSnooze {
		until, err := h.Timers.SnoozeReminder(ctx, f, inc, req.UserID)
		if err != nil {
			return nil, err
		}
		e := runbook.AuditEntry{Actor: req.UserID, Action: runbook.AuditReminderSnoozed, IncidentID: inc.ID,
			Detail: fmt.Sprintf("reminder of %s snoozed until %s UTC", inc.Key(), until.UTC().Format("15:04"))}
		if err := h.Audit.Record(ctx, e); err != nil {
			h.log.Error("audit a snooze", "incident", inc.Key(), "err", err)
		}
		return slackui.PrivateText(fmt.Sprintf(":zzz: Snoozed: I will remind you of *%s* again at %s UTC unless it is updated before.",
			inc.Key(), until.UTC().Format("15:04"))), nil
	}
	if req.TriggerID == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "I could not open the update form; use `%s update %s status=… note=\"…\"`.", inv.prefix, inc.Key())
	}
	if _, err := h.Slack.OpenModal(ctx, req.TriggerID, slackui.UpdateForm(inc, h.Incidents.Statuses(), req.Action.Value)); err != nil {
		return nil, fmt.Errorf("open the update form: %w", err)
	}
	return nil, nil
}

// reminderUpdateSubmitted applies a submitted Post update form through the same path
// as the update command; problems are shown beside the inputs and the form stays open.
func (h *Handlers) reminderUpdateSubmitted(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	inv := &invocation{req: req, prefix: prefix(req), verb: "update"}
	problem := func(block string, err error) (*runbook.Reply, error) {
		return &runbook.Reply{ViewErrors: map[string]string{block: runbook.ErrorMessage(err)}}, nil
	}
	if h.Timers == nil {
		return problem(slackui.UpdateNoteBlockID, runbook.Errorf(runbook.ECONFLICT, "This form is no longer in use; use `/runbook update`."))
	}
	f, err := h.Timers.Reminder(ctx, req.View.PrivateMetadata, timers.MessageRef{})
	if err != nil {
		if runbook.ErrorCode(err) == runbook.EFORBIDDEN {
			h.refused(ctx, inv, "reminder form: "+runbook.ErrorMessage(err))
		}
		return problem(slackui.UpdateNoteBlockID, err)
	}
	inc, err := h.store.Incident(ctx, f.IncidentID)
	if err != nil {
		return nil, err
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return problem(slackui.UpdateNoteBlockID, err)
	}
	v := req.View.Values
	status := strings.ToLower(strings.TrimSpace(v[slackui.UpdateStatusBlockID][slackui.UpdateStatusActionID]))
	note := strings.TrimSpace(v[slackui.UpdateNoteBlockID][slackui.UpdateNoteActionID])
	c := incidents.Change{Note: note, By: req.UserID, Key: req.ID}
	if status != "" && status != inc.Status {
		c.Status = status
	}
	if c.Status == "" && c.Note == "" {
		return problem(slackui.UpdateNoteBlockID, runbook.Errorf(runbook.EINVALID, "Write a note or choose another status: an update says what changed."))
	}
	updated, err := h.Incidents.Update(ctx, inc.ID, c)
	if err != nil {
		switch runbook.ErrorCode(err) {
		case runbook.EINVALID, runbook.ECONFLICT:
			return problem(slackui.UpdateStatusBlockID, err)
		}
		return nil, err
	}
	h.Timers.Answered(ctx, f, updated, req.UserID)
	return nil, nil
}
