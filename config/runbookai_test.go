package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fakeSigning = "0123456789abcdef0123456789abcdef"

// runbookAIDoc is a file copied from RunbookAI's documentation (testdata/runbookai).
func runbookAIDoc(name string) string { return filepath.Join("testdata", "runbookai", name) }

// TestRunbookAIDocumentedFiles loads RunbookAI's documented config files as written:
// with the variables its documentation has people set, and nothing else, they are a
// configuration the bot runs on.
func TestRunbookAIDocumentedFiles(t *testing.T) {
	env := []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_SIGNING_SECRET=" + fakeSigning}

	t.Run("Slack page", func(t *testing.T) {
		cfg, err := Load(runbookAIDoc("slack.yaml"), env)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.RequireTokens(); err != nil {
			t.Fatal(err)
		}
		eq(t, "RunbookAI shape", cfg.RunbookAIShape(), true)
		eq(t, "slack.botToken", cfg.Slack.BotToken.Reveal(), fakeBot)
		eq(t, "slack.signingSecret", cfg.Slack.SigningSecret.Reveal(), fakeSigning)
		eq(t, "slack.defaultChannel", cfg.Slack.DefaultChannel, "#incidents")
		eq(t, "slack.approvalChannel", cfg.Slack.ApprovalChannel, "#runbook-approvals")
		eq(t, "slack.investigationUpdates", cfg.Slack.InvestigationUpdates, true)
		eq(t, "slack.updateChannel", cfg.Slack.UpdateChannel, "#incidents")
		eq(t, "checkout-api's channel", cfg.ServiceChannel("checkout-api"), "#checkout-team")
		eq(t, "payment-service's channel", cfg.ServiceChannel("payment-service"), "#payments-team")
		eq(t, "slack.enabled", cfg.Slack.Enabled, true)
		// A signing secret and no app-level token: Slack posts to the bot, on the port
		// of RunbookAI's webhook server.
		eq(t, "slack.mode", cfg.Slack.Mode, ModeHTTP)
		eq(t, "http.addr", cfg.HTTP.Addr, HTTPModeDefaultAddr)
		eq(t, "ignored", fmt.Sprint(cfg.IgnoredKeys()), "[]")
	})

	t.Run("configuration reference", func(t *testing.T) {
		cfg, err := Load(runbookAIDoc("configuration.yaml"), env)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.RequireTokens(); err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.defaultChannel", cfg.Slack.DefaultChannel, "#incidents")
		eq(t, "ignored", strings.Join(cfg.IgnoredKeys(), " "),
			"agent incident.opsgenie incident.pagerduty knowledge llm providers safety")
	})

	t.Run("an app-level token keeps Socket Mode", func(t *testing.T) {
		cfg, err := Load(runbookAIDoc("slack.yaml"), append(slices.Clone(env), "SLACK_APP_TOKEN="+fakeApp))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.RequireTokens(); err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.mode", cfg.Slack.Mode, ModeSocket)
		eq(t, "http.addr", cfg.HTTP.Addr, "")
	})

	t.Run("RunbookAI's appToken", func(t *testing.T) {
		cfg, err := Load(writeFile(t, "incident:\n  slack:\n    botToken: ${B}\n    appToken: ${A}\n    signingSecret: ${S}\n"),
			[]string{"B=" + fakeBot, "A=" + fakeApp, "S=" + fakeSigning})
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.appToken", cfg.Slack.AppToken.Reveal(), fakeApp)
		eq(t, "slack.mode", cfg.Slack.Mode, ModeSocket)
	})

	t.Run("variables not set are named as the file names them", func(t *testing.T) {
		_, err := Load(runbookAIDoc("slack.yaml"), nil)
		want := "config: incident.slack.botToken refers to ${SLACK_BOT_TOKEN}, which is not set\n" +
			"config: incident.slack.signingSecret refers to ${SLACK_SIGNING_SECRET}, which is not set"
		if err == nil || err.Error() != want {
			t.Fatalf("Load = %v, want\n%s", err, want)
		}
	})
}

