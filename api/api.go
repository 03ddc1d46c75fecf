// Package api is Runbook's HTTP API under /api/v1/, for callers that are not people
// in Slack: alerting systems that declare incidents and pipelines that ask for an
// approval and wait for it. Each caller holds a bearer token from api.tokens with
// the scopes it may use; what it does is audited under the token's name
// (runbook.APIActor). TLS is left to a reverse proxy in front of http.addr.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
)

// Prefix is where the API is served.
const Prefix = "/api/v1/"

// maxBody bounds a request body: alert webhooks batch alerts, but a megabyte is far
// beyond any real one.
const maxBody = 1 << 20

// Scope is what a token may do.
type Scope string

// Scopes.
const (
	ScopeIncidents Scope = "incidents"
	ScopeApprovals Scope = "approvals"
)

// Token is one configured caller.
type Token struct {
	Name   string
	Value  string
	Scopes []Scope
}

// Caller is who made a request: the token's name and what it may do.
type Caller struct {
	Name   string
	Scopes []Scope
}

// Actor is the caller as the audit log, the timeline and Slack name it.
func (c Caller) Actor() string { return runbook.APIActor(c.Name) }

func (c Caller) may(s Scope) bool {
	for _, have := range c.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// Deps are what the API acts through.
type Deps struct {
	Tokens []Token
	Audit  runbook.AuditStore
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Refuse, when set, says why no request can be taken now (the database was
	// lost, as a runbook.Error); nil lets requests through.
	Refuse func() error

	// Incidents declares and notes; IncidentStore reads incidents and timelines.
	Incidents     Incidents
	IncidentStore IncidentStore
	// Services are the configured services' names (services).
	Services []string
	// AlertSeverity maps an alert's labels.severity to an incident severity
	// (config.(*Config).AlertSeverity).
	AlertSeverity func(label string) string
	// Permalink links to a message, for an incident's url (optional).
	Permalink func(ctx context.Context, channel, ts string) (string, error)
	// Admit says whether new work may be taken now (engine.Executor.Admit): a
	// declaration starts runbooks, and an alert storm or a leaked token must meet the
	// same bounds as people in Slack. nil admits everything.
	Admit func(ctx context.Context, person string) error
	// Approvals asks for approvals, reads and withdraws them (/api/v1/approvals).
	Approvals ApprovalDesk
	// After is the clock's timer, for long-polls (time.After when nil).
	After func(time.Duration) <-chan time.Time
	// MaxWaits caps the long-polls waiting at once (DefaultMaxWaits when 0).
	MaxWaits int
}

// Server serves the API.
type Server struct {
	d      Deps
	tokens []hashedToken
	mux    *http.ServeMux
	log    *slog.Logger
	// allow lists the methods registered for each path, for 405's Allow header.
	allow map[string][]string
	// patterns are the endpoints registered, "METHOD /path", in order.
	patterns []string
	// waits holds a slot per long-poll waiting; stopping, closed by Stop, ends them.
	waits    chan struct{}
	stopping chan struct{}
	stopOnce sync.Once
}

// hashedToken keeps only a token's digest, so that comparing a presented token
// against every configured one takes the same time whatever they hold.
type hashedToken struct {
	sum    [sha256.Size]byte
	caller Caller
}

// New returns the API over d; Mount serves it.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxWaits <= 0 {
		d.MaxWaits = DefaultMaxWaits
	}
	s := &Server{d: d, mux: http.NewServeMux(), log: d.Logger, allow: map[string][]string{},
		waits: make(chan struct{}, d.MaxWaits), stopping: make(chan struct{})}
	for _, t := range d.Tokens {
		s.tokens = append(s.tokens, hashedToken{sum: sha256.Sum256([]byte(t.Value)), caller: Caller{Name: t.Name, Scopes: t.Scopes}})
	}
	s.routes()
	return s
}

// Stop answers every long-poll at once with the approval as it stands (the caller
// polls again), so that the HTTP server can shut down without waiting them out.
func (s *Server) Stop() { s.stopOnce.Do(func() { close(s.stopping) }) }

// Handler is the mux the observe server mounts; Mount does it.
type Handler interface {
	Handle(pattern string, h http.Handler)
}

// Mount serves the API under Prefix on h.
func (s *Server) Mount(h Handler) { h.Handle(Prefix, s) }

// ServeHTTP answers one API request: authenticated, then routed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="runbook"`)
		writeError(w, &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: "Send a token from api.tokens as Authorization: Bearer <token>."})
		s.log.Warn("api request refused: no valid token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		return
	}
	r = r.WithContext(withCaller(r.Context(), caller))
	s.mux.ServeHTTP(w, r)
}

// routes lists every endpoint. Each file that adds endpoints registers them here.
func (s *Server) routes() {
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Status: http.StatusNotFound, Code: "not_found",
			Message: fmt.Sprintf("There is no %s %s in this API; see docs/api.md.", r.Method, r.URL.Path)})
	})
	// Incidents and alerts (incidents.go, alerts.go).
	s.handle("POST /api/v1/incidents", ScopeIncidents, s.declare)
	s.handle("GET /api/v1/incidents/{id}", ScopeIncidents, s.incident)
	s.handle("POST /api/v1/alerts/alertmanager", ScopeIncidents, s.alertmanager)
	s.handle("POST /api/v1/alerts/grafana", ScopeIncidents, s.grafana)
	s.approvalRoutes()
}

