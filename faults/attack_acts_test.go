package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// The attack suite for runbooks that act: what someone allowed to run a runbook could
// make its http.request and command.run steps do with the params they give.

// startActsAttack starts the bot in this process with runbooks (name → YAML, $API
// standing for api's URL) and the configuration as configure leaves it.
func startActsAttack(t *testing.T, api *apptest.API, runbooks map[string]string, configure func(*config.Config)) (*world, slackfake.Channel) {
	t.Helper()
	files := map[string]string{}
	for name, body := range runbooks {
		files[name+".yaml"] = body
	}
	w, general := actsWorld(t, api, "", files)
	configure(w.Config)
	w.Start()
	return w, general
}

func ok(int, apptest.APIRequest) apptest.APIAnswer { return apptest.APIAnswer{Body: "ok"} }

// Hole: a param that walks the URL. A service name of x/../../admin?y=1 reaches the API
// as one percent-encoded path segment: no other path, no query.
func TestAttackParamStaysOnePathSegment(t *testing.T) {
	api := apptest.NewAPI(t, ok)
	w, general := startActsAttack(t, api, map[string]string{"restart-svc": `name: restart-svc
params: [{ name: service, type: string, required: true }]
steps:
  - { action: http.request, with: { url: "$API/{{params.service}}", method: POST } }
`}, func(c *config.Config) { c.Actions.HTTP.AllowedHosts = []string{api.Host} })
	w.waitRunIs(w.startRun(general.ID, "restart-svc service=x/../../admin?y=1"), "succeeded")
	reqs := api.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the API received %d requests, want 1", len(reqs))
	}
	if r := reqs[0]; r.Target != "/x%2F..%2F..%2Fadmin%3Fy%3D1" || r.Query != "" || r.Path != "/x/../../admin?y=1" {
		t.Errorf("the request went to %q (path %q, query %q), want the service as one segment", r.Target, r.Path, r.Query)
	}
}

// Hole: a URL taken whole from a param. With allowedHosts set, a URL naming another
// host fails the step, saying which host, and nothing is sent there; the same
// runbook reaches an allowed host.
func TestAttackTemplatedHostOutsideAllowedHosts(t *testing.T) {
	api, elsewhere := apptest.NewAPI(t, ok), apptest.NewAPI(t, ok)
	w, general := startActsAttack(t, api, map[string]string{"fetch": `name: fetch
params: [{ name: url, type: string, required: true }]
steps:
  - { action: http.request, with: { url: "{{{params.url}}}" } }
`}, func(c *config.Config) { c.Actions.HTTP.AllowedHosts = []string{api.Host} })
	w.waitRunIs(w.startRun(general.ID, "fetch url="+elsewhere.URL+"/steal"), "failed")
	want := fmt.Sprintf("host %q is not in actions.http.allowedHosts", elsewhere.Host)
	if said := w.botSaid(general.ID, "allowedHosts"); !strings.Contains(said, want) {
		t.Errorf("alice was told %q, want it to say %q", said, want)
	}
	if n := len(elsewhere.Requests()); n != 0 {
		t.Errorf("the host that is not allowed received %d requests", n)
	}
	w.waitRunIs(w.startRun(general.ID, "fetch url="+api.URL+"/fine"), "succeeded")
	if reqs := api.Requests(); len(reqs) != 1 || reqs[0].Path != "/fine" {
		t.Errorf("the allowed host received %v", reqs)
	}
}

// redirecting answers /go with a redirect to elsewhere, /hop with one to /landed on
// itself, and everything else with 200.
func redirecting(self **apptest.API, elsewhere *apptest.API) func(int, apptest.APIRequest) apptest.APIAnswer {
	return func(_ int, r apptest.APIRequest) apptest.APIAnswer {
		switch r.Path {
		case "/go":
			return apptest.APIAnswer{Status: 302, Header: map[string]string{"Location": elsewhere.URL + "/steal"}}
		case "/hop":
			return apptest.APIAnswer{Status: 302, Header: map[string]string{"Location": (*self).URL + "/landed"}}
		}
		return apptest.APIAnswer{Body: "ok"}
	}
}

const followRunbook = `name: follow
params: [{ name: path, type: string, required: true }]
steps:
  - { action: http.request, with: { url: "$API/{{params.path}}", retries: 0 } }
`

// Hole: a redirect out of the allowed hosts. An allowed API that redirects elsewhere
// is not followed there: the step fails naming the host, which receives nothing. A
// redirect within the allowed hosts is followed.
func TestAttackRedirectToAHostNotAllowed(t *testing.T) {
	var api *apptest.API
	elsewhere := apptest.NewAPI(t, ok)
	api = apptest.NewAPI(t, redirecting(&api, elsewhere))
	w, general := startActsAttack(t, api, map[string]string{"follow": followRunbook},
		func(c *config.Config) { c.Actions.HTTP.AllowedHosts = []string{api.Host} })
	w.waitRunIs(w.startRun(general.ID, "follow path=go"), "failed")
	want := fmt.Sprintf("redirected to %s, which is not in actions.http.allowedHosts", elsewhere.Host)
	if said := w.botSaid(general.ID, "redirected"); !strings.Contains(said, want) {
		t.Errorf("alice was told %q, want it to say %q", said, want)
	}
	if n := len(elsewhere.Requests()); n != 0 {
		t.Errorf("the host that is not allowed received %d requests", n)
	}
	w.waitRunIs(w.startRun(general.ID, "follow path=hop"), "succeeded")
	if reqs := api.Requests(); len(reqs) != 3 || reqs[2].Path != "/landed" {
		t.Errorf("the allowed redirect was not followed: %v", reqs)
	}
}

