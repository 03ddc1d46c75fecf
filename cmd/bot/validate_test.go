package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate reads flags and the runbooks' path in any order, and a single file.
func TestValidateArguments(t *testing.T) {
	const cfg, dir = "../../config.example.yaml", "../../runbooks/examples"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"DirThenFlag", []string{"validate", dir, "--config", cfg}, "4 runbook(s) in " + dir},
		{"FlagThenDir", []string{"validate", "--config", cfg, dir}, "4 runbook(s) in " + dir},
		{"FlagWithEquals", []string{"validate", dir, "-config=" + cfg}, "4 runbook(s) in " + dir},
		{"SingleFile", []string{"validate", dir + "/scale-up.yaml", "--config", cfg}, "1 runbook(s) in " + dir + "/scale-up.yaml are valid: scale-up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runBot(t, nil, tc.args...)
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want 0 and %q:\n%s", code, tc.want, out)
			}
		})
	}
	t.Run("TwoPaths", func(t *testing.T) {
		code, out := runBot(t, nil, "validate", dir, "--config", cfg, dir+"/scale-up.yaml")
		if code != 2 || !strings.Contains(out, "validate takes one directory or runbook file, got 2") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("ProblemsOfASingleFile", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(file, []byte("name: bad\nsteps:\n  - action: slack.send_mesage\n    with: { text: hi }\n"), 0o600)
		code, out := runBot(t, nil, "validate", file, "--config", cfg)
		if code != 1 || !strings.Contains(out, file+":3: ") || !strings.Contains(out, "1 problem(s) in "+file) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
}

// A CI job has no secrets: every ${NAME} that is not set is noted, not failed; running
// the bot with the same config still refuses it.
func TestValidateWithoutSecrets(t *testing.T) {
	cfg := writeConfig(t, `slack:
  botToken: ${SLACK_BOT_TOKEN_PROD}
  appToken: ${SLACK_APP_TOKEN_PROD}
secrets:
  deploy_token: ${DEPLOY_TOKEN}
actions:
  http: { allowedHosts: [deploy.internal, status.internal] }
  command: { allowed: [kubectl] }
`)
	code, out := runBot(t, nil, "validate", "--config", cfg, "../../runbooks/examples/acting")
	for _, want := range []string{
		"bot: not checked: ${SLACK_BOT_TOKEN_PROD} is not set (slack.botToken)",
		"bot: not checked: ${SLACK_APP_TOKEN_PROD} is not set (slack.appToken)",
		"bot: not checked: ${DEPLOY_TOKEN} is not set (secrets.deploy_token)",
		"2 runbook(s)",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d; the output lacks %q:\n%s", code, want, out)
		}
	}

	code, out = runBot(t, nil, "run", "--config", cfg)
	if code != 1 || !strings.Contains(out, "slack.botToken refers to ${SLACK_BOT_TOKEN_PROD}, which is not set") {
		t.Fatalf("run: exit %d:\n%s", code, out)
	}
}

// Relative paths in a config file are relative to the file, so validate works from any
// directory.
func TestValidateFromAnotherDirectory(t *testing.T) {
	etc := t.TempDir()
	os.Mkdir(filepath.Join(etc, "books"), 0o755)
	os.WriteFile(filepath.Join(etc, "books", "hello.yaml"), []byte("name: hello\nsteps:\n  - action: slack.send_message\n    with: { channel: \"#ops\", text: hi }\n"), 0o600)
	os.WriteFile(filepath.Join(etc, "config.yaml"), []byte("runbooks:\n  dir: books\nstore:\n  path: data/runbook.db\n"), 0o600)
	code, out := runBot(t, nil, "validate", "--config", filepath.Join(etc, "config.yaml"))
	if code != 0 || !strings.Contains(out, "1 runbook(s) in "+filepath.Join(etc, "books")+" are valid: hello") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// Every value problem of the config is printed at once, one line each.
func TestValidateConfigErrorsAtOnce(t *testing.T) {
	cfg := writeConfig(t, "bot:\n  workers: many\nlog:\n  level: loud\nhttp:\n  addr: nowhere\n")
	code, out := runBot(t, nil, "validate", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("exit %d, %d lines; want 1 and 3:\n%s", code, len(lines), out)
	}
	for i, want := range []string{"bot: bot.workers must be", "bot: log.level must be", "bot: http.addr must be"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want it to start %q", i+1, lines[i], want)
		}
	}
}

// validate refuses runbooks certain to fail: statuses, severities and services that
// the config does not have.
func TestValidateIncidentValues(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mitigate.yaml"), []byte(`name: mitigate
on:
  - event: incident.declared
    if: { severity: [sev9], service: [payment] }
steps:
  - action: incident.update
    with: { status: mitigatin }
`), 0o600)
	cfg := writeConfig(t, "services:\n  payments: {slack: {channel: \"#pay\"}}\n")
	code, out := runBot(t, nil, "validate", dir, "--config", cfg)
	for _, want := range []string{
		`mitigate.yaml:4: trigger 1: if.severity: "sev9" is not in incidents.severities (sev0, sev1, sev2, sev3, sev4)`,
		`mitigate.yaml:4: trigger 1: if.service: "payment" is not in services (payments) (did you mean "payments"?)`,
		`mitigate.yaml:7: step 1 (incident.update): with.status "mitigatin" is not in incidents.statuses (detected, investigating, mitigating, resolved) (did you mean "mitigating"?)`,
		"3 problem(s)",
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d; the output lacks %q:\n%s", code, want, out)
		}
	}
}

// validate knows the configured custom fields: a template naming one that is not
// configured is a problem with the closest name, not a run that fails every time.
func TestValidateKnowsCustomFields(t *testing.T) {
	cfg := writeConfig(t, `slack:
  botToken: xoxb-FAKE-bot-token-1234567890
  appToken: xapp-FAKE-app-token-0987654321
incidents:
  fields:
    - {name: region, type: enum, values: [eu, us]}
    - {name: customer, type: string}
`)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(`name: good
steps:
  - action: slack.send_message
    with: { channel: "#ops", text: "{{incident.fields.region}} {{Activity.customer}} {{Activity.summary}} {{Activity.slack_channel}}" }
`), 0o600)
	if code, out := runBot(t, nil, "validate", "--config", cfg, dir); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(`name: bad
steps:
  - action: slack.send_message
    with: { channel: "#ops", text: "{{incident.fields.regoin}} {{Activity.custmer}}" }
`), 0o600)
	code, out := runBot(t, nil, "validate", "--config", cfg, dir)
	for _, want := range []string{
		`unknown variable "incident.fields.regoin" (did you mean "incident.fields.region"?)`,
		`unknown variable "Activity.custmer" (did you mean "Activity.customer"?)`,
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want 1 and %q:\n%s", code, want, out)
		}
	}
}
