package slackui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// severityBadges make severities stand out in a channel.
var severityBadges = map[string]string{"sev0": ":red_circle:", "sev1": ":large_orange_circle:", "sev2": ":large_yellow_circle:"}

// Announcement is the declaration message, re-rendered on every change and edited in
// place so the channel shows one current message per incident. fields are the
// configured custom fields, shown in their order.
func Announcement(inc *runbook.Incident, fieldSpecs ...runbook.FieldSpec) runbook.Message {
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
	}
	blocks = append(blocks, customFields(inc, fieldSpecs)...)
	if inc.Summary != "" {
		blocks = append(blocks, slack.NewSectionBlock(Mrkdwn("*Summary*\n"+Escape(Truncate(inc.Summary, maxSectionText))), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("", Mrkdwn(context)))
	text := fmt.Sprintf("%s %s (%s, %s)", inc.Key(), Escape(inc.Title), inc.Severity, inc.Status)
	return runbook.Message{Text: text, Blocks: blocks}
}

// maxSectionText keeps a section's text within Slack's 3000 characters, with room for
// its heading.
const maxSectionText = 2900

// maxSectionFields is how many fields Slack allows in one section block.
const maxSectionFields = 10

// customFields draws the incident's custom fields as section fields, ten to a section:
// the configured ones that have a value, in order, then any the configuration no
// longer lists.
func customFields(inc *runbook.Incident, specs []runbook.FieldSpec) []slack.Block {
	var items []*slack.TextBlockObject
	for _, f := range specs {
		if v := inc.Fields[f.Name]; v != "" {
			items = append(items, Mrkdwn("*"+Escape(f.Name)+"*\n"+FieldValue(f, v)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(inc.Fields)) {
		if _, configured := runbook.FieldByName(specs, name); !configured && inc.Fields[name] != "" {
			items = append(items, Mrkdwn("*"+Escape(name)+"*\n"+Escape(inc.Fields[name])))
		}
	}
	var blocks []slack.Block
	for len(items) > 0 {
		n := min(len(items), maxSectionFields)
		blocks = append(blocks, slack.NewSectionBlock(nil, items[:n], nil))
		items = items[n:]
	}
	return blocks
}

// FieldValue shows a custom field's value in mrkdwn: a user field as a mention of the
// person, anything else escaped, so that no value can page a channel or hide a link.
func FieldValue(f runbook.FieldSpec, v string) string {
	if f.Type == runbook.FieldUser && runbook.LooksLikeID(v, "UW") {
		return Mention(v)
	}
	return Escape(v)
}

// FieldChange is the timeline's plain-text line for a field set, changed or cleared.
func FieldChange(f runbook.FieldSpec, was, now string) string {
	show := func(v string) string {
		if f.Type == runbook.FieldUser && v != "" {
			return Mention(v)
		}
		return v
	}
	switch {
	case was == "":
		return fmt.Sprintf("%s set to %s", f.Name, show(now))
	case now == "":
		return fmt.Sprintf("%s cleared (was %s)", f.Name, show(was))
	}
	return fmt.Sprintf("%s %s → %s", f.Name, show(was), show(now))
}

// maxTopic is Slack's limit on a channel topic.
const maxTopic = 250

// maxTopicField caps a custom field's value in the topic: the topic is a glance, and a
// long value would crowd out the others.
const maxTopicField = 40

// Topic is the incident channel's topic: severity, status, commander and roles, the
// incident, then the custom fields that are set (in the configured order). It keeps to
// Slack's 250 characters: a field that does not fit is left out whole, never cut, and
// a title that alone runs past the limit is cut short with no fields after it.
func Topic(inc *runbook.Incident, fields ...runbook.FieldSpec) string {
	parts := []string{strings.ToUpper(inc.Severity), inc.Status, "Commander: " + Mention(inc.Commander)}
	for _, r := range inc.AssignedRoles() {
		parts = append(parts, roleTitle(r[0])+": "+Mention(r[1]))
	}
	parts = append(parts, inc.Key()+" "+inc.Title)
	topic := strings.Join(parts, " | ")
	if utf8.RuneCountInString(topic) > maxTopic {
		return Truncate(topic, maxTopic)
	}
	for _, f := range fields {
		v := inc.Fields[f.Name]
		if v == "" {
			continue
		}
		if f.Type == runbook.FieldUser {
			v = Mention(v)
		} else {
			v = Truncate(Neutralize(v), maxTopicField)
		}
		part := " | " + roleTitle(f.Name) + ": " + v
		if utf8.RuneCountInString(topic+part) > maxTopic {
			break
		}
		topic += part
	}
	return topic
}

// DeclareCallbackID is the callback id of the declare form; its inputs are blocks and
// actions named title, severity and service, and its private metadata the channel it
// was opened from.
const DeclareCallbackID = "incident.declare"

// FieldBlockPrefix starts the block id of a custom field's input in the declare form
// ("field.region"); its action id is FieldActionID.
const (
	FieldBlockPrefix = "field."
	FieldActionID    = "value"
)

// DeclareForm asks for an incident's title, severity (one of severities) and service,
// and each configured custom field: an enum as a menu of its values, a user as a
// people picker, anything else as text, each starting at its default.
func DeclareForm(channel string, severities []string, fields ...runbook.FieldSpec) slack.ModalViewRequest {
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
		Blocks:          slack.Blocks{BlockSet: append([]slack.Block{title, severity, service}, fieldInputs(fields)...)},
	}
}

// maxFormInputs keeps the declare form within Slack's 100 blocks a view may have.
const maxFormInputs = 90

// fieldInputs are the declare form's inputs for the custom fields.
func fieldInputs(fields []runbook.FieldSpec) []slack.Block {
	var blocks []slack.Block
	for _, f := range fields[:min(len(fields), maxFormInputs)] {
		var el slack.BlockElement
		switch f.Type {
		case runbook.FieldEnum:
			var options []*slack.OptionBlockObject
			for _, v := range f.Values {
				options = append(options, slack.NewOptionBlockObject(v, Plain(Truncate(v, 75)), nil))
			}
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, Plain("Choose"), FieldActionID, options...)
			for _, o := range options {
				if o.Value == f.Default {
					sel.InitialOption = o
				}
			}
			el = sel
		case runbook.FieldUser:
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, Plain("Choose a person"), FieldActionID)
			sel.InitialUser = f.Default
			el = sel
		default:
			in := slack.NewPlainTextInputBlockElement(nil, FieldActionID)
			in.InitialValue = f.Default
			in.MaxLength = runbook.MaxFieldValue
			el = in
		}
		var hint *slack.TextBlockObject
		if f.Description != "" {
			hint = Plain(Truncate(f.Description, 150))
		}
		block := slack.NewInputBlock(FieldBlockPrefix+f.Name, Plain(Truncate(f.Name, 2000)), hint, el)
		block.Optional = !f.Required
		blocks = append(blocks, block)
	}
	return blocks
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
	for _, r := range RolesGiven(before, after) {
		parts = append(parts, r[0]+" nobody")
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

// RolesGiven lists the roles, other than commander, that before held and after has no
// one in, as role and former holder pairs sorted by role: what an unassign took away.
func RolesGiven(before, after *runbook.Incident) [][2]string {
	var out [][2]string
	for _, r := range before.AssignedRoles() {
		if after.Roles[r[0]] == "" {
			out = append(out, r)
		}
	}
	return out
}

// DeclaredFields is the timeline line of the custom fields an incident was declared
// with, in the configured order ("fields: region eu, customer acme"; a user field as a
// mention), or "" when it has none.
func DeclaredFields(values map[string]string, specs []runbook.FieldSpec) string {
	var parts []string
	for _, f := range specs {
		v := values[f.Name]
		if v == "" {
			continue
		}
		if f.Type == runbook.FieldUser {
			v = Mention(v)
		}
		parts = append(parts, f.Name+" "+v)
	}
	if len(parts) == 0 {
		return ""
	}
	return "fields: " + strings.Join(parts, ", ")
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
