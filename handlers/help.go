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
		text := fmt.Sprintf("*%s*\n`%s %s`", c.summary, inv.prefix, slackui.Escape(c.usage))
		if c.name == "run" {
			text += fmt.Sprintf("\n`%s help run &lt;runbook&gt;` shows a runbook's params.", inv.prefix)
		}
		if c.name == "declare" || c.name == "update" {
			text += fieldsHelp(h.Incidents.Fields())
		}
		return slackui.PrivateText(text), nil
	}
	return h.commandList(inv.prefix), nil
}

// maxHelpPrefixes bounds the kept lists: one per way of addressing the bot, of which
// an app has a few (its slash commands, @Runbook).
const maxHelpPrefixes = 8

// commandList is the answer to help without arguments. It depends only on the
// command table and the prefix, so it is built once per prefix and shared: help is
// what a burst of new users types, and building it was most of its handler's cost.
// The reply is never changed after it is built.
func (h *Handlers) commandList(prefix string) *runbook.Reply {
	h.helpMu.Lock()
	defer h.helpMu.Unlock()
	if r, ok := h.helpLists[prefix]; ok {
		return r
	}
	var lines []string
	for _, c := range h.commands {
		lines = append(lines, fmt.Sprintf("`%s %s`  %s", prefix, slackui.Escape(c.usage), c.summary))
	}
	r := slackui.PrivateBlocks("Runbook commands: "+strings.Join(h.names(), ", "),
		slackui.Section("*Runbook* runs incident runbooks from Slack. Commands:"),
		slackui.Section(strings.Join(lines, "\n")),
		slackui.Context(fmt.Sprintf("Type `%s help &lt;command&gt;` for one command. `/runbook` and `@Runbook` take the same commands.", prefix)),
	)
	if len(h.helpLists) < maxHelpPrefixes {
		h.helpLists[prefix] = r
	}
	return r
}

// usageError answers a malformed command with what was wrong and the usage line. The
// usage's <placeholders> are escaped: Slack reserves <, > and & for its own markup
// (links, mentions), in code too.
func usageError(problem, prefix string, c *command) *runbook.Reply {
	text := fmt.Sprintf(":warning: %s\nUsage: `%s %s`", problem, prefix, slackui.Escape(c.usage))
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
