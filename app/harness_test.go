package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// harness runs the real bot against the Slack emulator.
type harness struct {
	t     *testing.T
	slack *slackfake.Server
	cfg   *config.Config
	logs  *syncBuffer

	alice   slackfake.User
	general slackfake.Channel

	mu     sync.Mutex
	app    *app.App
	cancel context.CancelFunc
	done   chan error
}

// start starts the emulator and a bot connected to it; both stop when the test ends.
// Options adjust the configuration before the bot starts.
func start(t *testing.T, opts ...func(*config.Config)) *harness {
	t.Helper()
	srv, err := slackfake.New(slackfake.Options{AckTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := config.Default()
	cfg.Slack.BotToken = config.Secret(srv.BotToken())
	cfg.Slack.AppToken = config.Secret(srv.AppToken())
	cfg.Slack.APIURL = srv.APIURL()
	cfg.Store.Path = filepath.Join(t.TempDir(), "runbook.db")
	cfg.Runbooks.Dir = "../runbooks/examples"
	for _, o := range opts {
		o(cfg)
	}
	h := &harness{t: t, slack: srv, cfg: cfg, logs: &syncBuffer{}}
	h.alice = srv.AddUser("alice")
	h.general = srv.AddChannel("general", slackfake.ChannelMembers(h.alice.ID))
	t.Cleanup(func() {
		h.stop()
		for _, tok := range []string{srv.BotToken(), srv.AppToken()} {
			if strings.Contains(h.logs.String(), tok) {
				t.Errorf("a token appeared in the logs")
			}
		}
	})
	h.startBot()
	return h
}

// startBot starts a bot process on the harness's database and waits until it is
// connected.
func (h *harness) startBot() {
	h.t.Helper()
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), h.cfg, app.Options{Logger: logger})
	if err != nil {
		h.t.Fatal(err)
	}
	before := h.slack.ConnectCount()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	h.mu.Lock()
	h.app, h.cancel, h.done = a, cancel, done
	h.mu.Unlock()
	h.waitFor("the bot to connect", func() bool { return h.slack.ConnectCount() > before && h.slack.Connections() > 0 })
}

// stop stops the bot gracefully and closes its store.
func (h *harness) stop() {
	h.mu.Lock()
	a, cancel, done := h.app, h.cancel, h.done
	h.app = nil
	h.mu.Unlock()
	if a == nil {
		return
	}
	cancel()
	if err := <-done; err != nil {
		h.t.Errorf("bot stopped with an error: %v", err)
	}
	a.Close()
}

// waitFor waits until cond holds, failing the test after 10 s.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.slack.Wait(ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v\nlogs:\n%s", what, err, h.logs.String())
	}
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// threadReplies returns the bot's replies in the thread of ts.
func (h *harness) threadReplies(channel, ts string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.slack.Messages(channel) {
		if m.ThreadTS == ts && m.TS != ts && m.BotID != "" {
			out = append(out, m)
		}
	}
	return out
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// currentApp is the running bot's app.
func (h *harness) currentApp() *app.App {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.app
}

// waitForStore polls a condition on the database (which the emulator cannot signal).
func (h *harness) waitForStore(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s: timed out\nlogs:\n%s", what, h.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// botTopLevel returns the bot's top-level messages in a channel.
func (h *harness) botTopLevel(channel string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.slack.Messages(channel) {
		if m.BotID != "" && m.SubType == "" && (m.ThreadTS == "" || m.ThreadTS == m.TS) {
			out = append(out, m)
		}
	}
	return out
}
