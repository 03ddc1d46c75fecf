package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/slackui"
)

// Incidents is the incident service the API declares and notes through;
// *incidents.Service satisfies it.
type Incidents interface {
	Declare(ctx context.Context, d incidents.Declaration) (*incidents.Declared, error)
	AddNoteOnce(ctx context.Context, id int64, n incidents.Note) (added bool, err error)
}

// IncidentStore reads incidents; *store.Incidents satisfies it.
type IncidentStore interface {
	Incident(ctx context.Context, id int64) (*runbook.Incident, error)
	Timeline(ctx context.Context, id int64) ([]runbook.TimelineEntry, error)
	// OpenIncidentByDedupKey returns the open incident holding a dedup key, or
	// ENOTFOUND.
	OpenIncidentByDedupKey(ctx context.Context, key string) (*runbook.Incident, error)
}

// maxDedupKey bounds a caller's dedup key: enough for any alert group key, which is
// hashed when longer (see alertDedupKey).
const maxDedupKey = 200

// recentTimeline is how many of the newest timeline entries an incident's answer
// carries; timeline_count says how many there are.
const recentTimeline = 20

// declareRequest is the body of POST /api/v1/incidents.
type declareRequest struct {
	Severity string            `json:"severity"`
	Service  string            `json:"service"`
	Title    string            `json:"title"`
	Summary  string            `json:"summary"`
	Fields   map[string]string `json:"fields"`
	DedupKey string            `json:"dedup_key"`
}

// IncidentJSON is an incident as the API answers it.
type IncidentJSON struct {
	ID       string `json:"id"`
	Number   int64  `json:"number"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Service  string `json:"service"`
	Summary  string `json:"summary"`
	// Channel is the incident's own channel once a runbook made one, else the
	// channel it was announced in.
	Channel      string            `json:"channel"`
	URL          string            `json:"url,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	ResolvedAt   *time.Time        `json:"resolved_at,omitempty"`
	DedupKey     string            `json:"dedup_key"`
	Fields       map[string]string `json:"fields"`
	Deduplicated bool              `json:"deduplicated"`
	// TimelineCount and Timeline are in the answer to GET only.
	TimelineCount *int           `json:"timeline_count,omitempty"`
	Timeline      []TimelineJSON `json:"timeline,omitempty"`
}

// TimelineJSON is one timeline entry; actor is a Slack user id, "runbook …" or
// "api:<token>".
type TimelineJSON struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	Text  string    `json:"text"`
}

// declare is POST /api/v1/incidents: the checks of /runbook declare, announced and
// triggering runbooks as a declaration in Slack does. Under a dedup_key that an open
// incident of this token holds, it notes on that incident instead (200, deduplicated).
func (s *Server) declare(w http.ResponseWriter, r *http.Request, c Caller) error {
	var req declareRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	service, err := s.checkService(req.Service)
	if err != nil {
		return err
	}
	if err := checkDedupKey(req.DedupKey); err != nil {
		return err
	}
	for name, v := range req.Fields {
		req.Fields[name] = slackui.Inert(v)
	}
	d := incidents.Declaration{Title: slackui.Inert(req.Title), Severity: req.Severity, Service: service, Fields: req.Fields,
		Summary: slackui.Inert(req.Summary), By: c.Actor(), Key: requestKey(c)}
	if req.DedupKey != "" {
		d.DedupKey = ownedDedupKey(c, req.DedupKey)
	}
	if err := s.admit(r, c); err != nil {
		return err
	}
	out, err := s.d.Incidents.Declare(r.Context(), d)
	if err != nil {
		return err
	}
	inc := out.Incident
	if out.Deduplicated {
		text := "Declared again through the API: " + slackui.Inert(runbook.CleanLine(req.Title))
		if _, err := s.d.Incidents.AddNoteOnce(r.Context(), inc.ID, incidents.Note{Text: text, By: c.Actor(), Key: d.Key}); err != nil {
			return fmt.Errorf("note a repeated declaration on %s: %w", inc.Key(), err)
		}
	}
	s.audit(r.Context(), runbook.AuditEntry{Actor: c.Actor(), Action: auditAction(out.Deduplicated), IncidentID: inc.ID,
		Detail: fmt.Sprintf("POST %s by token %s", r.URL.Path, c.Name)})
	status := http.StatusCreated
	if out.Deduplicated {
		status = http.StatusOK
	}
	writeJSON(w, status, s.incidentJSON(r.Context(), inc, out.Deduplicated))
	return nil
}

func auditAction(deduplicated bool) string {
	if deduplicated {
		return runbook.AuditAPINoted
	}
	return runbook.AuditAPIDeclared
}