// TestRunbookAIEnvironment: the environment overrides a RunbookAI-shaped file as it
// does one of Runbook's, also for keys only Runbook has, without that being two
// shapes in one file.
func TestRunbookAIEnvironment(t *testing.T) {
	path := writeFile(t, "incident:\n  slack:\n    botToken: ${SLACK_BOT_TOKEN}\n    defaultChannel: ${CHANNEL}\n")
	cfg, err := Load(path, []string{
		"SLACK_BOT_TOKEN=xoxb-from-the-file-variable", "SLACK_APP_TOKEN=" + fakeApp, "CHANNEL=#ops",
		"RUNBOOK_SLACK__BOTTOKEN=" + fakeBot,
		"RUNBOOK_SLACK__APIURL=http://127.0.0.1:9/api/",
		"RUNBOOK_HTTP__ADDR=127.0.0.1:8081",
		"RUNBOOK_STORE__PATH=var/runbook.db",
		"RUNBOOK_SLACK__COMMAND=/ops",
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "slack.botToken", cfg.Slack.BotToken.Reveal(), fakeBot)
	eq(t, "slack.defaultChannel", cfg.Slack.DefaultChannel, "#ops")
	eq(t, "slack.apiURL", cfg.Slack.APIURL, "http://127.0.0.1:9/api/")
	eq(t, "http.addr", cfg.HTTP.Addr, "127.0.0.1:8081")
	eq(t, "store.path", cfg.Store.Path, "var/runbook.db")
	eq(t, "slack.command", cfg.Slack.Command, "/ops")
	eq(t, "slack.mode", cfg.Slack.Mode, ModeSocket)

	t.Run("RUNBOOK_SLACK__MODE decides", func(t *testing.T) {
		path := writeFile(t, "incident:\n  slack:\n    signingSecret: "+fakeSigning+"\n")
		cfg, err := Load(path, []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp, "RUNBOOK_SLACK__MODE=http", "RUNBOOK_HTTP__ADDR=:9090"})
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.mode", cfg.Slack.Mode, ModeHTTP)
		eq(t, "http.addr", cfg.HTTP.Addr, ":9090")
		cfg, err = Load(path, []string{"SLACK_BOT_TOKEN=" + fakeBot, "RUNBOOK_SLACK__MODE=socket"})
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.mode", cfg.Slack.Mode, ModeSocket)
		if err := cfg.RequireTokens(); err == nil || err.Error() != "config: incident.slack.appToken is required: set it in the config file or SLACK_APP_TOKEN" {
			t.Fatalf("RequireTokens = %v", err)
		}
	})

	t.Run("secrets stay redacted", func(t *testing.T) {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "config", cfg)
		fmt.Fprintf(&buf, "%v %+v %#v", cfg, *cfg, *cfg)
		if strings.Contains(buf.String(), fakeBot) {
			t.Fatalf("the bot token was printed: %s", buf.String())
		}
	})
}

