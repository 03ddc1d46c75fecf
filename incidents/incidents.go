// Package incidents is the incident service: declaring, updating and resolving
// incidents, and keeping Slack in step with them — the announcement edited in place,
// the incident channel's topic refreshed on every change, investigation updates
// threaded per incident, and the runbooks whose triggers match started.
package incidents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// Triggerer starts the runbooks whose triggers match an incident event.
type Triggerer interface {
	// Trigger starts them; key is the id of the request that caused the event, or "",
	// so that a request handled twice starts each runbook once.
	Trigger(ctx context.Context, event string, inc *runbook.Incident, by, key string) ([]*runbook.Run, error)
	// Triggers names them without starting them.
	Triggers(event string, inc *runbook.Incident) []string
}

// Config is the part of the configuration the service follows.
type Config struct {
	Severities []string
	Statuses   []string
	// Roles are the roles people can be assigned (incidents.roles); commander is
	// always one of them.
	Roles []string
	// ServiceChannel returns where a service's incidents are announced (the service's
	// channel, else slack.defaultChannel).
	ServiceChannel func(service string) string
	// Fields are the configured custom fields (incidents.fields).
	Fields []runbook.FieldSpec
	// Timers hears of declarations and changes, to arm, put off and stop the
	// incident's reminders and periodic runbooks (optional).
	Timers Timers
	// After waits before trying again to learn older channels' privacy (time.After
	// when nil).
	After func(time.Duration) <-chan time.Time
}

// Timers keeps an incident's durable timers; *timers.Service satisfies it.
type Timers interface {
	// Declared arms a new incident's timers.
	Declared(ctx context.Context, inc *runbook.Incident)
	// Changed follows a stored change; noted says it carried a note.
	Changed(ctx context.Context, before, after *runbook.Incident, noted bool)
}

// maxTitle keeps titles short enough for topics, announcements and channel names.
const maxTitle = 200

// Service declares and changes incidents.
type Service struct {
	store   runbook.IncidentStore
	slack   runbook.Slack
	trigger Triggerer
	cfg     Config
	log     *slog.Logger
	Now     func() time.Time
	updates *Updates
}

