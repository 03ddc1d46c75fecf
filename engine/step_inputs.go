package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
)

// stepRun is one attempt at one step, with its rendered inputs.
type stepRun struct {
	e        *Executor
	run      *runbook.Run
	rb       *runbooks.Runbook
	def      runbooks.Step
	index    int
	attempt  int
	in       map[string]any
	progress map[string]any
	// data is the template data of a machine action (ActionSpec.Machine), whose
	// inputs are rendered by the action itself and are not in in.
	data map[string]any
}

// str returns a string input, or its declared default.
func (s *stepRun) str(name string) string {
	if v, ok := s.in[name]; ok && v != nil {
		return strings.TrimSpace(fmt.Sprint(v))
	}
	in, _ := runbooks.Actions[s.def.Action].Input(name)
	return in.Default
}

// flag returns a bool input; a rendered template counts if it is Truthy.
func (s *stepRun) flag(name string) bool {
	switch v := s.in[name].(type) {
	case bool:
		return v
	case string:
		return runbooks.Truthy(v)
	}
	return false
}

// list returns a list input; a single string is a one-item list, and a rendered
// template may hold several items separated by commas or spaces.
func (s *stepRun) list(name string) []string {
	var raw []string
	switch v := s.in[name].(type) {
	case []any:
		for _, x := range v {
			raw = append(raw, fmt.Sprint(x))
		}
	case string:
		raw = []string{v}
	}
	var out []string
	for _, r := range raw {
		out = append(out, strings.FieldsFunc(r, func(c rune) bool { return c == ',' || c == ' ' })...)
	}
	return out
}

// saveProgress records what the step is about to do, for a retry to find.
func (s *stepRun) saveProgress(ctx context.Context, p map[string]any) error {
	s.progress = p
	return s.e.d.Runs.RecordProgress(ctx, s.run.ID, s.index, p)
}

// marker tags the messages a step posts with Slack message metadata, so that a retry
// after a crash finds the message instead of posting it again.
func (s *stepRun) marker() *runbook.MessageMetadata {
	tag := slackui.StepTag(s.run.ID, s.index)
	return &tag
}

// posted finds, on a retry, the message an earlier attempt of this step posted: at the
// top of channel, or in the thread of thread when it is not "".
func (s *stepRun) posted(ctx context.Context, channel, thread string) (string, bool, error) {
	if s.attempt <= 1 {
		return "", false, nil
	}
	m, found, err := runbook.FindTaggedIn(ctx, s.e.d.Slack, channel, thread, *s.marker())
	return m.TS, found, err
}

// incident returns the run's incident, or an error if the run has none.
func (s *stepRun) incident(ctx context.Context) (*runbook.Incident, error) {
	if s.run.IncidentID == 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "this run is not about an incident; start it with an incident id")
	}
	return s.e.d.Incidents.Incident(ctx, s.run.IncidentID)
}

// channel resolves the step's channel input; one that renders to nothing is a clear
// error rather than Slack's channel_not_found.
func (s *stepRun) channel(ctx context.Context) (string, error) {
	ref := s.str("channel")
	if ref == "" {
		return "", runbook.Errorf(runbook.EINVALID, "the channel is empty once rendered (%q)", fmt.Sprint(s.def.With["channel"]))
	}
	return s.e.d.Slack.ResolveChannel(ctx, ref)
}

// warn records, as the step's "warning" output, that it did its work only in part; the
// run goes on and says so when it ends.
func (s *stepRun) warn(out map[string]any, text string) {
	label := fmt.Sprintf("step %d (%s)", s.index+1, s.def.Action)
	if s.def.ID != "" {
		label = fmt.Sprintf("step %d “%s” (%s)", s.index+1, s.def.ID, s.def.Action)
	}
	if prev, ok := out["warning"].(string); ok {
		text = prev + "; " + text
	} else {
		text = label + ": " + text
	}
	out["warning"] = text
	s.e.log.Warn("step partly done", "run", s.run.Key(), "step", s.index+1, "warning", text)
}