// TestRunbookAISlackOff: incident.slack.enabled: false turns the integration off, and
// then the bot needs no tokens, nor the variables that would hold them.
func TestRunbookAISlackOff(t *testing.T) {
	cfg, err := Load(writeFile(t, "incident:\n  slack:\n    enabled: false\n    botToken: ${SLACK_BOT_TOKEN}\n    signingSecret: ${SLACK_SIGNING_SECRET}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "slack.enabled", cfg.Slack.Enabled, false)
	eq(t, "slack.mode", cfg.Slack.Mode, ModeSocket)
	eq(t, "key", cfg.Key("slack.enabled"), "incident.slack.enabled")
	if err := cfg.RequireTokens(); err != nil {
		t.Fatalf("RequireTokens with Slack off = %v", err)
	}

	t.Run("Runbook's shape", func(t *testing.T) {
		cfg, err := Load(writeFile(t, "slack:\n  enabled: false\n  botToken: ${SLACK_BOT_TOKEN}\n  mode: http\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.enabled", cfg.Slack.Enabled, false)
		eq(t, "key", cfg.Key("slack.enabled"), "slack.enabled")
		if err := cfg.RequireTokens(); err != nil {
			t.Fatalf("RequireTokens with Slack off = %v", err)
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		cfg, err := Load(runbookAIDoc("slack.yaml"), []string{"RUNBOOK_SLACK__ENABLED=false"})
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.enabled", cfg.Slack.Enabled, false)
	})
	t.Run("not a boolean", func(t *testing.T) {
		_, err := Load(writeFile(t, "incident:\n  slack:\n    enabled: sometimes\n    investigationUpdates: [1]\n"), nil)
		want := "config: incident.slack.enabled must be true or false\n" +
			"config: incident.slack.investigationUpdates must be true or false"
		if err == nil || err.Error() != want {
			t.Fatalf("Load = %v, want\n%s", err, want)
		}
	})
}

// TestRunbookAIMixedShapes: Runbook's slack section beside RunbookAI's incident.slack
// is refused, naming both keys and never a value.
func TestRunbookAIMixedShapes(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"the same key in both", "incident:\n  slack:\n    botToken: " + fakeBot + "\nslack:\n  botToken: " + fakeBot + "\n",
			"config: incident.slack.botToken (RunbookAI's shape) and slack.botToken (Runbook's) are both set; use one shape"},
		{"a key only Runbook has", "incident:\n  slack:\n    defaultChannel: '#a'\nslack:\n  apiURL: http://127.0.0.1:1/api/\n",
			"config: incident.slack (RunbookAI's shape) and slack.apiURL (Runbook's) are both set; use one shape, or set slack.apiURL with RUNBOOK_SLACK__APIURL"},
		{"both, each reported", "incident:\n  slack:\n    signingSecret: " + fakeSigning + "\nslack:\n  signingSecret: " + fakeSigning + "\n  mode: http\n",
			"config: incident.slack (RunbookAI's shape) and slack.mode (Runbook's) are both set; use one shape, or set slack.mode with RUNBOOK_SLACK__MODE\n" +
				"config: incident.slack.signingSecret (RunbookAI's shape) and slack.signingSecret (Runbook's) are both set; use one shape"},
		{"slack not a section", "incident:\n  slack:\n    enabled: true\nslack: " + fakeBot + "\n",
			"config: incident.slack (RunbookAI's shape) and slack (Runbook's) are both set; use one shape"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.file), []string{"SLACK_APP_TOKEN=" + fakeApp})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Load = %v, want\n%s", err, tc.want)
			}
			for _, secret := range []string{fakeBot, fakeSigning} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the error shows a secret: %v", err)
				}
			}
		})
	}
	t.Run("slack without incident.slack is Runbook's", func(t *testing.T) {
		cfg, err := Load(writeFile(t, "incident:\n  pagerduty: {enabled: false}\nslack:\n  defaultChannel: '#ops'\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "slack.defaultChannel", cfg.Slack.DefaultChannel, "#ops")
		eq(t, "ignored", strings.Join(cfg.IgnoredKeys(), " "), "incident.pagerduty")
	})
}

// TestRunbookAIAttacks: what a RunbookAI-shaped file cannot do.
func TestRunbookAIAttacks(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		// Runbook's keys are not read from incident.slack: the Web API URL there would
		// send the bot token wherever it pointed.
		{"Runbook's apiURL smuggled into incident.slack", "incident:\n  slack:\n    botToken: " + fakeBot + "\n    apiURL: http://attacker.example/api/\n",
			"config: incident.slack.apiURL is not a RunbookAI key; set Runbook's slack.apiURL with RUNBOOK_SLACK__APIURL"},
		{"Runbook's mode smuggled into incident.slack", "incident:\n  slack:\n    mode: http\n",
			"config: incident.slack.mode is not a RunbookAI key; set Runbook's slack.mode with RUNBOOK_SLACK__MODE"},
		// RunbookAI answers only these people; dropping the list would answer everyone.
		{"allowedUsers would be dropped", "incident:\n  slack:\n    events:\n      enabled: true\n      allowedUsers: [U123]\n",
			"config: incident.slack.events.allowedUsers limits who may use RunbookAI, which Runbook does with permissions.declare, permissions.responders and permissions.admins; move the user ids there and remove allowedUsers"},
		{"allowedUsers as a string would be dropped", "incident:\n  slack:\n    events:\n      allowedUsers: U123,U456\n",
			"config: incident.slack.events.allowedUsers limits who may use RunbookAI, which Runbook does with permissions.declare, permissions.responders and permissions.admins; move the user ids there and remove allowedUsers"},
		{"a typo is not ignored", "incident:\n  slack:\n    botTokn: " + fakeBot + "\n",
			"config: unknown key incident.slack.botTokn (did you mean incident.slack.botToken?)"},
		{"incident for incidents", "incident:\n  severities: [sev1]\n",
			"config: unknown key incident.severities (did you mean incidents.severities?)"},
		{"something RunbookAI does not have", "incident:\n  jira: {}\n",
			"config: unknown key incident.jira: RunbookAI's incident section has pagerduty, opsgenie and slack"},
		// Only RunbookAI's own sections are dropped: a misspelt section of Runbook's
		// (permissions, say) is an error, not silently nothing.
		{"a misspelt Runbook section", "incident:\n  slack: {}\npermisions:\n  admins: [U1]\n",
			"config: unknown key permisions (did you mean permissions?)"},
		{"incident not a section", "incident: " + fakeBot + "\n",
			"config: incident must be a mapping of keys (RunbookAI's incident section)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.file), []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Load = %v, want\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), fakeBot) {
				t.Fatalf("the error shows the token: %v", err)
			}
		})
	}

	t.Run("Runbook-shaped files still refuse RunbookAI's sections", func(t *testing.T) {
		_, err := Load(writeFile(t, "llm:\n  provider: anthropic\nslack:\n  defaultChannel: '#a'\n"), nil)
		if err == nil || !strings.HasPrefix(err.Error(), "config: unknown key llm") {
			t.Fatalf("Load = %v", err)
		}
	})

	t.Run("Runbook's sections keep their checks in a RunbookAI file", func(t *testing.T) {
		cfg, err := Load(writeFile(t, "incident:\n  slack: {defaultChannel: '#a'}\npermissions:\n  admins: [U1]\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "permissions.admins", strings.Join(cfg.Permissions.Admins, ","), "U1")
		_, err = Load(writeFile(t, "incident:\n  slack: {defaultChannel: 'two words'}\nbot:\n  workers: 0\n"), nil)
		want := "config: incident.slack.defaultChannel must be a channel name or id without spaces\nconfig: bot.workers must be at least 1"
		if err == nil || err.Error() != want {
			t.Fatalf("Load = %v, want\n%s", err, want)
		}
	})
}
