package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hello is a runbook for the discovery tests, named after the directory it is in.
func writeHello(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "name: " + name + "\nsteps:\n  - action: slack.send_message\n    with: { channel: \"#general\", text: hello }\n"
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRunbookAIConfigFound: with no --config, $RUNBOOK_CONFIG or ./config.yaml, the
// bot reads RunbookAI's .runbook/config.yaml as written, with the runbooks beside it;
// the earlier places still win.
func TestRunbookAIConfigFound(t *testing.T) {
	doc, err := os.ReadFile("../../config/testdata/runbookai/slack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".runbook"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".runbook", "config.yaml"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	writeHello(t, filepath.Join(dir, ".runbook", "runbooks"), "from-runbookai")
	t.Chdir(dir)

	code, out := runBot(t, nil, "validate")
	for _, want := range []string{
		"bot: not checked: ${SLACK_BOT_TOKEN} is not set (incident.slack.botToken)",
		"1 runbook(s) in " + filepath.Join(".runbook", "runbooks") + " are valid: from-runbookai",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d; the output lacks %q:\n%s", code, want, out)
		}
	}

	writeHello(t, filepath.Join(dir, "books"), "from-config-yaml")
	if err := os.WriteFile("config.yaml", []byte("runbooks:\n  dir: books\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runBot(t, nil, "validate"); code != 0 || !strings.Contains(out, "valid: from-config-yaml") {
		t.Errorf("with ./config.yaml: exit %d:\n%s", code, out)
	}

	other := filepath.Join(t.TempDir(), "other.yaml")
	writeHello(t, filepath.Join(filepath.Dir(other), "runbooks"), "from-env")
	if err := os.WriteFile(other, []byte("log:\n  level: info\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runBot(t, []string{"RUNBOOK_CONFIG=" + other}, "validate"); code != 0 || !strings.Contains(out, "valid: from-env") {
		t.Errorf("with $RUNBOOK_CONFIG: exit %d:\n%s", code, out)
	}
}

// TestRunbookAISlackOffValidates: with the Slack integration off, validate still
// checks the runbooks, and a broken one fails it; what it ignores it names.
func TestRunbookAISlackOffValidates(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("llm:\n  apiKey: ${ANTHROPIC_API_KEY}\nincident:\n  slack:\n    enabled: false\n    botToken: ${SLACK_BOT_TOKEN}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	books := filepath.Join(dir, "runbooks")
	writeHello(t, books, "fine")
	code, out := runBot(t, nil, "validate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "valid: fine") || !strings.Contains(out, "bot: ignored, RunbookAI's and of no use to Runbook: llm\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "not checked") {
		t.Errorf("with Slack off its tokens are not needed, nor noted:\n%s", out)
	}
	if err := os.WriteFile(filepath.Join(books, "bad.yaml"), []byte("name: bad\nsteps:\n  - action: slack.send_mesage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runBot(t, nil, "validate", "--config", cfg); code != 1 || !strings.Contains(out, "1 problem(s)") {
		t.Fatalf("exit %d with a broken runbook:\n%s", code, out)
	}
}
