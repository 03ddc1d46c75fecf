package apptest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/runbookhq/runbook/config"
)

// Config is the default configuration pointed at the workspace — its tokens and Web
// API URL — with the store in dir/runbook.db and the runbooks in dir/runbooks.
func Config(ws *Workspace, dir string) *config.Config {
	cfg := config.Default()
	cfg.Slack.BotToken = config.Secret(ws.Slack.BotToken())
	cfg.Slack.AppToken = config.Secret(ws.Slack.AppToken())
	cfg.Slack.APIURL = ws.Slack.APIURL()
	cfg.Store.Path = filepath.Join(dir, "runbook.db")
	cfg.Runbooks.Dir = filepath.Join(dir, "runbooks")
	return cfg
}

// WriteRunbooks fills the runbooks directory dir, creating it: with the *.yaml files at
// the top of from (nil for none), then with files, file name → YAML.
func WriteRunbooks(dir string, from fs.FS, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write the runbooks: %w", err)
	}
	if from != nil {
		names, err := fs.Glob(from, "*.yaml")
		if err != nil {
			return fmt.Errorf("write the runbooks: %w", err)
		}
		for _, name := range names {
			data, err := fs.ReadFile(from, name)
			if err != nil {
				return fmt.Errorf("write the runbooks: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return fmt.Errorf("write the runbooks: %w", err)
			}
		}
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return fmt.Errorf("write the runbooks: %w", err)
		}
	}
	return nil
}

// WriteConfigFile writes cfg as the bot binary's configuration file, without the
// tokens: the binary takes them from the environment that StartProcess gives it.
func WriteConfigFile(path string, cfg *config.Config) error {
	c := *cfg
	// Secrets print as [redacted]: the binary gets them from its environment
	// (Environ) instead.
	c.Slack.BotToken, c.Slack.AppToken, c.Slack.SigningSecret = "", "", ""
	if err := os.WriteFile(path, []byte(c.String()), 0o600); err != nil {
		return fmt.Errorf("write the configuration: %w", err)
	}
	return nil
}
