package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// deployTokenSecret is the name under secrets: that the scale-up runbook sends as its
// bearer token.
const deployTokenSecret = "deploy_token"

// startCount is how many tasks each service runs when the demo starts.
const startCount = 4

// deployAPI stands in for a deploy API: a real HTTP server on 127.0.0.1 that the
// scale-up runbook calls once its approval is given. It scales nothing; it keeps each
// service's task count, refuses requests without its token, and answers a repeated
// Idempotency-Key with the first answer instead of scaling again, as a deploy API must
// for Runbook's retries to be safe. Every exchange is recorded, with the token masked,
// for the transcript and the tests.
type deployAPI struct {
	srv    *http.Server
	url    string // http://127.0.0.1:PORT
	token  string
	served chan struct{} // closed when the server has stopped serving
	// onExchange is told of each exchange as it is answered.
	onExchange func(exchange)

	mu        sync.Mutex
	counts    map[string]int      // tasks by service
	answered  map[string]exchange // by Idempotency-Key
	exchanges []exchange
	serveErr  error
}

// exchange is one request the stand-in received and its answer. The token never
// appears in it: Authorization shows it as [secret:deploy_token].
type exchange struct {
	At             time.Time
	Method, URL    string
	Authorization  string // as received, the token masked
	Authorized     bool   // Authorization was exactly "Bearer " and the token
	IdempotencyKey string
	Body           []byte
	Status         int
	Answer         []byte
	// Replayed says the Idempotency-Key had been answered before: this is that
	// answer again, and nothing was scaled.
	Replayed bool
	// Scaled names the service this request scaled, if it did.
	Scaled string
}

// startDeployAPI listens on a free port of 127.0.0.1 and serves until stop. The token
// is made up here, so that no demo ever shows a value someone could mistake for a real
// one, and so that the tests can look for it in everything the demo printed.
func startDeployAPI(logger *slog.Logger, onExchange func(exchange)) (*deployAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the stand-in deploy API: %w", err)
	}
	a := &deployAPI{url: "http://" + ln.Addr().String(), token: "demo-" + randomHex(16), served: make(chan struct{}),
		onExchange: onExchange, counts: map[string]int{"checkout": startCount}, answered: map[string]exchange{}}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go a.serve(ln)
	return a, nil
}

func (a *deployAPI) serve(ln net.Listener) {
	defer close(a.served)
	if err := a.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		a.mu.Lock()
		a.serveErr = err
		a.mu.Unlock()
	}
}

// stop closes the listener, lets a request in progress finish, and waits until the
// server goroutine has returned.
func (a *deployAPI) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), actTimeout)
	defer cancel()
	err := a.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, a.srv.Close())
	}
	<-a.served
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil || a.serveErr != nil {
		return fmt.Errorf("stop the stand-in deploy API: %w", errors.Join(err, a.serveErr))
	}
	return nil
}

// host is what actions.http.allowedHosts must list for the bot to reach the stand-in.
func (a *deployAPI) host() string { return strings.TrimPrefix(a.url, "http://") }

// received returns every exchange so far, oldest first.
func (a *deployAPI) received() []exchange {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]exchange(nil), a.exchanges...)
}

// count returns a service's task count.
func (a *deployAPI) count(service string) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.counts[service]
	return n, ok
}

// ServeHTTP answers one request and records the exchange.
func (a *deployAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	x := exchange{At: time.Now(), Method: r.Method, URL: a.url + r.URL.RequestURI(),
		Authorization: a.mask(r.Header.Get("Authorization")), Authorized: a.authorized(r),
		IdempotencyKey: a.mask(r.Header.Get("Idempotency-Key")), Body: []byte(a.mask(string(body)))}
	a.mu.Lock()
	switch {
	case err != nil:
		x.Status, x.Answer = failure(http.StatusBadRequest, "the request body could not be read")
	default:
		x = a.answer(x, r, body)
	}
	a.exchanges = append(a.exchanges, x)
	a.mu.Unlock()
	// Told before the answer is sent, so that the exchange is shown before anything
	// the bot does with the answer.
	if a.onExchange != nil {
		a.onExchange(x)
	}
	if x.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(x.Status)
	_, _ = w.Write(x.Answer)
}

// answer decides what to answer; the caller holds a.mu. An Idempotency-Key seen
// before gets the first answer to it, so a retry of a request that scaled does not
// scale twice.
func (a *deployAPI) answer(x exchange, r *http.Request, body []byte) exchange {
	if !x.Authorized {
		x.Status, x.Answer = failure(http.StatusUnauthorized, "a bearer token is required: Authorization: Bearer TOKEN")
		return x
	}
	key := r.Header.Get("Idempotency-Key")
	if first, ok := a.answered[key]; ok && key != "" {
		x.Status, x.Answer, x.Replayed = first.Status, first.Answer, true
		return x
	}
	x.Status, x.Answer, x.Scaled = a.route(r, body)
	if key != "" {
		a.answered[key] = x
	}
	return x
}

// route serves POST /services/{service}/scale, the one operation the stand-in has.
func (a *deployAPI) route(r *http.Request, body []byte) (status int, answer []byte, scaled string) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/services/")
	service, ok2 := strings.CutSuffix(rest, "/scale")
	if !ok || !ok2 || service == "" || strings.Contains(service, "/") {
		status, answer = failure(http.StatusNotFound, "not found: this API has POST /services/{service}/scale")
		return status, answer, ""
	}
	if r.Method != http.MethodPost {
		status, answer = failure(http.StatusMethodNotAllowed, "use POST")
		return status, answer, ""
	}
	previous, known := a.counts[service]
	if !known {
		status, answer = failure(http.StatusNotFound, fmt.Sprintf("no service %q", service))
		return status, answer, ""
	}
	desired, err := desiredCount(body)
	if err != nil {
		status, answer = failure(http.StatusBadRequest, err.Error())
		return status, answer, ""
	}
	a.counts[service] = desired
	answer, _ = json.Marshal(scaleAnswer{Service: service, DesiredCount: desired, PreviousCount: previous, Status: "scaling"})
	return http.StatusOK, answer, service
}

// scaleAnswer is the answer to a scale request.
type scaleAnswer struct {
	Service       string `json:"service"`
	DesiredCount  int    `json:"desired_count"`
	PreviousCount int    `json:"previous_count"`
	Status        string `json:"status"`
}

// desiredCount reads {"desired_count": N}. A whole number written as a string ("4")
// is taken too: a rollback sends the count it read from an earlier answer, and
// http.request's json sends such values as strings.
func desiredCount(body []byte) (int, error) {
	var req map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return 0, errors.New(`the body must be a JSON object such as {"desired_count": 8}`)
	}
	var text string
	switch v := req["desired_count"].(type) {
	case json.Number:
		text = v.String()
	case string:
		text = v
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 0 {
		return 0, errors.New("desired_count must be a whole number, 0 or more")
	}
	return n, nil
}

// failure is an error answer: a status and {"error": msg}.
func failure(status int, msg string) (int, []byte) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return status, b
}

// authorized compares in constant time, as a real API would.
func (a *deployAPI) authorized(r *http.Request) bool {
	got := r.Header.Get("Authorization")
	return subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+a.token)) == 1
}

// mask replaces the token, wherever it is, as Runbook itself does.
func (a *deployAPI) mask(s string) string {
	return strings.ReplaceAll(s, a.token, "[secret:"+deployTokenSecret+"]")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
