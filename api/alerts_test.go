package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/runbookhq/runbook/slackui"
)

// alertServer maps alerts as a bot with the services payments and http_checks would,
// critical → sev1 and anything else → sev3.
func alertServer() *Server {
	return New(Deps{Services: []string{"http_checks", "payments"}, AlertSeverity: func(label string) string {
		if label == "critical" {
			return "sev1"
		}
		return "sev3"
	}})
}

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mapped(t testing.TB, body []byte) alertInfo {
	t.Helper()
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
	return alertServer().readAlert(&p, Caller{Name: "alerts"}, SourceAlertmanager)
}

// TestRealPayloadsMap: each checked-in notification becomes the incident an on-call
// would expect from it.
func TestRealPayloadsMap(t *testing.T) {
	for _, c := range []struct {
		file, title, severity, service, unknown, key string
	}{
		{"alertmanager-v4-firing.json", "BlackBox Probe Failure: https://server.example.org", "sev1", "http_checks", "",
			`alerts/alertmanager:{}/{severity="critical"}:{alertname="ProbeFailure"}`},
		{"alertmanager-v4-test.json", "Test", "sev3", "", "prometheus24", `alerts/alertmanager:{}:{alertname="Test", job="prometheus24"}`},
		{"grafana-firing.json", "This alert was triggered for zone us-1", "sev3", "", "", "alerts/alertmanager:{}:{}"},
	} {
		t.Run(c.file, func(t *testing.T) {
			a := mapped(t, readPayload(t, c.file))
			if a.title != c.title || a.severity != c.severity || a.service != c.service || a.unknownService != c.unknown || a.dedupKey != c.key {
				t.Fatalf("mapped to title %q severity %q service %q (unknown %q) key %q", a.title, a.severity, a.service, a.unknownService, a.dedupKey)
			}
		})
	}
}

// TestRetryHasTheSameDigest: the same notification posted again is the same digest;
// a new alert in the group, or the group resolving, is another.
func TestRetryHasTheSameDigest(t *testing.T) {
	body := readPayload(t, "grafana-firing.json")
	first, again := mapped(t, body), mapped(t, body)
	if first.digest != again.digest {
		t.Fatal("a retry has another digest")
	}
	resolved := mapped(t, []byte(strings.ReplaceAll(string(body), `"firing"`, `"resolved"`)))
	if resolved.digest == first.digest || resolved.dedupKey != first.dedupKey {
		t.Fatal("the group resolving has the firing notification's digest, or another group's key")
	}
}

// FuzzWebhook: whatever a webhook body holds, the incident it maps to has a title
// Declare takes (1–200 runes, one line, no control characters), a bounded key and a
// bounded note.
func FuzzWebhook(f *testing.F) {
	for _, name := range []string{"alertmanager-v4-firing.json", "alertmanager-v4-test.json", "grafana-firing.json"} {
		f.Add(readPayload(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p WebhookPayload
		if json.Unmarshal(body, &p) != nil || p.check() != nil {
			return
		}
		a := alertServer().readAlert(&p, Caller{Name: "alerts"}, SourceGrafana)
		if n := utf8.RuneCountInString(a.title); n == 0 || n > 200 || strings.IndexFunc(a.title, unicode.IsControl) >= 0 ||
			slackui.Inert(a.title) != a.title || slackui.Inert(a.lines) != a.lines {
			t.Fatalf("title %q", a.title)
		}
		if n := utf8.RuneCountInString(shownDedupKey(a.dedupKey)); n > maxDedupKey || strings.IndexFunc(a.dedupKey, isControl) >= 0 {
			t.Fatalf("dedup key %q", a.dedupKey)
		}
		if n := utf8.RuneCountInString(a.lines); n > maxListing {
			t.Fatalf("listing of %d runes", n)
		}
		if a.severity != "sev1" && a.severity != "sev3" {
			t.Fatalf("severity %q", a.severity)
		}
	})
}
