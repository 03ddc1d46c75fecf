package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// TestScaleUpCallsTheDeployAPI plays the script and checks what the stand-in deploy
// API received from the bot: one scale request, with the count as a JSON number, the
// token and an Idempotency-Key; and that the token is shown nowhere.
func TestScaleUpCallsTheDeployAPI(t *testing.T) {
	var out, logs bytes.Buffer
	var got []exchange
	var token, approvalMessage string
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, Options{Out: &out, Log: &logs, Verbose: true}, func(w *world) {
		got, token = w.api.received(), w.api.token
		approvalMessage = messageOf(ctx, t, w, 1)
	})
	if err != nil {
		t.Fatalf("demo failed: %v\noutput:\n%s", err, out.String())
	}
	if len(got) != 1 {
		t.Fatalf("the deploy API received %d requests, want 1: %+v", len(got), got)
	}
	x := got[0]
	if x.Method != http.MethodPost || !strings.HasSuffix(x.URL, "/services/checkout/scale") || x.Status != http.StatusOK {
		t.Errorf("request %s %s answered %d; want POST …/services/checkout/scale answered 200", x.Method, x.URL, x.Status)
	}
	if !x.Authorized {
		t.Errorf("Authorization was %q, not the bearer token from secrets.%s", x.Authorization, deployTokenSecret)
	}
	if x.IdempotencyKey == "" {
		t.Error("the request had no Idempotency-Key")
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(x.Body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("the body %s is not a JSON object: %v", x.Body, err)
	}
	if n, ok := body["desired_count"].(json.Number); !ok || n.String() != "12" {
		t.Errorf("desired_count is %#v in %s; want the JSON number 12", body["desired_count"], x.Body)
	}

	for _, want := range []string{
		"deploy API  received: POST http://127.0.0.1:",
		"    Authorization: Bearer [secret:deploy_token]\n",
		"    Idempotency-Key: " + x.IdempotencyKey + "\n",
		`    {"desired_count":12,`,
		`deploy API  answered: 200 {"service":"checkout","desired_count":12,"previous_count":4,"status":"scaling"}`,
		"Runbook: ✅ Scaled checkout from 4 to 12 tasks, approved by @bob.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out.String())
		}
	}
	if token == "" || strings.Contains(out.String(), token) || strings.Contains(logs.String(), token) {
		t.Errorf("the deploy token (%d characters) appears in the transcript or the logs", len(token))
	}

	// The approval request is where people see what the steps it gated did.
	t.Run("ApprovalShowsTheScaleResult", func(t *testing.T) {
		if !strings.Contains(approvalMessage, "Done") || !strings.Contains(approvalMessage, "HTTP 200") {
			t.Errorf("the approval request does not show the scale's result:\n%s", approvalMessage)
		}
	})
}

// messageOf returns the text and blocks of an approval request's message.
func messageOf(ctx context.Context, t *testing.T, w *world, approvalID int64) string {
	a, err := w.app.DB.Approvals().Approval(ctx, approvalID)
	if err != nil {
		t.Errorf("%s: %v", runbook.ApprovalKey(approvalID), err)
		return ""
	}
	for _, m := range w.srv.Messages(a.Channel) {
		if m.TS == a.MessageTS {
			return m.Text + "\n" + string(m.Blocks)
		}
	}
	return ""
}

// apiClient is the stand-in deploy API, started for one test, and a way to call it.
type apiClient struct {
	t   *testing.T
	api *deployAPI

	mu    sync.Mutex
	shown []string // the transcript lines of each exchange
}

func newAPIClient(t *testing.T) *apiClient {
	t.Helper()
	c := &apiClient{t: t}
	api, err := startDeployAPI(slog.New(slog.DiscardHandler), func(x exchange) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.shown = append(c.shown, strings.Join(exchangeLines(x), "\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := api.stop(); err != nil {
			t.Error(err)
		}
	})
	c.api = api
	return c
}

