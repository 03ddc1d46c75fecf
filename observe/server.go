package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health says whether part of Runbook is well right now.
type Health interface {
	// Healthy returns nil, or what is wrong ("not connected to Slack", …).
	Healthy(ctx context.Context) error
}

// HealthFunc adapts a function to Health.
type HealthFunc func(ctx context.Context) error

// Healthy calls f.
func (f HealthFunc) Healthy(ctx context.Context) error { return f(ctx) }

// Probes are the two questions an orchestrator asks. They differ on purpose: during a
// Slack outage the bot is alive but not ready, and a liveness probe that failed then
// would restart it in a loop while Slack is down.
type Probes struct {
	// Live: the process is not wedged (/healthz). Restart it if not.
	Live Health
	// Ready: it can do its job now (/readyz): connected to Slack, the store writable,
	// the runbooks loaded.
	Ready Health
}

// Server serves /healthz, /readyz and /metrics, and whatever is mounted on it (Slack's
// request URLs in HTTP mode).
type Server struct {
	addr string
	mux  *http.ServeMux
	http *http.Server
	log  *slog.Logger
	wg   sync.WaitGroup

	mu      sync.Mutex
	ln      net.Listener // set by Start
	stopped bool
}

// NewServer returns a server for addr; Start listens and serves.
func NewServer(addr string, m *Metrics, probes Probes, logger *slog.Logger) *Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", probe(probes.Live, "unhealthy"))
	mux.HandleFunc("GET /readyz", probe(probes.Ready, "not ready"))
	// ReadTimeout bounds a slow body too: in HTTP mode the listener faces the internet
	// (through a proxy), and Slack sends its requests whole at once.
	return &Server{addr: addr, mux: mux, log: logger, http: &http.Server{Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}}
}

// Handle serves pattern (net/http's ServeMux patterns) with h; call it before Start.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Listening reports whether Start opened the address and the server has not stopped.
func (s *Server) Listening() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln != nil && !s.stopped
}

// probe answers 200 "ok" while h is healthy, else 503 with what is wrong.
func probe(h Health, failed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := h.Healthy(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "%s: %v\n", failed, err)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

// Addr is where the server listens, once Start has returned; the configured address
// before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return s.addr
	}
	return s.ln.Addr().String()
}

// Start opens the address and serves in the background until Stop.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("http.addr %s: %w", s.addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Go(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http listener stopped", "err", err)
		}
	})
	return nil
}

// Stop shuts the server down and waits for it; it may be called without Start.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.http.Close()
	}
	s.wg.Wait()
}
