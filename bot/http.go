package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// The request URLs Slack posts to in HTTP mode (manifest.http.yaml names them).
const (
	PathEvents       = "/slack/events"
	PathInteractions = "/slack/interactions"
	PathCommands     = "/slack/commands"
)

// Content types Slack sends.
const (
	contentJSON = "application/json"
	contentForm = "application/x-www-form-urlencoded"
)

// slackDeadline is how long Slack waits for the HTTP response before it takes the
// request as failed. The pipeline acks well within it (Options.AckBudget); a request
// it left unacked — an event while the bot stops, say — is answered 503 by then, so
// that Slack retries events and shows a click's failure, as with Socket Mode.
const slackDeadline = 3 * time.Second

// HTTPOptions tune the HTTP receiver.
type HTTPOptions struct {
	// Now is the clock request timestamps are checked against (time.Now when nil).
	Now func() time.Time
}

// HTTPReceiver takes Slack's requests over HTTP (slack.mode: http): it verifies each
// request's signature before reading it further, turns it into the envelope Socket
// Mode would have carried, and hands it to the bot's one pipeline — the same inbox,
// workers and ack budget. The HTTP response is the ack.
type HTTPReceiver struct {
	b     *Bot
	check *verifier
	log   *slog.Logger
}

// NewHTTPReceiver returns the receiver of the bot's requests over HTTP, verifying them
// with the app's signing secret. The secret is kept only as the HMAC key.
func (b *Bot) NewHTTPReceiver(signingSecret string, opts HTTPOptions) *HTTPReceiver {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &HTTPReceiver{
		b:     b,
		check: &verifier{secret: []byte(signingSecret), now: opts.Now, seen: newReplays(maxReplays)},
		log:   b.log.With("transport", "http"),
	}
}

// Mount adds the three request URLs to mux.
func (h *HTTPReceiver) Mount(mux interface {
	Handle(pattern string, handler http.Handler)
}) {
	mux.Handle("POST "+PathEvents, http.HandlerFunc(h.events))
	mux.Handle("POST "+PathInteractions, http.HandlerFunc(h.interactions))
	mux.Handle("POST "+PathCommands, http.HandlerFunc(h.commands))
}

// read verifies the request and returns its body. The headers are checked before a
// byte of the body is read; the body is read up to the size limit, its signature
// checked and the request remembered against replays, and only then is the content
// type looked at, so that nothing unsigned is parsed. On a refusal it has answered.
func (h *HTTPReceiver) read(w http.ResponseWriter, r *http.Request, contentType string) ([]byte, bool) {
	ts := r.Header.Get(HeaderTimestamp)
	sum, err := h.check.headers(r.Header.Get(HeaderSignature), ts)
	if err != nil {
		h.refuse(w, r, err)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEnvelope))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			h.refuse(w, r, &refusal{RefusedTooLarge, fmt.Sprintf("body over %d bytes", maxEnvelope)})
			return nil, false
		}
		h.log.Debug("reading a request failed", "path", r.URL.Path, "err", err)
		http.Error(w, "cannot read the request", http.StatusBadRequest)
		return nil, false
	}
	if err := h.check.body(sum, ts, body); err != nil {
		h.refuse(w, r, err)
		return nil, false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		h.refuse(w, r, &refusal{RefusedContentType, "content type is not " + contentType})
		return nil, false
	}
	return body, true
}

// refuse answers a request that did not pass: 401 for what fails the signature, 413
// for a body too large, 400 for a signed request Slack would not send, 503 when the
// replay set is full. The answer names the reason, nothing of the request.
func (h *HTTPReceiver) refuse(w http.ResponseWriter, r *http.Request, err error) {
	ref, ok := isRefusal(err)
	if !ok {
		ref = &refusal{RefusedMalformed, err.Error()}
	}
	status := http.StatusUnauthorized
	switch ref.reason {
	case RefusedTooLarge:
		status = http.StatusRequestEntityTooLarge
	case RefusedContentType, RefusedMalformed:
		status = http.StatusBadRequest
	case RefusedBusy:
		status = http.StatusServiceUnavailable
	}
	h.b.opts.Observer.HTTPRefused(ref.reason)
	h.log.Warn("request refused", "path", r.URL.Path, "reason", ref.reason, "why", ref.msg, "remote", r.RemoteAddr)
	http.Error(w, "refused: "+ref.reason, status)
}

