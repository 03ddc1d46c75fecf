package handlers

import (
	"context"
	"fmt"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/slackui"
)

// rollBack answers a click on a run's Roll back button: anyone allowed to run the
// runbook may ask, the click counts only on the run's result message, and the rollback
// then asks the run's approvers before it undoes anything.
func (h *Handlers) rollBack(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	id, err := runbook.ParseRunKey(req.Action.Value)
	if err != nil {
		return nil, runbook.Errorf(runbook.EINVALID, "That Roll back button names no run; nothing was rolled back.")
	}
	run, err := h.Runs.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	inv := &invocation{req: req, prefix: prefix(req), verb: "rollback"}
	rb, ok := h.Catalog().Get(run.Runbook)
	if !ok {
		return nil, runbook.Errorf(runbook.ECONFLICT, "The runbook %s is no longer loaded, so %s cannot be rolled back.", slackui.Escape(run.Runbook), run.Key())
	}
	if err := h.mayRun(ctx, inv, rb); err != nil {
		return nil, err
	}
	rollback, err := h.Executor.RollBack(ctx, engine.RollbackInput{RunID: run.ID, By: req.UserID,
		Channel: req.ChannelID, MessageTS: req.Action.MessageTS, Key: req.ID})
	if err != nil {
		if runbook.ErrorCode(err) == runbook.EFORBIDDEN {
			h.refused(ctx, inv, fmt.Sprintf("roll back %s: %s", run.Key(), runbook.ErrorMessage(err)))
		}
		return nil, err
	}
	e := runbook.AuditEntry{Actor: req.UserID, Action: runbook.AuditRollbackRequested, IncidentID: run.IncidentID, RunID: run.ID,
		Detail: fmt.Sprintf("rollback %s of %s (%s) asked for; it waits for approval", rollback.Key(), run.Key(), run.Runbook)}
	if err := h.Audit.Record(ctx, e); err != nil {
		h.log.Error("audit a rollback", "run", run.Key(), "err", err)
	}
	return slackui.PrivateText(fmt.Sprintf("↩️ %s will roll back %s once it is approved; the approval request is on its way.", rollback.Key(), run.Key())), nil
}
