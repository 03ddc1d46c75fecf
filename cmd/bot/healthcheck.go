package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/runbookhq/runbook/config"
)

// cmdHealthcheck asks a running bot's /healthz and exits 0 when it answers 200, 1
// otherwise, printing one line. It is the container's HEALTHCHECK: the image has no
// shell or curl.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML); its http.addr says where the bot listens")
	url := fs.String("url", "", "the URL to ask, instead of http.addr's /healthz")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" {
		if *path == "" {
			*path = defaultConfigPath(environ)
		}
		u, err := healthURL(*path, environ)
		if err != nil {
			printError(stderr, err)
			return 1
		}
		*url = u
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	status, line, err := get(ctx, *url)
	if err != nil {
		fmt.Fprintf(stderr, "bot: unhealthy: %s: %v\n", *url, err)
		return 1
	}
	if status != http.StatusOK {
		fmt.Fprintf(stderr, "bot: unhealthy: %s answered %d: %s\n", *url, status, line)
		return 1
	}
	fmt.Fprintf(stdout, "healthy: %s answered %s\n", *url, line)
	return 0
}

// healthURL is /healthz on the address the configuration's bot listens on, asked on
// loopback when it listens on every interface.
func healthURL(path string, environ []string) (string, error) {
	cfg, err := config.Load(path, environ)
	if err != nil {
		return "", err
	}
	if cfg.HTTP.Addr == "" {
		return "", fmt.Errorf("http.addr is not set, so the bot serves no /healthz; set it (e.g. \":9090\") or pass --url")
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Addr)
	if err != nil {
		return "", fmt.Errorf("http.addr %q: %w", cfg.HTTP.Addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// get returns the status and the first line of the body.
func get(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(io.LimitReader(resp.Body, 512)).ReadString('\n')
	return resp.StatusCode, strings.TrimSpace(line), nil
}
