package runbook

import (
	"context"
	"time"
)

// ApprovalState is where an approval request stands. It is decided once.
type ApprovalState string

// Approval states: pending, then exactly one of the others.
const (
	ApprovalPending   ApprovalState = "pending"
	ApprovalApproved  ApprovalState = "approved"
	ApprovalDenied    ApprovalState = "denied"
	ApprovalExpired   ApprovalState = "expired"
	ApprovalCancelled ApprovalState = "cancelled"
)

// Approval is a request, made by a run's approval.request step or through the API, for
// a person to allow or refuse a risky operation.
type Approval struct {
	ID int64
	// RunID is the run whose step asked; 0 for a request made through the API, which
	// no run waits on.
	RunID       int64
	StepIndex   int
	IncidentID  int64
	Operation   string
	Risk        Risk
	Rollback    string
	Reason      string
	RequestedBy string
	// RequestedVia is the API actor that asked ("api:ci", see APIActor); "" for a run's
	// request. RequestedBy is then the person on whose behalf it asked, if it said.
	RequestedVia string
	// Approvers may decide (user ids, @handles, user groups; resolved when a click
	// arrives); empty means the configured approvers. Required is how many distinct
	// approvals are needed; any one denial decides.
	Approvers []string
	Required  int
	// Token is unguessable and carried by the request's buttons: a click counts only
	// with it. Requests stored before tokens existed have none.
	Token string
	// Channel and MessageTS locate the request message, updated in place once decided.
	Channel   string
	MessageTS string
	State     ApprovalState
	DecidedBy string
	DecidedAt time.Time
	// Note is the reason given with the decision.
	Note      string
	ExpiresAt time.Time
	CreatedAt time.Time
	// Outcome says what became of the steps the approval let run, shown on the request
	// message: "⏳ Executing…", "✅ Done — HTTP 200 in 340 ms", "❌ Failed — exit 1: …".
	// "" until they start. OffersRollback says the message has a Roll back button.
	Outcome        string
	OffersRollback bool
}

// Key is the approval's human id, "APR-7".
func (a *Approval) Key() string { return ApprovalKey(a.ID) }

// ApprovalStore keeps approval requests.
type ApprovalStore interface {
	// CreateApproval stores a pending request for a run's step, or returns the one
	// already stored for it (a resumed step must not ask twice); created says which.
	CreateApproval(ctx context.Context, a *Approval) (created bool, err error)
	Approval(ctx context.Context, id int64) (*Approval, error)
	ApprovalForStep(ctx context.Context, runID int64, step int) (*Approval, error)
	SetApprovalMessage(ctx context.Context, id int64, channel, ts string) error
	// SetApprovalOutcome records what became of the steps the request let run.
	SetApprovalOutcome(ctx context.Context, id int64, outcome string, offersRollback bool) error
	// DecideApproval moves a pending request to a final state; it reports false if the
	// request was no longer pending, so that racing clicks decide once.
	DecideApproval(ctx context.Context, id int64, to ApprovalState, by, note string) (bool, error)
	// PendingApprovals lists pending requests, oldest first.
	PendingApprovals(ctx context.Context) ([]*Approval, error)
}

// APIApprovalStore keeps approval requests made through the API.
type APIApprovalStore interface {
	// CreateAPIApproval stores a pending request made by a.RequestedVia (no run). With
	// an idempotency key it returns instead the request that actor already made with
	// that key, if any; created says which.
	CreateAPIApproval(ctx context.Context, a *Approval, idempotencyKey string) (created bool, err error)
}
