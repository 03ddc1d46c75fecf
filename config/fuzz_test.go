package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad writes the input as the config file and checks that Load never
// panics, that every error line is a "config: " line without the token, and
// that a config it accepts passes Validate and prints without the token.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"",
		"slack:\n  botToken: ${SLACK_BOT_TOKEN}\n  apiURL: http://127.0.0.1:1/api/\n",
		"bot: {workers: ${X}, ackBudget: 1s}\napprovals: {required: {high: 2}, approvers: [U1]}\n",
		"services:\n  a: {slack: {channel: '#a'}}\n  b:\n",
		"slack:\n  botTokn: x\n",
		"a: &x {b: 1}\nc: *x\n",
		"bot: {workers: many, queue: -1}\nlog: {level: ${NOPE}}\nstore: {path: d/r.db}\n",
		"approvals: {approvers: [\"${A}\", U1], timeout: 30}\nsecrets: {t: ${T}}\n",
		// RunbookAI's shape.
		"llm: {apiKey: ${K}}\nincident:\n  pagerduty: {apiKey: ${P}}\n  slack: {enabled: true, botToken: ${SLACK_BOT_TOKEN}, signingSecret: s, defaultChannel: '#i'}\nservices: {a: {slack: {channel: '#a'}}}\n",
		"incident:\n  slack: {botToken: xoxb-FUZZ-SECRET-0123456789, apiURL: 'http://x/'}\nslack: {botToken: x}\n",
	} {
		f.Add([]byte(seed))
	}
	const secret = "xoxb-FUZZ-SECRET-0123456789"
	environ := []string{"SLACK_BOT_TOKEN=" + secret, "SLACK_APP_TOKEN=xapp-FUZZ-app", "X=3"}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "runbook.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, environ)
		if err != nil {
			if cfg != nil {
				t.Fatal("Load returned a config and an error")
			}
			msg := err.Error()
			if strings.Contains(msg, secret) {
				t.Fatalf("error reveals the token: %s", msg)
			}
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, "config: ") {
					t.Fatalf("error line %q lacks the config: prefix", line)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted a config that fails Validate: %v", err)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "config", cfg)
		fmt.Fprintf(&buf, "%v %+v %#v", cfg, *cfg, *cfg)
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("output reveals the token: %s", buf.String())
		}
	})
}
