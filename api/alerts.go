package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/slackui"
)

// Alert sources: the webhook each endpoint takes, and the prefix of its dedup keys.
const (
	SourceAlertmanager = "alertmanager"
	SourceGrafana      = "grafana"
)

// What an alert webhook did, as its answer's result says.
const (
	ResultDeclared      = "declared"       // a new incident
	ResultNoted         = "noted"          // firing again: a note on the open incident
	ResultAlreadyNoted  = "already_noted"  // this very notification was taken before
	ResultResolvedNoted = "resolved_noted" // resolved: a note; the incident stays open
	ResultIgnored       = "ignored"        // resolved, and no open incident to note it on
)

// Bounds on what one notification writes: the alerts listed in a note, and each
// label or annotation value quoted.
const (
	maxAlertsListed = 10
	maxValueShown   = 120
	// maxListing keeps a note under the incident service's bound on notes.
	maxListing = 2500
)

// WebhookPayload is what Alertmanager's webhook_config (version 4) and Grafana's
// webhook contact point post. Fields this does not name are accepted and ignored:
// the payloads are not ours, and each release adds some.
type WebhookPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
	// Grafana's own.
	OrgID   int64  `json:"orgId"`
	Title   string `json:"title"`
	State   string `json:"state"`
	Message string `json:"message"`
}

// WebhookAlert is one alert of a notification.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	// Grafana's own.
	SilenceURL   string `json:"silenceURL"`
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
	ValueString  string `json:"valueString"`
}

// AlertAnswer is the answer to an alert webhook: what happened, and to which incident.
type AlertAnswer struct {
	Result   string        `json:"result"`
	Message  string        `json:"message"`
	Incident *IncidentJSON `json:"incident,omitempty"`
}

func (s *Server) alertmanager(w http.ResponseWriter, r *http.Request, c Caller) error {
	return s.alert(w, r, c, SourceAlertmanager)
}

func (s *Server) grafana(w http.ResponseWriter, r *http.Request, c Caller) error {
	return s.alert(w, r, c, SourceGrafana)
}

// alert takes one notification: firing declares an incident for its alert group, or
// notes on the group's open incident; resolved notes on it and leaves it open for
// people to resolve. A notification taken before (the sender retrying) changes
// nothing and is answered as taken.
func (s *Server) alert(w http.ResponseWriter, r *http.Request, c Caller, source string) error {
	p, err := decodeWebhook(w, r)
	if err != nil {
		return err
	}
	if err := p.check(); err != nil {
		return err
	}
	a := s.readAlert(p, c, source)
	var ans AlertAnswer
	if p.Status == "resolved" {
		ans, err = s.alertResolved(r, c, a)
	} else {
		ans, err = s.alertFiring(r, c, a)
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if ans.Result == ResultDeclared {
		status = http.StatusCreated
	}
	writeJSON(w, status, ans)
	return nil
}

// decodeWebhook reads a webhook body: one JSON object of at most maxBody, unknown
// fields allowed.
func decodeWebhook(w http.ResponseWriter, r *http.Request) (*WebhookPayload, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "invalid", Message: "Send the body as Content-Type: application/json."}
	}
	var p WebhookPayload
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(&p); err != nil {
		return nil, bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("The body must be one JSON object, with nothing after it.")
	}
	return &p, nil
}

// check refuses a notification that is not one.
func (p *WebhookPayload) check() error {
	p.Status = strings.ToLower(strings.TrimSpace(p.Status))
	if p.Status != "firing" && p.Status != "resolved" {
		return badRequest("status must be firing or resolved, as Alertmanager and Grafana send it.")
	}
	if len(p.Alerts) == 0 {
		return badRequest("The notification lists no alerts.")
	}
	return nil
}

// alertInfo is what a notification means for incidents.
type alertInfo struct {
	source   string
	dedupKey string // as stored: owned by the token
	title    string
	severity string
	service  string
	// unknownService is a service the alert named that is not configured.
	unknownService string
	summary        string
	// digest names this notification's content, so that a retry notes nothing.
	digest string
	// lines describes the alerts, bounded.
	lines string
}

