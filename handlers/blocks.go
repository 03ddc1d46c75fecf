package handlers

import (
	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

// maxSectionText is Slack's limit on a section's text.
const maxSectionText = 3000

func section(mrkdwn string) *slack.SectionBlock {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(mrkdwn, maxSectionText), false, false), nil, nil)
}

// context_ is a context block (the name context is taken by the standard package).
func context_(mrkdwn string) *slack.ContextBlock {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, truncate(mrkdwn, maxSectionText), false, false))
}

func privateText(text string) *runbook.Reply {
	return &runbook.Reply{Visibility: runbook.Private, Text: text, Blocks: []slack.Block{section(text)}}
}

// escape makes text safe to quote in mrkdwn: it can never become a mass mention or a
// link (a mention of one person is kept).
func escape(s string) string { return runbooks.Escape(s) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
