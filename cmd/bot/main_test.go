package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

const (
	fakeBot = "xoxb-1111-2222-secretbotvalue"
	fakeApp = "xapp-1-A1-3333-secretappvalue"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBot runs the command line and returns its exit code and what it printed.
func runBot(t *testing.T, environ []string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, environ)
	return code, out.String() + errOut.String()
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		config  string
		environ []string
		want    string
	}{
		{
			name:    "UnknownKey",
			config:  "slack:\n  botTokn: x\n",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp},
			want:    "slack.botTokn",
		},
		{
			name:    "UnsetVariable",
			config:  "slack:\n  botToken: ${MY_BOT_TOKEN}\n",
			environ: []string{"SLACK_APP_TOKEN=" + fakeApp},
			want:    "slack.botToken refers to ${MY_BOT_TOKEN}, which is not set",
		},
		{
			name:    "MissingToken",
			config:  "store:\n  path: " + filepath.Join(dir, "a.db") + "\n",
			environ: []string{"SLACK_APP_TOKEN=" + fakeApp},
			want:    "slack.botToken is required",
		},
		{
			name:    "WrongTokenKind",
			config:  "store:\n  path: " + filepath.Join(dir, "b.db") + "\n",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeApp, "SLACK_APP_TOKEN=" + fakeBot},
			want:    "slack.botToken must start with xoxb-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runBot(t, tt.environ, "run", "--config", writeConfig(t, tt.config))
			if code == 0 {
				t.Fatalf("exit code 0; output:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output does not say %q:\n%s", tt.want, out)
			}
			if strings.Contains(out, "secretbotvalue") || strings.Contains(out, "secretappvalue") {
				t.Errorf("a token was printed:\n%s", out)
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, ".go:") {
				t.Errorf("output looks like a stack trace:\n%s", out)
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	code, out := runBot(t, nil, "run", "--config", filepath.Join(t.TempDir(), "nope.yaml"))
	if code == 0 || !strings.Contains(out, "nope.yaml") {
		t.Fatalf("code %d, output %q; want a failure naming the file", code, out)
	}
}

func TestInvalidAuth(t *testing.T) {
	srv := apptest.NewWorkspace(t, slackfake.Options{}).Slack
	// The runbooks directory exists (an empty one), or the bot stops before asking Slack.
	cfg := "slack:\n  apiURL: " + srv.APIURL() + "\nstore:\n  path: " + filepath.Join(t.TempDir(), "r.db") +
		"\nrunbooks:\n  dir: " + t.TempDir() + "\n"
	code, out := runBot(t, []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + srv.AppToken()}, "--config", writeConfig(t, cfg))
	if code != 1 {
		t.Fatalf("exit code %d, want 1; output:\n%s", code, out)
	}
	want := "bot: Slack rejected the bot token (invalid_auth): check slack.botToken"
	if !strings.HasPrefix(strings.TrimSpace(out), want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("output = %q, want one line starting %q", out, want)
	}
	if strings.Contains(out, "secretbotvalue") {
		t.Fatal("the token was printed")
	}
}

