package slackui

import (
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/slack-go/slack"
)

// RunbookInfo is what people see of a runbook before they run it.
type RunbookInfo struct {
	Name        string
	Description string
	Params      []Param
}

// Param is a runbook's typed input, as runbooks.Param declares it (the same fields,
// so that one converts to the other and the compiler keeps them in step).
type Param struct {
	Name        string
	Type        string
	Description string
	Required    bool
	Default     any
	Values      []string
}

// maxParamDescription keeps one param's line short enough that a runbook with many
// params still fits the list's sections.
const maxParamDescription = 150

// RunbookList answers "runbooks": each runbook with its description and, under it, each
// param with its type, allowed values, default and description.
func RunbookList(list []RunbookInfo, prefix string) *runbook.Reply {
	if len(list) == 0 {
		return PrivateText("No runbooks are loaded. Put runbook files in the directory `runbooks.dir` names.")
	}
	var lines []string
	for _, rb := range list {
		lines = append(lines, fmt.Sprintf("*%s* — %s", Escape(rb.Name), Escape(rb.Description)))
		for _, p := range rb.Params {
			lines = append(lines, "      "+paramLine(p))
		}
	}
	heading := fmt.Sprintf("%d runbook(s). Run one with `%s run <runbook> [INC-id] [key=value …]`; add `--dry-run` to see what it would do first.", len(list), prefix)
	return List(heading, lines)
}

// RunbookHelp answers "help run NAME": how to run that runbook, and its params.
func RunbookHelp(rb RunbookInfo, prefix string) *runbook.Reply {
	usage := []string{prefix, "run", rb.Name, "[INC-id]"}
	for _, p := range rb.Params {
		kv := p.Name + "=<" + paramKind(p) + ">"
		if p.Type == "enum" {
			kv = p.Name + "=" + strings.Join(p.Values, "|")
		}
		if !p.Required || p.Default != nil {
			kv = "[" + kv + "]"
		}
		usage = append(usage, kv)
	}
	usage = append(usage, "[--dry-run]")
	head := fmt.Sprintf("*%s* — %s\n`%s`", Escape(rb.Name), Escape(rb.Description), Escape(Truncate(strings.Join(usage, " "), MaxSectionText/4)))
	if len(rb.Params) == 0 {
		return PrivateText(head + "\nIt takes no params.")
	}
	lines := make([]string, len(rb.Params))
	for i, p := range rb.Params {
		lines[i] = paramLine(p)
	}
	reply := List("Params", lines)
	// List leaves room for one more block within Slack's 50.
	reply.Blocks = append([]slack.Block{Section(head)}, reply.Blocks...)
	reply.Text = "How to run " + rb.Name
	return reply
}

// paramLine shows one param: "• `region` (one of eu, us; default eu) — where to scale".
func paramLine(p Param) string {
	what := paramKind(p)
	switch {
	case p.Default != nil:
		what += fmt.Sprintf("; default %v", p.Default)
	case p.Required:
		what += ", required"
	default:
		what += ", optional"
	}
	line := fmt.Sprintf("• `%s` (%s)", Escape(p.Name), Escape(what))
	if p.Description != "" {
		line += " — " + Escape(Truncate(p.Description, maxParamDescription))
	}
	return line
}

// paramKind says what values a param takes, in words.
func paramKind(p Param) string {
	switch p.Type {
	case "integer":
		return "whole number"
	case "number":
		return "number"
	case "boolean":
		return "true or false"
	case "enum":
		return "one of " + strings.Join(p.Values, ", ")
	}
	return "text"
}
