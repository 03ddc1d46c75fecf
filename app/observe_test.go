package app_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func startObserved(t *testing.T) (*incidentWorld, string) {
	t.Helper()
	w := startIncidentsWith(t, func(c *config.Config) { c.HTTP.Addr = "127.0.0.1:0" })
	return w, "http://" + w.App().HTTP.Addr()
}

// metricValue sums the samples of a series whose labels contain every given label.
func metricValue(body, name string, labels ...string) float64 {
	total := 0.0
	re := regexp.MustCompile(`(?m)^` + name + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(m[1], l)
		}
		if ok {
			v, _ := strconv.ParseFloat(m[2], 64)
			total += v
		}
	}
	return total
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	w, base := startObserved(t)
	_, before := httpGet(t, base+"/metrics")
	w.command("declare sev1 checkout is down")
	w.runsDone(1, 1)
	w.Slack.DropConnections()
	w.WaitFor("a reconnect, counted", func() bool {
		_, now := httpGet(t, base+"/metrics")
		return metricValue(now, "runbook_socket_reconnects_total") > metricValue(before, "runbook_socket_reconnects_total")
	})
	w.command("status INC-1")
	code, after := httpGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	for _, s := range []struct {
		name   string
		labels []string
	}{
		{"runbook_envelopes_total", []string{`type="slash_commands"`}},
		{"runbook_ack_seconds_count", nil},
		{"runbook_slack_calls_total", []string{`method="chat.postMessage"`, `result="ok"`}},
		{"runbook_slack_calls_total", []string{`method="conversations.create"`}},
		{"runbook_runs", []string{`state="succeeded"`}},
		{"runbook_socket_reconnects_total", nil},
	} {
		if metricValue(after, s.name, s.labels...) <= metricValue(before, s.name, s.labels...) {
			t.Errorf("%s%v did not move: before %v, after %v", s.name, s.labels, metricValue(before, s.name, s.labels...), metricValue(after, s.name, s.labels...))
		}
	}
	// A refresh Slack announces is routine: its replacement is not a reconnect.
	connects := w.Slack.ConnectCount()
	if !w.Slack.Refresh(100 * time.Millisecond) {
		t.Fatal("no connection to refresh")
	}
	w.WaitFor("the refreshed connection replaced and closed", func() bool {
		return w.Slack.ConnectCount() == connects+1 && w.Slack.Connections() == w.Config.Slack.Connections
	})
	if _, refreshed := httpGet(t, base+"/metrics"); metricValue(refreshed, "runbook_socket_reconnects_total") != metricValue(after, "runbook_socket_reconnects_total") {
		t.Errorf("a refresh counted as a reconnect: %v, then %v", metricValue(after, "runbook_socket_reconnects_total"), metricValue(refreshed, "runbook_socket_reconnects_total"))
	}
	for _, name := range []string{"runbook_handler_errors_total", "runbook_slack_ratelimited_total", "runbook_approvals"} {
		if !strings.Contains(after, "# HELP "+name) {
			t.Errorf("/metrics has no %s series", name)
		}
	}
}

// /healthz says the process is alive and stays 200 while Slack is out of reach, so that
// a liveness probe never restarts the bot during Slack's outage; /readyz says whether
// it can serve now, and is 503 with the reason while it cannot.
func TestProbes(t *testing.T) {
	h := start(t, func(c *config.Config) { c.HTTP.Addr = "127.0.0.1:0" })
	h.Stop()
	// A bot that hears nothing from Slack for a second is not ready.
	h.AppOptions = app.Options{PingInterval: 2 * time.Second, HealthWindow: time.Second}
	a := h.Start()
	base := "http://" + a.HTTP.Addr()
	ready := func() bool { code, _ := httpGet(t, base+"/readyz"); return code == 200 }
	alive := func() {
		t.Helper()
		if code, body := httpGet(t, base+"/healthz"); code != 200 {
			t.Fatalf("/healthz answered %d while Slack was out of reach: %s", code, body)
		}
	}
	h.WaitFor("ready once connected", ready)
	alive()

	h.Slack.PausePings(true)
	h.WaitFor("not ready without pings", func() bool { return !ready() })
	alive()
	h.Slack.PausePings(false)
	h.WaitFor("ready after pings resume", ready)

	// Every connection is down, and stays down while Slack refuses to open new ones.
	// A connection that had its address before the refusals began (a redial after the
	// pings stopped) may still connect: Slack drops it too.
	h.Slack.FailNext("apps.connections.open", 1_000_000, 500)
	h.WaitFor("not ready while disconnected", func() bool {
		h.Slack.DropConnections()
		code, body := httpGet(t, base+"/readyz")
		return code == 503 && strings.Contains(body, "not connected to Slack")
	})
	alive()
	h.Slack.FailNext("apps.connections.open", 0, 0) // Slack is back
	h.WaitFor("ready after the reconnect", ready)
}
