package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/slackui"
)

// openDeclareForm answers a bare `declare` with a form: title, severity, service.
func (h *Handlers) openDeclareForm(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	if inv.req.TriggerID == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "Give a severity and a title: %s declare sev1 checkout is down.", inv.prefix)
	}
	if _, err := h.Slack.OpenModal(ctx, inv.req.TriggerID, slackui.DeclareForm(inv.req.ChannelID, h.Incidents.Severities(), h.Incidents.Fields()...)); err != nil {
		return nil, fmt.Errorf("open the declare form: %w", err)
	}
	return nil, nil
}

// declareSubmitted declares the incident a submitted form describes; problems are
// shown beside the inputs and the form stays open.
func (h *Handlers) declareSubmitted(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	if err := h.mayDeclare(ctx, &invocation{req: req, verb: "declare"}); err != nil {
		return &runbook.Reply{ViewErrors: map[string]string{"title": runbook.ErrorMessage(err)}}, nil
	}
	v := req.View.Values
	d := incidents.Declaration{
		Title:    strings.TrimSpace(v["title"]["title"]),
		Severity: strings.TrimSpace(v["severity"]["severity"]),
		Service:  strings.TrimSpace(v["service"]["service"]),
		By:       req.UserID,
		Key:      req.ID,
	}
	problems := map[string]string{}
	if d.Title == "" {
		problems["title"] = "Give the incident a title."
	}
	if err := h.Incidents.CheckSeverity(d.Severity); err != nil {
		problems["severity"] = runbook.ErrorMessage(err)
	}
	d.Fields = formFields(v, h.Incidents.Fields(), problems)
	if len(problems) > 0 {
		return &runbook.Reply{ViewErrors: problems}, nil
	}
	out, err := h.Incidents.Declare(ctx, d)
	if err != nil {
		return &runbook.Reply{ViewErrors: map[string]string{formBlock(err, h.Incidents.Fields()): runbook.ErrorMessage(err)}}, nil
	}
	if channel := req.View.PrivateMetadata; channel != "" {
		reply := declaredReply(out)
		if err := h.Slack.PostEphemeral(ctx, channel, req.UserID, runbook.Message{Text: reply.Text, Blocks: reply.Blocks}); err != nil {
			h.log.Warn("cannot confirm a declaration", "incident", out.Incident.Key(), "err", err)
		}
	}
	return nil, nil
}

// formFields reads the custom fields' inputs of a submitted declare form; what is wrong
// with one is put in problems, beside its input. A users select gives a user id, so
// identity never rests on a typed name.
func formFields(values map[string]map[string]string, specs []runbook.FieldSpec, problems map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range specs {
		block := slackui.FieldBlockPrefix + f.Name
		raw := strings.TrimSpace(values[block][slackui.FieldActionID])
		v, err := f.Check(raw)
		switch {
		case err != nil:
			problems[block] = runbook.ErrorMessage(err)
		case v == "" && f.Required && f.Default == "":
			problems[block] = fmt.Sprintf("%s is required: give it a value.", f.Name)
		case v != "":
			out[f.Name] = v
		}
	}
	return out
}

// formBlock is the input an error from declaring is shown beside: the field it names,
// else the title.
func formBlock(err error, specs []runbook.FieldSpec) string {
	msg := runbook.ErrorMessage(err)
	for _, f := range specs {
		if strings.HasPrefix(msg, f.Name+" ") {
			return slackui.FieldBlockPrefix + f.Name
		}
	}
	return "title"
}