// New returns the incident service. It starts runbooks through trigger and posts
// investigation updates through updates.
func New(store runbook.IncidentStore, slack runbook.Slack, trigger Triggerer, updates *Updates, cfg Config, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ServiceChannel == nil {
		cfg.ServiceChannel = func(string) string { return "" }
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	return &Service{store: store, slack: slack, trigger: trigger, cfg: cfg, log: logger, Now: time.Now, updates: updates}
}

// Run posts investigation updates until ctx ends (see Updates.Run), and meanwhile
// learns the privacy of older incidents' channels (learnChannelPrivacy).
func (s *Service) Run(ctx context.Context) {
	var learning sync.WaitGroup
	learning.Go(func() { s.learnChannelPrivacy(ctx) })
	s.updates.Run(ctx)
	learning.Wait()
}

// Severities and Statuses are the configured lists.
func (s *Service) Severities() []string { return s.cfg.Severities }

// Statuses are the configured statuses, in order; the last one resolves.
func (s *Service) Statuses() []string { return s.cfg.Statuses }

// Fields are the configured custom fields, in order.
func (s *Service) Fields() []runbook.FieldSpec { return s.cfg.Fields }

// Declaration is what a person gives to declare an incident.
type Declaration struct {
	Title     string
	Severity  string
	Service   string
	Commander string
	// Fields are custom field values by name, as given (a user field's value a user
	// id); defaults fill the ones not given.
	Fields map[string]string
	// Summary is the incident's first summary, or "".
	Summary string
	By      string
	// Key is the id of the request that declares (Request.ID), or "". The same
	// request handled again — a redelivery, or a restart finishing it — declares
	// nothing new: it finds its incident, finishes what the first attempt left undone
	// (the announcement, the triggered runs) and answers as the first would have.
	Key string
	// DedupKey, when set, makes the declaration find the open incident declared under
	// the same key instead of declaring another (Declared.Deduplicated); resolving
	// frees the key. Alert webhooks and API callers set it, with a Key of their own.
	DedupKey string
}

// Declared is a new incident and what happened because of it.
type Declared struct {
	Incident *runbook.Incident
	Runs     []*runbook.Run
	// AnnouncedIn is the id of the channel the declaration was announced in ("" if
	// nowhere).
	AnnouncedIn string
	// Deduplicated says that Incident is the open incident already declared under the
	// declaration's DedupKey: nothing was declared, announced or started.
	Deduplicated bool
	// AnnouncingIn and Starting are set instead of AnnouncedIn and Runs when the
	// declaration is answered before it is announced and its runbooks started
	// (runbook.AnswerFirst): the channel it is being announced in, as configured
	// (slackui.ConfiguredChannel), and the runbooks it triggers. What fails of that is
	// told in a follow-up.
	AnnouncingIn string
	Starting     []string
	// Problems says what failed of the announcement and the runbooks when they were
	// done before answering (nil if nothing did); the answer carries it.
	Problems *runbook.Reply
}

// Declare records a new incident, announces it, and starts its triggered runbooks.
// Slack failures after the incident is recorded are logged, not returned: the incident
// exists, and the person is told what happened through Declared.
func (s *Service) Declare(ctx context.Context, d Declaration) (*Declared, error) {
	d.Severity = strings.ToLower(strings.TrimSpace(d.Severity))
	d.Title = runbook.CleanLine(d.Title)
	if err := s.CheckSeverity(d.Severity); err != nil {
		return nil, err
	}
	if strings.TrimSpace(d.Title) == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "Give the incident a title.")
	}
	if n := len([]rune(d.Title)); n > maxTitle {
		return nil, runbook.Errorf(runbook.EINVALID, "That title is %d characters long; keep it under %d.", n, maxTitle)
	}
	fields, err := s.CheckFields(d.Fields, true)
	if err != nil {
		return nil, err
	}
	d.Fields = fields
	d.Summary = strings.TrimSpace(runbook.CleanText(d.Summary))
	if n := len([]rune(d.Summary)); n > runbook.MaxSummary {
		return nil, runbook.Errorf(runbook.EINVALID, "That summary is %d characters long; keep it under %d.", n, runbook.MaxSummary)
	}
	if _, byAPI := runbook.APIActorName(d.By); d.Commander == "" && !byAPI {
		// Whoever declares leads until they hand over (update commander=@…); an API
		// token is no one to lead, so its incidents start without a commander.
		d.Commander = d.By
	}
	inc, again, err := s.create(ctx, d)
	if err != nil {
		return nil, err
	}
	if d.DedupKey != "" && inc.RequestKey != d.Key {
		return s.deduplicated(ctx, inc), nil
	}
	// The incident is recorded: a person in Slack hears so at once, and the rest — a
	// Slack round trip, the triggered runs — follows the answer.
	finish := func(ctx context.Context) *runbook.Reply {
		_, problems := s.followThrough(ctx, inc, d, again)
		return problems
	}
	if runbook.AnswerFirst(ctx, finish) {
		announcing := inc.AnnouncementChannel
		if announcing == "" {
			announcing = s.cfg.ServiceChannel(inc.Service)
		}
		return &Declared{Incident: inc, AnnouncingIn: announcing, Starting: s.trigger.Triggers(runbook.EventIncidentDeclared, inc)}, nil
	}
	out, problems := s.followThrough(ctx, inc, d, again)
	out.Problems = problems
	return out, nil
}

