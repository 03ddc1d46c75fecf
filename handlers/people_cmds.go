package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// maxInvite bounds the people one invite command brings into a channel: a user group
// of thousands named by mistake would flood the incident channel and spend Slack's
// rate budget, so a larger invitation is refused whole, before anyone is invited.
const maxInvite = 100

// assign: assign [INC-id] @user role
func (h *Handlers) assign(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, used, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	rest := a.words[boolInt(used):]
	if len(a.order) > 0 || len(rest) != 2 {
		return nil, runbook.Errorf(runbook.EINVALID, "Say who and which role, as in `%s assign %s @alice %s`.", inv.prefix, inc.Key(), h.exampleRole())
	}
	who, roleTok := rest[0], rest[1]
	if _, ok := userID(roleTok); ok && who.Kind == Word {
		who, roleTok = roleTok, who // "assign comms @bob" says the same
	}
	role, err := h.roleArg(roleTok)
	if err != nil {
		return nil, err
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	user, err := h.member(ctx, who)
	if err != nil {
		return nil, err
	}
	c := incidents.Change{Roles: map[string]string{role: user}, By: inv.req.UserID, Key: inv.req.ID}
	updated, err := h.Incidents.Update(ctx, inc.ID, c)
	if err != nil {
		return nil, err
	}
	return slackui.PrivateText(fmt.Sprintf(":bust_in_silhouette: %s is now %s of *%s*.", slackui.Mention(updated.Role(role)), role, updated.Key())), nil
}

// roleArg is the configured role a word names. What cannot be a role name (markup, a
// mention) is refused without being echoed back as anything but plain text.
func (h *Handlers) roleArg(t Token) (string, error) {
	role := strings.ToLower(t.Text)
	if t.Kind != Word || !runbook.ValidRoleName(role) {
		return "", runbook.Errorf(runbook.EINVALID, "“%s” is not a role; the roles are %s.", slackui.Escape(slackui.Truncate(t.Text, 40)), strings.Join(h.Incidents.Roles(), ", "))
	}
	return role, h.Incidents.CheckRole(role)
}

// unassign: unassign [INC-id] <role>. The role is left with nobody; the commander
// role is handed on with assign instead, since an incident always has a commander.
func (h *Handlers) unassign(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, used, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	rest := a.words[boolInt(used):]
	if len(a.order) > 0 || len(rest) != 1 || rest[0].Kind != Word {
		return nil, runbook.Errorf(runbook.EINVALID, "Say which role to take away, as in `%s unassign %s %s`.", inv.prefix, inc.Key(), h.exampleRole())
	}
	role, err := h.roleArg(rest[0])
	if err != nil {
		return nil, err
	}
	if role == runbook.RoleCommander {
		return nil, runbook.Errorf(runbook.EINVALID, "An incident always has a commander; hand the role on instead, as in `%s assign %s @alice commander`.", inv.prefix, inc.Key())
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	// Whether anyone holds the role is decided with the change, in its transaction; a
	// request handled again finds it applied and answers without the former holder.
	holder := inc.Role(role)
	c := incidents.Change{Roles: map[string]string{role: ""}, By: inv.req.UserID, Key: inv.req.ID}
	if _, err := h.Incidents.Update(ctx, inc.ID, c); err != nil {
		return nil, err
	}
	if holder == "" {
		return slackui.PrivateText(fmt.Sprintf(":bust_in_silhouette: Nobody is %s of *%s* now.", role, inc.Key())), nil
	}
	return slackui.PrivateText(fmt.Sprintf(":bust_in_silhouette: %s is no longer %s of *%s*.", slackui.Mention(holder), role, inc.Key())), nil
}

// exampleRole is a role to show in a usage example: the first configured one that is
// not commander.
func (h *Handlers) exampleRole() string {
	for _, r := range h.Incidents.Roles() {
		if r != runbook.RoleCommander {
			return r
		}
	}
	return runbook.RoleCommander
}

// member turns a token naming one person into the id of an active member: a mention,
// an id, or a username (never a display name, which anyone may choose).
func (h *Handlers) member(ctx context.Context, t Token) (string, error) {
	if t.Kind != User && t.Kind != Word {
		return "", runbook.Errorf(runbook.EINVALID, "“%s” is not a person: mention them, as in @alice.", slackui.Escape(slackui.Truncate(t.Text, 40)))
	}
	id, err := h.resolveUser(ctx, t)
	if err != nil {
		return "", err
	}
	ok, err := h.Slack.UserExists(ctx, id)
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", id, err)
	}
	if !ok {
		return "", runbook.Errorf(runbook.EINVALID, "%s is not an active member of this workspace; mention someone who is, as in @alice.", slackui.Escape(id))
	}
	return id, nil
}

// invite: invite [INC-id] @user @group …
func (h *Handlers) invite(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, used, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	entries := a.words[boolInt(used):]
	if len(a.order) > 0 || len(entries) == 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "Say whom to invite, as in `%s invite %s @alice @oncall`.", inv.prefix, inc.Key())
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	if inc.Channel == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "%s has no channel of its own yet, so there is nowhere to invite people; a runbook with a slack.create_channel step makes one.", inc.Key())
	}
	conv, err := h.Slack.ChannelInfo(ctx, inc.Channel)
	if err != nil {
		return nil, channelError(slackui.ChannelRef(inc.Channel), err)
	}
	if conv.Private {
		// A private channel's members decide who joins it, as in Slack itself.
		member, err := h.Slack.IsMember(ctx, conv.ID, inv.req.UserID)
		if err != nil {
			return nil, fmt.Errorf("check who may invite into %s: %w", conv.ID, err)
		}
		if !member {
			h.refused(ctx, inv, fmt.Sprintf("invite into private channel %s of %s, which they are not a member of", conv.ID, inc.Key()))
			return nil, runbook.Errorf(runbook.EFORBIDDEN, "The channel of %s is private: only its members may invite people into it. Ask one of them, or its commander.", inc.Key())
		}
	}
	if conv.Archived {
		return nil, runbook.Errorf(runbook.EINVALID, "%s is archived; unarchive it from the channel's settings first.", slackui.ChannelRef(conv.ID))
	}
	users, problems, err := h.invitees(ctx, entries)
	if err != nil {
		return nil, err
	}
	if len(users) > maxInvite {
		return nil, runbook.Errorf(runbook.EINVALID, "That names %d people; invite at most %d at once (name a smaller user group, or invite in parts).", len(users), maxInvite)
	}
	var invited, refused []string
	if len(users) > 0 {
		if invited, refused, err = engine.InviteAll(ctx, h.Slack, conv.ID, users); err != nil {
			return nil, channelError(slackui.ChannelRef(conv.ID), err)
		}
	}
	if len(invited) > 0 {
		text := "invited " + mentions(invited) + " into " + slackui.ChannelRef(conv.ID)
		if err := h.Incidents.Invited(ctx, inc.ID, inv.req.UserID, inv.req.ID, text); err != nil {
			h.log.Error("record invitation", "incident", inc.Key(), "err", err)
		}
	}
	return slackui.PrivateText(inviteAnswer(conv.ID, invited, refused, problems)), nil
}

