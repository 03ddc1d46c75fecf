package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

func (h *Handlers) help(_ context.Context, inv *invocation) (*runbook.Reply, error) {
	if len(inv.args) > 0 {
		name := strings.ToLower(inv.args[0].Text)
		c, ok := h.byName[name]
		if !ok {
			return h.unknown(inv.prefix, inv.args[0].Text), nil
		}
		text := fmt.Sprintf("*%s*\n`%s %s`", c.summary, inv.prefix, c.usage)
		return &runbook.Reply{Visibility: runbook.Private, Text: text, Blocks: []slack.Block{section(text)}}, nil
	}
	var lines []string
	for _, c := range h.commands {
		lines = append(lines, fmt.Sprintf("`%s %s`  %s", inv.prefix, c.usage, c.summary))
	}
	blocks := []slack.Block{
		section("*Runbook* runs incident runbooks from Slack. Commands:"),
		section(strings.Join(lines, "\n")),
		context_(fmt.Sprintf("Type `%s help <command>` for one command. `/runbook` and `@Runbook` take the same commands.", inv.prefix)),
	}
	return &runbook.Reply{Visibility: runbook.Private, Text: "Runbook commands: " + strings.Join(h.names(), ", "), Blocks: blocks}, nil
}

// usageError answers a malformed command with what was wrong and the usage line.
func usageError(problem, prefix string, c *command) *runbook.Reply {
	text := fmt.Sprintf(":warning: %s\nUsage: `%s %s`", problem, prefix, c.usage)
	return privateText(text)
}
