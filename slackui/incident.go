package slackui

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// severityBadges make severities stand out in a channel.
var severityBadges = map[string]string{"sev0": ":red_circle:", "sev1": ":large_orange_circle:", "sev2": ":large_yellow_circle:"}

// Announcement is the declaration message, re-rendered on every change and edited in
// place so the channel shows one current message per incident.
func Announcement(inc *runbook.Incident) runbook.Message {
	badge := severityBadges[inc.Severity]
	if badge == "" {
		badge = ":white_circle:"
	}
	title := fmt.Sprintf("%s *%s* %s", badge, inc.Key(), Escape(inc.Title))
	if !inc.ResolvedAt.IsZero() {
		title = fmt.Sprintf(":white_check_mark: *%s* ~%s~ resolved", inc.Key(), Escape(inc.Title))
	}
	fields := []*slack.TextBlockObject{
		Mrkdwn("*Severity*\n" + inc.Severity),
		Mrkdwn("*Status*\n" + inc.Status),
		Mrkdwn("*Commander*\n" + Mention(inc.Commander)),
	}
	if inc.Service != "" {
		fields = append(fields, Mrkdwn("*Service*\n"+Escape(inc.Service)))
	}
	if inc.Channel != "" {
		fields = append(fields, Mrkdwn("*Channel*\n"+ChannelRef(inc.Channel)))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(Mrkdwn(title), nil, nil),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewContextBlock("", Mrkdwn(fmt.Sprintf("Declared by %s · `/runbook status %s`", Mention(inc.CreatedBy), inc.Key()))),
	}
	text := fmt.Sprintf("%s %s (%s, %s)", inc.Key(), Escape(inc.Title), inc.Severity, inc.Status)
	return runbook.Message{Text: text, Blocks: blocks}
}

// maxTopic is Slack's limit on a channel topic.
const maxTopic = 250

// Topic is the incident channel's topic: severity, status and commander at a glance.
func Topic(inc *runbook.Incident) string {
	parts := []string{strings.ToUpper(inc.Severity), inc.Status, "Commander: " + Mention(inc.Commander), inc.Key() + " " + inc.Title}
	return Truncate(strings.Join(parts, " | "), maxTopic)
}

// DeclareCallbackID is the callback id of the declare form; its inputs are blocks and
// actions named title, severity and service, and its private metadata the channel it
// was opened from.
const DeclareCallbackID = "incident.declare"

// DeclareForm asks for an incident's title, severity (one of severities) and service.
func DeclareForm(channel string, severities []string) slack.ModalViewRequest {
	title := slack.NewInputBlock("title", Plain("Title"), nil, slack.NewPlainTextInputBlockElement(Plain("Checkout is failing"), "title"))
	var options []*slack.OptionBlockObject
	for _, sev := range severities {
		options = append(options, slack.NewOptionBlockObject(sev, Plain(sev), nil))
	}
	sevSelect := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, Plain("Severity"), "severity", options...)
	severity := slack.NewInputBlock("severity", Plain("Severity"), nil, sevSelect)
	service := slack.NewInputBlock("service", Plain("Service"), nil, slack.NewPlainTextInputBlockElement(Plain("checkout"), "service"))
	service.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      DeclareCallbackID,
		PrivateMetadata: channel,
		Title:           Plain("Declare an incident"),
		Submit:          Plain("Declare"),
		Close:           Plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{title, severity, service}},
	}
}