// invitees resolves the entries of an invite command (see runbook.People) to user ids,
// without repeats. Entries that name nobody — a user group the workspace cannot use, a
// name no one has — are passed over with a sentence each in problems: the others are
// still invited.
func (h *Handlers) invitees(ctx context.Context, entries []Token) (users, problems []string, err error) {
	for _, t := range entries {
		var entry string
		switch t.Kind {
		case User:
			entry = t.ID
		case Group:
			entry = t.ID
		case Word:
			entry = t.Text
		default:
			problems = append(problems, fmt.Sprintf("“%s” is not a person or a user group", slackui.Escape(slackui.Truncate(t.Text, 40))))
			continue
		}
		found, err := runbook.People(ctx, h.Slack, entry)
		if runbook.GroupUnusable(err) || runbook.ErrorCode(err) == runbook.ENOTFOUND {
			problems = append(problems, slackui.Escape(runbook.ErrorMessage(err)))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		for _, id := range found {
			if !slices.Contains(users, id) {
				users = append(users, id)
			}
		}
	}
	return users, problems, nil
}

// inviteAnswer says who was invited, who Slack would not let in and why, and which
// entries named nobody.
func inviteAnswer(channel string, invited, refused, problems []string) string {
	var parts []string
	if len(invited) > 0 {
		parts = append(parts, fmt.Sprintf(":inbox_tray: Invited %s into %s.", mentions(invited), slackui.ChannelRef(channel)))
	} else {
		parts = append(parts, fmt.Sprintf(":warning: Nobody was invited into %s.", slackui.ChannelRef(channel)))
	}
	if len(refused) > 0 {
		parts = append(parts, "Slack would not invite "+strings.Join(refused, ", ")+".")
	}
	if len(problems) > 0 {
		parts = append(parts, "Skipped: "+strings.Join(problems, "; ")+".")
	}
	return strings.Join(parts, " ")
}

func mentions(users []string) string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = slackui.Mention(u)
	}
	return strings.Join(out, ", ")
}

// stillArchived says, after a reopen, that the incident's channel is still archived
// (Slack does not let apps unarchive) and how to go on: unarchive it by hand, or run a
// runbook that creates a channel, which the incident then takes as its own.
func (h *Handlers) stillArchived(ctx context.Context, prefix string, inc *runbook.Incident) string {
	if inc.Channel == "" {
		return ""
	}
	conv, err := h.Slack.ChannelInfo(ctx, inc.Channel)
	if err != nil || !conv.Archived {
		return ""
	}
	cmd := ""
	for _, rb := range h.Catalog().List() {
		if slices.ContainsFunc(rb.Steps, func(st runbooks.Step) bool { return st.Action == "slack.create_channel" }) {
			cmd = fmt.Sprintf("%s run %s %s", prefix, rb.Name, inc.Key())
			break
		}
	}
	return "\n" + slackui.ChannelStillArchived(inc, cmd)
}
