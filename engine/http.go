package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

// Limits of what http.request keeps of a response.
const (
	// MaxResponseBody is the most of a response that is read; a larger one is cut
	// and its json output left empty.
	MaxResponseBody = 1 << 20
	// MaxBodyOutput is the most of the response kept as the body output.
	MaxBodyOutput = 16 << 10
	// maxRetryAfter is the longest Retry-After honoured; a server asking for more
	// fails the step rather than holding the run for longer.
	maxRetryAfter = 5 * time.Minute
	maxBackoff    = 30 * time.Second
)

// HTTPSettings configure http.request.
type HTTPSettings struct {
	// AllowedHosts are actions.http.allowedHosts; empty allows any host.
	AllowedHosts []string
	// Client sends the requests (a client of its own when nil). Each attempt has the
	// step's timeout; redirects are followed only to allowed hosts.
	Client *http.Client
	// Backoff is the wait before the first retry (500 ms when 0); it doubles with
	// each retry, up to 30 s.
	Backoff time.Duration
}

// httpActions call HTTP APIs.
type httpActions struct {
	e   *Executor
	cfg HTTPSettings
}

// HTTPActions lets runbooks call HTTP APIs.
func HTTPActions(cfg HTTPSettings) Family {
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	client := http.Client{}
	if cfg.Client != nil {
		client = *cfg.Client
	}
	allowed := cfg.AllowedHosts
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return &refusedRedirect{"stopped after 5 redirects"}
		}
		if !runbooks.HostAllowed(allowed, req.URL) {
			return &refusedRedirect{fmt.Sprintf("redirected to %s, which is not in actions.http.allowedHosts", req.URL.Host)}
		}
		return nil
	}
	cfg.Client = &client
	return &httpActions{cfg: cfg}
}

func (f *httpActions) register(e *Executor) {
	f.e = e
	e.actions["http.request"] = action{do: f.request, plan: f.plan}
}

// httpCall is a rendered http.request step.
type httpCall struct {
	method, url string
	headers     http.Header
	body        []byte
	timeout     time.Duration
	expect      []string
	retries     int
}

// render fills in the step's inputs. The URL is checked against the allowed hosts
// once rendered, whatever its template was.
func (f *httpActions) render(s *stepRun, data map[string]any) (*httpCall, error) {
	with := s.def.With
	c := &httpCall{headers: http.Header{}}
	var err error
	if c.url, err = runbooks.RenderURL(fmt.Sprint(with["url"]), data); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if msg := runbooks.CheckURL(c.url, f.cfg.AllowedHosts); msg != "" {
		return nil, runbook.Errorf(runbook.EINVALID, "url %s", msg)
	}
	rest := map[string]any{}
	for _, name := range []string{"method", "headers", "body", "timeout", "expect", "retries"} {
		if v, ok := with[name]; ok {
			rest[name] = v
		}
	}
	v, err := runbooks.RenderMachineValue(rest, data)
	if err != nil {
		return nil, err
	}
	in := v.(map[string]any)
	if raw, ok := with["json"]; ok {
		body, err := s.rb.RenderBody(raw, data)
		if err != nil {
			return nil, fmt.Errorf("json: %w", err)
		}
		if c.body, err = json.Marshal(body); err != nil {
			return nil, runbook.Errorf(runbook.EINVALID, "json: %v", err)
		}
		c.headers.Set("Content-Type", "application/json")
	} else if b, ok := in["body"]; ok {
		c.body = []byte(fmt.Sprint(b))
	}
	return c, f.settle(c, in, with)
}

