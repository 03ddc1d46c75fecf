package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// runRunbook: run <runbook> [INC-id] [key=value …] [--dry-run]
func (h *Handlers) runRunbook(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	tokens, dry := dryRunFlag(inv.args)
	r, err := h.runRequest(ctx, inv, tokens)
	if err != nil {
		return nil, err
	}
	if dry {
		return h.dryRun(ctx, inv, r), nil
	}
	// Keyed by the request, so that handling it again answers with the run it started.
	in := engine.RunInput{StartedBy: inv.req.UserID, Channel: inv.req.ChannelID, ThreadTS: threadOf(inv.req), Key: inv.req.ID, Params: r.params}
	if r.inc != nil {
		in.IncidentID = r.inc.ID
	}
	run, err := h.Executor.StartRun(ctx, r.rb, in)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf(":arrow_forward: Started *%s* (%s)", r.rb.Name, run.Key())
	if r.inc != nil {
		text += fmt.Sprintf(" for *%s*", r.inc.Key())
	}
	text += fmt.Sprintf(". `%s runs` shows how it goes.", inv.prefix)
	return slackui.PrivateText(text), nil
}

// runRequest is a run asked for, checked: the runbook, the incident it is about (or
// nil) and its params, bound.
type runRequest struct {
	rb     *runbooks.Runbook
	inc    *runbook.Incident
	params map[string]any
}

// runRequest reads "<runbook> [INC-id] [key=value …]" and checks it the same way for
// a run and a dry run: a dry run is refused to whoever may not run the runbook.
func (h *Handlers) runRequest(ctx context.Context, inv *invocation, tokens []Token) (*runRequest, error) {
	a := parseArgs(tokens)
	if len(a.words) == 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "Which runbook? %s", h.runbookNames())
	}
	name := strings.ToLower(a.words[0].Text)
	rb, ok := h.Catalog().Get(name)
	if !ok {
		msg := fmt.Sprintf("There is no runbook “%s”.", slackui.Escape(a.words[0].Text))
		if s := runbook.Suggest(name, h.Catalog().Names()); s != "" {
			msg += fmt.Sprintf(" Did you mean “%s”?", s)
		}
		return nil, runbook.Errorf(runbook.EINVALID, "%s %s", msg, h.runbookNames())
	}
	if err := h.mayRun(ctx, inv, rb); err != nil {
		return nil, err
	}
	r := &runRequest{rb: rb}
	if len(a.words) > 1 {
		var err error
		if r.inc, _, err = h.incidentArg(ctx, inv, a, 1); err != nil {
			return nil, err
		}
		// A run, and a dry run's rendering, show and may post what the incident holds.
		if _, err := h.mayView(ctx, inv, r.inc); err != nil {
			return nil, err
		}
		if len(a.words) > 2 {
			return nil, runbook.Errorf(runbook.EINVALID, "I don't understand “%s”: give parameters as key=value.", slackui.Escape(a.text(2)))
		}
	} else if found, err := h.store.IncidentByChannel(ctx, inv.req.ChannelID); err == nil {
		r.inc = found // run in an incident channel: it is about that incident
	}
	given := map[string]string{}
	for k, v := range a.opts {
		given[k] = v.Text
	}
	var err error
	if r.params, err = rb.BindParams(given); err != nil {
		return nil, err
	}
	// A run that uses the incident would fail at its first such step; a dry run may
	// still show which steps those are.
	if _, dry := dryRunFlag(inv.args); !dry && r.inc == nil && rb.NeedsIncident() {
		return nil, runbook.Errorf(runbook.EINVALID, "%s needs an incident: run it as `%s run %s INC-4 …` or from the incident's channel.", rb.Name, inv.prefix, rb.Name)
	}
	return r, nil
}

// dryRunFlag takes --dry-run out of a command's tokens, wherever it is, and says
// whether it was there. Phones and some keyboards turn "--" into a dash, so
// "—dry-run" counts too.
func dryRunFlag(tokens []Token) ([]Token, bool) {
	var rest []Token
	dry := false
	for _, t := range tokens {
		if t.Kind == Word && !t.Quoted && (strings.EqualFold(t.Text, "--dry-run") || strings.EqualFold(t.Text, "—dry-run")) {
			dry = true
			continue
		}
		rest = append(rest, t)
	}
	return rest, dry
}

// dryRun answers run … --dry-run: each step rendered as the run would render it, and
// what it would do. Nothing is started, stored or sent but this private answer.
func (h *Handlers) dryRun(ctx context.Context, inv *invocation, r *runRequest) *runbook.Reply {
	planned := h.Executor.Plan(ctx, r.rb, engine.PlanInput{Incident: r.inc, Params: r.params, StartedBy: inv.req.UserID})
	steps := make([]slackui.DryRunStep, len(planned))
	for i, p := range planned {
		steps[i] = slackui.DryRunStep(p) // the same fields: the compiler keeps them in step
	}
	return slackui.DryRun(r.rb.Name, r.inc, steps)
}

