package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
)

// apiAnswer is an answer of the bot's API: its status and JSON body.
type apiAnswer struct {
	status int
	body   map[string]any
	raw    string
}

func (a apiAnswer) str(path ...string) string {
	var v any = a.body
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// call sends a request to the running bot's API with token ("" for none).
func (w *incidentWorld) call(method, path, token, body string) apiAnswer {
	w.t.Helper()
	req, err := http.NewRequest(method, w.APIURL()+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := apiAnswer{status: res.StatusCode, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		w.t.Fatalf("%s %s answered %d with a body that is not a JSON object: %q", method, path, res.StatusCode, raw)
	}
	return a
}

// post sends body with the incidents token.
func (w *incidentWorld) post(path, body string) apiAnswer {
	w.t.Helper()
	return w.call("POST", path, apptest.APITokenIncidents, body)
}

func payload(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "api", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startAPI is the incident world with the API on, in the given Slack mode.
func startAPI(t *testing.T, opts ...func(*config.Config)) *incidentWorld {
	t.Helper()
	return startIncidentsWith(t, append([]func(*config.Config){apptest.WithAPI, func(c *config.Config) {
		c.Services["http_checks"] = config.Service{Slack: config.ServiceSlack{Channel: "#payments-incidents"}}
	}}, opts...)...)
}

func (w *incidentWorld) incidentCount() int {
	w.t.Helper()
	list, err := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(list)
}

func (w *incidentWorld) timelineHas(id int64, text string) int {
	n := 0
	for _, line := range w.timeline(id) {
		if strings.Contains(line, text) {
			n++
		}
	}
	return n
}

// TestAlertmanagerDeclaresOnceRepeatNotesResolvedNotes: Alertmanager's notification
// declares INC-1 and announces it in the service's channel; the same notification
// again (Alertmanager retrying) changes nothing; a new alert in the group is a note;
// the group resolving is a note, and INC-1 stays open for people to resolve.
func TestAlertmanagerDeclaresOnceRepeatNotesResolvedNotes(t *testing.T) {
	w := startAPI(t)
	firing := payload(t, "alertmanager-v4-firing.json")
	a := w.post("/api/v1/alerts/alertmanager", firing)
	if a.status != 201 || a.str("result") != "declared" || a.str("incident", "id") != "INC-1" || a.str("message") != "Declared INC-1." {
		t.Fatalf("first notification: %d %s", a.status, a.raw)
	}
	inc := w.incident(1)
	if inc.Severity != "sev1" || inc.Service != "http_checks" || inc.Title != "BlackBox Probe Failure: https://server.example.org" {
		t.Fatalf("INC-1 is %s %s %q", inc.Severity, inc.Service, inc.Title)
	}
	w.WaitFor("the announcement in the service's channel", func() bool { return len(w.botTopLevel(w.payments.ID)) == 1 })
	w.runsDone(1, 1) // critical → sev1 starts sev1-kickoff, as a Slack declaration does

	if a := w.post("/api/v1/alerts/alertmanager", firing); a.status != 200 || a.str("result") != "already_noted" || a.str("incident", "id") != "INC-1" {
		t.Fatalf("the notification again: %d %s", a.status, a.raw)
	}
	if n := w.timelineHas(1, "Alert firing"); n != 1 {
		t.Fatalf("%d firing notes after a retry, want 1: %q", n, w.timeline(1))
	}
	second := strings.Replace(firing, `"fingerprint": "1a30ba71cca2921f"`,
		`"fingerprint": "1a30ba71cca2921f"}, {"status": "firing", "labels": {"alertname": "ProbeFailure", "instance": "https://api.example.org"}, "fingerprint": "77aa"`, 1)
	if a := w.post("/api/v1/alerts/alertmanager", second); a.status != 200 || a.str("result") != "noted" || !strings.Contains(a.str("message"), "Noted on INC-1") {
		t.Fatalf("a second alert in the group: %d %s", a.status, a.raw)
	}
	if n := w.timelineHas(1, "Alert firing again"); n != 1 {
		t.Fatalf("no note of the second alert: %q", w.timeline(1))
	}
	resolved := strings.ReplaceAll(firing, `"firing"`, `"resolved"`)
	a = w.post("/api/v1/alerts/alertmanager", resolved)
	if a.status != 200 || a.str("result") != "resolved_noted" || !strings.Contains(a.str("message"), "stays open") {
		t.Fatalf("resolved: %d %s", a.status, a.raw)
	}
	if w.timelineHas(1, "Alert resolved") != 1 || !w.incident(1).ResolvedAt.IsZero() {
		t.Fatalf("after the resolved notification: open=%v, timeline %q", w.incident(1).ResolvedAt.IsZero(), w.timeline(1))
	}
	if w.incidentCount() != 1 {
		t.Fatalf("%d incidents, want 1", w.incidentCount())
	}
	// Resolved by a person, the group's key is free: the next firing declares INC-2.
	// An alert's incident has no commander: bob may resolve it as a member of the
	// channel sev1-kickoff made and invited @oncall to.
	if answer := w.Ask(w.bob.ID, w.general.ID, "resolve INC-1 probe fixed"); !strings.Contains(answer, "Resolved *INC-1*") {
		t.Fatalf("resolve answered %q", answer)
	}
	if a := w.post("/api/v1/alerts/alertmanager", strings.Replace(firing, "2023-02-06T13:08:45.828Z", "2023-02-07T08:00:00Z", 1)); a.status != 201 || a.str("incident", "id") != "INC-2" {
		t.Fatalf("firing after INC-1 was resolved: %d %s", a.status, a.raw)
	}
}

// TestGrafanaNotificationDeclaresAndNotes: Grafana's contact point payload, with its
// own fields, declares; the same again is already noted; resolved is noted.
func TestGrafanaNotificationDeclaresAndNotes(t *testing.T) {
	w := startAPI(t)
	firing := payload(t, "grafana-firing.json")
	a := w.post("/api/v1/alerts/grafana", firing)
	least := w.Config.Incidents.Severities[len(w.Config.Incidents.Severities)-1]
	if a.status != 201 || a.str("result") != "declared" || a.str("incident", "severity") != least {
		t.Fatalf("grafana: %d %s", a.status, a.raw)
	}
	w.WaitFor("the announcement in the default channel", func() bool { return len(w.botTopLevel(w.incidents.ID)) == 1 })
	if !strings.Contains(strings.Join(w.timeline(1), "\n"), "value=47043.702386305304") {
		t.Errorf("the note lacks Grafana's valueString: %q", w.timeline(1))
	}
	if a := w.post("/api/v1/alerts/grafana", firing); a.str("result") != "already_noted" {
		t.Fatalf("grafana again: %d %s", a.status, a.raw)
	}
	if a := w.post("/api/v1/alerts/grafana", strings.ReplaceAll(firing, `"firing"`, `"resolved"`)); a.str("result") != "resolved_noted" {
		t.Fatalf("grafana resolved: %d %s", a.status, a.raw)
	}
	// The same group through the Alertmanager endpoint is another source's group.
	if a := w.post("/api/v1/alerts/alertmanager", firing); a.status != 201 || a.str("incident", "id") != "INC-2" {
		list, _ := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{})
		for _, i := range list {
			t.Logf("%s %q by %s key %q req %q", i.Key(), i.Title, i.CreatedBy, i.DedupKey, i.RequestKey)
		}
		t.Fatalf("grafana's payload at the alertmanager endpoint: %d %s", a.status, a.raw)
	}
}

// TestAlertWithUnknownServiceIsDeclared: an alert naming a service Runbook does not
// know is declared without one, announced in the default channel, and the timeline
// says why — never dropped.
func TestAlertWithUnknownServiceIsDeclared(t *testing.T) {
	w := startAPI(t)
	a := w.post("/api/v1/alerts/alertmanager", payload(t, "alertmanager-v4-test.json"))
	if a.status != 201 || a.str("incident", "service") != "" || a.str("incident", "title") != "Test" {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if w.timelineHas(1, "“prometheus24”, which is not configured") != 1 {
		t.Fatalf("timeline %q", w.timeline(1))
	}
	w.WaitFor("the announcement in the default channel", func() bool { return len(w.botTopLevel(w.incidents.ID)) == 1 })
}

// TestDeclareThroughAPI declares in both Slack modes: announced in the service's
// channel, shown as declared by the token, and read back by GET. The same dedup_key
// while it is open notes instead.
func TestDeclareThroughAPI(t *testing.T) {
	for _, mode := range []string{config.ModeSocket, config.ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			var opts []func(*config.Config)
			if mode == config.ModeHTTP {
				opts = append(opts, apptest.HTTPMode)
			}
			w := startAPI(t, opts...)
			body := `{"severity":"sev2","service":"Payments","title":"Deploy 8812 failed","summary":"canary errors","dedup_key":"deploy-8812"}`
			a := w.post("/api/v1/incidents", body)
			if a.status != 201 || a.str("id") != "INC-1" || a.str("service") != "payments" || a.str("dedup_key") != "deploy-8812" ||
				a.str("deduplicated") != "false" || a.str("status") == "" || a.str("created_at") == "" {
				t.Fatalf("declare: %d %s", a.status, a.raw)
			}
			w.WaitFor("the announcement", func() bool { return len(w.botTopLevel(w.payments.ID)) == 1 })
			if a := w.call("GET", "/api/v1/incidents/INC-1", apptest.APITokenIncidents, ""); a.str("channel") != w.payments.ID || a.str("url") == "" {
				t.Errorf("channel and url of INC-1: %s", a.raw)
			}
			again := w.post("/api/v1/incidents", strings.Replace(body, "Deploy 8812 failed", "Deploy 8812 failed again", 1))
			if again.status != 200 || again.str("id") != "INC-1" || again.str("deduplicated") != "true" {
				t.Fatalf("same dedup_key: %d %s", again.status, again.raw)
			}
			got := w.call("GET", "/api/v1/incidents/1", apptest.APITokenIncidents, "")
			if got.status != 200 || got.str("title") != "Deploy 8812 failed" || got.str("timeline_count") == "" ||
				!strings.Contains(got.raw, "Declared again through the API: Deploy 8812 failed again") || !strings.Contains(got.raw, `"actor":"api:alerts"`) {
				t.Fatalf("GET: %d %s", got.status, got.raw)
			}
			if w.incidentCount() != 1 {
				t.Fatalf("%d incidents", w.incidentCount())
			}
			ann := w.botTopLevel(w.payments.ID)[0]
			if !strings.Contains(string(ann.Blocks)+ann.Text, "Deploy 8812 failed") {
				t.Errorf("announcement %s", ann.Blocks)
			}
			entries := w.entries(1, runbook.TimelineDeclared)
			if len(entries) != 1 || entries[0].Actor != "api:alerts" {
				t.Errorf("declared by %+v", entries)
			}
			audit, _ := w.App().DB.Audit().Audit(context.Background(), 1, 0)
			var actions []string
			for _, e := range audit {
				if e.Actor == "api:alerts" {
					actions = append(actions, e.Action)
				}
			}
			if strings.Join(actions, " ") != runbook.AuditAPINoted+" "+runbook.AuditAPIDeclared {
				t.Errorf("audit of INC-1 by the token: %v", actions)
			}
		})
	}
}

// TestDeclareConcurrentlyMakesOne: requests racing with one dedup_key make one
// incident; exactly one is answered 201.
func TestDeclareConcurrentlyMakesOne(t *testing.T) {
	w := startAPI(t)
	const racers = 8
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", w.APIURL()+"/api/v1/incidents",
				strings.NewReader(`{"severity":"sev3","title":"Queue backlog","dedup_key":"queue"}`))
			req.Header.Set("Authorization", "Bearer "+apptest.APITokenIncidents)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 200:
		default:
			t.Errorf("a racing request was answered %d", s)
		}
	}
	if created != 1 || w.incidentCount() != 1 {
		t.Fatalf("%d answered 201, %d incidents; want 1 and 1 (%v)", created, w.incidentCount(), statuses)
	}
}

