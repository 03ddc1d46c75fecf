package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
)

const planSecret = "plan-s3cr3t-value"

// planWorld is a configuration with one runbook that calls an API, runs a program and
// posts a message, and the API, which counts what reaches it.
type planWorld struct {
	dir, config, marker, url string
	requests                 atomic.Int64
	environ                  []string
}

func newPlanWorld(t *testing.T) *planWorld {
	t.Helper()
	w := &planWorld{dir: t.TempDir(), environ: []string{"DEPLOY_TOKEN=" + planSecret}}
	api := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.requests.Add(1)
	}))
	t.Cleanup(api.Close)
	w.url = api.URL + "/scale"
	w.marker = filepath.Join(w.dir, "marker")
	runbooks := filepath.Join(w.dir, "runbooks")
	must(t, os.Mkdir(runbooks, 0o755))
	deploy := fmt.Sprintf(`
name: deploy
params:
  - { name: service, type: string, required: true }
  - { name: count, type: integer, default: 3 }
steps:
  - id: scale
    action: http.request
    with:
      url: "%s?token={{secrets.DEPLOY_TOKEN}}"
      headers: { Authorization: "Bearer {{secrets.DEPLOY_TOKEN}}" }
      json: { service: "{{params.service}}", count: "{{params.count}}" }
  - id: mark
    action: command.run
    with: { command: [touch, %q] }
  - id: tell
    action: slack.send_message
    with: { channel: "#ops", text: "Scaled {{params.service}} to {{params.count}}" }
`, w.url, w.marker)
	must(t, os.WriteFile(filepath.Join(runbooks, "deploy.yaml"), []byte(deploy), 0o600))
	notify := "name: notify\nsteps:\n  - id: tell\n    action: slack.send_message\n    with: { channel: \"#ops\", text: \"{{incident.id}} {{incident.title}} ({{incident.fields.region}})\" }\n"
	must(t, os.WriteFile(filepath.Join(runbooks, "notify.yaml"), []byte(notify), 0o600))
	w.config = writeConfig(t, fmt.Sprintf(`
runbooks: { dir: %q }
store: { path: %q }
actions:
  http: { allowedHosts: ["127.0.0.1"] }
  command: { allowed: [touch] }
secrets:
  DEPLOY_TOKEN: ${DEPLOY_TOKEN}
incidents:
  fields: [{ name: region, type: string }]
`, runbooks, filepath.Join(w.dir, "runbook.db")))
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// plan runs bot plan and returns its exit code, stdout and stderr; it fails the test
// if the secret appears in either.
func (w *planWorld) plan(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"plan", "--config", w.config}, args...), &out, &errOut, w.environ)
	if strings.Contains(out.String()+errOut.String(), planSecret) {
		t.Fatalf("the secret was printed")
	}
	return code, out.String(), errOut.String()
}