// followThrough does what follows a recorded declaration: the announcement, the
// timers, the first investigation update and the triggered runbooks. What failed is
// logged, and returned as a follow-up for the person who declared (nil if nothing
// did); the incident stands either way. A declaration handled again finds what its
// first handling did and finishes the rest.
func (s *Service) followThrough(ctx context.Context, inc *runbook.Incident, d Declaration, again bool) (*Declared, *runbook.Reply) {
	var problems []string
	inc, err := s.announce(ctx, inc, again)
	if err != nil {
		problems = append(problems, fmt.Sprintf("I could not announce it in %s: %s", slackui.ConfiguredChannel(s.cfg.ServiceChannel(inc.Service)), runbook.ErrorMessage(err)))
	}
	out := &Declared{Incident: inc, AnnouncedIn: inc.AnnouncementChannel}
	if !again && s.cfg.Timers != nil {
		// A declaration handled again finds its timers armed (or armed at the next
		// start, if the first handling died before this).
		s.cfg.Timers.Declared(ctx, inc)
	}
	// The declaration is the first investigation update. Updates are queued in memory,
	// so a second handling of the same request cannot tell whether it went out — unless
	// the first handling's process died (the queue went with it) and the incident has no
	// updates thread: the thread is recorded before its first line is posted.
	if !again || (runbook.IsResumed(ctx) && inc.UpdatesTS == "") {
		s.Progress(ctx, inc.ID, slackui.IncidentDeclared(inc, d.By))
	}
	runs, err := s.trigger.Trigger(ctx, runbook.EventIncidentDeclared, inc, d.By, d.Key)
	if err != nil {
		s.log.Error("start triggered runbooks", "incident", inc.Key(), "err", err)
		problems = append(problems, "its runbooks did not all start: "+runbook.ErrorMessage(err))
	}
	out.Runs = runs
	if len(problems) == 0 {
		return out, nil
	}
	return out, slackui.PrivateText(fmt.Sprintf(":warning: *%s* is declared, but %s", inc.Key(), strings.Join(problems, "; ")))
}

// deduplicated answers a declaration that found the open incident holding its dedup
// key. That incident's own declaration may have died before announcing it (a caller
// retrying after a crash finds it so); then the announcement and the triggered
// runbooks, which come after it, are finished here under the incident's own request
// key, as a redelivered declaration would finish them.
func (s *Service) deduplicated(ctx context.Context, inc *runbook.Incident) *Declared {
	out := &Declared{Incident: inc, Deduplicated: true, AnnouncedIn: inc.AnnouncementChannel}
	if inc.AnnouncementTS != "" || s.cfg.ServiceChannel(inc.Service) == "" {
		return out
	}
	inc, _ = s.announce(ctx, inc, true)
	out.Incident, out.AnnouncedIn = inc, inc.AnnouncementChannel
	s.triggerRunbooks(ctx, runbook.EventIncidentDeclared, inc, inc.CreatedBy, inc.RequestKey)
	return out
}

// create stores the declared incident, or finds the one this request declared
// already (again is then true).
func (s *Service) create(ctx context.Context, d Declaration) (inc *runbook.Incident, again bool, err error) {
	if d.Key != "" {
		found, err := s.store.IncidentByRequestKey(ctx, d.Key)
		if err == nil {
			s.log.Info("incident already declared by this request", "incident", found.Key(), "request", d.Key)
			return found, true, nil
		}
		if runbook.ErrorCode(err) != runbook.ENOTFOUND {
			return nil, false, err
		}
	}
	inc = &runbook.Incident{Title: strings.TrimSpace(d.Title), Severity: d.Severity, Status: s.cfg.Statuses[0],
		Service: strings.ToLower(d.Service), Commander: d.Commander, Fields: d.Fields, Summary: d.Summary, CreatedBy: d.By, RequestKey: d.Key, DedupKey: d.DedupKey}
	// The fields it was declared with are on the timeline from the start, written with
	// the incident so that neither a crash nor a redelivery loses or repeats them.
	var also []runbook.TimelineEntry
	if text := slackui.DeclaredFields(d.Fields, s.cfg.Fields); text != "" {
		also = append(also, runbook.TimelineEntry{Actor: d.By, Kind: runbook.TimelineField, Text: text})
	}
	if err := s.store.CreateIncident(ctx, inc, also...); err != nil {
		return nil, false, err
	}
	return inc, false, nil
}

