package app_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

const deploySecret = "s3cr3t-deploy-value"

// dryRunWorld is the bot with a runbook that calls an HTTP API, runs a program and
// posts a message — each of which a dry run must leave undone.
type dryRunWorld struct {
	*apptest.Kit
	t        *testing.T
	requests atomic.Int64 // requests that reached the API
	marker   string       // the file the program would create
	url      string
	alice    slackfake.User
	general  slackfake.Channel
	ops      slackfake.Channel
}

// startDryRun starts the bot with the deploy runbook and more (file name → YAML).
func startDryRun(t *testing.T, more map[string]string) *dryRunWorld {
	t.Helper()
	w := &dryRunWorld{t: t, marker: filepath.Join(t.TempDir(), "marker")}
	api := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.requests.Add(1)
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(api.Close)
	w.url = api.URL + "/scale"
	deploy := fmt.Sprintf(`
name: deploy
params:
  - { name: service, type: string, required: true }
steps:
  - id: scale
    action: http.request
    with:
      method: POST
      url: %q
      headers: { Authorization: "Bearer {{secrets.DEPLOY_TOKEN}}" }
      json: { service: "{{params.service}}", count: 3 }
  - id: mark
    action: command.run
    with: { command: [touch, %q] }
  - id: tell
    action: slack.send_message
    with: { channel: "#ops", text: "Deployed {{params.service}} for {{incident.title}}" }
`, w.url, w.marker)
	files := map[string]string{"deploy.yaml": deploy}
	maps.Copy(files, more)
	w.Kit = apptest.New(t, apptest.Options{Emulator: slackfake.Options{AckTimeout: time.Second}, Runbooks: files})
	w.Config.Actions.HTTP.AllowedHosts = []string{"127.0.0.1"}
	w.Config.Actions.Command.Allowed = []string{"touch"}
	w.Config.Secrets = map[string]config.Secret{"DEPLOY_TOKEN": deploySecret}
	w.Config.Slack.DefaultChannel = "#incidents"
	w.alice = w.Person("alice")
	w.general = w.Channel("general", "alice")
	w.ops = w.Channel("ops", "alice")
	w.Channel("incidents", "alice")
	w.Start()
	return w
}

// writes are the Web API and response_url calls since the first n that could change
// what anyone sees in Slack: everything but reads.
func (w *dryRunWorld) writes(n int) []string {
	reads := []string{"auth.test", "users.info", "users.list", "usergroups.list", "usergroups.users.list",
		"conversations.info", "conversations.members", "conversations.list", "conversations.history", "conversations.replies"}
	var out []string
	for _, c := range w.Slack.APICalls()[n:] {
		if !slices.Contains(reads, c.Method) {
			out = append(out, c.Method)
		}
	}
	return out
}

// A dry run shows what each step would send — the request, the argv, the message —
// with the secret masked, and does none of it: no request reaches the API, the file
// is not created, no run is recorded, and nothing is posted but the private answer.
// The same command without --dry-run then does all three, so the dry run's silence is
// not the runbook's.
func TestDryRun(t *testing.T) {
	w := startDryRun(t, nil)
	if answer := w.Ask(w.alice.ID, w.general.ID, "declare sev2 Checkout is down"); !strings.Contains(answer, "INC-1") {
		t.Fatalf("declare answered %q", answer)
	}
	calls := len(w.Slack.APICalls())
	blocks := w.AskBlocks(w.alice.ID, w.general.ID, "run deploy INC-1 --dry-run service=checkout")
	reply := strings.Join(blocks, "\n")
	for _, want := range []string{
		"Dry run of deploy for INC-1 — nothing was done",
		"*1.* `scale` http.request\n```POST " + w.url + "\nAuthorization: Bearer [secret:DEPLOY_TOKEN]\n",
		`{"count":3,"service":"checkout"}`,
		"*2.* `mark` command.run\n```touch " + w.marker + "```",
		"*3.* `tell` slack.send_message\n```channel: #ops\ntext: Deployed checkout for Checkout is down",
	} {
		if !strings.Contains(reply, want) {
			t.Errorf("the dry run does not show %q:\n%s", want, reply)
		}
	}
	if strings.Contains(reply, "would fail") || strings.Contains(reply, "skipped") {
		t.Errorf("a step would not run:\n%s", reply)
	}
	if strings.Contains(reply, deploySecret) || strings.Contains(w.Logs.String(), deploySecret) {
		t.Fatal("the secret was shown or logged")
	}
	if writes := w.writes(calls); len(writes) > 1 || len(writes) == 1 && writes[0] != "response_url" {
		t.Errorf("the dry run called %v; only its own answer was expected", writes)
	}
	if n := w.requests.Load(); n != 0 {
		t.Errorf("%d request(s) reached the API", n)
	}
	if _, err := os.Stat(w.marker); !os.IsNotExist(err) {
		t.Errorf("the program ran: %v", err)
	}
	if answer := w.Ask(w.alice.ID, w.general.ID, "runs"); !strings.Contains(answer, "none yet") {
		t.Errorf("runs answered %q after a dry run", answer)
	}
	if len(w.Slack.Messages(w.ops.ID)) != 0 {
		t.Errorf("#ops got %d message(s)", len(w.Slack.Messages(w.ops.ID)))
	}

	if answer := w.Ask(w.alice.ID, w.general.ID, "run deploy INC-1 service=checkout"); !strings.Contains(answer, "Started") {
		t.Fatalf("the real run answered %q", answer)
	}
	w.WaitFor("the run to call the API, run the program and post", func() bool {
		_, err := os.Stat(w.marker)
		return w.requests.Load() == 1 && err == nil && len(w.Slack.Messages(w.ops.ID)) == 1
	})
	if strings.Contains(w.Logs.String(), deploySecret) {
		t.Fatal("the secret was logged")
	}
}

