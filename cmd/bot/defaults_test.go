package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/runbookhq/runbook/config"
)

// The image's RUNBOOK_DEFAULT__ values apply only where the mounted file and the
// operator's environment say nothing.
func TestDefaultsYieldToFileAndEnvironment(t *testing.T) {
	image := []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp,
		"RUNBOOK_DEFAULT__STORE__PATH=/data/runbook.db", "RUNBOOK_DEFAULT__RUNBOOKS__DIR=/etc/runbook/runbooks"}
	tests := []struct {
		name              string
		file              string
		environ           []string
		wantStore, wantRB string
	}{
		{"FileSilent", "log:\n  level: info\n", nil, "/data/runbook.db", "/etc/runbook/runbooks"},
		{"FileSets", "store:\n  path: /srv/rb.db\nrunbooks:\n  dir: /runbooks\n", nil, "/srv/rb.db", "/runbooks"},
		{"FileNullKeepsDefault", "store:\n  path:\n", nil, "/data/runbook.db", "/etc/runbook/runbooks"},
		{"EnvironmentSets", "store:\n  path: /srv/rb.db\n", []string{"RUNBOOK_STORE__PATH=/env/rb.db"}, "/env/rb.db", "/etc/runbook/runbooks"},
		{"EnvironmentSetsAnySpelling", "", []string{"RUNBOOK_Runbooks__DIR=/env/runbooks"}, "/data/runbook.db", "/env/runbooks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			environ := append(append([]string{"RUNBOOK_CONFIG=" + path}, image...), tt.environ...)
			cfg, err := config.Load(path, withDefaults([]string{"run"}, environ))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Store.Path != tt.wantStore || cfg.Runbooks.Dir != tt.wantRB {
				t.Errorf("store.path %q, runbooks.dir %q; want %q, %q", cfg.Store.Path, cfg.Runbooks.Dir, tt.wantStore, tt.wantRB)
			}
		})
	}
	t.Run("ConfigFlag", func(t *testing.T) {
		path := writeConfig(t, "store:\n  path: /srv/rb.db\n")
		env := withDefaults([]string{"--config=" + path}, image)
		cfg, err := config.Load(path, env)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Store.Path != "/srv/rb.db" {
			t.Errorf("store.path %q, want the file's", cfg.Store.Path)
		}
	})
}

func TestHealthcheck(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("unhealthy: not connected to Slack\n"))
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	env := []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp}

	code, out := runBot(t, env, "healthcheck", "--config", writeConfig(t, "http:\n  addr: \":"+port+"\"\n"))
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "healthy: http://127.0.0.1:"+port+"/healthz answered ok") {
		t.Errorf("healthy bot: exit %d, %q", code, out)
	}
	healthy.Store(false)
	code, out = runBot(t, env, "healthcheck", "--url", srv.URL+"/healthz")
	if code != 1 || !strings.Contains(out, "answered 503: unhealthy: not connected to Slack") {
		t.Errorf("unhealthy bot: exit %d, %q", code, out)
	}
	code, out = runBot(t, env, "healthcheck", "--config", writeConfig(t, "log:\n  level: info\n"))
	if code != 1 || !strings.Contains(out, "http.addr is not set") {
		t.Errorf("no listener: exit %d, %q", code, out)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	code, out = runBot(t, env, "healthcheck", "--url", "http://"+closed.Addr().String()+"/healthz")
	if code != 1 || !strings.Contains(out, "unhealthy") {
		t.Errorf("nothing there: exit %d, %q", code, out)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		code, out := runBot(t, nil, arg)
		if code != 0 || !strings.HasPrefix(out, "runbook dev (") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("bot %s: exit %d, %q", arg, code, out)
		}
	}
}
