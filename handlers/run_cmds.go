package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/slackui"
)

// runRunbook: run <runbook> [INC-id] [key=value …]
func (h *Handlers) runRunbook(ctx context.Context, inv *invocation) (*runbook.Reply, error) {
	a := parseArgs(inv.args)
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
	// Keyed by the request, so that handling it again answers with the run it started.
	in := engine.RunInput{StartedBy: inv.req.UserID, Channel: inv.req.ChannelID, ThreadTS: threadOf(inv.req), Key: inv.req.ID}
	var inc *runbook.Incident
	if len(a.words) > 1 {
		var err error
		if inc, _, err = h.incidentArg(ctx, inv, a, 1); err != nil {
			return nil, err
		}
		if len(a.words) > 2 {
			return nil, runbook.Errorf(runbook.EINVALID, "I don't understand “%s”: give parameters as key=value.", slackui.Escape(a.text(2)))
		}
	} else if found, err := h.store.IncidentByChannel(ctx, inv.req.ChannelID); err == nil {
		inc = found // run in an incident channel: it is about that incident
	}
	if inc != nil {
		in.IncidentID = inc.ID
	}
	given := map[string]string{}
	for k, v := range a.opts {
		given[k] = v.Text
	}
	params, err := rb.BindParams(given)
	if err != nil {
		return nil, err
	}
	in.Params = params
	run, err := h.Executor.StartRun(ctx, rb, in)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf(":arrow_forward: Started *%s* (%s)", rb.Name, run.Key())
	if inc != nil {
		text += fmt.Sprintf(" for *%s*", inc.Key())
	}
	text += fmt.Sprintf(". `%s runs` shows how it goes.", inv.prefix)
	return slackui.PrivateText(text), nil
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
	if len(list) == 0 {
		return slackui.PrivateText("No runbooks are loaded. Put runbook files in the directory `runbooks.dir` names."), nil
	}
	var lines []string
	for _, rb := range list {
		line := fmt.Sprintf("*%s* — %s", rb.Name, slackui.Escape(rb.Description))
		var params []string
		for _, p := range rb.Params {
			ps := p.Name + "=" + p.Type
			if !p.Required {
				ps = "[" + ps + "]"
			}
			params = append(params, ps)
		}
		if len(params) > 0 {
			line += " `" + strings.Join(params, " ") + "`"
		}
		lines = append(lines, line)
	}
	return slackui.List(fmt.Sprintf("%d runbook(s). Run one with `%s run <runbook> [INC-id] [key=value …]`", len(list), inv.prefix), lines), nil
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
		incidentID, heading = inc.ID, "Runs for "+inc.Key()
	} else if inc, err := h.store.IncidentByChannel(ctx, inv.req.ChannelID); err == nil {
		incidentID, heading = inc.ID, "Runs for "+inc.Key()
	}
	runs, err := h.Runs.ListRuns(ctx, incidentID, 15)
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