// scale asks the stand-in to scale a service; it returns the status, the answer and
// whether the answer said it was a replay.
func (c *apiClient) scale(service, key, token, body string) (int, string, bool) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.api.url+"/services/"+service+"/scale", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer), resp.Header.Get("Idempotent-Replayed") == "true"
}

// TestDeployAPI checks the stand-in on its own: the token, the count, and above all
// that a repeated Idempotency-Key gets the first answer and scales once.
func TestDeployAPI(t *testing.T) {
	t.Run("RepeatedKeyScalesOnce", func(t *testing.T) {
		c := newAPIClient(t)
		token := c.api.token
		status, first, replayed := c.scale("checkout", "R-1-2-abc", token, `{"desired_count": 8}`)
		want := `{"service":"checkout","desired_count":8,"previous_count":4,"status":"scaling"}`
		if status != http.StatusOK || first != want || replayed {
			t.Fatalf("first request: %d %s (replayed %v); want 200 %s", status, first, replayed, want)
		}
		// A retry with the same key, even with another body, is the same request.
		status, again, replayed := c.scale("checkout", "R-1-2-abc", token, `{"desired_count": 20}`)
		if status != http.StatusOK || again != first || !replayed {
			t.Fatalf("repeat: %d %s (replayed %v); want the first answer again", status, again, replayed)
		}
		if n, _ := c.api.count("checkout"); n != 8 {
			t.Fatalf("checkout runs %d tasks after a repeated request, want 8", n)
		}
		status, next, _ := c.scale("checkout", "R-1-3-def", token, `{"desired_count": 10}`)
		if status != http.StatusOK || !strings.Contains(next, `"previous_count":8`) {
			t.Fatalf("a new key: %d %s; want it to scale from 8", status, next)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.shown) != 3 || !strings.Contains(c.shown[1], "nothing was scaled") || strings.Contains(c.shown[0], "nothing was scaled") {
			t.Errorf("the transcript does not tell the repeat from the first:\n%s", strings.Join(c.shown, "\n"))
		}
	})
	t.Run("ErrWrongToken", func(t *testing.T) {
		c := newAPIClient(t)
		if status, answer, _ := c.scale("checkout", "k", "guess", `{"desired_count": 8}`); status != http.StatusUnauthorized {
			t.Fatalf("a wrong token: %d %s; want 401", status, answer)
		}
		if n, _ := c.api.count("checkout"); n != startCount {
			t.Fatalf("a request with a wrong token scaled checkout to %d", n)
		}
		// The refused key is not taken: the request with the token is done.
		if status, _, replayed := c.scale("checkout", "k", c.api.token, `{"desired_count": 8}`); status != http.StatusOK || replayed {
			t.Fatalf("with the token after a refusal: %d (replayed %v)", status, replayed)
		}
	})
	t.Run("TokenNeverShown", func(t *testing.T) {
		c := newAPIClient(t)
		c.scale("checkout", c.api.token, c.api.token, `{"desired_count": 8, "echo": "`+c.api.token+`"}`)
		for _, x := range c.api.received() {
			if strings.Contains(strings.Join(exchangeLines(x), "\n"), c.api.token) {
				t.Fatalf("the token is shown:\n%s", strings.Join(exchangeLines(x), "\n"))
			}
		}
	})
	for name, tc := range map[string]struct {
		service, body string
		status        int
	}{
		"ErrCountNotANumber": {"checkout", `{"desired_count": "many"}`, http.StatusBadRequest},
		"ErrNegativeCount":   {"checkout", `{"desired_count": -1}`, http.StatusBadRequest},
		"ErrNotJSON":         {"checkout", `desired_count=8`, http.StatusBadRequest},
		"ErrUnknownService":  {"payments", `{"desired_count": 8}`, http.StatusNotFound},
		"CountAsText":        {"checkout", `{"desired_count": "3"}`, http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			c := newAPIClient(t)
			if status, answer, _ := c.scale(tc.service, "", c.api.token, tc.body); status != tc.status {
				t.Fatalf("%s: %d %s; want %d", tc.body, status, answer, tc.status)
			}
		})
	}
}
