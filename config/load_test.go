package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPathsRelativeToFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "runbook")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, content string) string {
		t.Helper()
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	abs := filepath.Join(t.TempDir(), "abs.db")

	t.Run("RelativeInFile", func(t *testing.T) {
		cfg, err := Load(write(t, "store:\n  path: data/runbook.db\nrunbooks:\n  dir: ./books\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "store.path", cfg.Store.Path, filepath.Join(dir, "data", "runbook.db"))
		eq(t, "runbooks.dir", cfg.Runbooks.Dir, filepath.Join(dir, "books"))
	})
	t.Run("DefaultsWithAFile", func(t *testing.T) {
		cfg, err := Load(write(t, "log:\n  level: debug\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "store.path", cfg.Store.Path, filepath.Join(dir, "runbook.db"))
		eq(t, "runbooks.dir", cfg.Runbooks.Dir, filepath.Join(dir, "runbooks"))
	})
	t.Run("AbsoluteStays", func(t *testing.T) {
		cfg, err := Load(write(t, "store:\n  path: "+abs+"\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "store.path", cfg.Store.Path, abs)
	})
	t.Run("EnvironmentIsRelativeToWorkingDirectory", func(t *testing.T) {
		cfg, err := Load(write(t, "store:\n  path: data/runbook.db\n"), []string{"RUNBOOK_STORE__PATH=var/r.db", "RUNBOOK_RUNBOOKS__DIR=mine"})
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "store.path", cfg.Store.Path, "var/r.db")
		eq(t, "runbooks.dir", cfg.Runbooks.Dir, "mine")
	})
	t.Run("NoFile", func(t *testing.T) {
		cfg, err := Load("", nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "store.path", cfg.Store.Path, "runbook.db")
		eq(t, "runbooks.dir", cfg.Runbooks.Dir, "runbooks")
	})
}

func TestUnsetReferences(t *testing.T) {
	content := `
slack:
  botToken: ${SLACK_BOT_TOKEN_PROD}
bot:
  workers: ${WORKERS}
secrets:
  deploy_token: ${DEPLOY_TOKEN}
approvals:
  approvers: ["${LEAD}"]
`
	t.Run("StrictByDefault", func(t *testing.T) {
		_, err := load(t, content)
		if err == nil {
			t.Fatal("Load accepted unset variables")
		}
		for _, want := range []string{
			"config: slack.botToken refers to ${SLACK_BOT_TOKEN_PROD}, which is not set",
			"config: bot.workers refers to ${WORKERS}, which is not set",
			"config: secrets.deploy_token refers to ${DEPLOY_TOKEN}, which is not set",
			"config: approvals.approvers[0] refers to ${LEAD}, which is not set",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not say %q:\n%v", want, err)
			}
		}
		if strings.Contains(err.Error(), "bot.workers must") {
			t.Errorf("an unset variable also reported as a bad value:\n%v", err)
		}
	})
	t.Run("Noted", func(t *testing.T) {
		var notes []string
		cfg, err := LoadWith(writeFile(t, content), []string{"SLACK_APP_TOKEN=" + fakeApp}, LoadOptions{
			Unset: func(key, name string) { notes = append(notes, key+" "+name) },
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(notes)
		eq(t, "notes", notes, []string{"approvals.approvers[0] LEAD", "bot.workers WORKERS", "secrets.deploy_token DEPLOY_TOKEN", "slack.botToken SLACK_BOT_TOKEN_PROD"})
		eq(t, "bot.workers (its default)", cfg.Bot.Workers, 8)
		eq(t, "secret names", cfg.SecretNames(), []string{"deploy_token"})
		eq(t, "slack.appToken", cfg.Slack.AppToken.Reveal(), fakeApp)
	})
}

func TestValueErrorsAllAtOnce(t *testing.T) {
	_, err := load(t, `
bot:
  workers: many
  queue: -1
approvals:
  timeout: 30
log:
  level: loud
http:
  addr: nowhere
incidents:
  severities: [sev1, sev1]
slack:
  defaultChannel: ${NOPE}
`)
	if err == nil {
		t.Fatal("Load accepted bad values")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{
		"config: bot.workers must be",
		"config: approvals.timeout must be",
		"config: bot.queue must not be negative",
		"config: log.level must be one of",
		"config: http.addr must be host:port",
		"config: incidents.severities[1] repeats incidents.severities[0]",
		"config: slack.defaultChannel refers to ${NOPE}, which is not set",
	} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("no line starts %q:\n%v", want, err)
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "config: ") {
			t.Errorf("line %q does not start with config: ", l)
		}
	}
	// A value that does not decode is reported once, not again as the zero it became.
	if strings.Contains(err.Error(), "bot.workers must be at least 1") || strings.Contains(err.Error(), "approvals.timeout must be positive") {
		t.Errorf("a value was reported twice:\n%v", err)
	}
	if len(lines) != 7 {
		t.Errorf("%d lines, want 7:\n%v", len(lines), err)
	}
}