// A redirect refused because its host is not allowed is refused again on every retry:
// it is no connection error, 429 or 5xx, and is not retried.
func TestRefusedRedirectIsNotRetried(t *testing.T) {
	var api *apptest.API
	elsewhere := apptest.NewAPI(t, ok)
	api = apptest.NewAPI(t, redirecting(&api, elsewhere))
	w, general := startActsAttack(t, api, map[string]string{"follow": strings.Replace(followRunbook, ", retries: 0", "", 1)},
		func(c *config.Config) { c.Actions.HTTP.AllowedHosts = []string{api.Host} })
	why := w.waitRunIs(w.startRun(general.ID, "follow path=go"), "failed")
	if n := len(api.Requests()); n != 1 {
		t.Errorf("the redirecting API received %d requests, want 1 (the run failed with %q)", n, why)
	}
}

// Hole: a shell in the arguments. An argument holding "; rm -rf", $(…) and backquotes
// is one literal argument of the program: nothing runs it.
func TestAttackCommandArgumentIsLiteral(t *testing.T) {
	dir := t.TempDir()
	victim, canary := filepath.Join(dir, "victim"), filepath.Join(dir, "pwned")
	if err := os.MkdirAll(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(victim, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w, general := startActsAttack(t, nil, map[string]string{"echo-arg": `name: echo-arg
params: [{ name: arg, type: string, required: true }]
steps:
  - { id: echo, action: command.run, with: { command: [printf, "[%s]\n", "{{params.arg}}"] } }
  - { action: slack.send_message, with: { channel: "#general", text: "printed {{steps.echo.stdout}}" } }
`}, func(c *config.Config) { c.Actions.Command.Allowed = []string{"printf"} })
	arg := fmt.Sprintf("x; rm -rf %s; $(touch %s) `touch %s`", victim, canary, canary)
	id := w.startRun(general.ID, "echo-arg arg='"+arg+"'")
	w.waitRunIs(id, "succeeded")
	if _, out := w.step(id, 0); out["stdout"] != "["+arg+"]\n" {
		t.Errorf("printf printed %q, want the argument once, as given", out["stdout"])
	}
	w.botSaid(general.ID, "printed ["+arg+"]")
	if _, err := os.Stat(filepath.Join(victim, "keep")); err != nil {
		t.Errorf("the rm in the argument ran: %v", err)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Error("the touch in the argument ran")
	}
}

// Hole: the program from a param. A program the allowlist does not name, given
// through a template, fails at run time, saying so, and does not run; an allowed one
// through the same template runs.
func TestAttackTemplatedProgramNotAllowed(t *testing.T) {
	canary := filepath.Join(t.TempDir(), "pwned")
	w, general := startActsAttack(t, nil, map[string]string{"tool": `name: tool
params: [{ name: prog, type: string, required: true }, { name: arg, type: string, required: true }]
steps:
  - { action: command.run, with: { command: ["{{params.prog}}", "{{params.arg}}"] } }
`}, func(c *config.Config) { c.Actions.Command.Allowed = []string{"printf"} })
	w.waitRunIs(w.startRun(general.ID, "tool prog=/usr/bin/touch arg="+canary), "failed")
	if said := w.botSaid(general.ID, "allowed"); !strings.Contains(said, `program "/usr/bin/touch" is not in actions.command.allowed`) {
		t.Errorf("alice was told %q", said)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Error("the program that is not allowed ran")
	}
	w.waitRunIs(w.startRun(general.ID, "tool prog=printf arg=hello"), "succeeded")
}

// Hole: a mass mention through a failure. What a program prints on stderr or an API
// answers — here a param they echo — is shown in the failure report as text: it
// cannot ping the channel.
func TestAttackMassMentionThroughAFailure(t *testing.T) {
	api := apptest.NewAPI(t, func(_ int, r apptest.APIRequest) apptest.APIAnswer {
		return apptest.APIAnswer{Status: 404, Body: "no service " + strings.TrimPrefix(r.Path, "/")}
	})
	w, general := startActsAttack(t, api, map[string]string{
		"list": `name: list
params: [{ name: path, type: string, required: true }]
steps:
  - { action: command.run, with: { command: [ls, "{{params.path}}"] } }
`,
		"lookup": `name: lookup
params: [{ name: service, type: string, required: true }]
steps:
  - { action: http.request, with: { url: "$API/{{params.service}}" } }
`}, func(c *config.Config) { c.Actions.Command.Allowed = []string{"ls"} })
	w.waitRunIs(w.startRun(general.ID, "list path='&lt;!channel&gt;'"), "failed")
	w.waitRunIs(w.startRun(general.ID, "lookup service='&lt;!here&gt;'"), "failed")
	w.botSaid(general.ID, "exit 2")
	w.botSaid(general.ID, "HTTP 404")
	for _, m := range w.Slack.Messages(general.ID) {
		if m.BotID != "" && (strings.Contains(m.Text, "<!channel") || strings.Contains(m.Text, "<!here")) {
			t.Errorf("the bot posted a mass mention: %q", m.Text)
		}
	}
}
