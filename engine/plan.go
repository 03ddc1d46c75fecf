package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// PlanInput is what a dry run renders a runbook against.
type PlanInput struct {
	// Incident is the run's incident, or nil for a runbook that uses only params.
	Incident *runbook.Incident
	// Params are bound by Runbook.BindParams.
	Params    map[string]any
	StartedBy string
}

// PlannedStep is what a dry run shows of one step.
type PlannedStep struct {
	Number int // 1-based
	ID     string
	Action string
	// Shows is what the step would do: method, URL and body; argv; channel and text.
	Shows string
	// Skipped says why the step would not run ("" when it would).
	Skipped string
	// Problem is why the step would fail as things stand ("" when it would not).
	Problem string
}

// Plan renders every step of rb as a run would and says what it would do, doing
// nothing: no Slack call, no HTTP request, no process, nothing stored. Secrets stand
// as [secret:NAME]. Outputs of earlier steps are not known before they run; they
// stand as ‹steps.ID.OUTPUT›.
func (e *Executor) Plan(ctx context.Context, rb *runbooks.Runbook, in PlanInput) []PlannedStep {
	run := &runbook.Run{Runbook: rb.Name, Params: in.Params, StartedBy: in.StartedBy, CreatedAt: e.d.Now()}
	if in.Incident != nil {
		run.IncidentID = in.Incident.ID
	}
	steps := map[string]any{}
	data := dataFor(run, rb, in.Incident, steps, e.d.Roles, e.d.Fields)
	out := make([]PlannedStep, len(rb.Steps))
	for i, def := range rb.Steps {
		out[i] = e.planStep(ctx, run, rb, i, def, data)
		if def.ID != "" {
			steps[def.ID] = placeholderOutputs(def)
		}
	}
	return out
}

func (e *Executor) planStep(ctx context.Context, run *runbook.Run, rb *runbooks.Runbook, i int, def runbooks.Step, data map[string]any) PlannedStep {
	p := PlannedStep{Number: i + 1, ID: def.ID, Action: def.Action}
	if def.When != "" {
		when, err := runbooks.Render(def.When, data)
		switch {
		case err != nil:
			p.Problem = "when: " + e.secrets.mask(explain(err))
			return p
		case !runbooks.Truthy(when):
			p.Skipped = fmt.Sprintf("when renders %q", slackui.Truncate(when, 60))
			return p
		}
	}
	s := &stepRun{e: e, run: run, rb: rb, def: def, index: i}
	act := e.actions[def.Action]
	var err error
	if runbooks.Actions[def.Action].Machine && act.plan != nil {
		s.data = e.secrets.placeholders(data)
		p.Shows, err = act.plan(ctx, s)
	} else {
		p.Shows, err = describeInputs(def, data)
	}
	if err != nil {
		p.Problem = e.secrets.mask(explain(err))
	}
	p.Shows = e.secrets.mask(e.secrets.unescapePlaceholders(p.Shows))
	return p
}

// unescapePlaceholders shows a secret's placeholder as [secret:NAME] where a URL
// template percent-encoded it (%5Bsecret%3ANAME%5D), so that a person reading the
// plan recognises it.
func (s *secrets) unescapePlaceholders(text string) string {
	if !strings.Contains(text, "%5B") {
		return text
	}
	var pairs []string
	for name := range s.values {
		plain := "[secret:" + name + "]"
		pairs = append(pairs, url.QueryEscape(plain), plain, url.PathEscape(plain), plain)
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// describeInputs shows a step's rendered inputs, one "name: value" line each, in the
// order the action declares them.
func describeInputs(def runbooks.Step, data map[string]any) (string, error) {
	in, err := renderInputs(def, data)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, spec := range runbooks.Actions[def.Action].Inputs {
		v, ok := in[spec.Name]
		if !ok {
			continue
		}
		text := fmt.Sprint(v)
		switch v.(type) {
		case map[string]any, []any:
			b, _ := json.Marshal(v)
			text = string(b)
		}
		lines = append(lines, spec.Name+": "+slackui.Truncate(text, 500))
	}
	return strings.Join(lines, "\n"), nil
}

// placeholderOutputs stand for a step's outputs in a dry run.
func placeholderOutputs(def runbooks.Step) map[string]any {
	out := map[string]any{}
	for _, name := range runbooks.Actions[def.Action].Outputs {
		out[name] = "‹steps." + def.ID + "." + name + "›"
	}
	if def.Action == "approval.request" {
		out["approved"] = true
	}
	return out
}