// CheckFields checks custom field values against the configured fields and returns
// them as stored. An unknown name is refused with the closest configured one; a value
// must fit its field's type. Declaring, defaults fill the fields not given, and a
// required field with neither a value nor a default is refused by name; otherwise a
// required field may not be cleared.
func (s *Service) CheckFields(values map[string]string, declaring bool) (map[string]string, error) {
	names := runbook.FieldNames(s.cfg.Fields)
	out := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		f, ok := runbook.FieldByName(s.cfg.Fields, name)
		if !ok {
			return nil, UnknownField(name, names)
		}
		v, err := f.Check(values[name])
		if err != nil {
			return nil, err
		}
		if v == "" && f.Required && !declaring {
			return nil, runbook.Errorf(runbook.EINVALID, "%s is required; give it a value instead of clearing it.", name)
		}
		out[name] = v
	}
	if !declaring {
		return out, nil
	}
	for _, f := range s.cfg.Fields {
		if out[f.Name] == "" && f.Default != "" {
			out[f.Name] = f.Default
		}
		if out[f.Name] == "" {
			if f.Required {
				return nil, runbook.Errorf(runbook.EINVALID, "%s is required: add %s=… to the declaration.", f.Name, f.Name)
			}
			delete(out, f.Name)
		}
	}
	return out, nil
}

// UnknownField is the answer to a field name that is not configured.
func UnknownField(name string, names []string) error {
	if len(names) == 0 {
		return runbook.Errorf(runbook.EINVALID, "“%s” is not something I can set: no custom fields are configured (incidents.fields).", slackui.Escape(name))
	}
	msg := fmt.Sprintf("I don't know the field “%s”", slackui.Escape(name))
	if sug := runbook.Suggest(name, names); sug != "" {
		msg += fmt.Sprintf(" (did you mean “%s”?)", sug)
	}
	return runbook.Errorf(runbook.EINVALID, "%s; the fields are %s.", msg, strings.Join(names, ", "))
}

// CheckSeverity says whether severity is one of the configured ones.
func (s *Service) CheckSeverity(severity string) error {
	if slices.Contains(s.cfg.Severities, severity) {
		return nil
	}
	msg := fmt.Sprintf("“%s” is not a severity; use one of %s.", severity, strings.Join(s.cfg.Severities, ", "))
	if severity == "" {
		msg = fmt.Sprintf("Give a severity: one of %s.", strings.Join(s.cfg.Severities, ", "))
	}
	return runbook.Errorf(runbook.EINVALID, "%s", msg)
}

// Roles are the configured roles, commander always among them.
func (s *Service) Roles() []string {
	if !slices.Contains(s.cfg.Roles, runbook.RoleCommander) {
		return append([]string{runbook.RoleCommander}, s.cfg.Roles...)
	}
	return s.cfg.Roles
}

// CheckRole says whether role is one of the configured ones, suggesting the closest.
func (s *Service) CheckRole(role string) error {
	roles := s.Roles()
	if slices.Contains(roles, role) {
		return nil
	}
	shown := slackui.Escape(slackui.Truncate(role, 40))
	msg := fmt.Sprintf("“%s” is not a role", shown)
	if sug := runbook.Suggest(role, roles); sug != "" {
		msg += fmt.Sprintf(" (did you mean “%s”?)", sug)
	}
	return runbook.Errorf(runbook.EINVALID, "%s; the roles are %s. More can be added to incidents.roles in the config.", msg, strings.Join(roles, ", "))
}

// CheckStatus says whether status is one of the configured ones.
func (s *Service) CheckStatus(status string) error {
	if slices.Contains(s.cfg.Statuses, status) {
		return nil
	}
	return runbook.Errorf(runbook.EINVALID, "“%s” is not a status; use one of %s.", status, strings.Join(s.cfg.Statuses, ", "))
}

