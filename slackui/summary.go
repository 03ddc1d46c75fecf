package slackui

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// Role is one person's part in an incident's response, as the summary lists it.
type Role struct {
	Name string // "commander"
	User string // Slack user id
}

// SummaryInput is what an incident's summary shows.
type SummaryInput struct {
	Incident *runbook.Incident
	// Roles are the incident's people by role, commander first.
	Roles []Role
	// Fields are the configured custom fields: their values are shown in this order,
	// a person as a mention.
	Fields    []runbook.FieldSpec
	Timeline  []runbook.TimelineEntry
	FollowUps []*runbook.FollowUp
	Runs      []*runbook.Run
	// Now ends the duration of an incident still open.
	Now time.Time
}

// summaryTime is how the summary shows a moment: unambiguous in every time zone and
// across midnight.
const summaryTime = "2006-01-02 15:04 UTC"

// summaryTimelineBlocks bounds the blocks the compact timeline may take, so that the
// sections after it always fit within MaxBlocks.
const summaryTimelineBlocks = 12

// Summary is an incident's summary, in the shape of an investigation's closing report:
// the incident at a glance, its root cause and remediation (the latest notes of those
// kinds), a compact timeline, its runs and approvals, and the follow-ups still open.
// Everything people typed is escaped and its mass mentions neutralized; what does not
// fit Slack's limits is left out and the message says how much.
func Summary(in SummaryInput) runbook.Message {
	inc := in.Incident
	state := "open"
	end := in.Now
	if !inc.ResolvedAt.IsZero() {
		state, end = "resolved", inc.ResolvedAt
	}
	duration := Duration(end.Sub(inc.CreatedAt))
	heading := fmt.Sprintf("Incident summary: %s %s", inc.Key(), Truncate(inc.Title, 120))
	blocks := []slack.Block{slack.NewHeaderBlock(Plain(Truncate(heading, 150)))}

	facts := []string{
		"*Severity:* " + inc.Severity,
		"*Status:* " + Escape(inc.Status) + " (" + state + ")",
		"*Duration:* " + duration,
	}
	for _, r := range in.Roles {
		facts = append(facts, fmt.Sprintf("*%s:* %s", Escape(capital(r.Name)), personOrNobody(r.User)))
	}
	if len(in.Roles) == 0 {
		facts = append(facts, "*Commander:* "+personOrNobody(inc.Commander))
	}
	if inc.Service != "" {
		facts = append(facts, "*Service:* "+Escape(inc.Service))
	}
	for _, name := range sortedKeys(inc.Fields) {
		value := shown(inc.Fields[name], 200)
		if f, ok := runbook.FieldByName(in.Fields, name); ok && f.Type == runbook.FieldUser {
			value = FieldValue(f, inc.Fields[name])
		}
		facts = append(facts, fmt.Sprintf("*%s:* %s", Escape(name), value))
	}
	blocks = append(blocks, Section(strings.Join(facts, "\n")))

	rootCause, remediation := latest(in.Timeline, runbook.TimelineRootCause), latest(in.Timeline, runbook.TimelineRemediation)
	blocks = append(blocks,
		Section("*:dart: Root cause*\n"+Or(noteText(rootCause), "_Not recorded yet: `/runbook note root cause: …`_")),
		Section("*:hammer_and_wrench: Remediation*\n"+Or(noteText(remediation), "_Not recorded yet: `/runbook note remediation: …`_")),
		slack.NewDividerBlock())

	blocks = append(blocks, Section("*:clock3: Timeline*"))
	blocks = append(blocks, timelineBlocks(in.Timeline, summaryTimelineBlocks)...)

	blocks = append(blocks, Section("*:gear: Runs and approvals*\n"+runsText(in.Runs, in.Timeline)))
	blocks = append(blocks, Section("*:white_check_mark: Follow-ups*\n"+followUpsText(in.FollowUps)))
	blocks = append(blocks, Context(fmt.Sprintf("%s · declared %s by %s", inc.Key(),
		inc.CreatedAt.UTC().Format(summaryTime), personOrNobody(inc.CreatedBy))))
	text := fmt.Sprintf("Summary of %s %s: %s, %s, %s.", inc.Key(), Escape(inc.Title), inc.Severity, state, duration)
	return runbook.Message{Text: text, Blocks: blocks}
}

// TimelineLine is one timeline entry as people read it: when, who, what kind, what.
func TimelineLine(e runbook.TimelineEntry) string {
	kind := ""
	switch e.Kind {
	case runbook.TimelinePinned:
		kind = ":pushpin: "
	case runbook.TimelineHypothesis, runbook.TimelineRootCause, runbook.TimelineRemediation, runbook.TimelineAction:
		kind = "*" + e.Kind + ":* "
	}
	return fmt.Sprintf("`%s` %s — %s%s", e.At.UTC().Format(summaryTime), TimelineActor(e.Actor), kind, shown(e.Text, 300))
}

