package app_test

import (
	"testing"
	"time"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// harness runs the real bot against the Slack emulator, through the test kit.
type harness struct {
	*apptest.Kit
	t *testing.T

	alice   slackfake.User
	general slackfake.Channel
}

// start starts the emulator and a bot connected to it; both stop when the test ends.
// Options adjust the configuration before the bot starts.
func start(t *testing.T, opts ...func(*config.Config)) *harness {
	t.Helper()
	return startWith(t, nil, opts...)
}

// startWith is start with setup run on the workspace before the bot starts: the bot
// checks its configured approvers against the workspace as it starts.
func startWith(t *testing.T, setup func(*harness), opts ...func(*config.Config)) *harness {
	t.Helper()
	h := &harness{Kit: apptest.New(t, apptest.Options{Emulator: slackfake.Options{AckTimeout: time.Second}}), t: t}
	h.Config.Runbooks.Dir = "../runbooks/examples"
	for _, o := range opts {
		o(h.Config)
	}
	h.alice = h.Person("alice")
	h.general = h.Channel("general", "alice")
	if setup != nil {
		setup(h)
	}
	h.Start()
	return h
}

// botTopLevel returns the bot's top-level messages in a channel.
func (h *harness) botTopLevel(channel string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.Slack.Messages(channel) {
		if m.BotID != "" && m.SubType == "" && (m.ThreadTS == "" || m.ThreadTS == m.TS) {
			out = append(out, m)
		}
	}
	return out
}