// TestDeclareRefusals: each bad request is answered with its status and a sentence.
func TestDeclareRefusals(t *testing.T) {
	w := startAPI(t)
	for _, c := range []struct {
		name, method, path, token, body string
		status                          int
		says                            string
	}{
		{"no token", "POST", "/api/v1/incidents", "", `{}`, 401, "Bearer"},
		{"approvals scope", "POST", "/api/v1/incidents", apptest.APITokenApprovals, `{"severity":"sev1","title":"x"}`, 403, "incidents scope"},
		{"approvals scope on alerts", "POST", "/api/v1/alerts/alertmanager", apptest.APITokenApprovals, `{}`, 403, "incidents scope"},
		{"bad JSON", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":`, 400, "not valid JSON"},
		{"unknown field", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":"sev1","title":"x","sevrity":"sev2"}`, 400, `Unknown field "sevrity"`},
		{"unknown severity", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":"p1","title":"x"}`, 400, "not a severity"},
		{"no title", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":"sev1"}`, 400, "title"},
		{"long title", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":"sev1","title":"` + strings.Repeat("x", 10_000) + `"}`, 400, "keep it under 200"},
		{"unknown service", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":"sev1","title":"x","service":"paymnts"}`, 400, `did you mean "payments"`},
		{"unknown field name", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":"sev1","title":"x","fields":{"region":"eu"}}`, 400, "no custom fields"},
		{"long dedup key", "POST", "/api/v1/incidents", apptest.APITokenIncidents, `{"severity":"sev1","title":"x","dedup_key":"` + strings.Repeat("k", 201) + `"}`, 400, "dedup_key"},
		{"unknown incident", "GET", "/api/v1/incidents/INC-99", apptest.APITokenIncidents, "", 404, "There is no INC-99"},
		{"not an id", "GET", "/api/v1/incidents/drop-table", apptest.APITokenIncidents, "", 404, "not an incident id"},
		{"alert without alerts", "POST", "/api/v1/alerts/grafana", apptest.APITokenIncidents, `{"status":"firing","alerts":[]}`, 400, "no alerts"},
		{"alert with a bad status", "POST", "/api/v1/alerts/grafana", apptest.APITokenIncidents, `{"status":"pending","alerts":[{}]}`, 400, "firing or resolved"},
		{"alert that is not JSON", "POST", "/api/v1/alerts/alertmanager", apptest.APITokenIncidents, `alert!`, 400, "not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := w.call(c.method, c.path, c.token, c.body)
			if a.status != c.status || !strings.Contains(a.str("message"), c.says) || a.str("error") == "" {
				t.Fatalf("%d %s; want %d saying %q", a.status, a.raw, c.status, c.says)
			}
		})
	}
	if w.incidentCount() != 0 {
		t.Fatalf("refused requests declared %d incidents", w.incidentCount())
	}
	audit, _ := w.App().DB.Audit().Audit(context.Background(), 0, 0)
	refused := 0
	for _, e := range audit {
		if e.Actor == "api:ci" && e.Action == runbook.AuditRefused {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d refusals of the approvals token audited, want 2", refused)
	}
}

// botSaid is everything the bot posted in a channel, threads included, as Slack
// received it.
func (w *incidentWorld) botSaid(channel string) string {
	var b strings.Builder
	for _, m := range w.Slack.Messages(channel) {
		if m.BotID != "" {
			b.WriteString(m.Text + string(m.Blocks) + "\n")
		}
	}
	return b.String()
}

// TestAPIAttacks tries what a hostile caller or a hostile alert could make the API do.
func TestAPIAttacks(t *testing.T) {
	w := startAPI(t)
	hostile := "<!channel> <@" + w.bob.ID + "> <!subteam^S1> \x07\x1b[31m"

	t.Run("mentions and control characters in a title reach Slack inert", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"severity": "sev3", "title": hostile + " checkout", "summary": hostile})
		a := w.post("/api/v1/incidents", string(body))
		if a.status != 201 || strings.ContainsAny(a.str("title"), "\x07\x1b") {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		id := int64(a.body["number"].(float64))
		w.WaitFor("the announcement", func() bool { return strings.Contains(w.botSaid(w.incidents.ID), a.str("id")) })
		w.WaitFor("the investigation update", func() bool { return strings.Contains(w.botSaid(w.updates.ID), a.str("id")) })
		for _, ch := range []string{w.incidents.ID, w.updates.ID} {
			said := w.botSaid(ch)
			for _, bad := range []string{"<!channel>", "<@" + w.bob.ID + ">", "<!subteam", "\x07", "\x1b"} {
				if strings.Contains(said, bad) {
					t.Errorf("the bot posted %q in %s: %s", bad, ch, said)
				}
			}
		}
		if w.incident(id).Commander != "" {
			t.Errorf("a token became commander: %q", w.incident(id).Commander)
		}
	})

	t.Run("a 10 KB alert label is cut, not refused, and stays inert", func(t *testing.T) {
		long := hostile + strings.Repeat("A", 10_000)
		p := map[string]any{"status": "firing", "groupKey": "{}:{alertname=\"long\"}", "alerts": []any{map[string]any{
			"status": "firing", "fingerprint": "f1", "labels": map[string]string{"alertname": long, "severity": long, "service": long},
			"annotations": map[string]string{"summary": long, "description": long}}}}
		body, _ := json.Marshal(p)
		a := w.post("/api/v1/alerts/alertmanager", string(body))
		if a.status != 201 || len([]rune(a.str("incident", "title"))) > 200 || len(a.str("incident", "summary")) > 10_000 {
			t.Fatalf("%d %s", a.status, truncated(a.raw))
		}
		id := int64(a.body["incident"].(map[string]any)["number"].(float64))
		for _, line := range w.timeline(id) {
			if len([]rune(line)) > 3100 {
				t.Errorf("a timeline entry of %d characters", len([]rune(line)))
			}
		}
		w.WaitFor("the announcement", func() bool { return strings.Contains(w.botSaid(w.incidents.ID), a.str("incident", "id")) })
		if said := w.botSaid(w.incidents.ID); strings.Contains(said, "<!channel>") {
			t.Errorf("a label's mention reached Slack: %s", truncated(said))
		}
	})

	t.Run("10,000 alerts in one notification are one bounded note", func(t *testing.T) {
		var alerts []string
		for i := range 10_000 {
			alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{"alertname":"Disk%d"},"fingerprint":"fp%d"}`, i, i))
		}
		body := `{"status":"firing","groupKey":"{}:{flood}","alerts":[` + strings.Join(alerts, ",") + `]}`
		a := w.post("/api/v1/alerts/alertmanager", body)
		if a.status != 201 {
			t.Fatalf("%d %s", a.status, truncated(a.raw))
		}
		id := int64(a.body["incident"].(map[string]any)["number"].(float64))
		if w.timelineHas(id, "…and 9990 more") != 1 {
			t.Errorf("timeline %q", w.timeline(id))
		}
		tooBig := `{"status":"firing","alerts":[` + strings.Repeat(`{"status":"firing","labels":{"alertname":"x"}},`, 30_000) + `{}]}`
		if a := w.post("/api/v1/alerts/alertmanager", tooBig); a.status != 413 {
			t.Fatalf("a body over 1 MB: %d %s", a.status, truncated(a.raw))
		}
	})

	t.Run("another token's dedup key finds none of this token's incidents", func(t *testing.T) {
		a := w.post("/api/v1/incidents", `{"severity":"sev3","title":"Mine","dedup_key":"shared"}`)
		b := w.call("POST", "/api/v1/incidents", apptest.APITokenNone, `{"severity":"sev3","title":"Theirs","dedup_key":"shared"}`)
		if a.status != 201 || b.status != 201 || a.str("id") == b.str("id") {
			t.Fatalf("alerts: %d %s; idle: %d %s", a.status, a.raw, b.status, b.raw)
		}
		firing := payload(t, "alertmanager-v4-firing.json")
		x := w.post("/api/v1/alerts/alertmanager", firing)
		y := w.call("POST", "/api/v1/alerts/alertmanager", apptest.APITokenNone, firing)
		if x.str("result") != "declared" || y.str("result") != "declared" || x.str("incident", "id") == y.str("incident", "id") {
			t.Fatalf("one alert group from two tokens: %s / %s", x.raw, y.raw)
		}
	})

	t.Run("no answer carries a token", func(t *testing.T) {
		for _, tok := range []string{apptest.APITokenIncidents, apptest.APITokenApprovals, apptest.APITokenNone} {
			for _, path := range []string{"/api/v1/incidents", "/api/v1/incidents/INC-1", "/api/v1/alerts/grafana", "/api/v1/nowhere"} {
				if a := w.call("POST", path, tok, `{"title":"`+tok+`"}`); strings.Contains(a.raw, tok) {
					t.Errorf("POST %s answered with the token: %s", path, a.raw)
				}
			}
		}
	})
}

func truncated(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// TestAlertRetryFinishesADeclarationCutShort: a declaration whose process died after
// storing the incident, before announcing it, is finished by Alertmanager's retry —
// announced once and its runbooks started — instead of left silent.
func TestAlertRetryFinishesADeclarationCutShort(t *testing.T) {
	w := startAPI(t)
	cut := &runbook.Incident{Title: "BlackBox Probe Failure: https://server.example.org", Severity: "sev1", Status: "detected",
		Service: "http_checks", CreatedBy: "api:alerts", RequestKey: "api/alerts/cut-short",
		DedupKey: `alerts/alertmanager:{}/{severity="critical"}:{alertname="ProbeFailure"}`}
	if err := w.App().DB.Incidents().CreateIncident(context.Background(), cut); err != nil {
		t.Fatal(err)
	}
	a := w.post("/api/v1/alerts/alertmanager", payload(t, "alertmanager-v4-firing.json"))
	if a.status != 200 || a.str("incident", "id") != "INC-1" || a.str("incident", "url") == "" {
		t.Fatalf("the retry: %d %s", a.status, a.raw)
	}
	w.WaitFor("the announcement", func() bool { return len(w.botTopLevel(w.payments.ID)) == 1 })
	w.runsDone(1, 1)
	w.post("/api/v1/alerts/alertmanager", strings.ReplaceAll(payload(t, "alertmanager-v4-firing.json"), "2023-02-06", "2023-02-08"))
	if n := len(w.botTopLevel(w.payments.ID)); n != 1 {
		t.Fatalf("%d announcements after another notification, want 1", n)
	}
	if n := len(w.runsOf(1)); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

// TestAPIFieldsAreCheckedAndInert: custom fields through the API are checked as in
// Slack, and a mention in a string field's value pages no one.
func TestAPIFieldsAreCheckedAndInert(t *testing.T) {
	w := startAPI(t, func(c *config.Config) {
		c.Incidents.Fields = []config.Field{{Name: "region", Type: "string"}, {Name: "tier", Type: "enum", Values: []string{"gold", "silver"}}}
	})
	if a := w.post("/api/v1/incidents", `{"severity":"sev3","title":"x","fields":{"tier":"bronze"}}`); a.status != 400 || !strings.Contains(a.str("message"), "tier") {
		t.Fatalf("an enum value not among its values: %d %s", a.status, a.raw)
	}
	a := w.post("/api/v1/incidents", `{"severity":"sev3","title":"Latency","fields":{"region":"<@`+w.bob.ID+`> <!here>","tier":"gold"}}`)
	if a.status != 201 || a.str("fields", "tier") != "gold" {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	w.WaitFor("the announcement", func() bool { return strings.Contains(w.botSaid(w.incidents.ID), "INC-1") })
	if said := w.botSaid(w.incidents.ID); strings.Contains(said, "<@"+w.bob.ID+">") || strings.Contains(said, "<!here>") {
		t.Fatalf("a field's mention reached Slack: %s", said)
	}
}

// TestAPIIsToldBusyPastItsBound: a token is held to the bounds people in Slack are.
// With one run under way per person allowed, the alerts token's first declaration
// starts a runbook that waits an hour; its next declaration is answered 503 with
// Retry-After and the busy sentence — nothing declared — and alert senders retry 5xx.
func TestAPIIsToldBusyPastItsBound(t *testing.T) {
	dir := t.TempDir()
	waiting := "name: hold\non:\n  - event: incident.declared\nsteps:\n  - action: wait\n    with: { duration: 1h }\n"
	if err := apptest.WriteRunbooks(dir, nil, map[string]string{"hold.yaml": waiting}); err != nil {
		t.Fatal(err)
	}
	w := startAPI(t, func(c *config.Config) {
		c.Runbooks.Dir = dir
		c.Limits.RunsPerPerson = 1
	})
	if a := w.post("/api/v1/incidents", `{"severity":"sev2","title":"first","dedup_key":"a"}`); a.status != 201 {
		t.Fatalf("first declaration: %d %s", a.status, a.raw)
	}
	w.WaitFor("its runbook to be under way", func() bool {
		n, err := w.App().DB.Runs().RunsUnderWay(context.Background(), runbook.APIActor("alerts"), 10)
		return err == nil && n == 1
	})
	req, err := http.NewRequest("POST", w.APIURL()+"/api/v1/incidents", strings.NewReader(`{"severity":"sev2","title":"second","dedup_key":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apptest.APITokenIncidents)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || res.Header.Get("Retry-After") != "60" || !strings.Contains(string(body), "busy — try again in a minute") {
		t.Fatalf("second declaration: %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if n := w.incidentCount(); n != 1 {
		t.Errorf("%d incidents, want the first only", n)
	}
}