// timelineBlocks packs timeline lines into at most maxBlocks sections of Slack's size.
// An incident with a long timeline shows its first entries, and says how many after
// them were left out (the timeline command shows them all).
func timelineBlocks(entries []runbook.TimelineEntry, maxBlocks int) []slack.Block {
	if len(entries) == 0 {
		return []slack.Block{Section("_Nothing recorded yet._")}
	}
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = TimelineLine(e)
	}
	var out []slack.Block
	var chunk []string
	size := 0
	shown := 0
	for _, l := range lines {
		if size+len(l)+1 > MaxSectionText {
			out = append(out, Section(strings.Join(chunk, "\n")))
			chunk, size = nil, 0
		}
		if len(out) >= maxBlocks-1 {
			break
		}
		chunk = append(chunk, l)
		size += len(l) + 1
		shown++
	}
	if len(chunk) > 0 {
		out = append(out, Section(strings.Join(chunk, "\n")))
	}
	if left := len(lines) - shown; left > 0 {
		out = append(out, Context(fmt.Sprintf("…and %d later entries not shown; `/runbook timeline %s` lists them all.",
			left, runbook.IncidentKey(entries[0].IncidentID))))
	}
	return out
}

func runsText(runs []*runbook.Run, timeline []runbook.TimelineEntry) string {
	var lines []string
	for i, r := range runs {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("…and %d more", len(runs)-10))
			break
		}
		lines = append(lines, fmt.Sprintf("%s *%s* — %s", r.Key(), Escape(r.Runbook), r.State))
	}
	approvals := 0
	for _, e := range timeline {
		if e.Kind == runbook.TimelineApproval {
			approvals++
			if approvals <= 5 {
				lines = append(lines, "• "+shown(e.Text, 200))
			}
		}
	}
	if approvals > 5 {
		lines = append(lines, fmt.Sprintf("…and %d more approvals", approvals-5))
	}
	if len(lines) == 0 {
		return "_None._"
	}
	return Truncate(strings.Join(lines, "\n"), MaxSectionText-40)
}

func followUpsText(list []*runbook.FollowUp) string {
	var open []string
	done := 0
	for _, f := range list {
		if f.Done() {
			done++
			continue
		}
		line := fmt.Sprintf("• *%s* %s", f.Key(), shown(f.Text, 200))
		if f.Owner != "" {
			line += " — " + Mention(f.Owner)
		}
		open = append(open, line)
	}
	if len(open) == 0 && done == 0 {
		return "_None yet: `/runbook followup \"…\" @owner` adds one._"
	}
	text := strings.Join(open, "\n")
	if len(open) == 0 {
		text = "_All done._"
	}
	if done > 0 {
		text += fmt.Sprintf("\n_%s done._", Count(done, "follow-up", "follow-ups"))
	}
	return Truncate(text, MaxSectionText-40)
}

// latest is the newest timeline entry of a kind, or nil.
func latest(entries []runbook.TimelineEntry, kind string) *runbook.TimelineEntry {
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Kind == kind {
			return &entries[i]
		}
	}
	return nil
}

func noteText(e *runbook.TimelineEntry) string {
	if e == nil {
		return ""
	}
	return shown(e.Text, 1500) + " — " + TimelineActor(e.Actor)
}

// TimelineActor shows who a timeline entry is by: a person's mention, or the words
// Runbook wrote there ("runbook", "runbook R-12").
func TimelineActor(a string) string {
	if runbook.LooksLikeID(a, "UW") {
		return Mention(a)
	}
	return Escape(a)
}

// shown is text people typed, as the bot shows it back: cut short, then as
// TimelineText.
func shown(text string, n int) string { return TimelineText(Truncate(text, n)) }

// labelledRef matches, once escaped, a mention of one user or a channel reference with
// a label (<@U123|the CEO>).
var labelledRef = regexp.MustCompile(`<([@#][UWC][A-Z0-9]{2,})\|[^&<>|]*>`)

// TimelineText is a timeline entry's text as shown in Slack. Entries hold plain text:
// what the bot wrote, with mentions of the people it names (<@U1> is now comms), and
// what people wrote (notes, pinned messages, field values). Mass and group mentions
// become plain words and everything else is escaped, except mentions of one person and
// channel references, which stay links — without a label, so that no one can show a
// mention of someone under another name.
func TimelineText(text string) string {
	return labelledRef.ReplaceAllString(Escape(Neutralize(text)), "<$1>")
}

// Duration shows how long something lasted: "45s", "12m", "2h 05m", "3d 4h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// InvestigationNote is the investigation update for a note of a kind, in RunbookAI's
// words for it.
func InvestigationNote(inc *runbook.Incident, kind, text, by string) string {
	head := map[string]string{
		runbook.TimelineHypothesis:  ":thinking_face: Hypothesis formed",
		runbook.TimelineRootCause:   ":dart: Root cause identified",
		runbook.TimelineRemediation: ":hammer_and_wrench: Remediation suggested",
		runbook.TimelineAction:      ":zap: Action executed",
		runbook.TimelinePinned:      ":pushpin: Pinned to the timeline",
	}[kind]
	if head == "" {
		head = ":memo: Note"
	}
	return fmt.Sprintf("%s on %s by %s\n> %s", head, inc.Key(), actor(by), shown(text, 1000))
}

// ActionExecuted is the investigation update for a run's step that acted and succeeded.
func ActionExecuted(run *runbook.Run, step int, action, detail string) string {
	text := fmt.Sprintf(":zap: Action executed: %s step %d (%s) of *%s* succeeded", run.Key(), step+1, action, Escape(run.Runbook))
	if detail != "" {
		text += " — " + Escape(Truncate(detail, 200))
	}
	return text
}
