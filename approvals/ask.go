package approvals

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// Bounds on what a request from outside a run may carry: the request message shows
// all of it, within Slack's limits on a field and a section.
const (
	maxOperation = 300
	maxText      = 2000
	maxApprovers = 50
	// MaxTimeout bounds how long a request made through the API may wait.
	MaxTimeout = 7 * 24 * time.Hour
)

// DefaultRisk is the risk of a request that names none: the cautious end, so that
// forgetting it never lowers the number of approvals needed.
const DefaultRisk = runbook.RiskHigh

// Ask is an approval asked for from outside a run — by a pipeline, through the API.
// The same rules hold as for a runbook's approval.request step.
type Ask struct {
	// Via is who asked, as the audit log names it ("api:ci"); IdempotencyKey, when
	// set, makes a second Ask with the same key by the same caller return the first
	// request instead of asking again.
	Via            string
	IdempotencyKey string
	Operation      string
	Risk           string // "" is DefaultRisk
	Rollback       string
	Reason         string
	// Approvers are user ids, <@U…>, user group ids, @handles; empty is the configured.
	Approvers []string
	// Required is how many distinct approvals are needed; 0 is by risk.
	Required int
	// Timeout is how long the request waits; 0 is the configured timeout.
	Timeout time.Duration
	// Channel is where to ask; "" is slack.approvalChannel, else the incident's
	// channel, else slack.defaultChannel.
	Channel    string
	IncidentID int64
	// Requester is the Slack user id of the person on whose behalf the caller asks:
	// they may not approve it themselves (unless self-approval is allowed).
	Requester string
}

// handle is what an @handle may look like: a username or a user group's handle.
var handle = regexp.MustCompile(`^@[a-z0-9][a-z0-9._-]{0,79}$`)

// userID is a user id as a caller may send it: U…/W… or <@U…>, nothing around it.
var userID = regexp.MustCompile(`^(?:<@)?([UW][A-Z0-9]{2,})(>?)$`)

// strictUser reads a user id sent through the API, refusing the labels and trailing
// text runbook.UserRef lets through.
func strictUser(e string) (string, bool) {
	m := userID.FindStringSubmatch(e)
	if m == nil || strings.HasPrefix(e, "<@") != (m[2] == ">") {
		return "", false
	}
	return m[1], true
}

// Ask makes an approval request from outside a run and posts its message, or, for a
// repeated idempotency key, returns the request made before (created false), posting
// its message if an earlier attempt did not get that far.
func (s *Service) Ask(ctx context.Context, q Ask) (a *runbook.Approval, created bool, err error) {
	a, err = s.askFor(ctx, q)
	if err != nil {
		return nil, false, err
	}
	inc := s.incident(ctx, a.IncidentID)
	if a.IncidentID != 0 && inc == nil {
		return nil, false, runbook.Errorf(runbook.ENOTFOUND, "There is no incident %s.", runbook.IncidentKey(a.IncidentID))
	}
	// A request about an incident whose channel is private names the incident and its
	// title, which only the channel's members may see: it is asked there — by default
	// instead of the approval channel — and nowhere else.
	private, err := s.private(ctx, inc)
	if err != nil {
		return nil, false, err
	}
	if private && q.Channel == "" {
		q.Channel = inc.Channel
	}
	channel, err := s.askChannel(ctx, q.Channel, inc)
	if err != nil {
		return nil, false, err
	}
	if private && channel != inc.Channel {
		return nil, false, runbook.Errorf(runbook.EFORBIDDEN,
			"%s's channel is private: ask for the approval in it (leave channel out, or give %s), so that what the incident is about stays among its members.",
			inc.Key(), inc.Channel)
	}
	a.Channel = channel
	if err := s.Decidable(ctx, a); err != nil {
		return nil, false, runbook.Errorf(runbook.EINVALID, "%s.", capitalize(runbook.ErrorMessage(err)))
	}
	asked := *a
	created, err = s.store.CreateAPIApproval(ctx, a, q.IdempotencyKey)
	if err != nil {
		return nil, false, err
	}
	if !created && !sameAsk(&asked, a) {
		// A key names one request: answering another with the first one's decision
		// would let a re-run pipeline ship a different operation on an old approval.
		return nil, false, runbook.Errorf(runbook.ECONFLICT,
			"Idempotency-Key %q was used for another request (%s: %s); use a new key for a new request.",
			slackui.Truncate(q.IdempotencyKey, 40), a.Key(), slackui.Truncate(slackui.Unescape(a.Operation), 80))
	}
	// A repeat while the first attempt may still be posting leaves the message to it
	// (or, if that attempt died, to the sweep after settleGrace): posting here too could
	// put up a second message with live buttons.
	if a.State == runbook.ApprovalPending && a.MessageTS == "" && (created || a.CreatedAt.Before(s.cfg.Now().Add(-settleGrace))) {
		if err := s.post(ctx, a, inc); err != nil {
			return nil, false, err
		}
	}
	return a, created, nil
}

