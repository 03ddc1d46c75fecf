package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// deployAPI is a local HTTP server standing in for a deploy API: it records every
// request, and answers /verify with the status the test sets.
type deployAPI struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []string // "POST /scale {"count":5}"
	verify int
}

func newDeployAPI(t *testing.T) *deployAPI {
	api := &deployAPI{verify: http.StatusOK}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		api.mu.Lock()
		api.calls = append(api.calls, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(body)))
		status := http.StatusOK
		if r.URL.Path == "/verify" {
			status = api.verify
		}
		api.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"previous": 3, "ok": true}`)
	}))
	t.Cleanup(api.Close)
	return api
}

func (a *deployAPI) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

const deployRunbook = `name: deploy
params:
  - { name: count, type: integer, required: true }
steps:
  - id: gate
    action: approval.request
    with: { operation: "Scale checkout to {{params.count}} tasks", risk: low }
  - id: scale
    action: http.request
    with: { url: "%[1]s/scale", json: { count: "{{params.count}}" } }
    rollback:
      action: http.request
      with: { url: "%[1]s/unscale", json: { count: "{{steps.scale.json.previous}}" } }
  - id: notify
    action: http.request
    with: { url: "%[1]s/notify", method: POST }
    rollback:
      action: http.request
      with: { url: "%[1]s/unnotify", method: POST }
  - id: verify
    action: http.request
    with: { url: "%[1]s/verify", retries: 0 }
`

// rollbackWorld runs deploy, which bob must approve, against a local deploy API.
type rollbackWorld struct {
	*apptest.Kit
	t                 *testing.T
	api               *deployAPI
	alice, bob, carol string
	ops               string
}

func startRollbackWorld(t *testing.T) *rollbackWorld {
	t.Helper()
	api := newDeployAPI(t)
	k := apptest.New(t, apptest.Options{Runbooks: map[string]string{"deploy.yaml": fmt.Sprintf(deployRunbook, api.URL)}})
	k.Seed()
	w := &rollbackWorld{Kit: k, t: t, api: api}
	w.alice, w.bob, w.carol = k.Person("alice").ID, k.Person("bob").ID, k.Person("carol").ID
	w.ops = k.Channel("ops", "alice", "bob", "carol").ID
	k.Config.Slack.ApprovalChannel = "#ops"
	k.Config.Approvals.Approvers = []string{w.bob}
	k.Config.Actions.HTTP.AllowedHosts = []string{"127.0.0.1"}
	return w
}

// approveRun starts deploy as alice and has bob approve it; it returns the request.
func (w *rollbackWorld) approveRun(ctx context.Context, runID int64) *runbook.Approval {
	w.t.Helper()
	a := w.waitApproval(ctx, runID, 0)
	if got := w.Press(w.bob, w.ops, a.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(a)); got == "" {
		w.t.Fatal("no answer to the approval")
	}
	return a
}

func (w *rollbackWorld) waitApproval(ctx context.Context, runID int64, step int) *runbook.Approval {
	w.t.Helper()
	var a *runbook.Approval
	w.WaitFor("the approval request", func() bool {
		got, err := w.App().DB.Approvals().ApprovalForStep(ctx, runID, step)
		a = got
		return err == nil && got.MessageTS != ""
	})
	return a
}

func (w *rollbackWorld) run(ctx context.Context, id int64) *runbook.Run {
	w.t.Helper()
	r, err := w.App().DB.Runs().Run(ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// messageText is everything a message shows: its text and the text of its blocks.
func (w *rollbackWorld) messageText(channel, ts string) string {
	w.t.Helper()
	m, ok := w.Slack.Message(channel, ts)
	if !ok {
		w.t.Fatalf("no message %s", ts)
	}
	return m.Text + "\n" + string(m.Blocks)
}

// TestFailedStepRollsBackEarlierSteps checks that when a step fails, the rollbacks of
// the steps that succeeded run newest first, the result is posted, and the approval
// message says what happened.
func TestFailedStepRollsBackEarlierSteps(t *testing.T) {
	w := startRollbackWorld(t)
	w.api.verify = http.StatusNotFound
	w.Start()
	ctx := context.Background()
	if got := w.Ask(w.alice, w.ops, "run deploy count=5"); !strings.Contains(got, "R-1") {
		t.Fatalf("run answered %q", got)
	}
	a := w.approveRun(ctx, 1)
	w.WaitRun(w.App().DB, 2, runbook.RunSucceeded)
	if got := w.WaitRun(w.App().DB, 1, runbook.RunFailed); got.State != runbook.RunFailed || !strings.Contains(got.Error, "HTTP 404") || !strings.Contains(got.Error, "rolling back as R-2") {
		t.Errorf("R-1 is %s: %q", got.State, got.Error)
	}
	want := []string{`POST /scale {"count":5}`, "POST /notify", "GET /verify", "POST /unnotify", `POST /unscale {"count":3}`}
	if got := w.api.seen(); !slices.Equal(got, want) {
		t.Errorf("the API saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	w.WaitFor("the rollback's news", func() bool {
		return slices.ContainsFunc(w.Slack.Messages(w.ops), func(m slackfake.Message) bool { return strings.Contains(m.Text, "R-2 rolled back R-1") })
	})
	w.WaitFor("the approval message to show the failure and the rollback", func() bool {
		text := w.messageText(a.Channel, a.MessageTS)
		return strings.Contains(text, "Failed — HTTP 404") && strings.Contains(text, "Rolled back by R-2") && !strings.Contains(text, slackui.ActionRollback)
	})
}

// TestRollBackButtonAsksForApprovalThenUndoes checks the Roll back button of a run
// that succeeded: anyone allowed to run the runbook may click it on the result
// message, the rollback asks the run's approvers, and once approved undoes the steps
// newest first; a click elsewhere undoes nothing.
func TestRollBackButtonAsksForApprovalThenUndoes(t *testing.T) {
	w := startRollbackWorld(t)
	w.Start()
	ctx := context.Background()
	w.Ask(w.alice, w.ops, "run deploy count=5")
	a := w.approveRun(ctx, 1)
	w.WaitRun(w.App().DB, 1, runbook.RunSucceeded)
	w.WaitFor("Done and Roll back on the approval message", func() bool {
		text := w.messageText(a.Channel, a.MessageTS)
		return strings.Contains(text, "✅ Done — scale: HTTP 200 in") && strings.Contains(text, slackui.ActionRollback)
	})

	// Attack: the same button value on another message (one carol posts) counts for nothing.
	own, err := w.Slack.PostAs(w.carol, w.ops, "look")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Press(w.carol, w.ops, own.TS, slackui.ActionRollback, "R-1"); !strings.Contains(got, "not on the result message") {
		t.Errorf("a Roll back click on another message answered %q", got)
	}

	if got := w.Press(w.carol, w.ops, a.MessageTS, slackui.ActionRollback, "R-1"); !strings.Contains(got, "R-2 will roll back R-1") {
		t.Fatalf("Roll back answered %q", got)
	}
	if got := w.Press(w.carol, w.ops, a.MessageTS, slackui.ActionRollback, "R-1"); !strings.Contains(got, "already rolled back, or being rolled back, by R-2") {
		t.Errorf("a second Roll back answered %q", got)
	}
	if n := len(w.api.seen()); n != 3 {
		t.Fatalf("the API saw %d requests before the rollback was approved, want 3", n)
	}
	gate := w.waitApproval(ctx, 2, 0)
	if !strings.Contains(gate.Operation, "Roll back R-1") || !slices.Equal(gate.Approvers, []string{w.bob}) {
		t.Errorf("the rollback asks %q of %v", gate.Operation, gate.Approvers)
	}
	w.Press(w.bob, w.ops, gate.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(gate))
	w.WaitRun(w.App().DB, 2, runbook.RunSucceeded)
	if got := w.api.seen()[3:]; !slices.Equal(got, []string{"POST /unnotify", `POST /unscale {"count":3}`}) {
		t.Errorf("the rollback sent %q", got)
	}
	w.WaitFor("the approval message to say it was rolled back", func() bool {
		text := w.messageText(a.Channel, a.MessageTS)
		return strings.Contains(text, "Rolled back by R-2") && !strings.Contains(text, slackui.ActionRollback)
	})
	entries, err := w.App().DB.Audit().Audit(ctx, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entries, func(e runbook.AuditEntry) bool {
		return e.Action == runbook.AuditRollbackRequested && e.Actor == w.carol && e.RunID == 1
	}) {
		t.Error("the Roll back click is not in the audit log")
	}
}

const restartRunbook = `name: restart
allowed: ["@alice"]
steps:
  - id: scale
    action: http.request
    with: { url: "%[1]s/scale", method: POST }
    rollback:
      action: http.request
      with: { url: "%[1]s/unscale", method: POST }