// Routes lists the endpoints served, as "METHOD /path" patterns; api/openapi.yaml
// describes each one.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

// handle registers an endpoint that needs scope. The pattern names its method
// ("POST /api/v1/incidents"); another method on the same path is answered 405.
func (s *Server) handle(pattern string, scope Scope, h func(w http.ResponseWriter, r *http.Request, c Caller) error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		panic("api: pattern " + pattern + " names no method")
	}
	if _, seen := s.allow[path]; !seen {
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			allowed := strings.Join(s.allow[path], ", ")
			w.Header().Set("Allow", allowed)
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Message: fmt.Sprintf("%s takes %s, not %s.", r.URL.Path, allowed, r.Method)})
		})
	}
	s.allow[path] = append(s.allow[path], method)
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := callerFrom(r.Context())
		if !c.may(scope) {
			s.audit(r.Context(), runbook.AuditEntry{Actor: c.Actor(), Action: runbook.AuditRefused,
				Detail: fmt.Sprintf("%s %s needs the %s scope", r.Method, r.URL.Path, scope)})
			writeError(w, &Error{Status: http.StatusForbidden, Code: "forbidden",
				Message: fmt.Sprintf("Token %s lacks the %s scope this needs.", c.Name, scope)})
			return
		}
		if s.d.Refuse != nil {
			if err := s.d.Refuse(); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err := h(w, r, c); err != nil {
			s.fail(w, r, err)
		}
	})
}

// admit answers 503 with Retry-After, as the busy answer people get in Slack, when
// the bot may take no more runs for now or for this token; Alertmanager and Grafana
// retry a 5xx.
func (s *Server) admit(r *http.Request, c Caller) error {
	if s.d.Admit == nil {
		return nil
	}
	if err := s.d.Admit(r.Context(), c.Actor()); err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: runbook.EUNAVAILABLE, Message: runbook.ErrorMessage(err),
			RetryAfter: busyRetryAfter}
	}
	return nil
}

// busyRetryAfter is the Retry-After of a busy answer, in seconds: "try again in a minute".
const busyRetryAfter = 60

// authenticate finds the token presented as "Authorization: Bearer …", comparing it
// with every configured token in constant time.
func (s *Server) authenticate(r *http.Request) (Caller, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Caller{}, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	var found *Caller
	for i := range s.tokens {
		if subtle.ConstantTimeCompare(sum[:], s.tokens[i].sum[:]) == 1 {
			found = &s.tokens[i].caller
		}
	}
	if found == nil {
		return Caller{}, false
	}
	return *found, true
}

type callerKey struct{}

func withCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// audit records what a caller did; a failure to record is logged, not returned: the
// thing was done.
func (s *Server) audit(ctx context.Context, e runbook.AuditEntry) {
	if s.d.Audit == nil {
		return
	}
	if err := s.d.Audit.Record(ctx, e); err != nil {
		s.log.Error("api: record audit entry", "action", e.Action, "err", err)
	}
}

// Error is an API error: its status, a stable code and a sentence for people.
type Error struct {
	Status int `json:"-"`
	// RetryAfter, when not 0, is sent as Retry-After (seconds).
	RetryAfter int    `json:"-"`
	Code       string `json:"error"`
	Message    string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// badRequest is a 400 with message.
func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf(format, args...)}
}

// fail answers err: an *Error as it is, a runbook.Error by its code, anything else
// as a 500 whose detail is logged, never sent.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		writeError(w, apiErr)
		return
	}
	var re *runbook.Error
	if errors.As(err, &re) && re.Code != runbook.EINTERNAL {
		writeError(w, &Error{Status: statusOf(re.Code), Code: re.Code, Message: re.Message})
		return
	}
	s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, &Error{Status: http.StatusInternalServerError, Code: runbook.EINTERNAL,
		Message: "Runbook could not do this; the error is in its log."})
}

func statusOf(code string) int {
	switch code {
	case runbook.EINVALID:
		return http.StatusBadRequest
	case runbook.EFORBIDDEN:
		return http.StatusForbidden
	case runbook.ENOTFOUND:
		return http.StatusNotFound
	case runbook.ECONFLICT:
		return http.StatusConflict
	case runbook.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// decode reads a JSON body into v: one object, no unknown fields, at most maxBody.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "invalid", Message: "Send the body as Content-Type: application/json."}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("The body must be one JSON object, with nothing after it.")
	}
	return nil
}

// bodyError says what is wrong with a JSON body in a sentence.
func bodyError(err error) *Error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid", Message: fmt.Sprintf("The body is larger than %d bytes.", maxBody)}
	case errors.Is(err, io.EOF):
		return badRequest("The body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("The body is not valid JSON.")
	case errors.As(err, &typ):
		if typ.Field != "" {
			return badRequest("Field %s must be a %s.", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return badRequest("The body must be a JSON object.")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("Unknown field %s; see docs/api.md for the fields this takes.", name)
	}
	return badRequest("The body could not be read as JSON.")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "int32", "uint", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	case "map", "struct":
		return "object"
	}
	return goKind
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, e)
}
