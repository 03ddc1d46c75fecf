package bot

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// socketDialer opens the TCP (and TLS) connection under a Socket Mode websocket. The
// bot dials itself, rather than leaving it to the websocket library, because it must
// read the connection's plaintext frames (see noticeConn); so it also goes through the
// proxy the environment names (HTTPS_PROXY, NO_PROXY), as the Web API client does.
type socketDialer struct {
	net *net.Dialer
	// proxy picks the proxy for a request, or none; http.ProxyFromEnvironment.
	proxy func(*http.Request) (*url.URL, error)
	// tls is the base TLS configuration (nil: the system's roots).
	tls *tls.Config
}

// dial opens a connection to addr for a ws:// (scheme "http") or wss:// ("https")
// URL, through a proxy if one applies, and with TLS for wss://.
func (d socketDialer) dial(ctx context.Context, scheme, addr string) (net.Conn, error) {
	conn, err := d.reach(ctx, scheme, addr)
	if err != nil || scheme != "https" {
		return conn, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return d.handshake(ctx, conn, host)
}

// reach opens a TCP path to addr: directly, or through an HTTP CONNECT proxy.
func (d socketDialer) reach(ctx context.Context, scheme, addr string) (net.Conn, error) {
	var via *url.URL
	if d.proxy != nil {
		u, err := d.proxy(&http.Request{URL: &url.URL{Scheme: scheme, Host: addr}})
		if err != nil {
			return nil, fmt.Errorf("choosing a proxy for %s: %w", addr, err)
		}
		via = u
	}
	if via == nil {
		return d.net.DialContext(ctx, "tcp", addr)
	}
	return d.tunnel(ctx, via, addr)
}

// tunnel asks the proxy at via for a tunnel to addr (RFC 9110 CONNECT).
func (d socketDialer) tunnel(ctx context.Context, via *url.URL, addr string) (net.Conn, error) {
	if via.Scheme != "http" && via.Scheme != "https" {
		return nil, fmt.Errorf("proxy %s: Socket Mode goes through http:// and https:// proxies only", via.Redacted())
	}
	proxyAddr := via.Host
	if via.Port() == "" {
		proxyAddr = net.JoinHostPort(via.Hostname(), map[string]string{"http": "80", "https": "443"}[via.Scheme])
	}
	conn, err := d.net.DialContext(ctx, "tcp", proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("dialling proxy %s: %w", via.Redacted(), err)
	}
	if via.Scheme == "https" {
		if conn, err = d.handshake(ctx, conn, via.Hostname()); err != nil {
			return nil, fmt.Errorf("proxy %s: %w", via.Redacted(), err)
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
		defer func() { _ = conn.SetDeadline(noDeadline) }()
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if u := via.User; u != nil {
		pass, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)))
	}
	if err := req.Write(conn); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("proxy %s: %w", via.Redacted(), err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("proxy %s: %w", via.Redacted(), err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_ = conn.Close()
		return nil, fmt.Errorf("proxy %s refused a tunnel to %s: %s", via.Redacted(), addr, resp.Status)
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// handshake runs a TLS client handshake for host over conn.
func (d socketDialer) handshake(ctx context.Context, conn net.Conn, host string) (net.Conn, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.tls != nil {
		cfg = d.tls.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("TLS with %s: %w", host, err)
	}
	return tc, nil
}

// noDeadline clears a connection's deadline.
var noDeadline time.Time

// bufferedConn is a connection whose first bytes were read ahead into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// environmentDialer is the socket dialer for production: the environment's proxy and
// the system's roots.
func environmentDialer() socketDialer {
	return socketDialer{net: &net.Dialer{Timeout: 10 * time.Second}, proxy: http.ProxyFromEnvironment}
}