// A dry run is checked as a run is: unknown params and incidents get the same
// answers, and a missing incident is named.
func TestDryRunMistakes(t *testing.T) {
	w := startDryRun(t, nil)
	for text, want := range map[string]string{
		"run deploy --dry-run":                            `service`,
		"run deploy INC-9 service=checkout --dry-run":     "INC-9 does not exist",
		"run deploy service=checkout sevrice=x --dry-run": `did you mean "service"?`,
		"run deplyo --dry-run":                            "Did you mean “deploy”?",
	} {
		if answer := w.Ask(w.alice.ID, w.general.ID, text); !strings.Contains(answer, want) {
			t.Errorf("%s answered %q, want %q", text, answer, want)
		}
	}
	reply := strings.Join(w.AskBlocks(w.alice.ID, w.general.ID, "run deploy service=checkout --dry-run"), "\n")
	if !strings.Contains(reply, "Dry run of deploy — nothing was done") ||
		!strings.Contains(reply, "*3.* `tell` slack.send_message\n:warning: would fail: ") ||
		!strings.Contains(reply, "incident.title") {
		t.Errorf("a dry run without an incident:\n%s", reply)
	}
	runs, err := w.App().DB.Runs().ListRuns(context.Background(), 0, 10)
	if err != nil || len(runs) != 0 {
		t.Fatalf("%d run(s) recorded (%v)", len(runs), err)
	}
}

// A runbook too long for one message gets an answer Slack takes — sent through the
// response_url, past the ack's size — that counts the steps it leaves out.
func TestDryRunLongRunbook(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: long\nsteps:\n")
	for range 60 {
		fmt.Fprintf(&b, "  - { action: slack.send_message, with: { channel: \"#ops\", text: %q } }\n", "<!channel> "+strings.Repeat("long text ", 150))
	}
	w := startDryRun(t, map[string]string{"long.yaml": b.String()})
	calls := len(w.Slack.APICalls())
	blocks := w.AskBlocks(w.alice.ID, w.general.ID, "run long --dry-run")
	if len(blocks) < 10 || !strings.Contains(blocks[len(blocks)-1], "more steps not shown") {
		t.Fatalf("%d blocks, the last %q", len(blocks), blocks[len(blocks)-1])
	}
	// The emulator logs a call after applying it: the answer can be seen first.
	w.WaitFor("the response_url call to be logged", func() bool { return len(w.writes(calls)) > 0 })
	if writes := w.writes(calls); !slices.Equal(writes, []string{"response_url"}) {
		t.Errorf("the answer went through %v, want the response_url once", writes)
	}
	for _, c := range w.Slack.APICalls()[calls:] {
		if c.Error != "" {
			t.Errorf("%s answered %s", c.Method, c.Error)
		}
	}
}