// readAlert maps a notification onto an incident: labels.severity through
// api.alerts.severities, the service from labels.service or labels.job, the title
// from annotations.summary or labels.alertname, and one incident per alert group.
func (s *Server) readAlert(p *WebhookPayload, c Caller, source string) alertInfo {
	labels, annotations := p.representative()
	a := alertInfo{source: source, dedupKey: ownedDedupKey(c, alertDedupKey(source, p))}
	a.title = alertTitle(p, labels, annotations, source)
	if s.d.AlertSeverity != nil {
		a.severity = s.d.AlertSeverity(labels["severity"])
	}
	named := cmpOr(labels["service"], labels["job"])
	if svc, err := s.checkService(named); err == nil {
		a.service = svc
	} else {
		a.unknownService = slackui.Truncate(runbook.CleanLine(named), maxValueShown)
	}
	a.summary = slackui.Inert(slackui.Truncate(runbook.CleanText(annotations["description"]), runbook.MaxSummary))
	a.digest = notificationDigest(c, a.dedupKey, p)
	a.lines = describeAlerts(p)
	return a
}

// representative are the labels and annotations that speak for the group: the
// common ones, completed by the first firing alert's.
func (p *WebhookPayload) representative() (labels, annotations map[string]string) {
	first := p.Alerts[0]
	for _, a := range p.Alerts {
		if a.Status != "resolved" {
			first = a
			break
		}
	}
	labels, annotations = maps.Clone(first.Labels), maps.Clone(first.Annotations)
	if labels == nil {
		labels = map[string]string{}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	maps.Copy(labels, p.CommonLabels)
	maps.Copy(annotations, p.CommonAnnotations)
	return labels, annotations
}

// alertDedupKey is the group's key, by which one incident takes a group's
// notifications: Alertmanager's groupKey, else the first alert's fingerprint, else
// its labels. A key longer than a dedup key may be is hashed.
func alertDedupKey(source string, p *WebhookPayload) string {
	key := p.GroupKey
	if key == "" {
		key = p.Alerts[0].Fingerprint
	}
	if key == "" {
		key = labelString(p.Alerts[0].Labels)
	}
	key = source + ":" + key
	if len([]rune(key)) > maxDedupKey || strings.IndexFunc(key, isControl) >= 0 {
		sum := sha256.Sum256([]byte(key))
		key = source + ":sha256:" + hex.EncodeToString(sum[:])
	}
	return key
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

func alertTitle(p *WebhookPayload, labels, annotations map[string]string, source string) string {
	for _, t := range []string{annotations["summary"], labels["alertname"], p.Title} {
		if t = strings.TrimSpace(runbook.CleanLine(t)); t != "" {
			return slackui.Truncate(slackui.Inert(t), maxTitleRunes)
		}
	}
	return "Alert from " + source
}

// maxTitleRunes is the longest title a declaration takes; a longer alert summary is
// cut rather than the alert refused.
const maxTitleRunes = 200

// notificationDigest names what a notification says — its alerts, their states and
// start times — so that the same notification posted again (a retry, or a repeat
// with nothing new) adds nothing, while a change does.
func notificationDigest(c Caller, dedupKey string, p *WebhookPayload) string {
	parts := make([]string, 0, len(p.Alerts))
	for _, a := range p.Alerts {
		id := a.Fingerprint
		if id == "" {
			id = labelString(a.Labels)
		}
		parts = append(parts, id+"\x00"+a.Status+"\x00"+a.StartsAt)
	}
	slices.Sort(parts)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", c.Name, dedupKey, p.Status)
	for _, part := range parts {
		h.Write([]byte(part + "\x01"))
	}
	return "alert/" + hex.EncodeToString(h.Sum(nil)[:16])
}

func labelString(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		fmt.Fprintf(&b, "%s=%q,", k, labels[k])
	}
	return b.String()
}

// describeAlerts lists the notification's alerts for the timeline, at most
// maxAlertsListed of them, each value cut to maxValueShown.
func describeAlerts(p *WebhookPayload) string {
	var b strings.Builder
	for i, a := range p.Alerts {
		if i == maxAlertsListed {
			fmt.Fprintf(&b, "\n…and %d more", len(p.Alerts)-maxAlertsListed)
			break
		}
		name := cmpOr(a.Labels["alertname"], "alert")
		fmt.Fprintf(&b, "\n• %s %s", shown(name), shown(a.Status))
		if sum := a.Annotations["summary"]; sum != "" {
			fmt.Fprintf(&b, ": %s", shown(sum))
		}
		if a.ValueString != "" {
			fmt.Fprintf(&b, " (%s)", shown(a.ValueString))
		}
	}
	if p.TruncatedAlerts > 0 {
		fmt.Fprintf(&b, "\n(%d more left out by the sender)", p.TruncatedAlerts)
	}
	if p.ExternalURL != "" {
		fmt.Fprintf(&b, "\n%s", shown(p.ExternalURL))
	}
	return slackui.Truncate(b.String(), maxListing)
}

// shown is a value from a payload as a note quotes it: one line, bounded.
func shown(v string) string {
	return slackui.Truncate(slackui.Inert(strings.TrimSpace(runbook.CleanLine(v))), maxValueShown)
}

// alertFiring declares the group's incident, or notes on the open one.
func (s *Server) alertFiring(r *http.Request, c Caller, a alertInfo) (AlertAnswer, error) {
	if err := s.admit(r, c); err != nil {
		return AlertAnswer{}, err
	}
	out, err := s.d.Incidents.Declare(r.Context(), incidents.Declaration{Title: a.title, Severity: a.severity,
		Service: a.service, Summary: a.summary, By: c.Actor(), Key: requestKey(c), DedupKey: a.dedupKey})
	if err != nil {
		return AlertAnswer{}, err
	}
	inc := out.Incident
	heading := "Alert firing (" + a.source + "):"
	if out.Deduplicated {
		heading = "Alert firing again (" + a.source + "):"
	}
	added, err := s.d.Incidents.AddNoteOnce(r.Context(), inc.ID, incidents.Note{Text: heading + a.lines, By: c.Actor(), Key: a.digest})
	if err != nil {
		return AlertAnswer{}, fmt.Errorf("note the alert on %s: %w", inc.Key(), err)
	}
	if !out.Deduplicated && a.unknownService != "" {
		s.noteUnknownService(r, c, inc, a)
	}
	ans := AlertAnswer{Incident: ptr(s.incidentJSON(r.Context(), inc, out.Deduplicated))}
	switch {
	case !out.Deduplicated:
		ans.Result, ans.Message = ResultDeclared, fmt.Sprintf("Declared %s.", inc.Key())
	case added:
		ans.Result, ans.Message = ResultNoted, fmt.Sprintf("Noted on %s, which is open for this alert group.", inc.Key())
	default:
		ans.Result, ans.Message = ResultAlreadyNoted, fmt.Sprintf("This notification is already on %s; nothing changed.", inc.Key())
	}
	if ans.Result != ResultAlreadyNoted {
		s.audit(r.Context(), runbook.AuditEntry{Actor: c.Actor(), Action: auditAction(out.Deduplicated), IncidentID: inc.ID,
			Detail: fmt.Sprintf("%s alert %s by token %s", a.source, ans.Result, c.Name)})
	}
	return ans, nil
}

// noteUnknownService says on the timeline why an alert's incident has no service: an
// alert is never dropped for naming a service Runbook does not know.
func (s *Server) noteUnknownService(r *http.Request, c Caller, inc *runbook.Incident, a alertInfo) {
	text := fmt.Sprintf("The alert names the service “%s”, which is not configured (services); the incident has no service.", a.unknownService)
	if _, err := s.d.Incidents.AddNoteOnce(r.Context(), inc.ID, incidents.Note{Text: text, By: c.Actor(), Key: a.digest + "/service"}); err != nil {
		s.log.Error("api: note an alert's unknown service", "incident", inc.Key(), "err", err)
	}
}

// alertResolved notes "alert resolved" on the group's open incident. It does not
// resolve it: that is for the people responding.
func (s *Server) alertResolved(r *http.Request, c Caller, a alertInfo) (AlertAnswer, error) {
	inc, err := s.d.IncidentStore.OpenIncidentByDedupKey(r.Context(), a.dedupKey)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return AlertAnswer{Result: ResultIgnored, Message: "No incident is open for this alert group, so there is nothing to note."}, nil
	}
	if err != nil {
		return AlertAnswer{}, err
	}
	added, err := s.d.Incidents.AddNoteOnce(r.Context(), inc.ID, incidents.Note{Text: "Alert resolved (" + a.source + "):" + a.lines,
		By: c.Actor(), Key: a.digest})
	if err != nil {
		return AlertAnswer{}, fmt.Errorf("note the resolved alert on %s: %w", inc.Key(), err)
	}
	ans := AlertAnswer{Result: ResultResolvedNoted, Incident: ptr(s.incidentJSON(r.Context(), inc, true)),
		Message: fmt.Sprintf("Noted on %s that the alert resolved; %s stays open until someone resolves it.", inc.Key(), inc.Key())}
	if !added {
		ans.Result, ans.Message = ResultAlreadyNoted, fmt.Sprintf("This notification is already on %s; nothing changed.", inc.Key())
		return ans, nil
	}
	s.audit(r.Context(), runbook.AuditEntry{Actor: c.Actor(), Action: runbook.AuditAPINoted, IncidentID: inc.ID,
		Detail: fmt.Sprintf("%s alert resolved, by token %s", a.source, c.Name)})
	return ans, nil
}

func ptr[T any](v T) *T { return &v }