// announce posts the declaration to the service's channel and remembers where, so
// that later changes edit it in place, returning the incident as recorded then (as
// given, with Slack's refusal, if it was not announced). An incident announced already
// is not announced again; when again (the declaring request is being handled a second
// time) and no announcement was recorded, one posted just before a crash is looked for
// and adopted.
func (s *Service) announce(ctx context.Context, inc *runbook.Incident, again bool) (*runbook.Incident, error) {
	if inc.AnnouncementTS != "" {
		return inc, nil
	}
	channel := s.cfg.ServiceChannel(inc.Service)
	if channel == "" {
		return inc, nil
	}
	tag := slackui.AnnouncementTag(inc)
	var posted runbook.PostedMessage
	found := false
	if again {
		var err error
		if posted, found, err = runbook.FindTagged(ctx, s.slack, channel, tag); err != nil {
			// Not being able to look (the bot may post in a channel it cannot read)
			// is no reason to leave the incident unannounced.
			s.log.Warn("cannot look for an earlier announcement", "incident", inc.Key(), "channel", channel, "err", err)
		}
	}
	if !found {
		msg := slackui.Announcement(inc, s.cfg.Fields...)
		msg.Channel, msg.Metadata = channel, &tag
		var err error
		if posted, err = s.slack.PostMessage(ctx, msg); err != nil {
			s.log.Warn("cannot announce incident", "incident", inc.Key(), "channel", channel, "err", err)
			return inc, err
		}
	}
	updated, err := s.store.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
		i.AnnouncementChannel, i.AnnouncementTS = posted.Channel, posted.TS
		return nil
	})
	if err != nil {
		// Announced all the same: the person is told where.
		s.log.Error("remember announcement", "incident", inc.Key(), "err", err)
		announced := *inc
		announced.AnnouncementChannel, announced.AnnouncementTS = posted.Channel, posted.TS
		return &announced, nil
	}
	return updated, nil
}

// Change is an update to an incident; empty fields stay as they are.
type Change = runbook.IncidentChange

// Update applies a change, records it in the timeline, refreshes Slack and starts
// the runbooks triggered by it. Resolving (the last status) also starts the
// incident.resolved runbooks.
func (s *Service) Update(ctx context.Context, id int64, c Change) (*runbook.Incident, error) {
	c.Status, c.Severity = strings.ToLower(c.Status), strings.ToLower(c.Severity)
	if c.Status != "" {
		if err := s.CheckStatus(c.Status); err != nil {
			return nil, err
		}
	}
	if c.Severity != "" {
		if err := s.CheckSeverity(c.Severity); err != nil {
			return nil, err
		}
	}
	for role, user := range c.Roles {
		if err := s.CheckRole(role); err != nil {
			return nil, err
		}
		if role == runbook.RoleCommander {
			if user == "" {
				return nil, runbook.Errorf(runbook.EINVALID, "An incident always has a commander; hand the role on instead, as in `assign @alice commander`.")
			}
			// The commander role is the incident's commander.
			c.Commander = user
		}
	}
	if c.Fields != nil {
		fields, err := s.CheckFields(c.Fields, false)
		if err != nil {
			return nil, err
		}
		c.Fields = fields
	}
	if c.Summary != nil {
		sum := strings.TrimSpace(runbook.CleanText(*c.Summary))
		if n := len([]rune(sum)); n > runbook.MaxSummary {
			return nil, runbook.Errorf(runbook.EINVALID, "That summary is %d characters long; keep it under %d.", n, runbook.MaxSummary)
		}
		c.Summary = &sum
	}
	if c.Status == "" && c.Severity == "" && c.Commander == "" && c.Note == "" && len(c.Roles) == 0 && len(c.Fields) == 0 && c.Summary == nil {
		return nil, runbook.Errorf(runbook.EINVALID, "Say what to change: status=…, severity=…, commander=@…, summary=\"…\", note=\"…\" or a field (name=value).")
	}
	var before runbook.Incident
	inc, applied, err := s.store.UpdateIncidentOnce(ctx, id, c.Key, func(i *runbook.Incident) error {
		before = *i
		before.Roles = maps.Clone(i.Roles)
		return s.apply(i, c)
	})
	if err != nil {
		return nil, err
	}
	if !applied {
		// This request changed the incident already; an interrupted first attempt may
		// have left Slack behind or the triggered runbooks unstarted.
		s.log.Info("change already applied by this request", "incident", inc.Key(), "request", c.Key)
		if c.Status != "" && inc.ResolvedAt.IsZero() && !inc.ReopenedAt.IsZero() {
			s.unarchive(ctx, inc, false)
		}
		s.refresh(ctx, inc)
		event := runbook.EventIncidentUpdated
		if c.Status == s.resolved() {
			event = runbook.EventIncidentResolved
		}
		s.triggerRunbooks(ctx, event, inc, c.By, c.Key)
		return inc, nil
	}
	s.record(ctx, &before, inc, c)
	if s.cfg.Timers != nil {
		s.cfg.Timers.Changed(ctx, &before, inc, c.Note != "")
	}
	s.Changed(ctx, &before, inc, c.By, c.Key)
	if c.Note != "" && before.Status == inc.Status && before.Severity == inc.Severity && before.Commander == inc.Commander && !rolesChanged(&before, inc) {
		s.Progress(ctx, inc.ID, slackui.IncidentChanged(&before, inc, c.By, c.Note))
	}
	return inc, nil
}

