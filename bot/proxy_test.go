package bot

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// connectProxy is an HTTP proxy that serves CONNECT only, as corporate proxies do for
// TLS, and remembers what it was asked.
type connectProxy struct {
	mu       sync.Mutex
	targets  []string
	auth     []string
	password string // when set, tunnels need Basic credentials with it
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.auth = append(p.auth, r.Header.Get("Proxy-Authorization"))
	p.mu.Unlock()
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if p.password != "" && !strings.Contains(decodeBasic(r.Header.Get("Proxy-Authorization")), ":"+p.password) {
		w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
		http.Error(w, "who are you", http.StatusProxyAuthRequired)
		return
	}
	upstream, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	down, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = upstream.Close()
		return
	}
	_, _ = io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { _, _ = io.Copy(upstream, down); _ = upstream.Close() }()
	go func() { _, _ = io.Copy(down, upstream); _ = down.Close() }()
}

func decodeBasic(h string) string {
	b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	return string(b)
}

// tlsSocketServer is a wss:// server that sends a disconnect warning and then a
// hello, as Slack may, and the dialer that trusts its certificate.
func tlsSocketServer(t *testing.T) (*httptest.Server, *tls.Config) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"disconnect","reason":"warning","debug_info":{"host":"applink-1"}}`))
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","num_connections":1}`))
		_, _, _ = ws.ReadMessage() // until the client goes
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return srv, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

func wssURL(srv *httptest.Server) string { return "wss://" + strings.TrimPrefix(srv.URL, "https://") }

// TestSocketGoesThroughTheProxy: where HTTPS_PROXY says so, the Socket Mode connection
// is tunnelled through the proxy with its credentials, and Slack's disconnect notice is
// still taken out of the stream (the bot reads the frames inside the TLS).
func TestSocketGoesThroughTheProxy(t *testing.T) {
	srv, trust := tlsSocketServer(t)
	proxy := &connectProxy{password: "s3cret-proxy-pass"}
	proxySrv := httptest.NewServer(proxy)
	t.Cleanup(proxySrv.Close)
	proxyURL, _ := url.Parse(proxySrv.URL)
	proxyURL.User = url.UserPassword("bot", "s3cret-proxy-pass")

	sd := socketDialer{net: &net.Dialer{}, tls: trust, proxy: http.ProxyURL(proxyURL)}
	notices := make(chan string, 1)
	ws, _, err := linkDialer(sd, nil, func(r string) { notices <- r }, func() {}).Dial(wssURL(srv), nil)
	if err != nil {
		t.Fatalf("dial through the proxy: %v", err)
	}
	defer ws.Close()
	_, msg, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), `"hello"`) {
		t.Errorf("first frame the client read = %s; want the hello, the disconnect taken out", msg)
	}
	if r := <-notices; r != "warning" {
		t.Errorf("notice = %q; want warning", r)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if len(proxy.targets) != 1 || proxy.targets[0] != strings.TrimPrefix(srv.URL, "https://") {
		t.Errorf("proxy tunnelled to %v; want one tunnel to the socket server", proxy.targets)
	}
	if got := decodeBasic(proxy.auth[0]); got != "bot:s3cret-proxy-pass" {
		t.Errorf("proxy credentials = %q", got)
	}
}

// TestProxyRefusalIsToldWithoutItsPassword: a proxy that refuses the tunnel is named
// in the error with its status, and the password in HTTPS_PROXY never appears.
func TestProxyRefusalIsToldWithoutItsPassword(t *testing.T) {
	srv, trust := tlsSocketServer(t)
	proxySrv := httptest.NewServer(&connectProxy{password: "the-right-one"})
	t.Cleanup(proxySrv.Close)
	proxyURL, _ := url.Parse(proxySrv.URL)
	proxyURL.User = url.UserPassword("bot", "hunter2-wrong")

	sd := socketDialer{net: &net.Dialer{}, tls: trust, proxy: http.ProxyURL(proxyURL)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := linkDialer(sd, nil, func(string) {}, func() {}).DialContext(ctx, wssURL(srv), nil)
	if err == nil {
		t.Fatal("dial succeeded through a proxy that refused")
	}
	if !strings.Contains(err.Error(), "407") || !strings.Contains(err.Error(), "refused a tunnel") {
		t.Errorf("error = %q; want the proxy's refusal and its status", err)
	}
	if strings.Contains(err.Error(), "hunter2-wrong") {
		t.Errorf("error = %q shows the proxy password", err)
	}
}
