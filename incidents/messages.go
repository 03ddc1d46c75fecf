package incidents

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
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
	title := fmt.Sprintf("%s *%s* %s", badge, inc.Key(), runbooks.Escape(inc.Title))
	if !inc.ResolvedAt.IsZero() {
		title = fmt.Sprintf(":white_check_mark: *%s* ~%s~ resolved", inc.Key(), runbooks.Escape(inc.Title))
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Severity*\n" + inc.Severity),
		mrkdwn("*Status*\n" + inc.Status),
		mrkdwn("*Commander*\n" + mention(inc.Commander)),
	}
	if inc.Service != "" {
		fields = append(fields, mrkdwn("*Service*\n"+runbooks.Escape(inc.Service)))
	}
	if inc.Channel != "" {
		fields = append(fields, mrkdwn("*Channel*\n<#"+inc.Channel+">"))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(title), nil, nil),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Declared by %s · `/runbook status %s`", mention(inc.CreatedBy), inc.Key()))),
	}
	text := fmt.Sprintf("%s %s (%s, %s)", inc.Key(), runbooks.Escape(inc.Title), inc.Severity, inc.Status)
	return runbook.Message{Text: text, Blocks: blocks}
}

// Topic is the incident channel's topic: severity, status and commander at a glance.
func Topic(inc *runbook.Incident) string {
	parts := []string{strings.ToUpper(inc.Severity), inc.Status, "Commander: " + mention(inc.Commander), inc.Key() + " " + inc.Title}
	topic := strings.Join(parts, " | ")
	if r := []rune(topic); len(r) > 250 {
		topic = string(r[:249]) + "…"
	}
	return topic
}

func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}