// settle reads the rendered method, headers, timeout, expect and retries.
func (f *httpActions) settle(c *httpCall, in, with map[string]any) error {
	r := &stepRun{def: runbooks.Step{Action: "http.request", With: with}, in: in}
	c.method = strings.ToUpper(r.str("method"))
	switch {
	case c.method == "" && c.body != nil:
		c.method = http.MethodPost
	case c.method == "":
		c.method = http.MethodGet
	case !slices.Contains(runbooks.HTTPMethods, c.method): // upper-cased above
		return runbook.Errorf(runbook.EINVALID, "method %q is not one of %s", c.method, strings.Join(runbooks.HTTPMethods, ", "))
	}
	if headers, ok := in["headers"].(map[string]any); ok {
		for k, v := range headers {
			value := fmt.Sprint(v)
			if strings.ContainsAny(value, "\r\n") || strings.ContainsAny(k, "\r\n: ") {
				return runbook.Errorf(runbook.EINVALID, "header %q: a header name or value cannot hold a line break", k)
			}
			c.headers.Set(k, value)
		}
	}
	var err error
	if c.timeout, err = time.ParseDuration(r.str("timeout")); err != nil || c.timeout <= 0 {
		return runbook.Errorf(runbook.EINVALID, "timeout %q is not a duration like 10s", r.str("timeout"))
	}
	c.expect = r.list("expect")
	if len(c.expect) == 0 {
		c.expect = []string{"2xx"}
	}
	for _, e := range c.expect {
		if statusOf(e) == 0 {
			return runbook.Errorf(runbook.EINVALID, "expect %q is not an HTTP status such as 200 or a class such as 2xx", e)
		}
	}
	if c.retries, err = strconv.Atoi(r.str("retries")); err != nil || c.retries < 0 || c.retries > runbooks.MaxRetries {
		return runbook.Errorf(runbook.EINVALID, "retries %q is not a whole number from 0 to %d", r.str("retries"), runbooks.MaxRetries)
	}
	return nil
}

// statusOf reads "204" as 204, and "2xx" as 200; 0 when it is neither.
func statusOf(e string) int {
	e = strings.ToLower(strings.TrimSpace(e))
	if len(e) == 3 && e[0] >= '1' && e[0] <= '5' && e[1:] == "xx" {
		return int(e[0]-'0') * 100
	}
	if n, err := strconv.Atoi(e); err == nil && n >= 100 && n <= 599 {
		return n
	}
	return 0
}

// request runs an http.request step: the same Idempotency-Key on every attempt, also
// after a crash (it is stored before the first request), so a receiver can tell a
// retry from a second request.
func (f *httpActions) request(ctx context.Context, s *stepRun) (map[string]any, error) {
	c, err := f.render(s, s.data)
	if err != nil {
		return nil, err
	}
	key, _ := s.progress["idempotency_key"].(string)
	if key == "" {
		key = fmt.Sprintf("%s-%d-%s", s.run.Key(), s.index+1, randomHex(8))
		if err := s.saveProgress(ctx, map[string]any{"idempotency_key": key}); err != nil {
			return nil, err
		}
	}
	if c.headers.Get("Idempotency-Key") == "" {
		c.headers.Set("Idempotency-Key", key)
	}
	c.headers.Set("User-Agent", "Runbook (runbook "+s.run.Key()+")")
	start := f.e.d.Now()
	status, body, err := f.send(ctx, c)
	if err != nil {
		return nil, err
	}
	// Secrets are masked before the body is cut, so that none is kept in part.
	text := f.e.secrets.mask(string(body))
	if len(body) > MaxResponseBody {
		text = text[:max(len(text)-f.e.secrets.margin(), 0)]
	}
	out := responseOutputs(status, body, text, f.e.d.Now().Sub(start))
	if !runbooks.StatusExpected(c.expect, status) {
		return nil, failedWith(runbook.Errorf(runbook.EINVALID, "HTTP %d from %s (expected %s)%s",
			status, hostOf(c.url), strings.Join(c.expect, ", "), bodyTail(text)), out)
	}
	return out, nil
}

