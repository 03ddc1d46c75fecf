package engine

import (
	"context"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// Summarizer gathers what an incident's summary shows, as /runbook summary does.
type Summarizer interface {
	SummaryOf(ctx context.Context, id int64, runs runbook.RunStore) (slackui.SummaryInput, error)
}

// summaryActions post an incident's summary from a runbook.
type summaryActions struct{ incidents Summarizer }

// SummaryActions posts incident summaries gathered through incidents.
func SummaryActions(incidents Summarizer) Family { return summaryActions{incidents: incidents} }

func (f summaryActions) register(e *Executor) { e.handle("incident.summary", f.summary) }

// summary posts the run's incident's summary to the channel given, else the incident's
// own channel, else where it was announced. The post carries the step's tag, so a retry
// after a crash finds it rather than posting a second summary.
func (f summaryActions) summary(ctx context.Context, s *stepRun) (map[string]any, error) {
	inc, err := s.incident(ctx)
	if err != nil {
		return nil, err
	}
	channel := s.str("channel")
	if channel == "" {
		channel = inc.Channel
	}
	if channel == "" {
		channel = inc.AnnouncementChannel
	}
	if channel == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "%s has no channel and was announced nowhere; give the step a channel", inc.Key())
	}
	if channel, err = s.e.d.Slack.ResolveChannel(ctx, channel); err != nil {
		return nil, err
	}
	ts, found, err := s.posted(ctx, channel, "")
	if err != nil {
		return nil, err
	}
	if !found {
		in, err := f.incidents.SummaryOf(ctx, inc.ID, s.e.d.Runs)
		if err != nil {
			return nil, err
		}
		msg := slackui.Summary(in)
		msg.Channel, msg.Metadata = channel, s.marker()
		posted, err := s.e.d.Slack.PostMessage(ctx, msg)
		if err != nil {
			return nil, err
		}
		channel, ts = posted.Channel, posted.TS
	}
	return map[string]any{"channel": channel, "ts": ts}, nil
}
