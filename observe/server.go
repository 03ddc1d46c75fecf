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

// Health says whether Runbook can do its job right now.
type Health interface {
	// Healthy returns nil, or what is wrong ("not connected to Slack", …).
	Healthy(ctx context.Context) error
}

// HealthFunc adapts a function to Health.
type HealthFunc func(ctx context.Context) error

// Healthy calls f.
func (f HealthFunc) Healthy(ctx context.Context) error { return f(ctx) }

// Server serves /healthz and /metrics.
type Server struct {
	http *http.Server
	ln   net.Listener
	log  *slog.Logger
	wg   sync.WaitGroup
}

// Listen opens addr and returns a server for it; Start serves.
func Listen(addr string, m *Metrics, health Health, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := health.Healthy(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "unhealthy:", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return &Server{http: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln, log: logger}, nil
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in the background until Stop.
func (s *Server) Start() {
	s.wg.Go(func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http listener stopped", "err", err)
		}
	})
}

// Stop shuts the server down and waits for it.
func (s *Server) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.http.Close()
	}
	s.ln.Close() // in case Start was never called
	s.wg.Wait()
}
