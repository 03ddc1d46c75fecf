package slackui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// MaxSectionText is Slack's limit on a section's text.
const MaxSectionText = 3000

// Section is a section block of mrkdwn, cut to Slack's limit.
func Section(mrkdwn string) *slack.SectionBlock {
	return slack.NewSectionBlock(Mrkdwn(Truncate(mrkdwn, MaxSectionText)), nil, nil)
}

// Context is a context block of mrkdwn, cut to Slack's limit.
func Context(mrkdwn string) *slack.ContextBlock {
	return slack.NewContextBlock("", Mrkdwn(Truncate(mrkdwn, MaxSectionText)))
}

// Mrkdwn is a mrkdwn text object.
func Mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

// Plain is a plain-text object.
func Plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

// PrivateText is a reply only the asker sees: text, in one section.
func PrivateText(text string) *runbook.Reply {
	return &runbook.Reply{Visibility: runbook.Private, Text: text, Blocks: []slack.Block{Section(text)}}
}

// List is a private reply of a heading and lines, split over sections to stay within
// Slack's limits on a section's text and a message's blocks.
func List(heading string, lines []string) *runbook.Reply {
	blocks := []slack.Block{Section("*" + heading + "*")}
	var chunk []string
	size := 0
	for _, l := range lines {
		if size+len(l) > MaxSectionText-100 || len(blocks) >= 45 {
			blocks = append(blocks, Section(strings.Join(chunk, "\n")))
			chunk, size = nil, 0
		}
		chunk = append(chunk, l)
		size += len(l) + 1
	}
	if len(chunk) > 0 && len(blocks) < 49 {
		blocks = append(blocks, Section(strings.Join(chunk, "\n")))
	}
	return &runbook.Reply{Visibility: runbook.Private, Text: heading, Blocks: blocks}
}

// ParseBlocks reads runbook-authored Block Kit — a JSON string, or a list already
// decoded from YAML — into blocks. Anything Slack would not take as blocks is EINVALID.
func ParseBlocks(v any) ([]slack.Block, error) {
	if v == nil {
		return nil, nil
	}
	var raw []byte
	if str, isStr := v.(string); isStr {
		raw = []byte(str)
	} else {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("blocks: %w", err)
		}
	}
	var blocks slack.Blocks
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, runbook.Errorf(runbook.EINVALID, "the blocks are not valid Block Kit JSON once rendered: %v", err)
	}
	return blocks.BlockSet, nil
}

// PrivateBlocks is a reply only the asker sees: blocks, with text as the notification
// fallback.
func PrivateBlocks(text string, blocks ...slack.Block) *runbook.Reply {
	return &runbook.Reply{Visibility: runbook.Private, Text: text, Blocks: blocks}
}
