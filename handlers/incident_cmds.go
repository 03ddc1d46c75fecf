package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/slackui"
)

// declare: declare <severity> [service | --] <title…>, or a form when given nothing.
func (h *Handlers) declare(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	if err := h.mayDeclare(ctx, inv); err != nil {
		return nil, err
	}
	if len(a.words) == 0 && len(a.opts) == 0 {
		return h.openDeclareForm(ctx, inv)
	}
	if len(a.words) == 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "Give a severity and a title.")
	}
	d := incidents.Declaration{Severity: strings.ToLower(a.words[0].Text), By: inv.req.UserID, Key: inv.req.ID}
	if err := h.Incidents.CheckSeverity(d.Severity); err != nil {
		return nil, err
	}
	rest, err := h.declaredService(&d, a, inv.prefix)
	if err != nil {
		return nil, err
	}
	if c, ok := a.opts["commander"]; ok {
		id, err := h.resolveUser(ctx, c)
		if err != nil {
			return nil, err
		}
		d.Commander = id
	}
	d.Title = a.text(rest)
	if d.Title == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "Give the incident a title.")
	}
	if sum, ok := a.opts["summary"]; ok {
		d.Summary = sum.Text
	}
	if d.Fields, err = h.fieldValues(ctx, a, declareKeys); err != nil {
		return nil, err
	}
	out, err := h.Incidents.Declare(ctx, d)
	if err != nil {
		return nil, err
	}
	return declaredReply(out), nil
}

// declareKeys are the options declare reads itself; every other key=value names a
// custom field.
var declareKeys = []string{"service", "commander", "summary"}

// updateKeys are the options update reads itself.
var updateKeys = []string{"status", "severity", "sev", "commander", "note", "summary"}

// fieldValues reads the key=value options that are not among own as custom field
// values. A user field's value is turned into a user id — from a mention, an id or
// an @handle, never a display name — so that what is stored names one person.
func (h *Handlers) fieldValues(ctx context.Context, a args, own []string) (map[string]string, error) {
	specs := h.Incidents.Fields()
	var out map[string]string
	for _, key := range a.order {
		if slices.Contains(own, key) {
			continue
		}
		f, ok := runbook.FieldByName(specs, key)
		if !ok {
			return nil, unknownKey(key, own, runbook.FieldNames(specs))
		}
		v := a.opts[key]
		value := v.Text
		if f.Type == runbook.FieldUser && strings.TrimSpace(value) != "" {
			id, err := h.resolveUser(ctx, v)
			if err != nil {
				return nil, runbook.Errorf(runbook.EINVALID, "%s is a person: %s Mention them (%s=@alice).", f.Name, runbook.ErrorMessage(err), f.Name)
			}
			value = id
		}
		if out == nil {
			out = map[string]string{}
		}
		out[key] = value
	}
	return out, nil
}

// unknownKey answers an option that is neither the command's own nor a custom field.
func unknownKey(key string, own, fields []string) error {
	msg := fmt.Sprintf("I don't know “%s”", slackui.Escape(key))
	if s := runbook.Suggest(key, append(slices.Clone(own), fields...)); s != "" {
		msg += fmt.Sprintf(" (did you mean “%s”?)", s)
	}
	if len(fields) == 0 {
		return runbook.Errorf(runbook.EINVALID, "%s; use %s (no custom fields are configured). To put “=” in a title, quote the title.", msg, strings.Join(own, ", "))
	}
	return runbook.Errorf(runbook.EINVALID, "%s; use %s, or a field: %s.", msg, strings.Join(own, ", "), strings.Join(fields, ", "))
}

