package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/incidents"
)

// declareCallback is the callback id of the declare form.
const declareCallback = "incident.declare"

// openDeclareForm answers a bare `declare` with a form: title, severity, service.
func (h *Handlers) openDeclareForm(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	if inv.req.TriggerID == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "Give a severity and a title: %s declare sev1 checkout is down.", inv.prefix)
	}
	if _, err := h.Slack.OpenModal(ctx, inv.req.TriggerID, h.declareForm(inv.req.ChannelID)); err != nil {
		return nil, fmt.Errorf("open the declare form: %w", err)
	}
	return nil, nil
}

func (h *Handlers) declareForm(channel string) slack.ModalViewRequest {
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	title := slack.NewInputBlock("title", plain("Title"), nil, slack.NewPlainTextInputBlockElement(plain("Checkout is failing"), "title"))
	var options []*slack.OptionBlockObject
	for _, sev := range h.Incidents.Severities() {
		options = append(options, slack.NewOptionBlockObject(sev, plain(sev), nil))
	}
	sevSelect := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Severity"), "severity", options...)
	severity := slack.NewInputBlock("severity", plain("Severity"), nil, sevSelect)
	service := slack.NewInputBlock("service", plain("Service"), nil, slack.NewPlainTextInputBlockElement(plain("checkout"), "service"))
	service.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      declareCallback,
		PrivateMetadata: channel,
		Title:           plain("Declare an incident"),
		Submit:          plain("Declare"),
		Close:           plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{title, severity, service}},
	}
}

// declareSubmitted declares the incident a submitted form describes; problems are
// shown beside the inputs and the form stays open.
func (h *Handlers) declareSubmitted(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
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
	if len(problems) > 0 {
		return &runbook.Reply{ViewErrors: problems}, nil
	}
	out, err := h.Incidents.Declare(ctx, d)
	if err != nil {
		return &runbook.Reply{ViewErrors: map[string]string{"title": runbook.ErrorMessage(err)}}, nil
	}
	if channel := req.View.PrivateMetadata; channel != "" {
		reply := declaredReply(out)
		if err := h.Slack.PostEphemeral(ctx, channel, req.UserID, runbook.Message{Text: reply.Text, Blocks: reply.Blocks}); err != nil {
			h.log.Warn("cannot confirm a declaration", "incident", out.Incident.Key(), "err", err)
		}
	}
	return nil, nil
}
