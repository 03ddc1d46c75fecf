package slackui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// DryRunStep is one step of a dry run as drawn: what it would do, or why it would be
// skipped or would fail. Its fields are those of the engine's plan of a step.
type DryRunStep struct {
	Number  int // 1-based
	ID      string
	Action  string
	Shows   string // what the step would send: method, URL and body; argv; channel and text
	Skipped string // why the step would not run, or ""
	Problem string // why the step would fail, or ""
}

// Budgets of a dry run's reply, in characters as sent: one step's payload, its notes,
// and the whole reply, which stays well under what Slack takes in one message even
// with every block full.
const (
	maxDryRunShows = 2000
	maxDryRunNote  = 350
	maxDryRunTotal = 30000
)

// DryRun is the private answer to a dry run of a runbook, for inc (nil for none): a
// title saying nothing was done, then each step's number, id and action, what it would
// send in a code block, and whether it would be skipped or fail. What a step shows
// comes from templates, params and the incident: it is drawn as text that cannot
// mention anyone, link, or end its code block. Steps that do not fit in one message
// are counted at the end.
func DryRun(runbookName string, inc *runbook.Incident, steps []DryRunStep) *runbook.Reply {
	title := "Dry run of " + runbookName
	if inc != nil {
		title += " for " + inc.Key()
	}
	title += " — nothing was done"
	blocks := []slack.Block{
		Section(":mag: *" + Escape(title) + "*"),
		Context("Each step is rendered as a run would render it now. Secrets stand as `[secret:NAME]`, " +
			"the outputs of earlier steps as `‹steps.ID.OUTPUT›`."),
	}
	if len(steps) == 0 {
		blocks = append(blocks, Section("The runbook has no steps."))
	}
	size := 0
	for i, st := range steps {
		text := dryRunStep(st)
		// One block stays free for the note on the steps left out.
		if len(blocks) >= MaxBlocks-1 || size+len(text) > maxDryRunTotal {
			left := len(steps) - i
			blocks = append(blocks, Context(fmt.Sprintf("…and %s not shown: one Slack message cannot hold them.", Count(left, "more step", "more steps"))))
			break
		}
		blocks = append(blocks, Section(text))
		size += len(text)
	}
	return &runbook.Reply{Visibility: runbook.Private, Text: title, Blocks: blocks}
}

// dryRunStep is one step's section. Each part is cut to its own budget, so that the
// whole (under 2,950 characters) stays within a section's limit and Section never
// cuts it, which could leave its code block open.
func dryRunStep(st DryRunStep) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d.*", st.Number)
	if st.ID != "" {
		fmt.Fprintf(&b, " `%s`", literal(st.ID, 80))
	}
	fmt.Fprintf(&b, " %s", literal(st.Action, 60))
	if st.Shows != "" {
		b.WriteString("\n```" + codeText(st.Shows, maxDryRunShows) + "```")
	}
	if st.Skipped != "" {
		b.WriteString("\n:fast_forward: skipped: " + literal(st.Skipped, maxDryRunNote))
	}
	if st.Problem != "" {
		b.WriteString("\n:warning: would fail: " + literal(st.Problem, maxDryRunNote))
	}
	return b.String()
}

// codeText is text shown as it is inside a code block: literal text (see literal),
// with runs of three backticks broken by a zero-width space, and a backtick at either
// end kept apart from the fence, so that it can neither end the block early nor
// lengthen its fences.
func codeText(s string, n int) string {
	for strings.Contains(s, "```") {
		s = strings.ReplaceAll(s, "```", "``\u200b`")
	}
	if strings.HasPrefix(s, "`") {
		s = "\u200b" + s
	}
	if strings.HasSuffix(s, "`") {
		s += "\u200b"
	}
	return literal(s, n)
}

// literal is text shown as written, cut to at most n characters as sent: every &, <
// and > escaped — a mention of one person too, since a dry run shows what would be
// sent and tells nobody anything — and never cut inside an escape.
func literal(s string, n int) string {
	if s = mrkdwnEscaper.Replace(s); utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := string([]rune(s)[:n-1])
	// Every & is the start of an escape now; one cut short (&am) would show as text.
	if amp := strings.LastIndexByte(cut, '&'); amp >= 0 && !strings.Contains(cut[amp:], ";") {
		cut = cut[:amp]
	}
	return cut + "…"
}
