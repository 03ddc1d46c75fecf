// Package approvals decides approval requests: who may approve or deny, how many must
// approve, and what happens once a request is decided, expires or is cancelled.
//
// A request is decided exactly once, in the store (CastVote, DecideApproval); only the
// caller that decided it updates the request message in Slack, writes the decision to
// the audit log and resumes the run. Every click, allowed or refused, is audited.
package approvals

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
)

// DefaultSweepInterval is how often pending requests are checked for expiry when the
// configuration does not say.
const DefaultSweepInterval = 15 * time.Second

// settleGrace is how long a decided request may wait for its follow-up (message update,
// resume) before the sweeper assumes whoever decided it never will, and does it.
const settleGrace = time.Minute

// followUpTimeout bounds the follow-up of a decision made by a click, which outlives
// the click's context so that a cancelled request cannot leave a run parked.
const followUpTimeout = 30 * time.Second

// Config says who may decide and how.
type Config struct {
	// Approvers may decide requests whose step named none: user ids, <@U…>, @handles,
	// user group ids (S…) or @group-handles. Empty: anyone but the requester.
	Approvers []string
	// AllowSelfApproval lets the requester approve their own request.
	AllowSelfApproval bool
	// RequireDenialReason makes a denial without a note ask for one.
	RequireDenialReason bool
	// SweepInterval is how often pending requests are checked for expiry (default 15s);
	// the sweeper also wakes at the next request's expiry.
	SweepInterval time.Duration
	// Now is the clock (default time.Now); After waits on it (default time.After), so
	// that requests expire by the clock Now reads.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time

	// The defaults of requests made through the API (Ask), as for approval steps:
	// Channel (slack.approvalChannel) and DefaultChannel (slack.defaultChannel) are
	// where to ask when the request names no channel, Timeout how long it waits (30m
	// when 0), Required how many approvals each risk level needs.
	Channel, DefaultChannel string
	Timeout                 time.Duration
	Required                map[string]int
}

// Resumer makes a run look at its approval again; *engine.Executor satisfies it.
type Resumer interface {
	Kick(runID int64)
}

// Store is what the service needs of the store.
type Store interface {
	runbook.ApprovalStore
	runbook.APIApprovalStore
	// CastVote records a vote and decides the request if the vote completes it, in one
	// transaction; VoteResult.Decided tells the one caller that decided it.
	CastVote(ctx context.Context, approvalID int64, user string, approve bool, note string) (runbook.VoteResult, error)
	// UnsettledApprovals lists requests decided at or before a time whose follow-up was
	// never recorded as done (SettleApproval), or whose request message was never
	// recorded as updated (SettleApprovalMessage).
	UnsettledApprovals(ctx context.Context, decidedBefore time.Time) ([]*runbook.Approval, error)
	// SettleApproval records the follow-up as done together with the audit and
	// timeline entries saying how the request ended, in one transaction, unless it was
	// already; settled reports whether this call did it.
	SettleApproval(ctx context.Context, id int64, audit runbook.AuditEntry, timeline *runbook.TimelineEntry) (settled bool, err error)
	// SettleApprovalMessage records that the request message at ts shows the decision.
	SettleApprovalMessage(ctx context.Context, id int64, ts string) error
	// ApprovedBy lists the people whose approvals of a request count, in order.
	ApprovedBy(ctx context.Context, id int64) ([]string, error)
}

// Service decides approval requests.
type Service struct {
	store     Store
	slack     runbook.Slack
	resumer   Resumer
	audit     runbook.AuditStore
	incidents runbook.IncidentStore
	cfg       Config
	log       *slog.Logger

	rearm   chan struct{} // wakes the sweeper early: a new request may expire first
	settled broadcast     // fired whenever a request is settled, for Await
	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a service; Start runs its expiry sweeper.
func New(store Store, slack runbook.Slack, resumer Resumer, audit runbook.AuditStore, incidents runbook.IncidentStore,
	cfg Config, logger *slog.Logger) *Service {
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Minute
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, slack: slack, resumer: resumer, audit: audit, incidents: incidents,
		cfg: cfg, log: logger, rearm: make(chan struct{}, 1)}
}

// Start finishes what a previous process left undone — decisions whose message update
// or resume was interrupted, requests that expired while it was down — and then starts
// the expiry sweeper. Start the executor first (resumed runs need it), and the service
// before the bot serves clicks.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return errors.New("approvals: already started")
	}
	warnings, err := s.CheckApprovers(ctx)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		s.log.Warn(w)
	}
	if err := s.settleStale(ctx, s.cfg.Now()); err != nil {
		return err
	}
	wait, err := s.expireOverdue(ctx)
	if err != nil {
		return err
	}
	if err := s.postUnposted(ctx); err != nil {
		return err
	}
	sweepCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Go(func() { s.sweepLoop(sweepCtx, wait) })
	return nil
}

// Stop stops the sweeper and waits for it.
func (s *Service) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.wg.Wait()
	s.cancel = nil
}

// sweepLoop expires overdue requests every SweepInterval, at the next expiry, and when
// a new request is made.
func (s *Service) sweepLoop(ctx context.Context, wait time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.cfg.After(wait):
		case <-s.rearm:
		}
		wait = s.sweep(ctx)
	}
}

// sweep expires overdue requests and follows up decisions nobody followed up; it returns
// how long to sleep until the next sweep.
func (s *Service) sweep(ctx context.Context) time.Duration {
	wait, err := s.expireOverdue(ctx)
	if err != nil {
		s.logErr("expire approvals", err)
	}
	if err := s.settleStale(ctx, s.cfg.Now().Add(-settleGrace)); err != nil {
		s.logErr("follow up approvals", err)
	}
	if err := s.postUnposted(ctx); err != nil {
		s.logErr("post approval requests", err)
	}
	return wait
}

// expireOverdue expires every pending request past its expiry and returns how long
// until the next one expires (at most SweepInterval).
func (s *Service) expireOverdue(ctx context.Context) (time.Duration, error) {
	pending, err := s.store.PendingApprovals(ctx)
	if err != nil {
		return s.cfg.SweepInterval, err
	}
	wait, now := s.cfg.SweepInterval, s.cfg.Now()
	var errs []error
	for _, a := range pending {
		if until := a.ExpiresAt.Sub(now); until > 0 {
			wait = min(wait, until)
			continue
		}
		if _, err := s.expire(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return wait, errors.Join(errs...)
}

// poke wakes the sweeper without blocking.
func (s *Service) poke() {
	select {
	case s.rearm <- struct{}{}:
	default:
	}
}

func (s *Service) logErr(what string, err error, args ...any) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error(what, append(args, "err", err)...)
}
