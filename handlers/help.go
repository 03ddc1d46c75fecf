package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

func (h *Handlers) help(_ context.Context, inv *invocation) (*runbook.Reply, error) {
	if len(inv.args) > 0 {
		name := strings.ToLower(inv.args[0].Text)
		c, ok := h.byName[name]
		if !ok {
			return h.unknown(inv.prefix, inv.args[0].Text), nil
		}
		if c.name == "run" && len(inv.args) > 1 {
			return h.helpRunbook(inv, inv.args[1])
		}
		text := fmt.Sprintf("*%s*\n`%s %s`", c.summary, inv.prefix, c.usage)
		if c.name == "run" {
			text += fmt.Sprintf("\n`%s help run <runbook>` shows a runbook's params.", inv.prefix)
		}
		if c.name == "declare" || c.name == "update" {
			text += fieldsHelp(h.Incidents.Fields())
		}
		return slackui.PrivateText(text), nil
	}
	var lines []string
	for _, c := range h.commands {
		lines = append(lines, fmt.Sprintf("`%s %s`  %s", inv.prefix, c.usage, c.summary))
	}
	return slackui.PrivateBlocks("Runbook commands: "+strings.Join(h.names(), ", "),
		slackui.Section("*Runbook* runs incident runbooks from Slack. Commands:"),
		slackui.Section(strings.Join(lines, "\n")),
		slackui.Context(fmt.Sprintf("Type `%s help <command>` for one command. `/runbook` and `@Runbook` take the same commands.", inv.prefix)),
	), nil
}

// usageError answers a malformed command with what was wrong and the usage line.
func usageError(problem, prefix string, c *command) *runbook.Reply {
	text := fmt.Sprintf(":warning: %s\nUsage: `%s %s`", problem, prefix, c.usage)
	return slackui.PrivateText(text)
}

// fieldsHelp lists the configured custom fields for help declare and help update:
// name, type (an enum's values), whether required, and the description.
func fieldsHelp(specs []runbook.FieldSpec) string {
	if len(specs) == 0 {
		return ""
	}
	lines := []string{"\nCustom fields (`name=value`):"}
	for _, f := range specs {
		kind := f.Type
		if f.Type == runbook.FieldEnum {
			kind = "one of " + strings.Join(f.Values, ", ")
		}
		line := fmt.Sprintf("• `%s` %s", f.Name, slackui.Escape(kind))
		if f.Required {
			line += ", required"
		}
		if f.Default != "" {
			line += ", default " + slackui.FieldValue(f, f.Default)
		}
		if f.Description != "" {
			line += " — " + slackui.Escape(f.Description)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
