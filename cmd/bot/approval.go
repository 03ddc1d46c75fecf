package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/runbookhq/runbook"
)

// Exit codes of bot approval request: a CI step passes on approved and fails
// otherwise, and can tell why. A cancelled request counts as denied: someone decided
// the change must not go ahead.
const (
	exitApproved = 0
	exitDenied   = 1
	exitExpired  = 2
	exitError    = 3
)

// approvalRequestArgs are bot approval request's command line.
type approvalRequestArgs struct {
	base, token, key                      string
	operation, risk, rollback, reason     string
	approvers, channel, incident, request string
	timeout                               string
	required                              int
	wait                                  bool
}

// approvalClient talks to a bot's approvals API; sleep waits out a backoff (a test
// makes it return at once).
type approvalClient struct {
	base, token string
	http        *http.Client
	stderr      io.Writer
	sleep       func(ctx context.Context, d time.Duration) error
}

// approvalAnswer is what the API says of a request, or of an error.
type approvalAnswer struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	Channel   string    `json:"channel"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	DecidedBy string    `json:"decided_by"`
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
}

// cmdApproval is bot approval: only "request" for now.
func cmdApproval(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 || args[0] != "request" {
		fmt.Fprintln(stderr, "bot approval: say request, as in bot approval request --url URL --operation TEXT --wait.")
		return exitError
	}
	c := &approvalClient{http: &http.Client{Timeout: MaxPollTimeout}, stderr: stderr, sleep: runbook.Sleep}
	return c.request(ctx, args[1:], stdout, environ)
}

// MaxPollTimeout bounds one request to the API: a long-poll of up to 120 s and then
// some.
const MaxPollTimeout = 150 * time.Second

func parseApprovalRequest(args []string, stderr io.Writer, environ []string) (approvalRequestArgs, bool) {
	var a approvalRequestArgs
	f := flag.NewFlagSet("approval request", flag.ContinueOnError)
	f.SetOutput(stderr)
	f.StringVar(&a.base, "url", "", "the bot's address, e.g. http://runbook:8080")
	f.StringVar(&a.token, "token", "", "an API token with the approvals scope (default $RUNBOOK_API_TOKEN)")
	f.StringVar(&a.key, "idempotency-key", "", "the same key for a retried job finds the same request (default: one per invocation)")
	f.StringVar(&a.operation, "operation", "", "what needs approving (required)")
	f.StringVar(&a.risk, "risk", "", "low, medium, high or critical (default high)")
	f.StringVar(&a.rollback, "rollback", "", "how to undo it")
	f.StringVar(&a.reason, "reason", "", "why it is needed")
	f.StringVar(&a.approvers, "approvers", "", "who may approve: user ids, group ids or @handles, comma-separated")
	f.IntVar(&a.required, "required", 0, "how many approvals are needed (default by risk)")
	f.StringVar(&a.timeout, "timeout", "", "how long to wait for a decision, e.g. 30m")
	f.StringVar(&a.channel, "channel", "", "where to ask")
	f.StringVar(&a.incident, "incident", "", "the incident this belongs to, e.g. INC-7")
	f.StringVar(&a.request, "requester", "", "the Slack user id on whose behalf you ask; they may not approve it")
	f.BoolVar(&a.wait, "wait", false, "wait for the decision: exit 0 approved, 1 denied or cancelled, 2 expired, 3 error")
	if err := f.Parse(args); err != nil {
		return a, false
	}
	if f.NArg() > 0 {
		fmt.Fprintf(stderr, "bot approval request: unexpected argument %q.\n", f.Arg(0))
		return a, false
	}
	if a.token == "" {
		a.token = envValue(environ, "RUNBOOK_API_TOKEN")
	}
	// A secret file or a CI variable often ends in a newline, which no header may carry.
	a.token = strings.TrimSpace(a.token)
	switch {
	case a.base == "":
		fmt.Fprintln(stderr, "bot approval request: give the bot's address with --url, e.g. http://runbook:8080.")
		return a, false
	case !strings.HasPrefix(a.base, "http://") && !strings.HasPrefix(a.base, "https://"):
		fmt.Fprintln(stderr, "bot approval request: --url must start with http:// or https://, e.g. http://runbook:8080.")
		return a, false
	case a.token == "":
		fmt.Fprintln(stderr, "bot approval request: give a token in $RUNBOOK_API_TOKEN (or --token).")
		return a, false
	case strings.TrimSpace(a.operation) == "":
		fmt.Fprintln(stderr, "bot approval request: say what needs approving with --operation.")
		return a, false
	}
	if a.key == "" {
		b := make([]byte, 16)
		rand.Read(b)
		a.key = hex.EncodeToString(b)
	}
	return a, true
}

func envValue(environ []string, name string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func (c *approvalClient) request(ctx context.Context, args []string, stdout io.Writer, environ []string) int {
	a, ok := parseApprovalRequest(args, c.stderr, environ)
	if !ok {
		return exitError
	}
	c.base, c.token = strings.TrimSuffix(a.base, "/")+"/api/v1", a.token
	body := map[string]any{"operation": a.operation, "risk": a.risk, "rollback": a.rollback, "reason": a.reason,
		"timeout": a.timeout, "channel": a.channel, "incident": a.incident, "requester": a.request}
	if a.required != 0 {
		body["required"] = a.required
	}
	if a.approvers != "" {
		var list []string
		for _, e := range strings.Split(a.approvers, ",") {
			if e = strings.TrimSpace(e); e != "" {
				list = append(list, e)
			}
		}
		body["approvers"] = list
	}
	// Asking is retried while the bot restarts or deploys, not for ever: a bot down for
	// ten minutes is a failed job, not a hung one.
	ans, err := c.retrying(ctx, time.Now().Add(askPatience), func() (approvalAnswer, error) {
		return c.call(ctx, http.MethodPost, "/approvals", a.key, body)
	})
	if err != nil {
		return c.fail(err)
	}
	if !a.wait {
		fmt.Fprintln(stdout, ans.ID)
		return exitApproved
	}
	fmt.Fprintf(c.stderr, "%s is waiting for a decision%s.\n", ans.ID, where(ans))
	for ans.State == string(runbook.ApprovalPending) {
		deadline := ans.ExpiresAt.Add(10 * time.Minute)
		ans, err = c.retrying(ctx, deadline, func() (approvalAnswer, error) {
			return c.call(ctx, http.MethodGet, "/approvals/"+url.PathEscape(ans.ID)+"?wait=60s", "", nil)
		})
		if err != nil {
			return c.fail(err)
		}
	}
	fmt.Fprintln(stdout, decisionLine(ans))
	switch runbook.ApprovalState(ans.State) {
	case runbook.ApprovalApproved:
		return exitApproved
	case runbook.ApprovalExpired:
		return exitExpired
	case runbook.ApprovalDenied, runbook.ApprovalCancelled:
		return exitDenied
	}
	// A state this client does not know is not a decision it can vouch for.
	return exitError
}

// askPatience is how long asking is retried through connection errors and 5xx.
const askPatience = 10 * time.Minute

func where(a approvalAnswer) string {
	if a.URL != "" {
		return ": " + a.URL
	}
	return ""
}

// decisionLine says in one line how a request ended.
func decisionLine(a approvalAnswer) string {
	line := a.ID + " " + a.State
	switch {
	case a.State == string(runbook.ApprovalExpired):
		line += " with no decision"
	case a.DecidedBy != "":
		line += " by " + a.DecidedBy
	}
	if a.Reason != "" {
		line += ": " + a.Reason
	}
	return runbook.CleanText(line)
}

// refusal is an answer the API gave that retrying will not change.
type refusal struct{ msg string }

func (r refusal) Error() string { return r.msg }

// retrying calls try until it answers, waiting out connection errors, 5xx and 429
// (a restart, a deploy) with a growing backoff, until ctx ends or, when set, deadline
// passes; a refusal ends it at once.
func (c *approvalClient) retrying(ctx context.Context, deadline time.Time, try func() (approvalAnswer, error)) (approvalAnswer, error) {
	backoff := time.Second
	for {
		ans, err := try()
		if err == nil || errors.As(err, new(refusal)) {
			return ans, err
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return ans, fmt.Errorf("gave up reaching the bot: %w", err)
		}
		fmt.Fprintf(c.stderr, "bot approval: %v; trying again in %s.\n", err, backoff)
		if err := c.sleep(ctx, backoff); err != nil {
			return ans, err
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// call makes one API request.
func (c *approvalClient) call(ctx context.Context, method, path, key string, body any) (approvalAnswer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return approvalAnswer{}, refusal{err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return approvalAnswer{}, refusal{"the --url is not a URL."}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return approvalAnswer{}, refusal{"interrupted."}
		}
		if !transient(err) {
			// Not the network: the request itself cannot be sent (a header value, a
			// scheme), and sending it again will not change that. The error's text is
			// not shown: it may quote the header.
			return approvalAnswer{}, refusal{fmt.Sprintf("the request to %s cannot be sent; check --url and the token for stray characters.", req.URL.Host)}
		}
		return approvalAnswer{}, fmt.Errorf("cannot reach %s", req.URL.Host)
	}
	defer resp.Body.Close()
	var ans approvalAnswer
	decodeErr := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ans)
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return ans, fmt.Errorf("the bot answered %d", resp.StatusCode)
	case resp.StatusCode >= 400:
		return ans, refusal{runbook.CleanText(strings.TrimSpace(ans.Message + " (HTTP " + fmt.Sprint(resp.StatusCode) + ")"))}
	case decodeErr != nil || ans.ID == "":
		return ans, refusal{fmt.Sprintf("the answer from %s is not an approval; is --url the bot's address?", req.URL.Host)}
	}
	return ans, nil
}

func (c *approvalClient) fail(err error) int {
	msg := strings.TrimSpace(err.Error())
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, ")") {
		msg += "."
	}
	fmt.Fprintf(c.stderr, "bot approval request: %s\n", msg)
	return exitError
}

// transient says whether a failed request may succeed if sent again: the network or
// the bot went away, as in a restart or a deploy.
func transient(err error) bool {
	// *url.Error is a net.Error itself: look at what it wraps.
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		err = urlErr.Err
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}