// declaredService reads the service of "declare <severity> [service | --] <title…>"
// into d and returns where the title starts. A first word that is not a service but
// close to one ("chekout") is most likely a typo, and folding it into the title would
// route the incident wrongly, so it is asked about instead; "--" says the title starts
// there.
func (h *Handlers) declaredService(d *incidents.Declaration, a args, prefix string) (int, error) {
	if len(a.words) > 1 && isTitleMark(a.words[1]) {
		if svc, ok := a.opts["service"]; ok {
			d.Service = svc.Text
		}
		return 2, nil
	}
	if svc, ok := a.opts["service"]; ok {
		d.Service = svc.Text
		return 1, nil
	}
	if len(a.words) < 2 {
		return 1, nil
	}
	first := a.words[1]
	word := strings.ToLower(first.Text)
	if slices.Contains(h.Services, word) {
		if len(a.words) > 2 {
			d.Service = word
			return 2, nil
		}
		return 1, nil // "declare sev3 checkout": the service's name is the whole title
	}
	if sug := runbook.Suggest(word, h.Services); sug != "" && !first.Quoted && first.Kind == Word {
		rest := orDefault(slackui.Escape(slackui.Truncate(a.text(2), 60)), "…")
		return 0, runbook.Errorf(runbook.EINVALID,
			"Did you mean the service “%s”? Say `%s declare %s %s %s`, or `%s declare %s -- %s %s` for a title that starts with “%s”.",
			sug, prefix, d.Severity, sug, rest, prefix, d.Severity, slackui.Escape(first.Text), rest, slackui.Escape(first.Text))
	}
	return 1, nil
}

// isTitleMark reports whether a word is "--", which ends the options of declare: what
// follows is the title. Phones turn "--" into a dash, so "—" counts too.
func isTitleMark(t Token) bool {
	return t.Kind == Word && !t.Quoted && (t.Text == "--" || t.Text == "—")
}

func declaredReply(out *incidents.Declared) *runbook.Reply {
	inc := out.Incident
	text := fmt.Sprintf(":rotating_light: Declared *%s* %s (%s).", inc.Key(), slackui.Escape(inc.Title), inc.Severity)
	// Answered before the announcement and the runs, they are said as under way (a
	// follow-up says what fails of them); else as done.
	if out.AnnouncingIn != "" {
		text += fmt.Sprintf(" Announcing it in %s.", slackui.ConfiguredChannel(out.AnnouncingIn))
	}
	if len(out.Starting) > 0 {
		text += " Starting *" + strings.Join(out.Starting, "*, *") + "*."
	}
	if out.AnnouncedIn != "" {
		text += fmt.Sprintf(" Announced in <#%s>.", out.AnnouncedIn)
	}
	if len(out.Runs) > 0 {
		var names []string
		for _, r := range out.Runs {
			names = append(names, fmt.Sprintf("*%s* (%s)", r.Runbook, r.Key()))
		}
		text += " Started " + strings.Join(names, ", ") + "."
	}
	if out.Problems != nil {
		text += "\n" + out.Problems.Text
	}
	return slackui.PrivateText(text)
}

// resolveUser turns a commander=… value into a user id.
func (h *Handlers) resolveUser(ctx context.Context, t Token) (string, error) {
	if id, ok := userID(t); ok {
		return id, nil
	}
	id, err := h.Slack.ResolveUser(ctx, t.Text)
	if runbook.SlackCode(err) == "user_not_found" {
		return "", runbook.Errorf(runbook.EINVALID, "I can't find a user %s.", slackui.Escape(t.Text))
	}
	return id, err
}

// status: status [INC-id]
func (h *Handlers) status(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, _, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	if _, err := h.mayView(ctx, inv, inc); err != nil {
		return nil, err
	}
	msg := slackui.Announcement(inc, h.Incidents.Fields()...)
	return &runbook.Reply{Visibility: runbook.Private, Text: msg.Text, Blocks: msg.Blocks}, nil
}

