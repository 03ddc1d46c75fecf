package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// Permissions say who may do what beyond the rules every incident and run has. Each
// list holds user ids, usernames and user groups.
type Permissions struct {
	Admins     []string // may do everything
	Responders []string // may update and resolve any incident and cancel any run
	Declare    []string // who may declare; empty: everyone
}

// A refusal says, in a sentence, who may do what was refused; the audit log says it too.

// mayDeclare refuses a declaration by someone not in permissions.declare (when set).
func (h *Handlers) mayDeclare(ctx context.Context, inv *invocation) error {
	if len(h.Permissions.Declare) == 0 {
		return nil
	}
	return h.allow(ctx, inv, "declare an incident", "Only the people permissions.declare names may declare incidents.",
		h.Permissions.Admins, h.Permissions.Declare)
}

// mayChange refuses an update or resolution of an incident by anyone but whoever
// declared it, its commander, the members of its channel, responders and admins.
func (h *Handlers) mayChange(ctx context.Context, inv *invocation, inc *runbook.Incident) error {
	if ok, err := h.incidentsOwn(ctx, inc, inv.req.UserID); ok || err != nil {
		return err
	}
	sentence := fmt.Sprintf("Only whoever declared %s, its commander, the members of its channel, responders and admins may %s it.", inc.Key(), inv.verb)
	return h.allow(ctx, inv, inv.verb+" "+inc.Key(), sentence, h.Permissions.Admins, h.Permissions.Responders)
}

// mayCancel refuses to cancel a run by anyone but whoever started it, its incident's
// commander, responders and admins: a cancel is a veto that needs no approver.
func (h *Handlers) mayCancel(ctx context.Context, inv *invocation, run *runbook.Run) error {
	user := inv.req.UserID
	if user == run.StartedBy {
		return nil
	}
	if run.IncidentID != 0 {
		if inc, err := h.store.Incident(ctx, run.IncidentID); err == nil && inc.Commander == user {
			return nil
		}
	}
	sentence := fmt.Sprintf("Only whoever started %s, its incident's commander, responders and admins may cancel it.", run.Key())
	return h.allow(ctx, inv, "cancel "+run.Key(), sentence, h.Permissions.Admins, h.Permissions.Responders)
}

// mayRun refuses to run a runbook that names who may run it to anyone else but admins.
func (h *Handlers) mayRun(ctx context.Context, inv *invocation, rb *runbooks.Runbook) error {
	if len(rb.Allowed) == 0 {
		return nil
	}
	sentence := fmt.Sprintf("Only the people the runbook *%s* allows may run it.", slackui.Escape(rb.Name))
	return h.allow(ctx, inv, "run "+rb.Name, sentence, h.Permissions.Admins, rb.Allowed)
}

// allow lets the asker through if they are among any of the lists, and otherwise
// audits the refusal and answers it with sentence (EFORBIDDEN).
func (h *Handlers) allow(ctx context.Context, inv *invocation, what, sentence string, lists ...[]string) error {
	m := runbook.NewMembership(h.Slack)
	for _, list := range lists {
		ok, err := m.Has(ctx, inv.req.UserID, list)
		if err != nil {
			return fmt.Errorf("check who may %s: %w", what, err)
		}
		if ok {
			return nil
		}
	}
	h.refused(ctx, inv, strings.TrimSpace(what)+": not permitted")
	return runbook.Errorf(runbook.EFORBIDDEN, "%s", sentence)
}

// mayComplete refuses to mark a follow-up done to anyone but its owner, whoever added
// it, and whoever may change its incident.
func (h *Handlers) mayComplete(ctx context.Context, inv *invocation, f *runbook.FollowUp) error {
	user := inv.req.UserID
	if user == f.Owner || user == f.CreatedBy {
		return nil
	}
	inc, err := h.store.Incident(ctx, f.IncidentID)
	if err != nil {
		return err
	}
	if ok, err := h.incidentsOwn(ctx, inc, user); ok || err != nil {
		return err
	}
	sentence := fmt.Sprintf("Only %s's owner, whoever added it, the people of %s (its commander, the members of its channel), responders and admins may mark it done.",
		f.Key(), inc.Key())
	return h.allow(ctx, inv, "complete "+f.Key(), sentence, h.Permissions.Admins, h.Permissions.Responders)
}

// incidentsOwn says whether user is one of the incident's own people: whoever
// declared it, its commander, or a member of its channel.
func (h *Handlers) incidentsOwn(ctx context.Context, inc *runbook.Incident, user string) (bool, error) {
	if user == inc.CreatedBy || user == inc.Commander {
		return true, nil
	}
	if inc.Channel == "" {
		return false, nil
	}
	member, err := h.inChannel(ctx, inc.Channel, user)
	if err != nil {
		return false, fmt.Errorf("check who may act on %s: %w", inc.Key(), err)
	}
	return member, nil
}

// inChannel asks Slack whether user is a member of channel. A channel Slack will not
// show the bot (channel_not_found, not_in_channel…) has no members as far as anyone
// here is concerned; Slack failing or out of reach is an error, never a "no", so that
// an outage is not answered as a refusal.
func (h *Handlers) inChannel(ctx context.Context, channel, user string) (bool, error) {
	member, err := h.Slack.IsMember(ctx, channel, user)
	if runbook.SlackUnanswered(err) {
		return false, err
	}
	return member && err == nil, nil
}

// mayView says who may see an incident's status, timeline, runs, audit, summary or
// follow-ups, or run a runbook on it, asked for in this channel. An incident whose channel is private is
// shown in public only in that channel; elsewhere only its members, its declarer and
// its commander see it, privately, and anyone else is refused without it.
func (h *Handlers) mayView(ctx context.Context, inv *invocation, inc *runbook.Incident) (runbook.Visibility, error) {
	if inc.Channel == "" || inc.Channel == inv.req.ChannelID {
		return runbook.Public, nil
	}
	private, err := runbook.IsChannelPrivate(ctx, h.Slack, inc.Channel, inc.ChannelPrivacy)
	if err != nil {
		return runbook.Private, fmt.Errorf("check who may see %s: %w", inc.Key(), err)
	}
	if !private {
		return runbook.Public, nil
	}
	// Private, or a channel Slack no longer shows the bot: only its members may see
	// it, and whoever declared it or leads it, wherever they ask.
	if u := inv.req.UserID; u == inc.CreatedBy || u == inc.Commander {
		return runbook.Private, nil
	}
	member, err := h.inChannel(ctx, inc.Channel, inv.req.UserID)
	if err != nil {
		return runbook.Private, fmt.Errorf("check who may see %s: %w", inc.Key(), err)
	}
	if !member {
		h.refused(ctx, inv, fmt.Sprintf("%s of %s, whose private channel %s they are not a member of", inv.verb, inc.Key(), inc.Channel))
		what := "see its " + inv.verb
		if inv.verb == "run" {
			what = "run runbooks on it"
		}
		return runbook.Private, runbook.Errorf(runbook.EFORBIDDEN,
			"%s's channel is private: only its members may %s. Ask its commander to invite you.", inc.Key(), what)
	}
	return runbook.Private, nil
}
