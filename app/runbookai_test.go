package app_test

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// runbookAIDoc is a config file copied from RunbookAI's documentation.
func runbookAIDoc(name string) string {
	return filepath.Join("..", "config", "testdata", "runbookai", name)
}

// fromRunbookAIFile replaces the kit's configuration with the RunbookAI file at path,
// loaded as the binary would load it: the kit's tokens in SLACK_*, the emulator and
// the test's directories in RUNBOOK_* overrides, and more lines of environment.
func fromRunbookAIFile(t *testing.T, path string, more ...string) func(*config.Config) {
	return func(c *config.Config) {
		env := append([]string{
			"SLACK_BOT_TOKEN=" + c.Slack.BotToken.Reveal(),
			"SLACK_SIGNING_SECRET=" + apptest.SigningSecret,
			"RUNBOOK_SLACK__APIURL=" + c.Slack.APIURL,
			"RUNBOOK_STORE__PATH=" + c.Store.Path,
			"RUNBOOK_RUNBOOKS__DIR=" + c.Runbooks.Dir,
		}, more...)
		loaded, err := config.Load(path, env)
		if err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		*c = *loaded
	}
}

// TestRunbookAIConfigSocketMode starts the bot on RunbookAI's Slack page's config file
// as written, with an app-level token in the environment: it connects by Socket Mode,
// and a declared incident is announced where the file's per-service channel says.
func TestRunbookAIConfigSocketMode(t *testing.T) {
	var checkout, incidents slackfake.Channel
	h := startWith(t, func(w *harness) {
		incidents = w.Channel("incidents")
		w.Channel("runbook-approvals")
		checkout = w.Channel("checkout-team")
		w.Channel("payments-team")
	}, func(c *config.Config) {
		fromRunbookAIFile(t, runbookAIDoc("slack.yaml"), "SLACK_APP_TOKEN="+c.Slack.AppToken.Reveal())(c)
	})
	if n := h.Slack.ConnectCount(); n == 0 {
		t.Fatal("no Socket Mode connection")
	}
	if answer := h.Ask(h.alice.ID, h.general.ID, "declare sev3 checkout-api card form times out"); !strings.Contains(answer, "INC-1") {
		t.Fatalf("declare answered %q", answer)
	}
	h.WaitFor("the announcement in #checkout-team", func() bool { return len(h.botTopLevel(checkout.ID)) > 0 })
	if answer := h.Ask(h.alice.ID, h.general.ID, "declare sev3 search results are stale"); !strings.Contains(answer, "INC-2") {
		t.Fatalf("declare answered %q", answer)
	}
	h.WaitFor("the announcement in #incidents", func() bool { return len(h.botTopLevel(incidents.ID)) > 0 })
}

// TestRunbookAIConfigHTTPMode starts the bot on RunbookAI's complete configuration
// reference as written, with its documented SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET
// and no app-level token: Slack's requests are posted to the bot, no Socket Mode
// connection is opened, and RunbookAI's other sections are named once in the log.
func TestRunbookAIConfigHTTPMode(t *testing.T) {
	var incidents slackfake.Channel
	h := startWith(t, func(w *harness) {
		incidents = w.Channel("incidents")
	}, fromRunbookAIFile(t, runbookAIDoc("configuration.yaml"), "RUNBOOK_HTTP__ADDR=127.0.0.1:0"))
	if !h.Config.Slack.HTTPMode() {
		t.Fatalf("slack.mode = %s, want http", h.Config.Slack.Mode)
	}
	if answer := h.Ask(h.alice.ID, h.general.ID, "declare sev2 checkout slow"); !strings.Contains(answer, "INC-1") {
		t.Fatalf("declare answered %q", answer)
	}
	h.WaitFor("the announcement in #incidents", func() bool { return len(h.botTopLevel(incidents.ID)) > 0 })
	if n := h.Slack.ConnectCount(); n != 0 {
		t.Errorf("%d Socket Mode connections in HTTP mode", n)
	}
	logs := h.Logs.String()
	want := `msg="RunbookAI settings Runbook has no use for are ignored" keys="[agent incident.opsgenie incident.pagerduty knowledge llm providers safety]"`
	if n := strings.Count(logs, "no use for"); n != 1 || !strings.Contains(logs, want) {
		t.Errorf("the log names the ignored settings %d times; want once, as\n%s\nlog:\n%s", n, want, apptest.Tail(logs, 20))
	}
}

// TestRunbookAISlackOff: incident.slack.enabled: false starts a bot that says so, needs
// no tokens (the variables the file refers to are not set), calls nothing in Slack,
// creates no database, and serves the probes and metrics until it is stopped.
func TestRunbookAISlackOff(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	path := filepath.Join(k.Dir, "config.yaml")
	file := "incident:\n  slack:\n    enabled: false\n    botToken: ${SLACK_BOT_TOKEN}\n    signingSecret: ${SLACK_SIGNING_SECRET}\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{"RUNBOOK_HTTP__ADDR=127.0.0.1:0", "RUNBOOK_SLACK__APIURL=" + k.Config.Slack.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	opts := k.AppOptions
	opts.Logger = apptest.Logger(k.Logs, slog.LevelInfo)
	r, err := apptest.Start(k.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	k.WaitFor("the probes served", func() bool { return r.Exited() || r.App.HTTP.Listening() })
	if r.Exited() {
		t.Fatalf("the bot stopped: %v", r.Err())
	}
	base := "http://" + r.App.HTTP.Addr()
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, body := httpGet(t, base+p); code != http.StatusOK {
			t.Errorf("%s answered %d %q", p, code, body)
		}
	}
	if n := len(k.Slack.APICalls()); n != 0 || k.Slack.ConnectCount() != 0 {
		t.Errorf("%d Web API calls and %d connections with Slack off", n, k.Slack.ConnectCount())
	}
	if _, err := os.Stat(filepath.Join(k.Dir, "runbook.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a database was created with Slack off (%v)", err)
	}
	if err := r.Stop(k.Context()); err != nil {
		t.Fatal(err)
	}
	want := `msg="slack integration is off (incident.slack.enabled: false); not connecting to Slack"`
	if logs := k.Logs.String(); !strings.Contains(logs, want) {
		t.Errorf("the log does not say\n%s\nlog:\n%s", want, logs)
	}
}
