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
	for _, r := range inc.AssignedRoles() {
		fields = append(fields, Mrkdwn("*"+roleTitle(r[0])+"*\n"+Mention(r[1])))
	}
	if inc.Service != "" {
		fields = append(fields, Mrkdwn("*Service*\n"+Escape(inc.Service)))
	}
	if inc.Channel != "" {
		fields = append(fields, Mrkdwn("*Channel*\n"+ChannelRef(inc.Channel)))
	}
	// A section holds at most 10 fields; roles past that still show in status text.
	fields = fields[:min(len(fields), 10)]
	context := fmt.Sprintf("Declared by %s · `/runbook status %s`", Mention(inc.CreatedBy), inc.Key())
	if !inc.ReopenedAt.IsZero() && inc.ResolvedAt.IsZero() {
		title = ":arrows_counterclockwise: " + title + " — reopened"
		context = fmt.Sprintf("Reopened <!date^%d^{date_short_pretty} {time}|%s> · ", inc.ReopenedAt.Unix(), inc.ReopenedAt.UTC().Format("Jan 02 15:04 UTC")) + context
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(Mrkdwn(title), nil, nil),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewContextBlock("", Mrkdwn(context)),
	}
	text := fmt.Sprintf("%s %s (%s, %s)", inc.Key(), Escape(inc.Title), inc.Severity, inc.Status)
	return runbook.Message{Text: text, Blocks: blocks}
}

// maxTopic is Slack's limit on a channel topic.
const maxTopic = 250

// Topic is the incident channel's topic: severity, status and commander at a glance.
func Topic(inc *runbook.Incident) string {
	parts := []string{strings.ToUpper(inc.Severity), inc.Status, "Commander: " + Mention(inc.Commander)}
	for _, r := range inc.AssignedRoles() {
		parts = append(parts, roleTitle(r[0])+": "+Mention(r[1]))
	}
	parts = append(parts, inc.Key()+" "+inc.Title)
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

// IncidentDeclared is the investigation update for a declaration.
func IncidentDeclared(inc *runbook.Incident, by string) string {
	return fmt.Sprintf(":rotating_light: %s declared by %s: *%s* (%s)", inc.Key(), personOrNobody(by), Escape(inc.Title), inc.Severity)
}

// IncidentChanged is the investigation update for a change by someone (a user id, or
// runbook.RunActor), with the note they gave.
func IncidentChanged(before, after *runbook.Incident, by, note string) string {
	var parts []string
	if after.Status != before.Status {
		parts = append(parts, fmt.Sprintf("status %s → *%s*", before.Status, after.Status))
	}
	if after.Severity != before.Severity {
		parts = append(parts, fmt.Sprintf("severity %s → *%s*", before.Severity, after.Severity))
	}
	if after.Commander != before.Commander {
		parts = append(parts, "commander "+personOrNobody(after.Commander))
	}
	for _, r := range after.AssignedRoles() {
		if before.Roles[r[0]] != r[1] {
			parts = append(parts, r[0]+" "+Mention(r[1]))
		}
	}
	text := fmt.Sprintf(":pencil2: %s updated by %s", after.Key(), actor(by))
	if len(parts) > 0 {
		text += ": " + strings.Join(parts, ", ")
	}
	if note != "" {
		text += "\n> " + Escape(note)
	}
	if !after.ResolvedAt.IsZero() && before.ResolvedAt.IsZero() {
		text = ":white_check_mark: " + strings.TrimPrefix(text, ":pencil2: ")
	}
	if after.ResolvedAt.IsZero() && !before.ResolvedAt.IsZero() {
		text = ":arrows_counterclockwise: reopened: " + strings.TrimPrefix(text, ":pencil2: ")
	}
	return text
}

// roleTitle is a role's name as a heading: "comms" → "Comms", "on_call" → "On call".
// Role names are lowercase words (runbook.ValidRoleName), so nothing needs escaping.
func roleTitle(role string) string {
	r := strings.ReplaceAll(role, "_", " ")
	if r == "" {
		return r
	}
	return strings.ToUpper(r[:1]) + r[1:]
}

// ChannelStillArchived tells the person who reopened an incident that Slack would not
// let Runbook unarchive its channel, and how to go on: unarchive it by hand, or have a
// runbook that creates channels make a new one (newChannel, the exact command; "" when
// no runbook creates one).
func ChannelStillArchived(inc *runbook.Incident, newChannel string) string {
	text := fmt.Sprintf(":warning: %s stays archived: Slack does not let apps unarchive channels. Unarchive it from the channel's settings, then `/invite @Runbook` there", ChannelRef(inc.Channel))
	if newChannel != "" {
		return text + fmt.Sprintf(", or start a new channel for %s with `%s`.", inc.Key(), newChannel)
	}
	return text + "."
}

// UpdatesHeading is the root message of an incident's thread of investigation updates.
func UpdatesHeading(inc *runbook.Incident) string {
	return fmt.Sprintf(":mag: Investigation updates for *%s %s*", inc.Key(), Escape(inc.Title))
}

// actor names who changed something: a user's mention, or a runbook run as itself.
func actor(by string) string {
	if strings.HasPrefix(by, runbook.ActorRunbook+" ") {
		return by
	}
	return personOrNobody(by)
}

func personOrNobody(user string) string { return Or(Mention(user), "nobody") }
