package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// actsWorld is the bot in this process with runbooks whose http.request steps call
// an API of the test's own on 127.0.0.1. alice starts runs in #general; bob, the one
// approver, decides in #ops.
type actsWorld struct {
	*apptest.Kit
	t            *testing.T
	api          *apptest.API
	alice, bob   slackfake.User
	general, ops slackfake.Channel
}

// startActs starts the API, then the bot with runbooks (name → YAML, where $API stands
// for the API's URL); configure adjusts the configuration before the bot starts.
func startActs(t *testing.T, answer func(n int, r apptest.APIRequest) apptest.APIAnswer, runbooks map[string]string,
	configure ...func(*config.Config)) *actsWorld {
	t.Helper()
	w := &actsWorld{t: t, api: apptest.NewAPI(t, answer)}
	files := map[string]string{}
	for name, body := range runbooks {
		files[name+".yaml"] = strings.ReplaceAll(body, "$API", w.api.URL)
	}
	w.Kit = apptest.New(t, apptest.Options{Runbooks: files})
	w.alice, w.bob = w.Person("alice"), w.Person("bob")
	w.general, w.ops = w.Channel("general", "alice", "bob"), w.Channel("ops", "alice", "bob")
	w.Config.Approvals.Approvers = []string{w.bob.ID}
	for _, c := range configure {
		c(w.Config)
	}
	w.Start()
	return w
}

var runKeyRe = regexp.MustCompile(`\(R-(\d+)\)`)

// run starts a runbook as alice in #general (text is what follows "run") and returns
// the run's id.
func (w *actsWorld) run(text string) int64 {
	w.t.Helper()
	answer := w.Ask(w.alice.ID, w.general.ID, "run "+text)
	m := runKeyRe.FindStringSubmatch(answer)
	if !strings.Contains(answer, "Started") || m == nil {
		w.t.Fatalf("run %s answered %q", text, answer)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func (w *actsWorld) waitRun(id int64, states ...runbook.RunState) *runbook.Run {
	w.t.Helper()
	return w.WaitRun(w.App().DB, id, states...)
}

// botSaid waits for a message of the bot in a channel that contains text, and returns
// what it says.
func (w *actsWorld) botSaid(channel, text string) string {
	w.t.Helper()
	var said string
	w.WaitFor(fmt.Sprintf("the bot to say %q", text), func() bool {
		for _, m := range w.Slack.Messages(channel) {
			if m.BotID != "" && strings.Contains(shown(m), text) {
				said = shown(m)
				return true
			}
		}
		return false
	})
	return said
}

// shown is what a message shows: its text and every text in its blocks.
func shown(m slackfake.Message) string {
	var b strings.Builder
	b.WriteString(m.Text)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString("\n" + v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var blocks any
	if json.Unmarshal(m.Blocks, &blocks) == nil {
		walk(blocks)
	}
	return b.String()
}

// approve has bob press Approve on the request of a run's step, once it is posted, and
// returns the request.
func (w *actsWorld) approve(runID int64, step int) *runbook.Approval {
	w.t.Helper()
	var a *runbook.Approval
	w.WaitFor("the approval request", func() bool {
		found, err := w.App().DB.Approvals().ApprovalForStep(context.Background(), runID, step)
		a = found
		return err == nil && found.MessageTS != ""
	})
	if answer := w.Press(w.bob.ID, a.Channel, a.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(a)); !strings.Contains(answer, "approved") {
		w.t.Fatalf("bob's Approve answered %q", answer)
	}
	return a
}

const scaleRunbook = `name: scale
params:
  - { name: count, type: integer, required: true }
  - { name: note, type: string, required: true }
steps:
  - id: gate
    action: approval.request
    with: { operation: "Scale checkout to {{params.count}}", risk: low, channel: "#ops" }
  - id: scale
    action: http.request
    with:
      url: "$API/services/checkout/scale"
      headers: { X-Team: sre, X-Run: "{{run.id}}" }
      json: { desired_count: "{{params.count}}", note: "{{params.note}}" }
`

// The note as alice types it, Slack-encoded as Slack sends it, and as she meant it.
const (
	typedNote = `'he said "ship it" &lt;!channel&gt; &amp; left'`
	meantNote = `he said "ship it" <!channel> & left`
)

// approvedScale runs scale (an approval, then a POST to the API) and approves it; it
// returns once the run has succeeded.
func approvedScale(t *testing.T) (*actsWorld, *runbook.Approval) {
	t.Helper()
	w := startActs(t, func(int, apptest.APIRequest) apptest.APIAnswer {
		return apptest.APIAnswer{Header: map[string]string{"Content-Type": "application/json"}, Body: `{"previous_count": 3}`}
	}, map[string]string{"scale": scaleRunbook})
	id := w.run("scale count=12 note=" + typedNote)
	w.waitRun(id, runbook.RunWaitingApproval)
	if n := len(w.api.Requests()); n != 0 {
		t.Fatalf("the API was called %d times before the approval", n)
	}
	a := w.approve(id, 0)
	w.waitRun(id, runbook.RunSucceeded)
	return w, a
}

// An approved http.request reaches the API once, with the body rendered for a machine
// — the integer param a JSON number, the typed note one JSON string exactly as meant,
// not escaped for Slack — its headers and an Idempotency-Key; the run succeeds and
// /runbook runs says so.
func TestApprovedRequestReachesTheAPIOnce(t *testing.T) {
	w, _ := approvedScale(t)
	reqs := w.api.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the API received %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Target != "/services/checkout/scale" {
		t.Errorf("request %s %s, want POST /services/checkout/scale", r.Method, r.Target)
	}
	for name, want := range map[string]string{"Content-Type": "application/json", "X-Team": "sre", "X-Run": "R-1"} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s: %q, want %q", name, got, want)
		}
	}
	if key := r.Header.Get("Idempotency-Key"); !regexp.MustCompile(`^R-1-2-[0-9a-f]{16}$`).MatchString(key) {
		t.Errorf("Idempotency-Key %q, want R-1-2- and a random part", key)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 2 {
		t.Fatalf("body %s (%v), want desired_count and note", r.Body, err)
	}
	if got := string(body["desired_count"]); got != "12" {
		t.Errorf("desired_count is %s, want the JSON number 12", got)
	}
	var note string
	if err := json.Unmarshal(body["note"], &note); err != nil || note != meantNote {
		t.Errorf("note is %s, want the JSON string %q", body["note"], meantNote)
	}
	if runs := w.Ask(w.alice.ID, w.general.ID, "runs"); !strings.Contains(runs, "*R-1* scale — succeeded, 2/2 steps") {
		t.Errorf("runs answered %q", runs)
	}
}

// Once the approved operation has run, the approval request says how it went, where
// the approvers look. (Built on another branch: this fails until it is merged.)
func TestApprovedRequestShowsDoneOnTheApproval(t *testing.T) {
	w, a := approvedScale(t)
	w.WaitFor("the request message to say the operation is done", func() bool {
		m, _ := w.Slack.Message(a.Channel, a.MessageTS)
		return strings.Contains(shown(m), "Done — HTTP 200")
	})
}

// 503, then 429 with Retry-After, then 200: the step retries and succeeds, and every
// attempt carries the same Idempotency-Key.
func TestHTTPRequestRetriesWithOneIdempotencyKey(t *testing.T) {
	w := startActs(t, func(n int, _ apptest.APIRequest) apptest.APIAnswer {
		switch n {
		case 1:
			return apptest.APIAnswer{Status: 503, Body: "busy"}
		case 2:
			return apptest.APIAnswer{Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: "slow down"}
		}
		return apptest.APIAnswer{Body: "ok"}
	}, map[string]string{"flaky": `name: flaky
steps:
  - { id: call, action: http.request, with: { url: "$API/flaky", method: PUT, body: "go" } }
`})
	run := w.waitRun(w.run("flaky"), runbook.RunSucceeded)
	reqs := w.api.Requests()
	if len(reqs) != 3 {
		t.Fatalf("the API received %d requests, want 3", len(reqs))
	}
	key := reqs[0].Header.Get("Idempotency-Key")
	for i, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); key == "" || got != key {
			t.Errorf("attempt %d carried Idempotency-Key %q, the first %q", i+1, got, key)
		}
	}
	if got := run.Steps[0].Outputs["status"]; fmt.Sprint(got) != "200" {
		t.Errorf("status output %v, want 200", got)
	}
}