`

// TestRunWithoutApprovalOffersRollBackOnItsResult checks that a run with no approval
// that did something undoable posts its result where it was started, with Roll back,
// and that the rollback asks the configured approvers first.
func TestRunWithoutApprovalOffersRollBackOnItsResult(t *testing.T) {
	w := startRollbackWorld(t)
	if err := apptest.WriteRunbooks(w.Config.Runbooks.Dir, nil, map[string]string{"restart.yaml": fmt.Sprintf(restartRunbook, w.api.URL)}); err != nil {
		t.Fatal(err)
	}
	w.Start()
	ctx := context.Background()
	w.Ask(w.alice, w.ops, "run restart")
	w.WaitRun(w.App().DB, 1, runbook.RunSucceeded)
	var result string
	w.WaitFor("the result message", func() bool {
		result = w.run(ctx, 1).ResultTS
		return result != ""
	})
	if text := w.messageText(w.ops, result); !strings.Contains(text, "Done — HTTP 200") || !strings.Contains(text, slackui.ActionRollback) {
		t.Fatalf("the result message shows %s", text)
	}
	// Attack: someone the runbook does not allow to run it cannot roll it back.
	if got := w.Press(w.carol, w.ops, result, slackui.ActionRollback, "R-1"); !strings.Contains(got, "Only the people the runbook *restart* allows may run it") {
		t.Errorf("carol's Roll back answered %q", got)
	}
	if got := w.Press(w.alice, w.ops, result, slackui.ActionRollback, "R-1"); !strings.Contains(got, "R-2 will roll back R-1") {
		t.Fatalf("Roll back answered %q", got)
	}
	gate := w.waitApproval(ctx, 2, 0)
	if !slices.Equal(gate.Approvers, []string{w.bob}) {
		t.Errorf("the rollback asks %v, want the configured approvers", gate.Approvers)
	}
	w.Press(w.bob, w.ops, gate.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(gate))
	w.WaitRun(w.App().DB, 2, runbook.RunSucceeded)
	if got := w.api.seen(); !slices.Equal(got, []string{"POST /scale", "POST /unscale"}) {
		t.Errorf("the API saw %q", got)
	}
	w.WaitFor("the result message to say it was rolled back", func() bool {
		text := w.messageText(w.ops, result)
		return strings.Contains(text, "Rolled back by R-2") && !strings.Contains(text, slackui.ActionRollback)
	})
}
