package handlers

import (
	"context"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// commandTable lists every command, in the order help shows them.
func (h *Handlers) commandTable() []*command {
	return []*command{
		{name: "declare", usage: "declare <severity> [service | --] <title…> [field=value …]", summary: "Declare an incident (no arguments opens a form); `--` before the title when its first word is not a service; custom fields as `region=eu`.", run: h.declare},
		{name: "status", usage: "status [INC-id]", summary: "Show an incident (in its channel the id is implied).", reads: true, run: h.status},
		{name: "update", usage: `update <INC-id> [status=…] [severity=…] [commander=@…] [summary="…"] [note="…"] [field=value …]`, summary: "Change an incident; `field=` with nothing after it clears a custom field.", run: h.update},
		{name: "resolve", usage: "resolve <INC-id> [note…]", summary: "Resolve an incident.", run: h.resolve},
		{name: "assign", usage: "assign [INC-id] @user <role>", summary: "Give someone a role in an incident (incidents.roles: commander, comms…).", run: h.assign},
		{name: "unassign", usage: "unassign [INC-id] <role>", summary: "Take a role back, leaving it with nobody (commander is handed on with assign instead).", run: h.unassign},
		{name: "invite", usage: "invite [INC-id] @user @group …", summary: "Invite people and user groups into an incident's channel.", run: h.invite},
		{name: "list", usage: "list [open|all]", summary: "List incidents (open ones by default).", reads: true, run: h.list},
		{name: "timeline", usage: "timeline <INC-id>", summary: "Show what happened in an incident, in order.", reads: true, run: h.timeline},
		{name: "note", usage: "note [INC-id] <text>", summary: "Add a note to the timeline; start it with `hypothesis:`, `root cause:`, `remediation:` or `action:` to say what it is.", run: h.note},
		{name: "summary", usage: "summary [INC-id]", summary: "Post the incident's summary: root cause, remediation, timeline, runs, follow-ups.", run: h.summary},
		{name: "followup", usage: `followup [INC-id] "text" [@owner]`, summary: "Add a follow-up (an action item) to the incident.", run: h.followup},
		{name: "followups", usage: "followups [INC-id]", summary: "List the incident's follow-ups.", reads: true, run: h.followups},
		{name: "done", usage: "done <F-id>", summary: "Mark a follow-up done, like `done F-3`.", run: h.done},
		{name: "run", usage: "run <runbook> [INC-id] [key=value …] [--dry-run]", summary: "Run a runbook, for an incident if given; --dry-run shows what each step would do, doing nothing.", run: h.runRunbook},
		{name: "runbooks", usage: "runbooks", summary: "List the runbooks you can run, with their params.", reads: true, run: h.listRunbooks},
		{name: "runs", usage: "runs [INC-id]", summary: "Show recent runs and where they stand.", reads: true, run: h.listRuns},
		{name: "cancel", usage: "cancel <run-id>", summary: "Cancel a run that is still going.", run: h.cancel},
		{name: "approvals", usage: "approvals", summary: "List the approvals waiting for you.", reads: true, run: h.pendingApprovals},
		{name: "approve", usage: "approve <APR-id>", summary: "Approve a request, as the Approve button does.", run: h.approveCmd},
		{name: "deny", usage: "deny <APR-id> [reason…]", summary: "Deny a request, as the Deny button does.", run: h.denyCmd},
		{name: "audit", usage: "audit [INC-id]", summary: "Show the audit log: every request, click and decision.", reads: true, run: h.auditLog},
		{name: "post", usage: "post to #channel: <text>", summary: "Post a message to a channel as Runbook.", run: h.post},
		{name: "show", usage: "show recent messages in #channel", summary: "Show a channel's latest messages.", run: h.show},
		{name: "help", usage: "help [command | run <runbook>]", summary: "Show what Runbook can do, or how to use one command.", reads: true, run: h.help},
	}
}

// action answers a button click. Buttons of unknown kinds are answered, never ignored.
func (h *Handlers) action(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	d, ok, err := DecisionFrom(req)
	if err != nil {
		return nil, err
	}
	if ok {
		return h.decide(ctx, req, d)
	}
	if req.Action != nil && req.Action.ActionID == slackui.ActionRollback {
		return h.rollBack(ctx, req)
	}
	if req.Action != nil && (req.Action.ActionID == slackui.ActionReminderUpdate || req.Action.ActionID == slackui.ActionReminderSnooze) {
		return h.reminderClick(ctx, req)
	}
	return slackui.PrivateText(":grey_question: That button is no longer in use; nothing was changed."), nil
}

// viewSubmission answers a submitted modal.
func (h *Handlers) viewSubmission(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	switch req.View.CallbackID {
	case slackui.DeclareCallbackID:
		return h.declareSubmitted(ctx, req)
	case slackui.DenyReasonCallbackID:
		d, _, err := DecisionFrom(req)
		if err != nil {
			return nil, err
		}
		return h.decide(ctx, req, d)
	case slackui.ReminderUpdateCallbackID:
		return h.reminderUpdateSubmitted(ctx, req)
	}
	return nil, nil
}

func (h *Handlers) register(c *command) {
	h.commands = append(h.commands, c)
	h.byName[c.name] = c
}
