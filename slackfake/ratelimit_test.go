package slackfake

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func wantRateLimited(t *testing.T, err error) {
	t.Helper()
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("error = %v, want *slack.RateLimitedError", err)
	}
	if rl.RetryAfter < time.Second {
		t.Errorf("RetryAfter = %v, want at least 1s", rl.RetryAfter)
	}
}

func TestMethodRateLimit(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	srv.SetRateLimit("auth.test", 60, 2)
	for range 2 {
		if _, err := api.AuthTest(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := api.AuthTest()
	wantRateLimited(t, err)
	if n := srv.Calls("auth.test"); n != 3 {
		t.Errorf("Calls = %d, want 3 (limited calls count)", n)
	}
	srv.SetRateLimit("auth.test", 0, 0)
	if _, err := api.AuthTest(); err != nil {
		t.Errorf("after removing the limit: %v", err)
	}

	resp, err := http.PostForm(srv.APIURL()+"auth.test", map[string][]string{"token": {srv.BotToken()}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestChannelRateLimit(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	ops, dev := srv.AddChannel("ops"), srv.AddChannel("dev")
	srv.SetChannelRateLimit(1, 2)
	text := slack.MsgOptionText("hi", false)
	for range 2 {
		if _, _, err := api.PostMessage(ops.ID, text); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := api.PostMessage("#ops", text) // same channel by name
	wantRateLimited(t, err)
	if _, _, err := api.PostMessage(dev.ID, text); err != nil {
		t.Errorf("another channel is limited too: %v", err)
	}
	if n := len(srv.Messages(ops.ID)); n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}

	status, body := rawCall(t, srv, "chat.postMessage", map[string][]string{
		"token": {srv.BotToken()}, "channel": {ops.ID}, "text": {"x"}})
	if status != http.StatusTooManyRequests || body["ok"] != false || body["error"] != "ratelimited" {
		t.Errorf("429 answer = %d %v", status, body)
	}
}

func TestFailNext(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	srv.FailNext("auth.test", 2, http.StatusServiceUnavailable)
	for range 2 {
		_, err := api.AuthTest()
		var sc slack.StatusCodeError
		if !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
			t.Fatalf("error = %v, want 503", err)
		}
	}
	if _, err := api.AuthTest(); err != nil {
		t.Errorf("third call: %v", err)
	}
	srv.FailNext("auth.test", 1, http.StatusTooManyRequests)
	_, err := api.AuthTest()
	wantRateLimited(t, err)
	if n := srv.Calls("auth.test"); n != 4 {
		t.Errorf("Calls = %d, want 4", n)
	}
}

func TestRateLimitAllUntil(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	api := newAPI(srv)
	srv.RateLimitAllUntil(time.Now().Add(time.Hour))
	for _, method := range []string{"auth.test", "chat.postMessage"} {
		var err error
		if method == "auth.test" {
			_, err = api.AuthTestContext(ctx)
		} else {
			_, _, err = api.PostMessageContext(ctx, "C0", slack.MsgOptionText("x", false))
		}
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
			t.Errorf("%s while degraded: %v, want a 429 with Retry-After 1 s", method, err)
		}
	}
	srv.RateLimitAllUntil(time.Time{})
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}