// A status outside expect fails the step at once (a 404 is not retried), and the
// person who started the run reads why where they started it.
func TestHTTPRequestUnexpectedStatusFailsTheRun(t *testing.T) {
	w := startActs(t, func(int, apptest.APIRequest) apptest.APIAnswer {
		return apptest.APIAnswer{Status: 404, Body: "no such service"}
	}, map[string]string{"missing": `name: missing
steps:
  - { id: call, action: http.request, with: { url: "$API/services/nope" } }
`})
	run := w.waitRun(w.run("missing"), runbook.RunFailed)
	want := fmt.Sprintf("HTTP 404 from %s (expected 2xx): no such service", w.api.Host)
	if !strings.Contains(run.Error, want) {
		t.Errorf("the run failed with %q, want it to say %q", run.Error, want)
	}
	if said := w.botSaid(w.general.ID, "HTTP 404"); !strings.Contains(said, "<@"+w.alice.ID+">") || !strings.Contains(said, want) {
		t.Errorf("alice was told %q", said)
	}
	if n := len(w.api.Requests()); n != 1 {
		t.Errorf("the API received %d requests, want 1 (a 404 is not retried)", n)
	}
}

// waitQuiet is WaitFor for tests that handle a secret: on failure it says what it
// waited for and nothing of the logs, which would hold the secret if it leaked.
func (w *actsWorld) waitQuiet(what string, cond func() bool) {
	w.t.Helper()
	if !w.Eventually(cond) {
		w.t.Fatalf("waiting for %s: it did not happen within %s", what, apptest.Patience)
	}
}

// runIs reports whether a run is in state, reading the bot's store.
func (w *actsWorld) runIs(id int64, state runbook.RunState) bool {
	r, err := w.App().DB.Runs().Run(context.Background(), id)
	return err == nil && r.State == state
}
