package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/slackui"
)

// MaxWait bounds how long GET /api/v1/approvals/{id}?wait= holds a request: longer
// asks are cut to it, and the caller polls again.
const MaxWait = 120 * time.Second

// DefaultMaxWaits is how many long-polls may wait at once when Deps.MaxWaits is 0.
// Each holds a connection and a goroutine; past the cap a wait is answered 429, so
// that callers cannot pile up unbounded waiting requests.
const DefaultMaxWaits = 256

// maxIdempotencyKey bounds an Idempotency-Key header.
const maxIdempotencyKey = 200

// ApprovalDesk is the approvals service as the API sees it (*approvals.Service).
type ApprovalDesk interface {
	Ask(ctx context.Context, q approvals.Ask) (*runbook.Approval, bool, error)
	Await(ctx context.Context, id int64, timeout <-chan time.Time, stop <-chan struct{}) (*runbook.Approval, error)
	Withdraw(ctx context.Context, id int64, via, note string) (*runbook.Approval, error)
	Permalink(ctx context.Context, a *runbook.Approval) string
}

// askBody is POST /api/v1/approvals's body.
type askBody struct {
	Operation string   `json:"operation"`
	Risk      string   `json:"risk"`
	Rollback  string   `json:"rollback"`
	Reason    string   `json:"reason"`
	Approvers []string `json:"approvers"`
	Required  int      `json:"required"`
	Timeout   string   `json:"timeout"`
	Channel   string   `json:"channel"`
	Incident  string   `json:"incident"`
	Requester string   `json:"requester"`
}

// approvalJSON is how the API shows an approval request.
type approvalJSON struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Operation string     `json:"operation"`
	Risk      string     `json:"risk"`
	Required  int        `json:"required"`
	Approvers []string   `json:"approvers,omitempty"`
	Requester string     `json:"requester,omitempty"`
	Via       string     `json:"requested_via,omitempty"`
	Incident  string     `json:"incident,omitempty"`
	Run       string     `json:"run,omitempty"`
	Channel   string     `json:"channel"`
	URL       string     `json:"url,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

func showApproval(a *runbook.Approval) approvalJSON {
	out := approvalJSON{ID: a.Key(), State: string(a.State), Operation: slackui.Unescape(a.Operation), Risk: string(a.Risk),
		Required: max(a.Required, 1), Approvers: a.Approvers, Requester: a.RequestedBy, Via: a.RequestedVia,
		Channel: a.Channel, CreatedAt: a.CreatedAt.UTC(), ExpiresAt: a.ExpiresAt.UTC(), DecidedBy: a.DecidedBy, Reason: a.Note}
	if a.IncidentID != 0 {
		out.Incident = runbook.IncidentKey(a.IncidentID)
	}
	if a.RunID != 0 {
		out.Run = runbook.RunKey(a.RunID)
	}
	if a.State != runbook.ApprovalPending && !a.DecidedAt.IsZero() {
		at := a.DecidedAt.UTC()
		out.DecidedAt = &at
	}
	return out
}

func (s *Server) approvalRoutes() {
	s.handle("POST /api/v1/approvals", ScopeApprovals, s.requestApproval)
	s.handle("GET /api/v1/approvals/{id}", ScopeApprovals, s.getApproval)
	s.handle("DELETE /api/v1/approvals/{id}", ScopeApprovals, s.cancelApproval)
}

// requestApproval asks for an approval: 201 with the new request, or 200 with the one
// an earlier request with the same Idempotency-Key made.
func (s *Server) requestApproval(w http.ResponseWriter, r *http.Request, c Caller) error {
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if len(key) > maxIdempotencyKey || strings.IndexFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return badRequest("Idempotency-Key must be at most %d printable ASCII characters.", maxIdempotencyKey)
	}
	var body askBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	q := approvals.Ask{Via: c.Actor(), IdempotencyKey: key, Operation: body.Operation, Risk: body.Risk,
		Rollback: body.Rollback, Reason: body.Reason, Approvers: body.Approvers, Required: body.Required,
		Channel: body.Channel, Requester: body.Requester}
	if body.Timeout != "" {
		d, err := time.ParseDuration(body.Timeout)
		if err != nil || d <= 0 {
			return badRequest("timeout %q is not a duration like 30m.", quoted(body.Timeout))
		}
		q.Timeout = d
	}
	if body.Incident != "" {
		id, err := runbook.ParseIncidentKey(body.Incident)
		if err != nil {
			return badRequest("incident %q is not an incident id like INC-7.", quoted(body.Incident))
		}
		q.IncidentID = id
	}
	a, created, err := s.d.Approvals.Ask(r.Context(), q)
	if err != nil {
		return err
	}
	out := showApproval(a)
	out.URL = s.d.Approvals.Permalink(r.Context(), a)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", Prefix+"approvals/"+a.Key())
	}
	writeJSON(w, status, out)
	return nil
}

// getApproval answers an approval request as it stands, or, with ?wait=, once it is
// decided or the wait is over, whichever comes first. Any approval can be read with
// the approvals scope: a run's as well as one made through the API.
func (s *Server) getApproval(w http.ResponseWriter, r *http.Request, _ Caller) error {
	id, err := approvalID(r)
	if err != nil {
		return err
	}
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		return err
	}
	var a *runbook.Approval
	if wait == 0 {
		a, err = s.d.Approvals.Await(r.Context(), id, closedTimer(), s.stopping)
	} else {
		select {
		case s.waits <- struct{}{}:
			defer func() { <-s.waits }()
		default:
			return &Error{Status: http.StatusTooManyRequests, Code: "busy", RetryAfter: 5,
				Message: "Too many requests are waiting on approvals now; try again in a few seconds."}
		}
		a, err = s.d.Approvals.Await(r.Context(), id, s.after(wait), s.stopping)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, showApproval(a))
	return nil
}

// cancelApproval withdraws a pending request this token made (?reason= says why).
func (s *Server) cancelApproval(w http.ResponseWriter, r *http.Request, c Caller) error {
	id, err := approvalID(r)
	if err != nil {
		return err
	}
	a, err := s.d.Approvals.Withdraw(r.Context(), id, c.Actor(), r.URL.Query().Get("reason"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, showApproval(a))
	return nil
}

// approvalID reads the {id} of a path: "APR-7" or "7".
func approvalID(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, err := runbook.ParseApprovalKey(raw)
	if err != nil {
		return 0, &Error{Status: http.StatusNotFound, Code: runbook.ENOTFOUND,
			Message: fmt.Sprintf("There is no approval %q; ids look like APR-7.", quoted(raw))}
	}
	return id, nil
}

// parseWait reads ?wait=: a duration ("60s") or whole seconds ("60"), cut to MaxWait.
func parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, badRequest("wait %q is not a duration like 60s.", quoted(v))
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, badRequest("wait %q is negative; give a duration like 60s.", quoted(v))
	}
	return min(d, MaxWait), nil
}

// after is a channel that receives once d has passed on the server's clock.
func (s *Server) after(d time.Duration) <-chan time.Time {
	if s.d.After != nil {
		return s.d.After(d)
	}
	return time.After(d)
}

// closedTimer is a wait that is already over.
func closedTimer() <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

// quoted shortens what a caller sent before it is quoted back.
func quoted(s string) string { return slackui.Truncate(runbook.CleanText(s), 40) }