// update: update <INC-id> status=… severity=… commander=@… summary="…" note="…" field=value…
func (h *Handlers) update(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, used, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	if extra := len(a.words) - boolInt(used); extra > 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "I don't understand “%s”: write changes as key=value.", slackui.Escape(a.text(boolInt(used))))
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	c := incidents.Change{By: inv.req.UserID, Key: inv.req.ID}
	if c.Fields, err = h.fieldValues(ctx, a, updateKeys); err != nil {
		return nil, err
	}
	for _, key := range a.order {
		v := a.opts[key]
		switch key {
		case "status":
			c.Status = v.Text
		case "severity", "sev":
			c.Severity = v.Text
		case "note":
			c.Note = v.Text
		case "summary":
			c.Summary = &v.Text
		case "commander":
			if c.Commander, err = h.resolveUser(ctx, v); err != nil {
				return nil, err
			}
		}
	}
	updated, err := h.Incidents.Update(ctx, inc.ID, c)
	if err != nil {
		return nil, err
	}
	done := ":pencil2: Updated"
	if incidents.Reopened(inc, updated) {
		done = ":arrows_counterclockwise: Reopened"
	}
	text := fmt.Sprintf("%s *%s*: %s, %s, commander %s", done, updated.Key(), updated.Severity, updated.Status, mentionOr(updated.Commander, "none"))
	for _, f := range h.Incidents.Fields() {
		if _, changed := c.Fields[f.Name]; changed {
			text += fmt.Sprintf(", %s %s", f.Name, slackui.Or(slackui.FieldValue(f, updated.Fields[f.Name]), "cleared"))
		}
	}
	switch {
	case c.Summary != nil && updated.Summary == "":
		text += ", summary cleared"
	case c.Summary != nil:
		text += ", summary set"
	}
	text += "."
	if incidents.Reopened(inc, updated) {
		text += h.stillArchived(ctx, inv.prefix, updated)
	}
	return slackui.PrivateText(text), nil
}

// resolve: resolve <INC-id> [note…]
func (h *Handlers) resolve(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, used, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	if err := h.mayChange(ctx, inv, inc); err != nil {
		return nil, err
	}
	note := a.text(boolInt(used))
	if n, ok := a.opts["note"]; ok {
		note = n.Text
	}
	resolved, err := h.Incidents.Resolve(ctx, inc.ID, incidents.Change{Note: note, By: inv.req.UserID, Key: inv.req.ID})
	if err != nil {
		return nil, err
	}
	return slackui.PrivateText(fmt.Sprintf(":white_check_mark: Resolved *%s* %s.", resolved.Key(), slackui.Escape(resolved.Title))), nil
}

// list: list [open|all]
func (h *Handlers) list(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	open := true
	if len(a.words) > 0 {
		switch strings.ToLower(a.words[0].Text) {
		case "open":
		case "all":
			open = false
		default:
			return nil, runbook.Errorf(runbook.EINVALID, "List “open” or “all” incidents, not “%s”.", slackui.Escape(a.words[0].Text))
		}
	}
	read := func(limit int) ([]*runbook.Incident, error) {
		f := runbook.IncidentFilter{Limit: limit}
		if open {
			f.Open = &open
		}
		return h.store.ListIncidents(ctx, f)
	}
	list, err := visible(ctx, 20, read, h.viewer(inv).seesIncident)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return slackui.PrivateText("No open incidents. :relieved:"), nil
	}
	var lines []string
	for _, inc := range list {
		state := inc.Status
		if !inc.ResolvedAt.IsZero() {
			state = "resolved"
		}
		lines = append(lines, fmt.Sprintf("*%s* %s · %s · %s · %s", inc.Key(), slackui.Escape(inc.Title), inc.Severity, state, mentionOr(inc.Commander, "no commander")))
	}
	return slackui.List(fmt.Sprintf("%d incident(s)", len(list)), lines), nil
}

// timeline: timeline <INC-id>
func (h *Handlers) timeline(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	inc, _, err := h.incidentArg(ctx, inv, a, 0)
	if err != nil {
		return nil, err
	}
	if _, err := h.mayView(ctx, inv, inc); err != nil {
		return nil, err
	}
	entries, err := h.store.Timeline(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, e := range entries {
		lines = append(lines, fmt.Sprintf("`%s` %s — %s", e.At.UTC().Format("Jan 02 15:04"), actor(e.Actor), slackui.TimelineText(e.Text)))
	}
	return slackui.List(fmt.Sprintf("Timeline of %s %s", inc.Key(), slackui.Escape(inc.Title)), lines), nil
}

func actor(a string) string {
	if strings.HasPrefix(a, "U") || strings.HasPrefix(a, "W") {
		return slackui.Mention(a)
	}
	return slackui.Escape(a)
}

func mentionOr(user, none string) string { return slackui.Or(slackui.Mention(user), none) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