func threadOf(req *runbook.Request) string {
	if req.Kind == runbook.KindMention {
		return req.ThreadTS
	}
	return ""
}

func (h *Handlers) runbookNames() string {
	names := h.Catalog().Names()
	if len(names) == 0 {
		return "No runbooks are loaded."
	}
	return "Runbooks: " + strings.Join(names, ", ") + "."
}

// listRunbooks: runbooks
func (h *Handlers) listRunbooks(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	list := h.Catalog().List()
	infos := make([]slackui.RunbookInfo, len(list))
	for i, rb := range list {
		infos[i] = runbookInfo(rb)
	}
	return slackui.RunbookList(infos, inv.prefix), nil
}

// helpRunbook: help run <runbook>
func (h *Handlers) helpRunbook(inv *invocation, word Token) (*runbook.Reply, error) {
	name := strings.ToLower(word.Text)
	rb, ok := h.Catalog().Get(name)
	if !ok {
		msg := fmt.Sprintf("There is no runbook “%s”.", slackui.Escape(word.Text))
		if s := runbook.Suggest(name, h.Catalog().Names()); s != "" {
			msg += fmt.Sprintf(" Did you mean “%s”?", s)
		}
		return slackui.PrivateText(":grey_question: " + msg + " " + h.runbookNames()), nil
	}
	return slackui.RunbookHelp(runbookInfo(rb), inv.prefix), nil
}

// runbookInfo is what people see of a runbook before they run it.
func runbookInfo(rb *runbooks.Runbook) slackui.RunbookInfo {
	info := slackui.RunbookInfo{Name: rb.Name, Description: rb.Description}
	for _, p := range rb.Params {
		info.Params = append(info.Params, slackui.Param(p))
	}
	return info
}

// listRuns: runs [INC-id]
func (h *Handlers) listRuns(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	var incidentID int64
	heading := "Recent runs"
	if len(a.words) > 0 {
		inc, _, err := h.incidentArg(ctx, inv, a, 0)
		if err != nil {
			return nil, err
		}
		if _, err := h.mayView(ctx, inv, inc); err != nil {
			return nil, err
		}
		incidentID, heading = inc.ID, "Runs for "+inc.Key()
	} else if inc, err := h.store.IncidentByChannel(ctx, inv.req.ChannelID); err == nil {
		incidentID, heading = inc.ID, "Runs for "+inc.Key()
	}
	read := func(limit int) ([]*runbook.Run, error) { return h.Runs.ListRuns(ctx, incidentID, limit) }
	sees := h.viewer(inv).seesRun
	if incidentID != 0 {
		sees = everything // the incident's own list: who may see it was checked above
	}
	runs, err := visible(ctx, 15, read, sees)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return slackui.PrivateText(heading + ": none yet."), nil
	}
	var lines []string
	for _, r := range runs {
		lines = append(lines, runLine(r))
	}
	return slackui.List(heading, lines), nil
}

var runBadges = map[runbook.RunState]string{
	runbook.RunRunning: ":arrows_counterclockwise:", runbook.RunWaitingApproval: ":hourglass:",
	runbook.RunSucceeded: ":white_check_mark:", runbook.RunFailed: ":x:", runbook.RunDenied: ":no_entry:",
	runbook.RunExpired: ":alarm_clock:", runbook.RunCancelled: ":heavy_multiplication_x:",
}

func runLine(r *runbook.Run) string {
	done := 0
	for _, st := range r.Steps {
		if st.State != runbook.StepPending && st.State != runbook.StepRunning {
			done++
		}
	}
	line := fmt.Sprintf("%s *%s* %s — %s, %d/%d steps", runBadges[r.State], r.Key(), r.Runbook, strings.ReplaceAll(string(r.State), "_", " "), done, len(r.Steps))
	if r.IncidentID != 0 {
		line += " · " + runbook.IncidentKey(r.IncidentID)
	}
	if r.RollbackOf != 0 {
		line += " · rolls back " + runbook.RunKey(r.RollbackOf)
	}
	if r.Error != "" {
		line += "\n      " + slackui.Escape(r.Error)
	}
	return line
}

// cancel: cancel <run-id>
func (h *Handlers) cancel(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
	if len(a.words) != 1 {
		return nil, runbook.Errorf(runbook.EINVALID, "Give one run id, like R-12.")
	}
	id, err := runbook.ParseRunKey(a.words[0].Text)
	if err != nil {
		return nil, err
	}
	run, err := h.Runs.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := h.mayCancel(ctx, inv, run); err != nil {
		return nil, err
	}
	if err := h.Executor.Cancel(ctx, id, inv.req.UserID); err != nil {
		return nil, err
	}
	return slackui.PrivateText(fmt.Sprintf(":heavy_multiplication_x: Cancelled %s.", runbook.RunKey(id))), nil
}
