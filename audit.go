package runbook

import (
	"context"
	"time"
)

// Audit actions about approvals. Every click on an approval request is recorded,
// whether it counted or was refused, and so is every way a request ends.
const (
	AuditApprovalRequested = "approval.requested"
	AuditApprovalClick     = "approval.click"   // a click that counted (or asked for a reason)
	AuditApprovalRefused   = "approval.refused" // a click that changed nothing, and why
	AuditApprovalDecided   = "approval.decided"
	AuditApprovalExpired   = "approval.expired"
	AuditApprovalCancelled = "approval.cancelled"
	// AuditApprovalUndecidable is a request refused as it was made: its approvers
	// could never give the approvals it needs.
	AuditApprovalUndecidable = "approval.undecidable"
)

// Audit actions about runs.
const (
	// AuditRollbackRequested is a click on a run's Roll back button that started its
	// rollback (which then asks for approval).
	AuditRollbackRequested = "run.rollback_requested"
)

// Audit actions of API callers (the actor is APIActor).
const (
	// AuditAPIDeclared is an incident declared through the API or by an alert.
	AuditAPIDeclared = "api.incident.declared"
	// AuditAPINoted is a declaration or an alert that found its open incident and
	// was noted on it.
	AuditAPINoted = "api.incident.noted"
)

// Audit actions about what people may not do.
const (
	// AuditRefused is a command refused for who asked: the detail says what and why.
	AuditRefused = "command.refused"
)

// AuditEntry is one line of the audit log: who did what, when, to which incident, run
// or approval. Detail is a sentence for people (the reason for a refusal, say).
type AuditEntry struct {
	ID int64
	// At is when it happened; a store fills in the current time when it is zero.
	At time.Time
	// Actor is the Slack user id of who did it, or ActorRunbook.
	Actor      string
	Action     string
	IncidentID int64
	RunID      int64
	ApprovalID int64
	Detail     string
}

// AuditStore keeps the audit log. Entries are never changed or deleted.
type AuditStore interface {
	Record(ctx context.Context, e AuditEntry) error
	// Audit returns the newest entries about an incident (0: about anything), newest
	// first, at most limit of them (0: all).
	Audit(ctx context.Context, incidentID int64, limit int) ([]AuditEntry, error)
}

// VoteResult is what a store reports after recording a person's vote on an approval.
//
// It lives here rather than in the store so that any store (SQLite today, another
// later) can report it to the approvals service.
type VoteResult struct {
	// Approval is the request as stored after the vote.
	Approval *Approval
	// Decided says that this vote decided the request; exactly one caller sees it.
	Decided bool
	// Repeat says the person had already approved: the vote was not counted again.
	Repeat bool
	// Overdue says the request was pending but past its expiry: nothing was recorded,
	// and the caller should expire it.
	Overdue bool
	// Approvers are the people whose approvals count, in the order they gave them.
	Approvers []string
}
