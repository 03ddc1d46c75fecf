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

// MaxBlocks is Slack's limit on the blocks of one message.
const MaxBlocks = 50

// List is a private reply of a heading and lines, packed into sections within Slack's
// limits on a section's text and a message's blocks. Lines that do not fit are left
// out, and the last block says how many.
func List(heading string, lines []string) *runbook.Reply {
	blocks := []slack.Block{Section("*" + heading + "*")}
	var chunk []string
	size := 0
	flush := func() {
		if len(chunk) > 0 {
			blocks = append(blocks, Section(strings.Join(chunk, "\n")))
			chunk, size = nil, 0
		}
	}
	shown := 0
	for _, l := range lines {
		l = Truncate(l, MaxSectionText/4)
		if size+len(l)+1 > MaxSectionText {
			flush()
		}
		// One block stays free for the chunk being filled, one for the note.
		if len(blocks) >= MaxBlocks-2 && len(chunk) == 0 {
			break
		}
		chunk = append(chunk, l)
		size += len(l) + 1
		shown++
	}
	flush()
	if left := len(lines) - shown; left > 0 {
		blocks = append(blocks, Context(fmt.Sprintf("…and %d more not shown: Slack takes %d blocks a message.", left, MaxBlocks)))
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
	var tree any
	if err := json.Unmarshal(raw, &tree); err == nil {
		if id := reservedActionID(tree); id != "" {
			return nil, runbook.Errorf(runbook.EINVALID, "the blocks use the action id %q, which is Runbook's own (approval buttons); choose another", Truncate(id, 60))
		}
	}
	return blocks.BlockSet, nil
}

// reservedActionID finds, anywhere in authored blocks, an action id of Runbook's own
// interactive elements: a runbook's message must not carry an approval button.
func reservedActionID(v any) string {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if id, ok := x.(string); ok && k == "action_id" && reserved(id) {
				return id
			}
			if id := reservedActionID(x); id != "" {
				return id
			}
		}
	case []any:
		for _, x := range t {
			if id := reservedActionID(x); id != "" {
				return id
			}
		}
	}
	return ""
}

// reserved says an action id belongs to Runbook's own elements.
func reserved(actionID string) bool {
	return strings.HasPrefix(actionID, "approval.") || strings.HasPrefix(actionID, "run.") || actionID == DeclareCallbackID
}

// PrivateBlocks is a reply only the asker sees: blocks, with text as the notification
// fallback.
func PrivateBlocks(text string, blocks ...slack.Block) *runbook.Reply {
	return &runbook.Reply{Visibility: runbook.Private, Text: text, Blocks: blocks}
}
