package approvals

import (
	"cmp"
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// How a decision reached the bot.
const (
	ViaButton  = "button"
	ViaCommand = "command"
)

// Decision is one person's approve or deny on a request, from a button or a command.
type Decision struct {
	ApprovalID int64
	UserID     string
	Approve    bool
	// Note is the reason given, if any; a denial may require one.
	Note string
	Via  string // ViaButton or ViaCommand
	// Token is the one the button (or the denial form it opened) carried. A decision
	// via button counts only with the request's own token.
	Token string
	// On is the message a button was clicked on; zero for a form or a command. A click
	// counts only on the request's own message.
	On MessageRef
}

// MessageRef locates a Slack message.
type MessageRef struct {
	Channel string
	TS      string
}

// Outcome is what became of a decision, with one sentence for the person who made it
// (to be shown to them alone).
type Outcome struct {
	// Decided says this decision decided the request.
	Decided bool
	// State is the request's state afterwards; empty for an unknown request.
	State runbook.ApprovalState
	// Message is the sentence for the person who clicked or typed.
	Message string
	// Refused says the decision was not allowed and changed nothing.
	Refused bool
	// NeedsReason says a denial needs a reason: open DenialModal with the click's
	// trigger id, and call Decide again with the note the person gives.
	NeedsReason bool
	// Approval is the request as it stands afterwards; nil for an unknown request.
	Approval *runbook.Approval
}

// Decide applies one person's decision to a request, in this order: an unknown request,
// one no longer pending or past its expiry, someone not allowed to decide, a requester
// approving their own request, and a denial without a required reason are refused (and
// change nothing); otherwise the vote is cast, and the request is decided when enough
// distinct people have approved, or at once by a denial. Every call is audited.
//
// The error is for failures (the store, or Slack when checking user groups); refusals
// are Outcomes.
func (s *Service) Decide(ctx context.Context, d Decision) (Outcome, error) {
	if d.UserID == "" {
		return Outcome{}, runbook.Errorf(runbook.EINVALID, "A decision needs the person who made it.")
	}
	d.Via, d.Note = cmp.Or(d.Via, ViaButton), strings.TrimSpace(d.Note)
	a, err := s.store.Approval(ctx, d.ApprovalID)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return s.refuse(ctx, d, nil, fmt.Sprintf("There is no approval %s.", runbook.ApprovalKey(d.ApprovalID)), "no such approval")
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("decide %s: %w", runbook.ApprovalKey(d.ApprovalID), err)
	}
	if out, done, err := s.screen(ctx, d, a); done {
		return out, err
	}
	if !d.Approve && s.cfg.RequireDenialReason && d.Note == "" {
		s.record(ctx, entry(a, d.UserID, runbook.AuditApprovalClick, describe(d)+": asked for a reason"))
		return Outcome{State: a.State, NeedsReason: true, Approval: a,
			Message: fmt.Sprintf("Give a reason to deny %s; nothing was changed yet.", a.Key())}, nil
	}
	res, err := s.store.CastVote(ctx, a.ID, d.UserID, d.Approve, d.Note)
	if err != nil {
		return Outcome{}, fmt.Errorf("decide %s: %w", a.Key(), err)
	}
	return s.counted(ctx, d, res)
}

// screen applies the rules that can refuse a decision before any vote is cast. done
// says the decision was refused (or checking failed).
func (s *Service) screen(ctx context.Context, d Decision, a *runbook.Approval) (out Outcome, done bool, err error) {
	if why := foreignButton(d, a); why != "" {
		msg := fmt.Sprintf("That button is not on the request message of %s; nothing was changed.", a.Key())
		out, err = s.refuse(ctx, d, a, msg, why)
		return out, true, err
	}
	sight := s.sight(d.UserID)
	if d.Via == ViaCommand {
		// Typed by id, which anyone can guess: someone the request is hidden from is
		// answered as for one that does not exist, before its state says anything.
		hidden, err := s.hiddenFrom(ctx, sight, a)
		if err != nil {
			_, _ = s.refuse(ctx, d, a, "", "could not check who may see it: "+err.Error())
			return Outcome{}, true, fmt.Errorf("%w: %w", runbook.Errorf(runbook.EUNAVAILABLE,
				"Runbook could not check who may decide %s; try again in a moment.", a.Key()), err)
		}
		if hidden {
			out, err = s.refuse(ctx, d, a, fmt.Sprintf("There is no approval %s.", a.Key()), "not among the people who may see it")
			return out, true, err
		}
	}
	if a.State != runbook.ApprovalPending {
		if sameDecision(d, a) {
			// The person's own decision again: a second click on a button Slack had not
			// yet replaced, or the same click handled again after a crash. It stands.
			err = s.recordErr(ctx, entry(a, d.UserID, runbook.AuditApprovalClick, describe(d)+": repeated; the decision stands"))
			return Outcome{State: a.State, Approval: a, Message: fmt.Sprintf("You already %s %s.", a.State, a.Key())}, true, err
		}
		out, err = s.refuse(ctx, d, a, closedSentence(a), "the request is "+string(a.State))
		return out, true, err
	}
	if !s.cfg.Now().Before(a.ExpiresAt) {
		out, err = s.late(ctx, d, a)
		return out, true, err
	}
	allowed, unusable, err := s.mayDecide(ctx, d, a, sight)
	if err != nil {
		_, _ = s.refuse(ctx, d, a, "", "could not check who may decide: "+err.Error())
		return Outcome{}, true, fmt.Errorf("%w: %w", runbook.Errorf(runbook.EUNAVAILABLE,
			"Runbook could not check who may decide %s; try again in a moment.", a.Key()), err)
	}
	if !allowed && len(s.approversOf(a)) == 0 {
		msg := fmt.Sprintf("%s is private: only the people who may see it (its channel's members) may decide it.", a.Key())
		out, err = s.refuse(ctx, d, a, msg, "not among the people who may see it")
		return out, true, err
	}
	if !allowed {
		list := slackui.Approvers(s.approversOf(a), "anyone but the requester")
		msg := fmt.Sprintf("You are not an approver for %s. Approvers: %s.", a.Key(), list)
		if unusable != "" {
			msg += " (" + unusable + ".)"
		}
		out, err = s.refuse(ctx, d, a, msg, "not an approver (approvers: "+list+")")
		return out, true, err
	}
	if d.Approve && d.UserID == a.RequestedBy && !s.cfg.AllowSelfApproval {
		msg := fmt.Sprintf("You asked for %s, so someone else must approve it.", a.Key())
		out, err = s.refuse(ctx, d, a, msg, "the requester may not approve their own request")
		return out, true, err
	}
	return Outcome{}, false, nil
}

