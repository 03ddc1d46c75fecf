package slackfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Request URL paths of an app in HTTP mode, as its manifest names them.
const (
	PathEvents       = "/slack/events"
	PathInteractions = "/slack/interactions"
	PathCommands     = "/slack/commands"
)

// httpConnID is the "connection" an HTTP response acks on: each envelope posted over
// HTTP counts as sent on it.
const httpConnID = 0

// maxHTTPResponse bounds what the emulator reads of an app's response.
const maxHTTPResponse = 1 << 20

// HTTPDelivery makes the emulator deliver envelopes as Slack does to an app without
// Socket Mode: each one is POSTed, signed with the app's signing secret, to the app's
// request URL for its type, and the response is its ack — a 200 acks it with the body
// as the ack's payload; anything else, or no answer within AckTimeout, does not, and
// Events API envelopes are retried with X-Slack-Retry-Num as over Socket Mode.
type HTTPDelivery struct {
	// URL is the app's base URL ("http://127.0.0.1:8080"); the paths are added.
	URL string
	// Secret is the app's signing secret.
	Secret string
	// Now is the clock of X-Slack-Request-Timestamp (time.Now when nil).
	Now func() time.Time
}

// DeliverOverHTTP switches envelope delivery to HTTP: from now on envelopes are posted
// to d.URL instead of sent on Socket Mode connections (none need be open).
func (s *Server) DeliverOverHTTP(d HTTPDelivery) {
	if d.Now == nil {
		d.Now = time.Now
	}
	s.mu.Lock()
	s.httpTo = &d
	s.mu.Unlock()
	s.kickDispatcher()
}

// HTTPResponse is an app's answer to one request the emulator posted.
type HTTPResponse struct {
	Status   int
	Body     []byte
	RetryNum int // the X-Slack-Retry-Num it was sent with
	Err      error
}

// HTTPResponses returns the answers to an envelope's posts, oldest first.
func (s *Server) HTTPResponses(envelopeID string) []HTTPResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.httpAnswers[envelopeID])
}

// SlackRequest is one request as Slack sends it to an app's request URL.
type SlackRequest struct {
	Path        string
	ContentType string
	Body        []byte
	RetryNum    int
}

// RequestFor is the request Slack sends for an envelope of typ with payload: Events
// API JSON as it is, slash commands as a form of their fields, interactions as a form
// whose payload= field holds the JSON.
func RequestFor(typ string, payload json.RawMessage, retry int) (SlackRequest, error) {
	switch typ {
	case EnvelopeEventsAPI:
		return SlackRequest{Path: PathEvents, ContentType: "application/json", Body: slices.Clone(payload), RetryNum: retry}, nil
	case EnvelopeSlashCommands:
		var fields map[string]any
		if err := json.Unmarshal(payload, &fields); err != nil {
			return SlackRequest{}, fmt.Errorf("slackfake: slash command payload: %w", err)
		}
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, fmt.Sprint(v))
		}
		return SlackRequest{Path: PathCommands, ContentType: "application/x-www-form-urlencoded", Body: []byte(form.Encode())}, nil
	case EnvelopeInteractive:
		form := url.Values{"payload": {string(payload)}}
		return SlackRequest{Path: PathInteractions, ContentType: "application/x-www-form-urlencoded", Body: []byte(form.Encode())}, nil
	}
	return SlackRequest{}, fmt.Errorf("slackfake: no request URL for envelope type %q", typ)
}

// Sign is Slack's v0 request signature.
func Sign(secret string, timestamp int64, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "v0:%d:", timestamp)
	h.Write(body)
	return "v0=" + hex.EncodeToString(h.Sum(nil))
}

// Signed is r as an HTTP request to base, signed with secret at the given time, with
// the headers Slack sends. An empty secret leaves it unsigned.
func (r SlackRequest) Signed(ctx context.Context, base, secret string, at time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", r.ContentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	if secret != "" {
		ts := at.Unix()
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", Sign(secret, ts, r.Body))
	}
	if r.RetryNum > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(r.RetryNum))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	return req, nil
}

// postLocked posts a pending envelope when delivery is over HTTP, reporting whether
// it did. The caller holds s.mu and goes on as if it had been sent on a connection.
func (s *Server) postLocked(e *envelope, now time.Time) bool {
	to := s.httpTo
	if to == nil || s.held {
		return false
	}
	r, err := RequestFor(e.typ, e.payload, e.retry)
	if err != nil {
		s.log.Error("slackfake: cannot post envelope", "envelope", e.id, "err", err)
		return false
	}
	e.pending = false
	if !slices.Contains(e.sentOn, httpConnID) {
		e.sentOn = append(e.sentOn, httpConnID)
	}
	e.attempts++
	e.deadline = now.Add(s.opts.AckTimeout)
	id, timeout, base, secret, at := e.id, s.opts.AckTimeout, to.URL, to.Secret, to.Now()
	s.spawnLocked(func() { s.post(id, r, base, secret, at, timeout) })
	s.log.Debug("slackfake: envelope posted", "envelope", e.id, "type", e.typ, "path", r.Path, "retry", e.retry)
	return true
}

// post sends one request and records the answer; a 200 is the envelope's ack.
func (s *Server) post(envelopeID string, r SlackRequest, base, secret string, at time.Time, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() { // ends the post when the server closes
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	answer := HTTPResponse{RetryNum: r.RetryNum}
	req, err := r.Signed(ctx, base, secret, at)
	if err == nil {
		var resp *http.Response
		if resp, err = http.DefaultClient.Do(req); err == nil {
			answer.Status = resp.StatusCode
			answer.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxHTTPResponse))
			resp.Body.Close()
		}
	}
	answer.Err = err
	s.mu.Lock()
	defer s.mu.Unlock()
	s.httpAnswers[envelopeID] = append(s.httpAnswers[envelopeID], answer)
	if err == nil && answer.Status == http.StatusOK {
		s.recordAckLocked(httpConnID, envelopeID, answer.Body)
	}
	s.notifyLocked()
	s.kickDispatcher()
}

// PostToApp sends r to the app configured by DeliverOverHTTP, signed with secret at
// the given time (an empty secret: unsigned), as an attacker or a replaying proxy
// would, and returns the app's answer. Nothing is recorded as an envelope.
func (s *Server) PostToApp(ctx context.Context, r SlackRequest, secret string, at time.Time) HTTPResponse {
	s.mu.Lock()
	to := s.httpTo
	s.mu.Unlock()
	if to == nil {
		return HTTPResponse{Err: fmt.Errorf("slackfake: PostToApp before DeliverOverHTTP")}
	}
	req, err := r.Signed(ctx, to.URL, secret, at)
	if err != nil {
		return HTTPResponse{Err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return HTTPResponse{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPResponse))
	return HTTPResponse{Status: resp.StatusCode, Body: body, RetryNum: r.RetryNum, Err: err}
}