// askFor checks what a caller sent and fills in the configured defaults.
func (s *Service) askFor(ctx context.Context, q Ask) (*runbook.Approval, error) {
	op := strings.TrimSpace(q.Operation)
	if op == "" {
		return nil, runbook.Errorf(runbook.EINVALID, "Say what needs approving in operation.")
	}
	for _, f := range []struct {
		name, text string
		max        int
	}{{"operation", op, maxOperation}, {"reason", q.Reason, maxText}, {"rollback", q.Rollback, maxText}} {
		if utf8.RuneCountInString(f.text) > f.max {
			return nil, runbook.Errorf(runbook.EINVALID, "%s is longer than %d characters.", f.name, f.max)
		}
	}
	risk := runbook.Risk(strings.ToLower(strings.TrimSpace(q.Risk)))
	if risk == "" {
		risk = DefaultRisk
	}
	if !slices.Contains(runbook.Risks, risk) {
		return nil, runbook.Errorf(runbook.EINVALID, "risk %q is not a risk level; use one of %s.", slackui.Truncate(q.Risk, 40), strings.Join(runbook.RiskNames(), ", "))
	}
	requester := ""
	if q.Requester != "" {
		id, ok := strictUser(strings.TrimSpace(q.Requester))
		if !ok {
			return nil, runbook.Errorf(runbook.EINVALID, "requester must be a Slack user id like U012AB3CD, not %q.", slackui.Truncate(q.Requester, 40))
		}
		requester = id
	}
	approvers, err := s.askApprovers(ctx, q.Approvers)
	if err != nil {
		return nil, err
	}
	required := max(s.cfg.Required[string(risk)], 1)
	if q.Required < 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "required must be a whole number of at least 1.")
	}
	// A caller may ask for more approvals than its risk level needs, never fewer:
	// whoever can edit a pipeline must not lower the bar the configuration set.
	if q.Required > required {
		required = q.Required
	}
	timeout := s.cfg.Timeout
	if q.Timeout < 0 || q.Timeout > MaxTimeout {
		return nil, runbook.Errorf(runbook.EINVALID, "timeout must be between 1s and %s.", "168h")
	}
	if q.Timeout > 0 {
		timeout = q.Timeout
	}
	// Machine text: one line for the operation, no control or bidi characters that
	// could draw a field of their own under it, and no mention that pages anyone.
	return &runbook.Approval{IncidentID: q.IncidentID, Operation: slackui.Escape(slackui.Inert(runbook.CleanLine(op))), Risk: risk,
		Rollback:    slackui.Escape(slackui.Inert(runbook.CleanText(q.Rollback))),
		Reason:      slackui.Escape(slackui.Inert(runbook.CleanText(strings.TrimSpace(q.Reason)))),
		RequestedBy: requester, RequestedVia: q.Via, Approvers: approvers, Required: required,
		ExpiresAt: s.cfg.Now().Add(timeout)}, nil
}

