package incidents

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// maxNote bounds a note or a pinned message as the timeline keeps it: what a summary
// section can show. maxFollowUp bounds a follow-up, which is a line in a list.
const (
	maxNote     = 3000
	maxFollowUp = 500
)

// Note is an investigation note someone adds to an incident.
type Note struct {
	// Text may start with a kind: "hypothesis:", "root cause:", "remediation:" or
	// "action:" (see runbook.SplitNote).
	Text string
	By   string
	// Key is the id of the request that adds it: a request handled twice adds it once.
	Key string
}

// AddNote records a note on the incident's timeline with its kind and, the first time
// its request is handled, posts it to the incident's investigation updates. It returns
// the note's kind.
func (s *Service) AddNote(ctx context.Context, id int64, n Note) (string, error) {
	kind, _, err := s.addNote(ctx, id, n)
	return kind, err
}

// AddNoteOnce is AddNote for a caller that needs to know whether the note was added
// now (false: its key added it before).
func (s *Service) AddNoteOnce(ctx context.Context, id int64, n Note) (added bool, err error) {
	_, added, err = s.addNote(ctx, id, n)
	return added, err
}

func (s *Service) addNote(ctx context.Context, id int64, n Note) (kind string, added bool, err error) {
	kind, text := runbook.SplitNote(runbook.CleanText(n.Text))
	if text == "" {
		if kind == runbook.TimelineNote {
			return "", false, runbook.Errorf(runbook.EINVALID, "Write the note after `note`, like `note root cause: the cache expired`.")
		}
		return "", false, runbook.Errorf(runbook.EINVALID, "Write the %s after “%s:”.", kind, kind)
	}
	if l := len([]rune(text)); l > maxNote {
		return "", false, runbook.Errorf(runbook.EINVALID, "That note is %d characters long; keep it under %d, or pin a message with :pushpin: instead.", l, maxNote)
	}
	inc, err := s.store.Incident(ctx, id)
	if err != nil {
		return "", false, err
	}
	key := ""
	if n.Key != "" {
		key = "note/" + n.Key
	}
	added, err = s.store.AddTimelineOnce(ctx, runbook.TimelineEntry{IncidentID: id, Actor: n.By, Kind: kind,
		Text: slackui.Neutralize(text)}, key)
	if err != nil {
		return "", false, err
	}
	if added {
		s.Progress(ctx, id, slackui.InvestigationNote(inc, kind, text, n.By))
		if s.cfg.Timers != nil {
			// A note of any kind is an update: the reminder is put off.
			s.cfg.Timers.Changed(ctx, inc, inc, true)
		}
	}
	return kind, added, nil
}

// Pin adds a message in an incident's channel to its timeline, with its author and the
// time it was written, once per message however often it is pinned. A channel that is
// no incident's is not an error: pinned reports false. The message is read from Slack,
// so what the timeline keeps is what was said, never what an event claims.
func (s *Service) Pin(ctx context.Context, channel, ts, by string) (pinned bool, err error) {
	inc, err := s.store.IncidentByChannel(ctx, channel)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	msg, err := s.slack.Message(ctx, channel, ts)
	if err != nil {
		return false, fmt.Errorf("read the message pinned in %s: %w", inc.Key(), err)
	}
	author := msg.User
	if author == "" {
		author = "a bot"
	}
	// The message comes as Slack keeps it, with &, < and > escaped; the timeline keeps
	// plain text, escaped where it is shown, so it is unescaped once its live mass
	// mentions are plain words.
	text := slackui.Unescape(slackui.Neutralize(runbook.CleanText(msg.Text)))
	if l := len([]rune(text)); l > maxNote {
		text = string([]rune(text)[:maxNote-1]) + "…"
	}
	added, err := s.store.AddTimelineOnce(ctx, runbook.TimelineEntry{IncidentID: inc.ID, At: tsTime(ts, s.Now()),
		Actor: author, Kind: runbook.TimelinePinned, Text: slackui.Neutralize(text)}, "pin/"+channel+"/"+ts)
	if err != nil {
		return false, err
	}
	if added {
		s.log.Info("message pinned to the timeline", "incident", inc.Key(), "channel", channel, "ts", ts, "by", by)
		s.Progress(ctx, inc.ID, slackui.InvestigationNote(inc, runbook.TimelinePinned, text, by))
	}
	return added, nil
}

// tsTime reads a Slack ts ("1700000000.000100") as the time it stands for, or
// fallback when it is not one.
func tsTime(ts string, fallback time.Time) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n <= 0 {
		return fallback
	}
	micros, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(n, micros*1000)
}

// FollowUpRequest is a follow-up someone adds to an incident.
type FollowUpRequest struct {
	Text  string
	Owner string
	By    string
	Key   string
}

// AddFollowUp records a follow-up on the incident, once per request.
func (s *Service) AddFollowUp(ctx context.Context, id int64, r FollowUpRequest) (*runbook.FollowUp, error) {
	text := runbook.CleanLine(r.Text)
	if strings.TrimSpace(text) == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "Say what needs doing, in quotes: `followup \"add an alert on queue depth\" @owner`.")
	}
	if l := len([]rune(text)); l > maxFollowUp {
		return nil, runbook.Errorf(runbook.EINVALID, "That follow-up is %d characters long; keep it under %d and link to the details.", l, maxFollowUp)
	}
	f := &runbook.FollowUp{IncidentID: id, Text: slackui.Neutralize(strings.TrimSpace(text)), Owner: r.Owner,
		CreatedBy: r.By, RequestKey: r.Key}
	if err := s.store.AddFollowUp(ctx, f); err != nil {
		return nil, err
	}
	return f, nil
}

// CompleteFollowUp marks a follow-up done, once per request; one done already by an
// earlier request is ECONFLICT.
func (s *Service) CompleteFollowUp(ctx context.Context, id int64, by, key string) (*runbook.FollowUp, error) {
	f, _, err := s.store.CompleteFollowUp(ctx, id, by, key)
	return f, err
}

// SummaryOf gathers what an incident's summary shows. runs lists the incident's runs.
func (s *Service) SummaryOf(ctx context.Context, id int64, runs runbook.RunStore) (slackui.SummaryInput, error) {
	inc, err := s.store.Incident(ctx, id)
	if err != nil {
		return slackui.SummaryInput{}, err
	}
	in := slackui.SummaryInput{Incident: inc, Now: s.Now(), Roles: roles(inc), Fields: s.cfg.Fields}
	if in.Timeline, err = s.store.Timeline(ctx, id); err != nil {
		return in, err
	}
	if in.FollowUps, err = s.store.FollowUps(ctx, id); err != nil {
		return in, err
	}
	if runs != nil {
		if in.Runs, err = runs.ListRuns(ctx, id, 20); err != nil {
			return in, err
		}
	}
	return in, nil
}

// roles are the incident's people by role for its summary: commander first, then every
// other role someone holds.
func roles(inc *runbook.Incident) []slackui.Role {
	out := []slackui.Role{{Name: runbook.RoleCommander, User: inc.Commander}}
	for _, r := range inc.AssignedRoles() {
		out = append(out, slackui.Role{Name: r[0], User: r[1]})
	}
	return out
}