// nothingDone fails the test if the plan did what it showed.
func (w *planWorld) nothingDone(t *testing.T) {
	t.Helper()
	if n := w.requests.Load(); n != 0 {
		t.Errorf("%d request(s) reached the API", n)
	}
	if _, err := os.Stat(w.marker); !os.IsNotExist(err) {
		t.Errorf("the program ran (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "runbook.db")); !os.IsNotExist(err) {
		t.Errorf("a database was created (%v)", err)
	}
}

func TestPlan(t *testing.T) {
	t.Run("ParamsOnly", func(t *testing.T) {
		w := newPlanWorld(t)
		code, out, errOut := w.plan(t, "deploy", "service=checkout", "COUNT=12")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want := fmt.Sprintf(`Dry run of deploy — nothing was done.
Secrets stand as [secret:NAME], the outputs of earlier steps as ‹steps.ID.OUTPUT›.

1. scale (http.request)
    POST %s?token=[secret:DEPLOY_TOKEN]
    Authorization: Bearer [secret:DEPLOY_TOKEN]
    {"count":12,"service":"checkout"}

2. mark (command.run)
    touch %s

3. tell (slack.send_message)
    channel: #ops
    text: Scaled checkout to 12
`, w.url, w.marker)
		if out != want {
			t.Errorf("plan printed:\n%s\nwant:\n%s", out, want)
		}
		w.nothingDone(t)
	})
	t.Run("FlagsAfterTheName", func(t *testing.T) {
		w := newPlanWorld(t)
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"plan", "deploy", "service=x", "--config", w.config}, &out, &errOut, w.environ)
		if code != 0 || !strings.Contains(out.String(), "Dry run of deploy") {
			t.Fatalf("exit %d:\n%s%s", code, out.String(), errOut.String())
		}
	})
	t.Run("IncidentFile", func(t *testing.T) {
		w := newPlanWorld(t)
		file := filepath.Join(w.dir, "incident.yaml")
		must(t, os.WriteFile(file, []byte("id: INC-7\ntitle: Checkout is down\nseverity: sev1\nfields: { region: eu-west-1 }\n"), 0o600))
		code, out, errOut := w.plan(t, "notify", "--incident-file", file)
		if code != 0 || !strings.HasPrefix(out, "Dry run of notify for INC-7 — nothing was done.") ||
			!strings.Contains(out, "    text: INC-7 Checkout is down (eu-west-1)\n") {
			t.Fatalf("exit %d:\n%s%s", code, out, errOut)
		}
		w.nothingDone(t)
	})
	t.Run("StoredIncident", func(t *testing.T) {
		w := newPlanWorld(t)
		db := apptest.OpenStore(t, filepath.Join(w.dir, "runbook.db"))
		must(t, db.Incidents().CreateIncident(context.Background(), &runbook.Incident{Title: "Search is slow", Severity: "sev2", Status: "detected",
			Fields: map[string]string{"region": "us-east-1"}}))
		code, out, errOut := w.plan(t, "notify", "--incident", "INC-1")
		if code != 0 || !strings.HasPrefix(out, "Dry run of notify for INC-1 — nothing was done.") ||
			!strings.Contains(out, "    text: INC-1 Search is slow (us-east-1)\n") {
			t.Fatalf("exit %d:\n%s%s", code, out, errOut)
		}
		if code, _, errOut := w.plan(t, "notify", "--incident", "INC-9"); code != 1 || errOut != "bot: INC-9 does not exist\n" {
			t.Errorf("an unknown incident: exit %d, %q", code, errOut)
		}
	})
	t.Run("NoIncident", func(t *testing.T) {
		w := newPlanWorld(t)
		code, out, _ := w.plan(t, "notify")
		if code != 0 || !strings.Contains(out, "Note: notify uses incident.* and no incident was given") ||
			!strings.Contains(out, `would fail: text: missing variable "incident.id"`) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
}

// Every mistake is one sentence on stderr, naming what is wrong, and a non-zero exit;
// nothing is printed on stdout and nothing is done.
func TestPlanMistakes(t *testing.T) {
	w := newPlanWorld(t)
	bad := filepath.Join(w.dir, "bad.yaml")
	must(t, os.WriteFile(bad, []byte("title: Down\nsevrity: sev1\n"), 0o600))
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"UnknownRunbook", []string{"deplyo", "service=x"}, 1, `bot: there is no runbook "deplyo" in ` + filepath.Join(w.dir, "runbooks") + ` (did you mean "deploy"?)`},
		{"UnknownParam", []string{"deploy", "service=x", "sevrice=y"}, 1, `bot: deploy has no param "sevrice" (did you mean "service"?)`},
		{"BadParamValue", []string{"deploy", "service=x", "count=ten"}, 1, `bot: count must be a whole number, got "ten"`},
		{"MissingParam", []string{"deploy"}, 1, "bot: service is required: add service=<text>"},
		{"NotKeyValue", []string{"deploy", "checkout"}, 1, `bot: "checkout" is not a param: give params as key=value`},
		{"NoName", nil, 2, "bot: plan which runbook? Give its name: bot plan NAME [key=value …]"},
		{"BothIncidents", []string{"notify", "--incident", "INC-1", "--incident-file", bad}, 2, "bot: give --incident or --incident-file, not both"},
		{"NoDatabase", []string{"notify", "--incident", "INC-1"}, 1, "bot: there is no database at " + filepath.Join(w.dir, "runbook.db") +
			" (store.path) to read INC-1 from; point --config at the bot's configuration, or use --incident-file"},
		{"BadIncidentID", []string{"notify", "--incident", "four"}, 1, "bot: “four” is not an incident id (like INC-42)"},
		{"IncidentFileTypo", []string{"notify", "--incident-file", bad}, 1, "bot: " + bad + `:2: unknown key "sevrity" (did you mean "severity"?)`},
		{"NoIncidentFile", []string{"notify", "--incident-file", bad + ".missing"}, 1, "bot: cannot read the incident file " + bad + ".missing: no such file or directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := w.plan(t, tt.args...)
			if code != tt.code || out != "" || errOut != tt.want+"\n" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.code, tt.want)
			}
		})
	}
	w.nothingDone(t)
}
