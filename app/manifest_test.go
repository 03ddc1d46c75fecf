package app_test

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackapi"
)

type manifest struct {
	Features struct {
		SlashCommands []struct {
			Command      string `yaml:"command"`
			ShouldEscape bool   `yaml:"should_escape"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Events struct {
			BotEvents []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			Enabled bool `yaml:"is_enabled"`
		} `yaml:"interactivity"`
		SocketMode bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

// TestManifestMatchesTheCode keeps the app manifest honest: exactly the scopes the
// code needs, the command it answers, the events it handles, Socket Mode and
// interactivity on.
func TestManifestMatchesTheCode(t *testing.T) {
	data, err := os.ReadFile("../manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(m.OAuth.Scopes.Bot))
	if want := slackapi.Scopes(); !slices.Equal(got, want) {
		t.Errorf("manifest scopes %v\ncode needs      %v", got, want)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != config.Default().Slack.Command {
		t.Errorf("manifest commands %+v, want just %s", m.Features.SlashCommands, config.Default().Slack.Command)
	}
	if !slices.Equal(m.Settings.Events.BotEvents, []string{"app_mention", "reaction_added"}) {
		t.Errorf("manifest events %v, want [app_mention reaction_added] (the events the bot decodes)", m.Settings.Events.BotEvents)
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.Enabled {
		t.Error("Socket Mode and interactivity must be on")
	}
}
