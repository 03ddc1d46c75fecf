package app_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
)

// noDatabase fails the test if the kit's database, or anything beside it, was created.
func noDatabase(t *testing.T, k *apptest.Kit) {
	t.Helper()
	matches, _ := filepath.Glob(k.Config.Store.Path + "*")
	if len(matches) > 0 {
		t.Errorf("a bot that could not start left %v on disk", matches)
	}
}

// A bot whose runbooks directory is missing does not start: it says so in one
// sentence and leaves no database behind, instead of answering every run with "No
// runbooks are loaded".
func TestMissingRunbooksDirStopsTheStart(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	k.Config.Runbooks.Dir = filepath.Join(k.Dir, "missing")
	_, err := app.New(context.Background(), k.Config, app.Options{})
	want := "runbooks.dir " + k.Config.Runbooks.Dir + " does not exist"
	if err == nil || runbook.ErrorMessage(err) == "" || !strings.Contains(runbook.ErrorMessage(err), want) {
		t.Fatalf("New = %v, want %q", err, want)
	}
	noDatabase(t, k)
}

// A configuration that is not valid leaves nothing on disk either.
func TestInvalidConfigCreatesNothing(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	k.Config.Slack.BotToken = ""
	if _, err := app.New(context.Background(), k.Config, app.Options{}); err == nil {
		t.Fatal("New accepted a configuration without a bot token")
	}
	noDatabase(t, k)
}

// An empty runbooks directory is a warning, not an error: incidents can be declared
// without runbooks, and a team may start there. The bot is ready.
func TestEmptyRunbooksDirStartsWithAWarning(t *testing.T) {
	h := start(t, func(c *config.Config) {
		c.Runbooks.Dir = t.TempDir()
		c.HTTP.Addr = "127.0.0.1:0"
	})
	if !strings.Contains(h.Logs.String(), "the runbooks directory has no runbooks") {
		t.Errorf("no warning about the empty runbooks directory:\n%s", apptest.Tail(h.Logs.String(), 20))
	}
	base := "http://" + h.App().HTTP.Addr()
	h.WaitFor("ready", func() bool { code, _ := httpGet(t, base+"/readyz"); return code == 200 })
}

// Slack out of reach at start (here: nothing listens at its address) is waited for,
// each try logged with the next pause, while /healthz says the bot is alive and /readyz
// that it is not ready; a stop signal meanwhile is a clean stop.
func TestSlackUnreachableAtStartIsWaitedFor(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	k.Config.Slack.APIURL = "http://" + closedAddr(t) + "/api/"
	k.Config.HTTP.Addr = "127.0.0.1:0"
	a := k.NewApp()
	a.Slack.RetryInterval = 10 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	k.WaitFor("three tries logged", func() bool {
		return strings.Count(k.Logs.String(), "cannot reach Slack to start; trying again") >= 3
	})
	if !strings.Contains(k.Logs.String(), "next_try_in=") || !strings.Contains(k.Logs.String(), "connection refused") {
		t.Errorf("the tries do not say why they failed and when the next one is:\n%s", apptest.Tail(k.Logs.String(), 5))
	}
	base := "http://" + a.HTTP.Addr()
	if code, body := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d %s while waiting for Slack, want 200", code, body)
	}
	if code, body := httpGet(t, base+"/readyz"); code != 503 || !strings.Contains(body, "not connected to Slack") {
		t.Errorf("/readyz = %d %s while waiting for Slack, want 503 not connected", code, body)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run after a stop signal while waiting for Slack = %v, want nil", err)
	}
}

// Slack answering 5xx to auth.test at start is tried again until it answers, each try
// logged, and the bot then connects (start waits for the connection).
func TestSlackFailingAtStartIsTriedAgain(t *testing.T) {
	h := startWith(t, func(h *harness) { h.Slack.FailNext("auth.test", 2, 503) })
	if n := strings.Count(h.Logs.String(), "cannot reach Slack to start; trying again"); n != 2 {
		t.Errorf("%d tries logged, want 2:\n%s", n, apptest.Tail(h.Logs.String(), 20))
	}
}

// A token Slack rejects still ends the start at once, with the sentence.
func TestRejectedTokenStopsTheStartAtOnce(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	k.Config.Slack.BotToken = "xoxb-wrong"
	a := k.NewApp()
	err := a.Run(k.Context())
	if err == nil || !strings.Contains(err.Error(), "Slack rejected the bot token (invalid_auth)") {
		t.Fatalf("Run = %v, want the rejected-token sentence", err)
	}
	if n := k.Slack.Calls("auth.test"); n != 1 {
		t.Errorf("auth.test called %d times, want 1", n)
	}
}

// closedAddr is a local address nothing listens at.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A second bot on the same database refuses to start, naming the first one's pid, and
// starts once the first has stopped.
func TestSecondInstanceOnTheSameDatabaseRefuses(t *testing.T) {
	h := start(t)
	second := h.NewApp()
	err := second.Run(h.Context())
	want := "another Runbook (pid " + strconv.Itoa(os.Getpid()) + ") is running on " + h.Config.Store.Path +
		"; run exactly one per database and Slack app"
	if runbook.ErrorCode(err) != runbook.ECONFLICT || runbook.ErrorMessage(err) != want {
		t.Fatalf("second Run = %v, want %q", err, want)
	}
	h.Restart() // the first one's lock went with it
}

// A restart forgets handled envelopes older than a day at once, not an hour later (a
// bot restarted more often than hourly never pruned), and keeps recent ones, which a
// redelivery may still need.
func TestRestartPrunesOldEnvelopes(t *testing.T) {
	h := start(t)
	h.Stop()
	db := apptest.OpenStore(t, h.Config.Store.Path)
	ctx := h.Context()
	handled := func(id string, at time.Time) {
		db.Now = func() time.Time { return at }
		env := runbook.Envelope{ID: id, Type: "events_api", Payload: []byte(`{}`)}
		if _, err := db.Inbox().Claim(ctx, env); err != nil {
			t.Fatal(err)
		}
		if err := db.Inbox().Complete(ctx, id, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	handled("old", time.Now().Add(-25*time.Hour))
	handled("recent", time.Now().Add(-time.Hour))
	db.Now = time.Now

	h.Start()
	// As a redelivery would see it: a remembered envelope is found, a forgotten one is new.
	remembered := func(id string) bool {
		found, err := db.Inbox().Claim(ctx, runbook.Envelope{ID: id, Type: "events_api", Payload: []byte(`{}`)})
		return err == nil && found != nil
	}
	h.WaitFor("the old envelope forgotten", func() bool { return !remembered("old") })
	if !remembered("recent") {
		t.Error("the restart forgot an envelope handled an hour ago")
	}
}