// foreignButton says why a decision by button does not come from the request's own
// buttons — a copy injected into another message, or a value guessed from the
// request's number — or "" when it does.
func foreignButton(d Decision, a *runbook.Approval) string {
	if d.Via != ViaButton {
		return ""
	}
	if a.Token != "" && subtle.ConstantTimeCompare([]byte(d.Token), []byte(a.Token)) != 1 {
		return "the button does not carry the request's token"
	}
	if d.On != (MessageRef{}) && a.MessageTS != "" && d.On != (MessageRef{Channel: a.Channel, TS: a.MessageTS}) {
		return fmt.Sprintf("clicked on message %s in %s, not on the request message", d.On.TS, d.On.Channel)
	}
	return ""
}

// sameDecision says d repeats the decision that decided a.
func sameDecision(d Decision, a *runbook.Approval) bool {
	return d.UserID == a.DecidedBy && ((d.Approve && a.State == runbook.ApprovalApproved) ||
		(!d.Approve && a.State == runbook.ApprovalDenied))
}

// late expires a pending request found past its expiry (the sweeper had not got to it
// yet) and refuses the click the way it refuses any click on an expired request.
func (s *Service) late(ctx context.Context, d Decision, a *runbook.Approval) (Outcome, error) {
	fctx, cancel := followUpContext(ctx)
	defer cancel()
	fresh, err := s.expire(fctx, a)
	if err != nil {
		return Outcome{}, err
	}
	return s.refuse(ctx, d, fresh, closedSentence(fresh), "the request had expired")
}

// counted answers a vote the store has recorded (or turned away because the request
// was decided or expired first) and follows up the decision it made, if any.
func (s *Service) counted(ctx context.Context, d Decision, res runbook.VoteResult) (Outcome, error) {
	a := res.Approval
	if res.Overdue {
		return s.late(ctx, d, a)
	}
	if !res.Decided && a.State != runbook.ApprovalPending {
		return s.refuse(ctx, d, a, closedSentence(a), "the request was "+string(a.State)+" first")
	}
	detail := describe(d)
	if d.Approve {
		detail += ": " + tally(res)
	}
	s.record(ctx, entry(a, d.UserID, runbook.AuditApprovalClick, detail))
	if res.Decided {
		s.log.Info("approval decided", "approval", a.Key(), "state", a.State, "by", d.UserID, "run", a.RunID)
		fctx, cancel := followUpContext(ctx)
		defer cancel()
		s.settle(fctx, a, res.Approvers, decision(d, res))
	}
	return Outcome{Decided: res.Decided, State: a.State, Message: voteSentence(d, res), Approval: a}, nil
}

// followUpContext is the context for following up a decision a click made: it outlives
// the click's, because a decided request whose run is never kicked leaves the run parked.
func followUpContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
}

// refuse audits a refused decision and answers it; a is nil for an unknown request.
func (s *Service) refuse(ctx context.Context, d Decision, a *runbook.Approval, msg, why string) (Outcome, error) {
	e := runbook.AuditEntry{Actor: d.UserID, Action: runbook.AuditApprovalRefused, ApprovalID: d.ApprovalID,
		Detail: describe(d) + " refused: " + why}
	out := Outcome{Message: msg, Refused: true}
	if a != nil {
		e = entry(a, e.Actor, e.Action, e.Detail)
		out.State, out.Approval = a.State, a
	}
	if err := s.recordErr(ctx, e); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// describe says what a person tried, for the audit log: "approve via button".
func describe(d Decision) string {
	verb := "deny"
	if d.Approve {
		verb = "approve"
	}
	return verb + " via " + d.Via + noteSuffix(d.Note)
}

// tally says where the votes stand after a vote, for the audit log.
func tally(res runbook.VoteResult) string {
	a := res.Approval
	n := fmt.Sprintf("%d of %d approvals", len(res.Approvers), max(a.Required, 1))
	if res.Repeat {
		return "repeated, not counted again; " + n
	}
	return n
}

// decision says how a request was decided, for the audit log.
func decision(d Decision, res runbook.VoteResult) string {
	a := res.Approval
	if a.State == runbook.ApprovalApproved {
		return fmt.Sprintf("approved via %s by %s (%s)", d.Via, slackui.People(res.Approvers), tally(res))
	}
	return fmt.Sprintf("%s via %s by %s%s", a.State, d.Via, slackui.Mention(a.DecidedBy), noteSuffix(a.Note))
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " (“" + note + "”)"
}