// Changed brings Slack in step with a change already stored — by a command or by a
// runbook's incident.update step: the announcement and the channel topic are
// refreshed, an investigation update is posted, and triggered runbooks start. key
// names the change (see Change.Key), so that its runbooks start once.
func (s *Service) Changed(ctx context.Context, before, after *runbook.Incident, by, key string) {
	if Reopened(before, after) {
		s.unarchive(ctx, after, true)
	}
	s.refresh(ctx, after)
	if before.Status != after.Status || before.Severity != after.Severity || before.Commander != after.Commander || rolesChanged(before, after) {
		s.Progress(ctx, after.ID, slackui.IncidentChanged(before, after, by, ""))
	}
	event := runbook.EventIncidentUpdated
	if after.Status == s.resolved() && before.Status != after.Status {
		event = runbook.EventIncidentResolved
	}
	s.triggerRunbooks(ctx, event, after, by, key)
}

// Resolve moves an incident to the last status; c says by whom, with what note, for
// which request. Its Status, Severity and Commander are ignored.
func (s *Service) Resolve(ctx context.Context, id int64, c Change) (*runbook.Incident, error) {
	return s.Update(ctx, id, Change{Status: s.resolved(), Note: c.Note, By: c.By, Key: c.Key})
}

func (s *Service) resolved() string { return s.cfg.Statuses[len(s.cfg.Statuses)-1] }

// apply changes i; it runs inside the store's write transaction and must not call out.
func (s *Service) apply(i *runbook.Incident, c Change) error {
	if c.Status != "" {
		if !i.ResolvedAt.IsZero() && c.Status == s.resolved() {
			return runbook.Errorf(runbook.ECONFLICT, "%s is already resolved.", i.Key())
		}
		i.Status = c.Status
		switch {
		case c.Status == s.resolved():
			i.ResolvedAt = s.Now()
		case !i.ResolvedAt.IsZero():
			// Back to an open status: reopened.
			i.ResolvedAt, i.ReopenedAt = time.Time{}, s.Now()
		}
	}
	if c.Severity != "" {
		i.Severity = c.Severity
	}
	if c.Commander != "" {
		i.Commander = c.Commander
	}
	if len(c.Roles) > 0 {
		// A fresh map, as for fields: before, kept for the timeline, shares the stored one.
		roles := maps.Clone(i.Roles)
		if roles == nil {
			roles = map[string]string{}
		}
		for role, user := range c.Roles {
			switch {
			case role == runbook.RoleCommander:
			case user == "" && roles[role] == "":
				return runbook.Errorf(runbook.EINVALID, "Nobody is %s of %s, so there is nothing to take away; `assign %s @alice %s` gives it.", role, i.Key(), i.Key(), role)
			case user == "":
				// "" takes the role away (unassign).
				delete(roles, role)
			default:
				roles[role] = user
			}
		}
		i.Roles = roles
	}
	if len(c.Fields) > 0 {
		// A fresh map: before, kept for the timeline, shares the stored one.
		fields := maps.Clone(i.Fields)
		if fields == nil {
			fields = map[string]string{}
		}
		for name, v := range c.Fields {
			if v == "" {
				delete(fields, name)
			} else {
				fields[name] = v
			}
		}
		i.Fields = fields
	}
	if c.Summary != nil {
		i.Summary = *c.Summary
	}
	return nil
}

