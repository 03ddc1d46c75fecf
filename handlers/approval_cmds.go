package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/slackui"
)

// decide applies an approve or deny, from a button or a command, and answers the
// person privately. A denial that needs a reason opens the reason form.
func (h *Handlers) decide(ctx context.Context, req *runbook.Request, d approvals.Decision) (*runbook.Reply, error) {
	out, err := h.Approvals.Decide(ctx, d)
	if err != nil {
		return nil, err
	}
	if out.NeedsReason && out.Approval != nil {
		if req.Kind == runbook.KindViewSubmission {
			return &runbook.Reply{ViewErrors: map[string]string{slackui.ReasonBlockID: out.Message}}, nil
		}
		if req.TriggerID != "" {
			if _, err := h.Slack.OpenModal(ctx, req.TriggerID, slackui.DenialModal(out.Approval)); err == nil {
				return nil, nil
			}
		}
		return slackui.PrivateText(fmt.Sprintf(":memo: %s Use `%s deny %s &lt;reason&gt;`.", out.Message, prefix(req), out.Approval.Key())), nil
	}
	icon := ":white_check_mark:"
	if out.Refused {
		icon = ":no_entry_sign:"
	}
	if req.Kind == runbook.KindViewSubmission {
		// The form closes; the answer goes to the channel the request was made in.
		if out.Approval != nil && out.Approval.Channel != "" {
			if err := h.Slack.PostEphemeral(ctx, out.Approval.Channel, req.UserID, runbook.Message{Text: icon + " " + out.Message}); err != nil {
				h.log.Warn("cannot confirm a denial", "approval", out.Approval.Key(), "err", err)
			}
		}
		return nil, nil
	}
	return slackui.PrivateText(icon + " " + out.Message), nil
}

// approveCmd: approve <APR-id>
func (h *Handlers) approveCmd(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	return h.decideCmd(ctx, inv, true)
}

// denyCmd: deny <APR-id> [reason…]
func (h *Handlers) denyCmd(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	return h.decideCmd(ctx, inv, false)
}

func (h *Handlers) decideCmd(ctx context.Context, inv *invocation, approve bool) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	if len(a.words) == 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "Which approval? Give its id, like APR-7; `%s approvals` lists yours.", inv.prefix)
	}
	id, err := runbook.ParseApprovalKey(a.words[0].Text)
	if err != nil {
		return nil, err
	}
	note := a.text(1)
	if approve && note != "" {
		return nil, runbook.Errorf(runbook.EINVALID, "approve takes only the approval id.")
	}
	d := approvals.Decision{ApprovalID: id, UserID: inv.req.UserID, Approve: approve, Note: note, Via: approvals.ViaCommand}
	return h.decide(ctx, inv.req, d)
}

// pendingApprovals: approvals
func (h *Handlers) pendingApprovals(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	list, err := h.Approvals.PendingFor(ctx, inv.req.UserID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return h.waitingForOthers(ctx, inv)
	}
	var lines []string
	for _, a := range list {
		lines = append(lines, pendingLine(a))
	}
	return slackui.List(fmt.Sprintf("%d approval(s) waiting for you. Decide with the buttons, or `%s approve &lt;id&gt;` / `%s deny &lt;id&gt; &lt;reason&gt;`", len(list), inv.prefix, inv.prefix), lines), nil
}

// pendingLine shows a pending request in a list.
func pendingLine(a *runbook.Approval) string {
	line := fmt.Sprintf("*%s* %s · %s risk · asked by %s · expires <!date^%d^{time}|%s>", a.Key(), slackui.Escape(a.Operation), a.Risk,
		mentionOr(a.RequestedBy, "a trigger"), a.ExpiresAt.Unix(), a.ExpiresAt.UTC().Format("15:04 UTC"))
	if a.IncidentID != 0 {
		line += " · " + runbook.IncidentKey(a.IncidentID)
	}
	return line
}

// waitingForOthers answers someone nothing is waiting for with what is waiting, and
// for whom, so that they know whom to ask.
func (h *Handlers) waitingForOthers(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	pending, err := h.Approvals.Pending(ctx)
	if err != nil {
		return nil, err
	}
	v := h.viewer(inv)
	pending, err = keep(ctx, pending, len(pending), func(ctx context.Context, w approvals.Waiting) (bool, error) {
		return v.seesApproval(ctx, w.Approval)
	})
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return slackui.PrivateText("No approvals are waiting."), nil
	}
	var lines []string
	for _, p := range pending {
		lines = append(lines, fmt.Sprintf("%s · waiting for %s (%d of %d)", pendingLine(p.Approval),
			slackui.Approvers(p.Approval.Approvers, "anyone but the requester"), len(p.ApprovedBy), max(p.Approval.Required, 1)))
	}
	return slackui.List(fmt.Sprintf("No approvals are waiting for you; %d waiting for others:", len(pending)), lines), nil
}

// auditLog: audit [INC-id]
func (h *Handlers) auditLog(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	var incidentID int64
	heading := "Audit log"
	if len(a.words) > 0 {
		inc, _, err := h.incidentArg(ctx, inv, a, 0)
		if err != nil {
			return nil, err
		}
		if _, err := h.mayView(ctx, inv, inc); err != nil {
			return nil, err
		}
		incidentID, heading = inc.ID, "Audit log of "+inc.Key()
	}
	read := func(limit int) ([]runbook.AuditEntry, error) { return h.Audit.Audit(ctx, incidentID, limit) }
	sees := h.viewer(inv).seesEntry
	if incidentID != 0 {
		sees = everything // the incident's own log: who may see it was checked above
	}
	entries, err := visible(ctx, 30, read, sees)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return slackui.PrivateText(heading + ": nothing yet."), nil
	}
	var lines []string
	for _, e := range entries {
		what := strings.TrimPrefix(e.Action, "approval.")
		line := fmt.Sprintf("`%s` %s %s", e.At.UTC().Format("Jan 02 15:04:05"), actor(e.Actor), what)
		if e.ApprovalID != 0 {
			line += " " + runbook.ApprovalKey(e.ApprovalID)
		}
		if e.Detail != "" {
			line += " — " + slackui.Escape(slackui.Truncate(e.Detail, 200))
		}
		lines = append(lines, line)
	}
	return slackui.List(heading+" (newest first)", lines), nil
}