func TestInvalidAppToken(t *testing.T) {
	srv := apptest.NewWorkspace(t, slackfake.Options{}).Slack
	// The runbooks directory exists (an empty one), or the bot stops before asking Slack.
	cfg := "slack:\n  apiURL: " + srv.APIURL() + "\nstore:\n  path: " + filepath.Join(t.TempDir(), "r.db") +
		"\nrunbooks:\n  dir: " + t.TempDir() + "\n"
	code, out := runBot(t, []string{"SLACK_BOT_TOKEN=" + srv.BotToken(), "SLACK_APP_TOKEN=" + fakeApp}, "--config", writeConfig(t, cfg))
	if code != 1 || !strings.Contains(out, "check slack.appToken") {
		t.Fatalf("exit code %d, output %q; want a sentence about the app token", code, out)
	}
	if strings.Contains(out, "secretappvalue") {
		t.Fatal("the token was printed")
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out := runBot(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "runbook ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out := runBot(t, nil, "help"); code != 0 || !strings.Contains(out, "bot validate") {
		t.Errorf("help: %d %q", code, out)
	}
	if code, out := runBot(t, nil, "frobnicate"); code != 2 || !strings.Contains(out, `unknown command "frobnicate"`) {
		t.Errorf("unknown: %d %q", code, out)
	}
}

func TestValidate(t *testing.T) {
	t.Run("ExamplesAreValid", func(t *testing.T) {
		code, out := runBot(t, nil, "validate", "--config", "../../config.example.yaml", "../../runbooks/examples")
		if code != 0 || !strings.Contains(out, "4 runbook(s)") || !strings.Contains(out, "sev1-kickoff") {
			t.Fatalf("validate examples: %d\n%s", code, out)
		}
	})
	t.Run("ProblemsArePrintedWithFileAndLine", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: bad\nsteps:\n  - action: slack.send_mesage\n    with: { text: hi }\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "worse.yml"), []byte("name: worse\nsteps:\n  - action: slack.set_topic\n    with: { channel: \"#x\", topic: \"{{incident.titel}}\" }\n"), 0o600)
		code, out := runBot(t, nil, "validate", "--config", writeConfig(t, "log:\n  level: info\n"), dir)
		if code != 1 {
			t.Fatalf("exit %d, want 1:\n%s", code, out)
		}
		for _, want := range []string{
			filepath.Join(dir, "bad.yaml") + ":3: ",
			`unknown action "slack.send_mesage" (did you mean "slack.send_message"?)`,
			filepath.Join(dir, "worse.yml") + ":4: ",
			`did you mean "incident.title"?`,
			"2 problem(s)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	// The examples that act need what config.example.yaml leaves out: the deploy
	// token and kubectl. They are checked with config.example.yaml plus those, given
	// from the environment as a user would for one check, and the hosts they call
	// listed, so that the literal host of restart-service's health check is checked.
	t.Run("ActingExamplesAreValidWithWhatTheyNeed", func(t *testing.T) {
		env := []string{"RUNBOOK_SECRETS__DEPLOY_TOKEN=validate-token", "RUNBOOK_ACTIONS__COMMAND__ALLOWED=kubectl",
			"RUNBOOK_ACTIONS__HTTP__ALLOWEDHOSTS=deploy.internal,status.internal"}
		code, out := runBot(t, env, "validate", "--config", "../../config.example.yaml", "../../runbooks/examples/acting")
		if code != 0 || !strings.Contains(out, "2 runbook(s)") || !strings.Contains(out, "restart-service, scale-up") ||
			strings.Contains(out, "validate-token") {
			t.Fatalf("validate acting examples: %d\n%s", code, out)
		}
	})
	t.Run("ActingExamplesSayWhatTheyNeed", func(t *testing.T) {
		env := []string{"RUNBOOK_ACTIONS__HTTP__ALLOWEDHOSTS=deploy.internal"}
		code, out := runBot(t, env, "validate", "--config", "../../config.example.yaml", "../../runbooks/examples/acting")
		for _, want := range []string{
			`unknown variable "secrets.deploy_token"; no secrets are configured`,
			`program "kubectl" is not allowed`,
			`host "status.internal" is not in actions.http.allowedHosts (deploy.internal)`,
		} {
			if code != 1 || !strings.Contains(out, want) {
				t.Errorf("exit %d; the output lacks %q:\n%s", code, want, out)
			}
		}
	})
	t.Run("NoTokensNeeded", func(t *testing.T) {
		code, out := runBot(t, nil, "validate", "--config", "../../config.example.yaml", "../../runbooks/examples")
		if code != 0 || strings.Contains(out, "xoxb-validate") {
			t.Fatalf("validate without tokens: %d\n%s", code, out)
		}
	})
}

// validate finds approvals that could never be given: statically where the approvers
// are user ids, and against Slack where it can be reached; offline, it says what it
// did not check.
func TestValidateApprovers(t *testing.T) {
	t.Run("StaticallyUndecidable", func(t *testing.T) {
		dir := t.TempDir()
		rb := "name: gate\nsteps:\n  - action: approval.request\n    with: { operation: Fail over, risk: critical, approvers: [U0001AAA] }\n"
		os.WriteFile(filepath.Join(dir, "gate.yaml"), []byte(rb), 0o600)
		code, out := runBot(t, nil, "validate", "--config", writeConfig(t, "log:\n  level: info\n"), dir)
		want := filepath.Join(dir, "gate.yaml") + ":3: step 1 (approval.request) could never be approved: it needs 2 approvals, and its approvers are 1 person"
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("exit %d:\n%s\nwant %q", code, out, want)
		}
	})
	t.Run("OfflineSaysWhatItDidNotCheck", func(t *testing.T) {
		code, out := runBot(t, nil, "validate", "--config", "../../config.example.yaml", "../../runbooks/examples")
		if code != 0 || !strings.Contains(out, "approvals.approvers were not checked against Slack") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("AgainstSlack", func(t *testing.T) {
		ws := apptest.NewWorkspace(t, slackfake.Options{})
		ws.Group("oncall", "bob")
		cfg := writeConfig(t, "slack:\n  apiURL: "+ws.Slack.APIURL()+"\napprovals:\n  approvers: [\"@oncall\", \"@nobody\"]\n")
		env := []string{"SLACK_BOT_TOKEN=" + ws.Slack.BotToken(), "SLACK_APP_TOKEN=" + ws.Slack.AppToken()}
		code, out := runBot(t, env, "validate", "--config", cfg, "../../runbooks/examples")
		if code != 1 || !strings.Contains(out, "approvals.approvers: @nobody is neither a user nor a user group in this workspace") ||
			strings.Contains(out, "@oncall is") || strings.Contains(out, ws.Slack.BotToken()) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
}

// validate on a workspace that cannot use user groups — Slack's Free plan, or a group
// an admin disabled — says so and names each place a group appears, as warnings: runs
// skip those groups, so the configuration is still valid.
func TestValidateUnusableGroups(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts slackfake.Options
		want []string
	}{
		{"FreePlan", slackfake.Options{FreePlan: true}, []string{
			"bot: warning: this Slack workspace has no user groups (Slack's Free plan)",
			"bot: warning: approvals.approvers: @oncall is no member's username, and this workspace's Slack plan has no user groups",
			"sev1-kickoff.yaml:7: step 1 (slack.create_channel) invite: @oncall is no member's username, and this workspace's Slack plan has no user groups; runs skip it",
		}},
		{"Disabled", slackfake.Options{}, []string{
			"bot: warning: approvals.approvers: @oncall is a disabled user group",
			"sev1-kickoff.yaml:7: step 1 (slack.create_channel) invite: @oncall is a disabled user group",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := apptest.NewWorkspace(t, tt.opts)
			ws.Person("bob")
			ws.Group("oncall", "bob")
			ws.Slack.DisableUserGroup("oncall")
			cfg := writeConfig(t, "slack:\n  apiURL: "+ws.Slack.APIURL()+"\napprovals:\n  approvers: [\"@oncall\", \"bob\"]\n")
			env := []string{"SLACK_BOT_TOKEN=" + ws.Slack.BotToken(), "SLACK_APP_TOKEN=" + ws.Slack.AppToken()}
			code, out := runBot(t, env, "validate", "--config", cfg, "../../runbooks/examples")
			for _, want := range tt.want {
				if code != 0 || !strings.Contains(out, want) {
					t.Errorf("exit %d; the output lacks %q:\n%s", code, want, out)
				}
			}
			if !tt.opts.FreePlan && strings.Contains(out, "Free plan") {
				t.Errorf("a workspace with user groups was said to be on the Free plan:\n%s", out)
			}
		})
	}
}

// `bot run` with its runbooks directory missing stops with the sentence, before it
// asks Slack anything or creates the database.
func TestMissingRunbooksDirLeavesNothing(t *testing.T) {
	srv := apptest.NewWorkspace(t, slackfake.Options{})
	dir := t.TempDir()
	db, runbooksDir := filepath.Join(dir, "r.db"), filepath.Join(dir, "runbooks")
	cfg := "slack:\n  apiURL: " + srv.Slack.APIURL() + "\nstore:\n  path: " + db + "\nrunbooks:\n  dir: " + runbooksDir + "\n"
	code, out := runBot(t, []string{"SLACK_BOT_TOKEN=" + srv.Slack.BotToken(), "SLACK_APP_TOKEN=" + srv.Slack.AppToken()},
		"run", "--config", writeConfig(t, cfg))
	want := "bot: runbooks.dir " + runbooksDir + " does not exist"
	if code != 1 || !strings.HasPrefix(out, want) {
		t.Fatalf("exit code %d, output %q; want 1 and %q", code, out, want)
	}
	if left, _ := filepath.Glob(db + "*"); len(left) > 0 {
		t.Errorf("the failed start left %v", left)
	}
	if n := srv.Slack.Calls("auth.test"); n != 0 {
		t.Errorf("the failed start called auth.test %d times", n)
	}
}