// events takes POST /slack/events: the Events API's JSON, including the
// url_verification challenge sent when the request URL is set.
func (h *HTTPReceiver) events(w http.ResponseWriter, r *http.Request) {
	body, ok := h.read(w, r, contentJSON)
	if !ok {
		return
	}
	var head struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		h.refuse(w, r, &refusal{RefusedMalformed, "body is not JSON"})
		return
	}
	if head.Type == "url_verification" {
		w.Header().Set("Content-Type", contentJSON)
		_ = json.NewEncoder(w).Encode(map[string]string{"challenge": head.Challenge})
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get(HeaderRetryNum))
	h.deliver(w, r, envelope{Type: typeEventsAPI, Payload: body, RetryAttempt: retry})
}

// interactions takes POST /slack/interactions: a form whose payload= field holds the
// interaction's JSON. A view submission's response may carry a response_action.
func (h *HTTPReceiver) interactions(w http.ResponseWriter, r *http.Request) {
	body, ok := h.read(w, r, contentForm)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	payload := form.Get("payload")
	var head struct {
		Type string `json:"type"`
	}
	if err != nil || payload == "" || json.Unmarshal([]byte(payload), &head) != nil {
		h.refuse(w, r, &refusal{RefusedMalformed, "no JSON payload field"})
		return
	}
	h.deliver(w, r, envelope{Type: typeInteractive, Payload: json.RawMessage(payload),
		AcceptsResponsePayload: head.Type == "view_submission"})
}

// commands takes POST /slack/commands: a slash command's form fields, which become the
// JSON object Socket Mode carries. Slack's ssl_check posts are answered and dropped.
func (h *HTTPReceiver) commands(w http.ResponseWriter, r *http.Request) {
	body, ok := h.read(w, r, contentForm)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		h.refuse(w, r, &refusal{RefusedMalformed, "body is not a form"})
		return
	}
	if form.Get("ssl_check") == "1" {
		return
	}
	fields := make(map[string]string, len(form))
	for k := range form {
		fields[k] = form.Get(k)
	}
	payload, _ := json.Marshal(fields) // cannot fail: strings only
	h.deliver(w, r, envelope{Type: typeSlashCommands, Payload: payload, AcceptsResponsePayload: true})
}

// deliver hands the envelope to the pipeline and writes its ack as the response: 200
// with the ack's payload (a slash command's answer, a view's response_action) or an
// empty body. A request the pipeline leaves unacked is answered 503 by Slack's
// deadline, which Slack takes as a failure, as it takes a missing Socket Mode ack.
func (h *HTTPReceiver) deliver(w http.ResponseWriter, r *http.Request, env envelope) {
	if !h.b.serving.Load() {
		http.Error(w, "Runbook is not taking requests yet", http.StatusServiceUnavailable)
		return
	}
	// The envelope id names the request in logs and, for commands and interactions,
	// keys it in the inbox: Slack never retries those. It is taken from the request's
	// signature, unique to its timestamp and body, so that a replay the signature
	// check cannot see (the bot restarted within the five minutes a signature is good
	// for, and forgot the requests it had seen) is known to the inbox as a request
	// already handled and changes nothing. (A command that only reads is not recorded:
	// such a replay is answered again, and still changes nothing.) Events are keyed by
	// their event_id, as in Socket Mode, so that Slack's retries are recognised.
	env.EnvelopeID = requestID(r.Header.Get(HeaderSignature))
	resp := newHTTPAck()
	if !h.b.accept(resp, env) {
		http.Error(w, "Runbook is busy", http.StatusServiceUnavailable)
		return
	}
	deadline := time.NewTimer(slackDeadline)
	defer deadline.Stop()
	select {
	case payload := <-resp.sent:
		if len(payload) > 0 {
			w.Header().Set("Content-Type", contentJSON)
			_, _ = w.Write(payload)
		}
	case <-deadline.C:
		resp.close()
		http.Error(w, "not handled in time", http.StatusServiceUnavailable)
	case <-r.Context().Done():
		resp.close()
	}
}

// requestID is the id of a request that came by HTTP, from its verified signature:
// the same request, replayed, has the same id.
func requestID(signature string) string {
	sum := sha256.Sum256([]byte(signature))
	return "http-" + hex.EncodeToString(sum[:12])
}

// httpAck is the ack of one HTTP request: the first ack becomes its response; an ack
// after the response was written (or given up) fails, as an ack on a closed socket
// does, and is logged.
type httpAck struct {
	sent chan []byte
	mu   sync.Mutex
	done bool
}

func newHTTPAck() *httpAck { return &httpAck{sent: make(chan []byte, 1)} }

var errAnswered = errors.New("the HTTP request was already answered")

func (a *httpAck) ack(_ string, payload []byte, _ time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return errAnswered
	}
	a.done = true
	a.sent <- payload
	return nil
}

func (a *httpAck) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = true
}
