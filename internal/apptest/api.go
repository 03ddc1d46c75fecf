package apptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// API is an HTTP server on 127.0.0.1 for the http.request steps of a test's runbooks
// to call: it records every request as it arrived and answers each as the test says.
type API struct {
	URL  string // http://127.0.0.1:port
	Host string // 127.0.0.1:port, as actions.http.allowedHosts names it

	srv     *httptest.Server
	answer  func(n int, r APIRequest) APIAnswer
	closing chan struct{}
	once    sync.Once
	mu      sync.Mutex
	reqs    []APIRequest
}

// APIRequest is a request the API received.
type APIRequest struct {
	Method string
	// Target is the request target as sent — path and query, percent-encoding kept;
	// Path is its path decoded, Query its raw query.
	Target, Path, Query string
	Header              http.Header
	Body                []byte
}

// APIAnswer is how the API answers one request.
type APIAnswer struct {
	Status int // 200 when 0
	Header map[string]string
	Body   string
	// Hold, when set, keeps the answer back until it is closed (or the caller goes
	// away, or the API closes): a request in flight for as long as the test needs.
	Hold <-chan struct{}
}

// NewAPI starts an API that answers the nth request it receives (from 1) with
// answer(n, request), and closes it when the test ends.
func NewAPI(tb TB, answer func(n int, r APIRequest) APIAnswer) *API {
	tb.Helper()
	a := &API{answer: answer, closing: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	a.URL = a.srv.URL
	a.Host = strings.TrimPrefix(a.srv.URL, "http://")
	tb.Cleanup(a.Close)
	return a
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := APIRequest{Method: r.Method, Target: r.RequestURI, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body}
	a.mu.Lock()
	a.reqs = append(a.reqs, req)
	n := len(a.reqs)
	a.mu.Unlock()
	ans := a.answer(n, req)
	if ans.Hold != nil {
		select {
		case <-ans.Hold:
		case <-r.Context().Done():
			return
		case <-a.closing:
			return
		}
	}
	for k, v := range ans.Header {
		w.Header().Set(k, v)
	}
	status := ans.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, ans.Body)
}

// Requests are the requests received so far, in order.
func (a *API) Requests() []APIRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reqs)
}

// Close lets held answers go and stops the server.
func (a *API) Close() {
	a.once.Do(func() {
		close(a.closing)
		a.srv.Close()
	})
}