// checkService returns a configured service's name as configured; "" is none.
func (s *Server) checkService(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	for _, svc := range s.d.Services {
		if strings.EqualFold(svc, name) {
			return svc, nil
		}
	}
	if len(s.d.Services) == 0 {
		return "", badRequest("No services are configured (services), so leave service out.")
	}
	shown := runbook.CleanLine(slackui.Truncate(name, 40))
	if sug := runbook.Suggest(strings.ToLower(name), s.d.Services); sug != "" {
		return "", badRequest("%q is not a service (did you mean %q?); the services are %s.", shown, sug, strings.Join(s.d.Services, ", "))
	}
	return "", badRequest("%q is not a service; the services are %s.", shown, strings.Join(s.d.Services, ", "))
}

// checkDedupKey refuses a dedup key that is too long or holds control characters.
func checkDedupKey(key string) error {
	if n := len([]rune(key)); n > maxDedupKey {
		return badRequest("dedup_key is %d characters long; keep it under %d.", n, maxDedupKey)
	}
	if strings.IndexFunc(key, unicode.IsControl) >= 0 {
		return badRequest("dedup_key must not contain control characters or line breaks.")
	}
	return nil
}

// ownedDedupKey is a caller's dedup key as stored: prefixed with the token's name, so
// that one token's key never finds — or adds notes to — another token's incident.
func ownedDedupKey(c Caller, key string) string { return c.Name + "/" + key }

// shownDedupKey is a stored dedup key without its token's name.
func shownDedupKey(stored string) string {
	_, key, _ := strings.Cut(stored, "/")
	return key
}

// requestKey names one API request for the incident service: a declaration made by
// it, and the runbooks it starts, are keyed by it.
func requestKey(c Caller) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "api/" + c.Name + "/" + hex.EncodeToString(b[:])
}

// incident is GET /api/v1/incidents/{id}, id "INC-42" or "42": the incident with its
// newest timeline entries.
func (s *Server) incident(w http.ResponseWriter, r *http.Request, _ Caller) error {
	id, err := runbook.ParseIncidentKey(r.PathValue("id"))
	if err != nil {
		return &Error{Status: http.StatusNotFound, Code: runbook.ENOTFOUND,
			Message: fmt.Sprintf("%q is not an incident id; ids look like INC-42.", runbook.CleanLine(slackui.Truncate(r.PathValue("id"), 40)))}
	}
	inc, err := s.d.IncidentStore.Incident(r.Context(), id)
	if err != nil {
		if runbook.ErrorCode(err) == runbook.ENOTFOUND {
			return &Error{Status: http.StatusNotFound, Code: runbook.ENOTFOUND, Message: fmt.Sprintf("There is no %s.", runbook.IncidentKey(id))}
		}
		return err
	}
	timeline, err := s.d.IncidentStore.Timeline(r.Context(), id)
	if err != nil {
		return fmt.Errorf("read the timeline of %s: %w", inc.Key(), err)
	}
	out := s.incidentJSON(r.Context(), inc, false)
	n := len(timeline)
	out.TimelineCount = &n
	for _, e := range timeline[max(0, n-recentTimeline):] {
		out.Timeline = append(out.Timeline, TimelineJSON{At: e.At.UTC(), Actor: e.Actor, Kind: e.Kind, Text: e.Text})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// incidentJSON is inc as answered; its URL is the announcement's link, when Slack
// knows one.
func (s *Server) incidentJSON(ctx context.Context, inc *runbook.Incident, deduplicated bool) IncidentJSON {
	out := IncidentJSON{ID: inc.Key(), Number: inc.ID, Title: inc.Title, Severity: inc.Severity, Status: inc.Status,
		Service: inc.Service, Summary: inc.Summary, Channel: cmpOr(inc.Channel, inc.AnnouncementChannel),
		CreatedAt: inc.CreatedAt.UTC(), DedupKey: shownDedupKey(inc.DedupKey), Fields: inc.Fields, Deduplicated: deduplicated}
	if out.Fields == nil {
		out.Fields = map[string]string{}
	}
	if !inc.ResolvedAt.IsZero() {
		at := inc.ResolvedAt.UTC()
		out.ResolvedAt = &at
	}
	if inc.AnnouncementTS != "" && s.d.Permalink != nil {
		if link, err := s.d.Permalink(ctx, inc.AnnouncementChannel, inc.AnnouncementTS); err == nil {
			out.URL = link
		} else {
			s.log.Warn("api: no link to the announcement", "incident", inc.Key(), "err", err)
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