// askApprovers checks a caller's approvers: each a user id, a user group id or an
// @handle that names someone in the workspace — never a display name, a special
// mention such as <!everyone>, or anything else Slack would read as markup. Empty is
// the configured approvers.
func (s *Service) askApprovers(ctx context.Context, entries []string) ([]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if len(entries) > maxApprovers {
		return nil, runbook.Errorf(runbook.EINVALID, "approvers lists more than %d entries.", maxApprovers)
	}
	out := make([]string, 0, len(entries))
	for _, raw := range entries {
		e, err := approverShape(raw)
		if err != nil {
			return nil, err
		}
		if _, err := runbook.People(ctx, s.slack, e); runbook.ErrorCode(err) == runbook.ENOTFOUND {
			return nil, runbook.Errorf(runbook.EINVALID, "approvers entry %s: %s.", e, runbook.ErrorMessage(err))
		} else if err != nil {
			return nil, fmt.Errorf("check approvers entry %s: %w", e, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// approverShape reads one approvers entry a caller sent: a user id (U…, W…, <@U…>),
// a user group id (S…) or an @handle, normalised; anything else is refused.
func approverShape(raw string) (string, error) {
	e := strings.TrimSpace(raw)
	if id, ok := strictUser(e); ok {
		return id, nil
	}
	if runbook.LooksLikeID(e, "S") {
		return e, nil
	}
	if h := strings.ToLower(e); handle.MatchString(h) {
		return h, nil
	}
	return "", runbook.Errorf(runbook.EINVALID,
		"approvers entry %q is not a user id, a user group id or an @handle.", slackui.Truncate(runbook.CleanText(raw), 40))
}

// askChannel resolves where a request is asked: the caller's channel, else the
// configured approval channel, the incident's, or the default channel.
func (s *Service) askChannel(ctx context.Context, channel string, inc *runbook.Incident) (string, error) {
	channel = strings.TrimSpace(channel)
	if channel == "" {
		channel = s.cfg.Channel
	}
	if channel == "" && inc != nil {
		channel = inc.Channel
	}
	if channel == "" {
		channel = s.cfg.DefaultChannel
	}
	if channel == "" {
		return "", runbook.Errorf(runbook.EINVALID,
			"There is no channel to ask in: send channel, or set slack.approvalChannel or slack.defaultChannel.")
	}
	id, err := s.slack.ResolveChannel(ctx, channel)
	if err != nil {
		return "", fmt.Errorf("find channel %s: %w", slackui.Truncate(channel, 80), err)
	}
	return id, nil
}

// post posts the request message, records it, and audits the request.
//
// The message carries the request's tag, so that a start finding the request without
// a recorded message first looks for one posted before a crash (adopt) and posts only
// if there is none.
func (s *Service) post(ctx context.Context, a *runbook.Approval, inc *runbook.Incident) error {
	msg := slackui.ApprovalRequest(a, inc)
	tag := slackui.ApprovalTag(a)
	msg.Channel, msg.Metadata = a.Channel, &tag
	posted, err := s.slack.PostMessage(ctx, msg)
	if err != nil {
		return fmt.Errorf("post the request message of %s: %w", a.Key(), err)
	}
	return s.recordMessage(ctx, a, inc, posted)
}

// adopt finds the message of a request an earlier process posted but did not record,
// by its tag, and records it as post would have; found says whether there was one.
func (s *Service) adopt(ctx context.Context, a *runbook.Approval, inc *runbook.Incident) (found bool, err error) {
	m, found, err := runbook.FindTaggedIn(ctx, s.slack, a.Channel, "", slackui.ApprovalTag(a))
	if err != nil || !found {
		return false, err
	}
	s.log.Info("found the message of an approval posted before a restart", "approval", a.Key())
	return true, s.recordMessage(ctx, a, inc, runbook.PostedMessage{Channel: a.Channel, TS: m.TS})
}

// recordMessage keeps where a request's message is, notes the request on its incident's
// timeline, and tells Requested.
func (s *Service) recordMessage(ctx context.Context, a *runbook.Approval, inc *runbook.Incident, posted runbook.PostedMessage) error {
	if err := s.store.SetApprovalMessage(ctx, a.ID, posted.Channel, posted.TS); err != nil {
		return err
	}
	a.Channel, a.MessageTS = posted.Channel, posted.TS
	if inc != nil && s.incidents != nil {
		line := runbook.TimelineEntry{IncidentID: inc.ID, Actor: a.RequestedVia, Kind: runbook.TimelineApproval,
			Text: fmt.Sprintf("%s requested by %s: %s", a.Key(), slackui.Mention(a.RequestedVia), a.Operation)}
		if err := s.incidents.AddTimeline(ctx, line); err != nil {
			s.logErr("add to timeline", err, "approval", a.Key())
		}
	}
	s.Requested(ctx, a)
	return nil
}

// postUnposted posts the message of every pending request made through the API whose
// message was never recorded and which was made longer than settleGrace ago: the
// process died between storing it and posting it, and its caller may be long-polling.
// A younger one may still be in the hands of the Ask that made it. A process that died
// after chat.postMessage but before recording the message left it in the channel: it
// is found by its tag and adopted, not posted twice.
func (s *Service) postUnposted(ctx context.Context) error {
	pending, err := s.store.PendingApprovals(ctx)
	if err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	before := s.cfg.Now().Add(-settleGrace)
	for _, a := range pending {
		if a.RunID != 0 || a.MessageTS != "" || a.CreatedAt.After(before) {
			continue
		}
		inc := s.incident(ctx, a.IncidentID)
		if found, err := s.adopt(ctx, a, inc); err != nil || found {
			if err != nil {
				s.logErr("look for an approval's message", err, "approval", a.Key())
			}
			continue
		}
		s.log.Info("posting the message of an approval asked for before a restart", "approval", a.Key())
		if err := s.post(ctx, a, inc); err != nil {
			s.logErr("post approval request", err, "approval", a.Key())
		}
	}
	return nil
}

// Permalink is the link to a request's message, or "" if Slack cannot say.
func (s *Service) Permalink(ctx context.Context, a *runbook.Approval) string {
	if a.MessageTS == "" {
		return ""
	}
	link, err := s.slack.Permalink(ctx, a.Channel, a.MessageTS, "")
	if err != nil {
		s.logErr("permalink", err, "approval", a.Key())
		return ""
	}
	return link
}

// Await returns the request once it is no longer pending, or as it stands when ctx
// ends, timeout fires (the caller's time is up) or stop is closed (the server stops). It wakes when a
// request settles, not by polling.
func (s *Service) Await(ctx context.Context, id int64, timeout <-chan time.Time, stop <-chan struct{}) (*runbook.Approval, error) {
	for {
		// Listen before reading, so that a settlement between the two is not missed.
		settled := s.settled.wait()
		a, err := s.store.Approval(ctx, id)
		if err != nil {
			return nil, err
		}
		if a.State != runbook.ApprovalPending {
			return a, nil
		}
		select {
		case <-settled:
		case <-ctx.Done():
			return a, nil
		case <-timeout:
			return a, nil
		case <-stop:
			return a, nil
		}
	}
}

// Approval reads an approval request.
func (s *Service) Approval(ctx context.Context, id int64) (*runbook.Approval, error) {
	return s.store.Approval(ctx, id)
}

// Withdraw cancels a pending request made through the API, for the caller that made
// it (a pipeline that was aborted), and settles it: its message says so, the audit log
// names the caller. A run's request is cancelled by cancelling its run.
func (s *Service) Withdraw(ctx context.Context, id int64, via, note string) (*runbook.Approval, error) {
	a, err := s.store.Approval(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.RunID != 0 {
		return nil, runbook.Errorf(runbook.ECONFLICT, "%s belongs to run %s; cancel the run instead.", a.Key(), runbook.RunKey(a.RunID))
	}
	if a.RequestedVia != via {
		return nil, runbook.Errorf(runbook.EFORBIDDEN, "%s was asked for by another API token; only that token may cancel it.", a.Key())
	}
	a.DecidedBy, a.Note = via, slackui.Or(strings.TrimSpace(note), "cancelled by "+slackui.Mention(via))
	if err := s.Cancelled(ctx, a); err != nil {
		return nil, err
	}
	return s.store.Approval(ctx, id)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// sameAsk says whether a repeated request asks for what the stored one did.
func sameAsk(asked, stored *runbook.Approval) bool {
	return asked.Operation == stored.Operation && asked.Risk == stored.Risk && asked.Required == stored.Required &&
		asked.Rollback == stored.Rollback && asked.Reason == stored.Reason && asked.Channel == stored.Channel &&
		asked.IncidentID == stored.IncidentID && asked.RequestedBy == stored.RequestedBy &&
		slices.Equal(asked.Approvers, stored.Approvers)
}

// private says whether an incident's channel is private (runbook.IsChannelPrivate).
func (s *Service) private(ctx context.Context, inc *runbook.Incident) (bool, error) {
	if inc == nil || inc.Channel == "" {
		return false, nil
	}
	private, err := runbook.IsChannelPrivate(ctx, s.slack, inc.Channel, inc.ChannelPrivacy)
	if err != nil {
		return false, fmt.Errorf("check whether %s's channel is private: %w", inc.Key(), err)
	}
	return private, nil
}
