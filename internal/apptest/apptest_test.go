package apptest_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
)

// TestKitStartsStopsAndRestarts runs the bot, has it answer, restarts it and stops it.
func TestKitStartsStopsAndRestarts(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	k.Seed()
	general := k.Channel("general")
	k.Start()
	d := k.Slack.Mention(k.Person("alice").ID, general.ID, "help", "")
	k.WaitFor("the reply", func() bool { return len(k.BotReplies(general.ID, d.TS)) == 1 })
	if k.Restart() == nil || k.App() == nil {
		t.Fatal("no app after a restart")
	}
	if n := len(k.BotReplies(general.ID, d.TS)); n != 1 {
		t.Fatalf("%d replies, want 1", n)
	}
	if want := 2 * k.Config.Slack.Connections; k.Slack.ConnectCount() != want {
		t.Fatalf("%d connections, want %d: the first process's and the restarted one's", k.Slack.ConnectCount(), want)
	}
	k.Stop()
	if k.App() != nil {
		t.Fatal("App after Stop is not nil")
	}
}

// TestConfigFileReadsBack writes the configuration for the binary and loads it as the
// binary does, with the tokens from the environment it is given.
func TestConfigFileReadsBack(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	k.Config.Approvals.Approvers = []string{"@oncall"}
	k.Config.Services = map[string]config.Service{"checkout": {Slack: config.ServiceSlack{Channel: "#checkout"}}}
	k.Config.Incidents.Fields = []config.Field{{Name: "region", Type: "enum", Values: []string{"eu", "us"}, Required: true, Default: "eu", Description: "Where"}, {Name: "impacted", Type: "integer"}}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := apptest.WriteConfigFile(path, k.Config); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(path, apptest.Environ(k.Workspace))
	if err != nil {
		t.Fatal(err)
	}
	// The binary's environment carries HTTP mode's signing secret too.
	k.Config.Slack.SigningSecret = apptest.SigningSecret
	if len(got.Incidents.Fields) != 2 || got.Incidents.Fields[0].Default != "eu" || got.String() != k.Config.String() || got.Slack.BotToken != k.Config.Slack.BotToken || got.Slack.AppToken != k.Config.Slack.AppToken {
		t.Fatalf("read back:\n%s\nwant:\n%s", got, k.Config)
	}
}

// TestNotLinkingTesting keeps package testing out of the binaries that use the kit.
func TestNotLinkingTesting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/runbookhq/runbook/internal/apptest").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	if slices.Contains(strings.Fields(string(out)), "testing") {
		t.Fatal("package apptest imports package testing, directly or not")
	}
}
