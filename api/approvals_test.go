package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
)

// heldDesk answers every wait only when it ends — the caller's time, the server's
// stop or the caller going away — and says when a wait has begun.
type heldDesk struct{ waiting chan struct{} }

func (d heldDesk) Ask(context.Context, approvals.Ask) (*runbook.Approval, bool, error) {
	return nil, false, runbook.Errorf(runbook.EINVALID, "not here")
}
func (d heldDesk) Withdraw(context.Context, int64, string, string) (*runbook.Approval, error) {
	return nil, runbook.Errorf(runbook.EINVALID, "not here")
}
func (d heldDesk) Permalink(context.Context, *runbook.Approval) string { return "" }
func (d heldDesk) Await(ctx context.Context, id int64, timeout <-chan time.Time, stop <-chan struct{}) (*runbook.Approval, error) {
	d.waiting <- struct{}{}
	select {
	case <-ctx.Done():
	case <-timeout:
	case <-stop:
	}
	return &runbook.Approval{ID: id, State: runbook.ApprovalPending}, nil
}

// TestLongPollsAreCapped: past MaxWaits a wait is answered 429 at once, and Stop
// answers the waiting ones, so neither callers nor a shutdown are held without bound.
func TestLongPollsAreCapped(t *testing.T) {
	desk := heldDesk{waiting: make(chan struct{}, 1)}
	s := New(Deps{Tokens: []Token{{Name: "ci", Value: ciToken, Scopes: []Scope{ScopeApprovals}}},
		Approvals: desk, MaxWaits: 1,
		After: func(time.Duration) <-chan time.Time { return nil }}) // a wait that never times out
	mux := http.NewServeMux()
	s.Mount(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	first := make(chan polled, 1)
	go func() { first <- poll(ts) }()
	<-desk.waiting
	if a := poll(ts); a.status != 429 || a.retryAfter == "" || a.body["message"] == "" {
		t.Fatalf("a wait past the cap: %d %v", a.status, a.body)
	}
	s.Stop()
	if a := <-first; a.status != 200 || a.body["state"] != "pending" {
		t.Fatalf("the wait answered %d %v at Stop", a.status, a.body)
	}
}

type polled struct {
	status     int
	retryAfter string
	body       map[string]any
	err        error
}

// poll long-polls APR-1; safe to call from any goroutine (it does not fail the test).
func poll(ts *httptest.Server) polled {
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/approvals/APR-1?wait=60s", nil)
	req.Header.Set("Authorization", "Bearer "+ciToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return polled{err: err}
	}
	defer resp.Body.Close()
	p := polled{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	p.err = json.NewDecoder(resp.Body).Decode(&p.body)
	return p
}

func TestParseWait(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "60s": time.Minute, "30": 30 * time.Second, "1h": MaxWait, "0": 0} {
		if got, err := parseWait(in); err != nil || got != want {
			t.Errorf("wait %q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1s", "soon", "1e3"} {
		if _, err := parseWait(bad); err == nil {
			t.Errorf("wait %q was taken", bad)
		}
	}
}

// FuzzParseWait: any ?wait= is refused or read as a wait between 0 and MaxWait.
func FuzzParseWait(f *testing.F) {
	for _, s := range []string{"", "60s", "60", "-1s", "1h", "9223372036854775807", "1e3", "0x10", "120.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := parseWait(v)
		if err == nil && (d < 0 || d > MaxWait) {
			t.Fatalf("wait %q read as %v", v, d)
		}
	})
}
