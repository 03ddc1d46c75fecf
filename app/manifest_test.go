package app_test

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackapi"
)

type manifest struct {
	Features struct {
		SlashCommands []struct {
			Command      string `yaml:"command"`
			ShouldEscape bool   `yaml:"should_escape"`
			URL          string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Events struct {
			BotEvents  []string `yaml:"bot_events"`
			RequestURL string   `yaml:"request_url"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			Enabled    bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		SocketMode bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

// TestManifestMatchesTheCode keeps both app manifests honest: exactly the scopes the
// code needs, the command it answers, the events it handles and interactivity on; Socket
// Mode on in manifest.yaml, and in manifest.http.yaml Socket Mode off and each request
// URL the HTTP receiver serves, on one placeholder host.
func TestManifestMatchesTheCode(t *testing.T) {
	for _, file := range []string{"manifest.yaml", "manifest.http.yaml"} {
		t.Run(file, func(t *testing.T) {
			m := readManifest(t, "../"+file)
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
			if !m.Settings.Interactivity.Enabled {
				t.Error("interactivity must be on")
			}
			urls := []string{m.Features.SlashCommands[0].URL, m.Settings.Events.RequestURL, m.Settings.Interactivity.RequestURL}
			if file == "manifest.yaml" {
				if !m.Settings.SocketMode || slices.ContainsFunc(urls, func(u string) bool { return u != "" }) {
					t.Errorf("Socket Mode must be on, with no request URLs (got %q)", urls)
				}
				return
			}
			if m.Settings.SocketMode {
				t.Error("socket_mode_enabled must be false: Slack posts to the request URLs")
			}
			const host = "https://runbook.example.com"
			want := []string{host + bot.PathCommands, host + bot.PathEvents, host + bot.PathInteractions}
			if !slices.Equal(urls, want) {
				t.Errorf("request URLs (command, events, interactivity) %q, want %q", urls, want)
			}
		})
	}
}

func readManifest(t *testing.T, path string) manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