// Reopened reports whether a change moved a resolved incident back to an open status.
func Reopened(before, after *runbook.Incident) bool {
	return !before.ResolvedAt.IsZero() && after.ResolvedAt.IsZero()
}

func rolesChanged(before, after *runbook.Incident) bool {
	return !maps.Equal(before.Roles, after.Roles)
}

// unarchive brings a reopened incident's channel back. Slack does not let bot tokens
// unarchive today; then the channel stays archived, the timeline says so (when record
// is set: the change's first handling), and the person who reopened is told how to go
// on (see slackui.ChannelStillArchived).
func (s *Service) unarchive(ctx context.Context, inc *runbook.Incident, record bool) {
	if inc.Channel == "" {
		return
	}
	err := s.slack.UnarchiveChannel(ctx, inc.Channel)
	if err == nil {
		return
	}
	s.log.Warn("cannot unarchive the channel of a reopened incident", "incident", inc.Key(), "channel", inc.Channel, "err", err)
	if !record {
		return
	}
	e := runbook.TimelineEntry{IncidentID: inc.ID, Kind: "channel",
		Text: fmt.Sprintf("%s stays archived: Slack would not let Runbook unarchive it (%s)", slackui.ChannelRef(inc.Channel), orCode(err))}
	if err := s.store.AddTimeline(ctx, e); err != nil {
		s.log.Error("write timeline", "incident", inc.Key(), "err", err)
	}
}

func orCode(err error) string {
	if code := runbook.SlackCode(err); code != "" {
		return code
	}
	return "Slack did not answer"
}

// record writes the change to the incident's timeline.
func (s *Service) record(ctx context.Context, before, after *runbook.Incident, c Change) {
	var entries []runbook.TimelineEntry
	if after.Status != before.Status {
		kind, text := runbook.TimelineStatus, fmt.Sprintf("status %s → %s", before.Status, after.Status)
		switch {
		case after.Status == s.resolved():
			kind = runbook.TimelineResolved
		case Reopened(before, after):
			kind, text = runbook.TimelineReopened, "reopened: "+text
		}
		entries = append(entries, runbook.TimelineEntry{Kind: kind, Text: text})
	}
	if after.Severity != before.Severity {
		entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineSeverity, Text: fmt.Sprintf("severity %s → %s", before.Severity, after.Severity)})
	}
	if after.Commander != before.Commander {
		entries = append(entries, runbook.TimelineEntry{Kind: "commander", Text: "commander is now " + slackui.Or(slackui.Mention(after.Commander), "nobody")})
	}
	for _, r := range after.AssignedRoles() {
		if before.Roles[r[0]] != r[1] {
			entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineRole, Text: slackui.Mention(r[1]) + " is now " + r[0]})
		}
	}
	for _, r := range slackui.RolesGiven(before, after) {
		entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineRole, Text: slackui.Mention(r[1]) + " is no longer " + r[0]})
	}
	for _, f := range s.cfg.Fields {
		if was, now := before.Fields[f.Name], after.Fields[f.Name]; was != now {
			entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineField, Text: slackui.FieldChange(f, was, now)})
		}
	}
	if after.Summary != before.Summary {
		entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineSummary, Text: "summary: " + after.Summary})
	}
	if c.Note != "" {
		entries = append(entries, runbook.TimelineEntry{Kind: runbook.TimelineNote, Text: c.Note})
	}
	for _, e := range entries {
		e.IncidentID, e.Actor = after.ID, c.By
		if err := s.store.AddTimeline(ctx, e); err != nil {
			s.log.Error("write timeline", "incident", after.Key(), "err", err)
		}
	}
}