// send makes the request, retrying connection errors, 429 and 5xx with backoff. It
// returns the last response's status and (limited) body.
func (f *httpActions) send(ctx context.Context, c *httpCall) (int, []byte, error) {
	wait := f.cfg.Backoff
	for attempt := 0; ; attempt++ {
		status, body, header, err := f.attempt(ctx, c)
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		_, refused := errors.AsType[*refusedRedirect](err)
		retryable := err != nil && !refused || status == http.StatusTooManyRequests || status >= 500
		if !retryable || attempt >= c.retries {
			if err != nil {
				return 0, nil, runbook.Errorf(runbook.EINVALID, "%s %s: %v (%s)", c.method, hostOf(c.url), err, attempts(attempt+1))
			}
			return status, body, nil
		}
		delay := wait
		if after, ok := retryAfter(header, f.e.d.Now()); ok {
			if after > maxRetryAfter {
				return status, body, nil
			}
			delay = after
		}
		f.e.log.Info("retrying an HTTP request", "host", hostOf(c.url), "status", status, "attempt", attempt+1, "in", delay)
		if err := runbook.Sleep(ctx, delay); err != nil {
			return 0, nil, err
		}
		wait = min(wait*2, maxBackoff)
	}
}

// attempt sends the request once, within the step's timeout.
func (f *httpActions) attempt(ctx context.Context, c *httpCall) (int, []byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, bytes.NewReader(c.body))
	if err != nil {
		return 0, nil, nil, runbook.Errorf(runbook.EINVALID, "the request cannot be made: %v", err)
	}
	req.Header = c.headers.Clone()
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, nil, connectionError(err, c.timeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the response: %w", connectionError(err, c.timeout))
	}
	return resp.StatusCode, body, resp.Header, nil
}

// refusedRedirect is a redirect not followed: asking again would be refused again.
type refusedRedirect struct{ why string }

func (r *refusedRedirect) Error() string { return r.why }

// connectionError says what went wrong without repeating the URL, which may hold a
// secret (it is masked, but the sentence is shorter without it).
func connectionError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// responseOutputs are http.request's outputs; text is the body with secrets masked.
// (The parsed JSON is masked with the other outputs.)
func responseOutputs(status int, body []byte, text string, took time.Duration) map[string]any {
	out := map[string]any{"status": status, "body": cutText([]byte(text), MaxBodyOutput), "json": "", "duration_ms": took.Milliseconds()}
	var parsed any
	if len(body) <= MaxResponseBody && json.Unmarshal(body, &parsed) == nil && parsed != nil {
		out["json"] = parsed
	}
	return out
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// cutText returns at most limit bytes of b as text, cut at a character boundary.
func cutText(b []byte, limit int) string {
	if len(b) <= limit {
		return strings.ToValidUTF8(string(b), "�")
	}
	// A character cut in two is invalid, and dropped.
	return strings.ToValidUTF8(string(b[:limit]), "") + "…"
}

// bodyTail is the end of a response body (secrets masked) for an error message.
func bodyTail(body string) string {
	text := strings.TrimSpace(strings.ToValidUTF8(body, ""))
	if text == "" {
		return ""
	}
	return ": " + tail(text, 300)
}

// tail returns the last n bytes of text at a character boundary, marked as cut.
func tail(text string, n int) string {
	if len(text) <= n {
		return text
	}
	text = text[len(text)-n:]
	for len(text) > 0 && !utf8.RuneStart(text[0]) {
		text = text[1:]
	}
	return "…" + text
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "the server"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// plan says what the step would send: method, URL, headers it sets and body.
func (f *httpActions) plan(_ context.Context, s *stepRun) (string, error) {
	c, err := f.render(s, s.data)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", c.method, c.url)
	for _, k := range slices.Sorted(maps.Keys(c.headers)) {
		if k != "Content-Type" {
			fmt.Fprintf(&b, "\n%s: %s", k, strings.Join(c.headers[k], ", "))
		}
	}
	if len(c.body) > 0 {
		fmt.Fprintf(&b, "\n%s", cutText(c.body, 2000))
	}
	return b.String(), nil
}