// refresh brings Slack in step with the incident: the announcement is edited in place
// and the incident channel's topic shows severity, status, roles and custom fields.
func (s *Service) refresh(ctx context.Context, inc *runbook.Incident) {
	if inc.AnnouncementTS != "" {
		if err := s.slack.UpdateMessage(ctx, inc.AnnouncementChannel, inc.AnnouncementTS, slackui.Announcement(inc, s.cfg.Fields...)); err != nil {
			s.log.Warn("cannot update announcement", "incident", inc.Key(), "err", err)
		}
	}
	if inc.Channel != "" && inc.ResolvedAt.IsZero() {
		if err := s.slack.SetTopic(ctx, inc.Channel, slackui.Topic(inc, s.cfg.Fields...)); err != nil {
			s.log.Warn("cannot refresh topic", "incident", inc.Key(), "err", err)
		}
	}
}

// triggerRunbooks starts the runbooks an incident event triggers. Their runs say
// themselves that they started.
func (s *Service) triggerRunbooks(ctx context.Context, event string, inc *runbook.Incident, by, key string) {
	if _, err := s.trigger.Trigger(ctx, event, inc, by, key); err != nil {
		s.log.Error("start triggered runbooks", "incident", inc.Key(), "err", err)
	}
}

// UpdatesWaiting is how many investigation-update lines are queued or being posted.
func (s *Service) UpdatesWaiting() int { return s.updates.Waiting() }

// Progress posts an investigation update for an incident (see Updates.Progress).
func (s *Service) Progress(ctx context.Context, incidentID int64, text string) {
	s.updates.Progress(ctx, incidentID, text)
}

// ClaimChannel makes ch the incident's own channel, unless it has one already: a
// runbook created it for the incident. Its privacy is kept with it, so that lists
// leave a private channel's incident out for people outside it.
//
// A reopened incident whose channel Slack would not unarchive gives that channel up
// to a new one: the new channel is where the response goes on.
func (s *Service) ClaimChannel(ctx context.Context, id int64, ch runbook.Conversation) error {
	inc, err := s.store.Incident(ctx, id)
	if err != nil {
		return err
	}
	old := ""
	if inc.Channel != "" && inc.Channel != ch.ID && inc.ResolvedAt.IsZero() {
		if conv, err := s.slack.ChannelInfo(ctx, inc.Channel); err == nil && conv.Archived {
			old = inc.Channel
		}
	}
	_, err = s.store.UpdateIncident(ctx, id, func(inc *runbook.Incident) error {
		if inc.Channel == "" || (old != "" && inc.Channel == old) {
			inc.Channel = ch.ID
		}
		if inc.Channel == ch.ID {
			inc.ChannelPrivacy = runbook.PrivacyOf(ch)
		}
		return nil
	})
	return err
}

// ErrNoIncident is returned when a command needs an incident and none is given or
// implied by the channel.
var ErrNoIncident = errors.New("no incident")

// Invited records on the timeline that people were invited into the incident's
// channel (text says who), once per request key: the invitation itself is safe to
// repeat, its record is not.
func (s *Service) Invited(ctx context.Context, id int64, by, key, text string) error {
	if key != "" {
		key = "invite/" + key
	}
	_, err := s.store.AddTimelineOnce(ctx, runbook.TimelineEntry{IncidentID: id, Actor: by, Kind: "invited", Text: text}, key)
	return err
}
