package approvals_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/handlers"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/store"
)

// Test runbooks besides the examples: a bare approval gate, a critical one (which the
// bot requires two approvals for), one that expires in a second, and one only dave may
// decide.
const (
	gateRunbook = `
name: gate
steps:
  - id: gate
    action: approval.request
    with: { operation: "Restart checkout", risk: high }
  - action: slack.send_message
    with: { channel: "#ops", text: "gate passed, approved by {{steps.gate.decided_by}}" }
`
	criticalRunbook = `
name: critical-gate
steps:
  - id: gate
    action: approval.request
    with: { operation: "Fail over the database", risk: critical }
`
	shortRunbook = `
name: short-gate
steps:
  - id: gate
    action: approval.request
    with: { operation: "Flush the cache", risk: low, timeout: 1s }
`
	daveRunbook = `
name: dave-gate
steps:
  - id: gate
    action: approval.request
    with: { operation: "Rotate keys", risk: medium, approvers: ["@dave"] }
`
)

// world is Runbook — the real app, so the approvals service and the executor wired as
// the bot wires them — on the emulator, with a store handle of the test's own. Clicks
// stay in flight (the emulator holds the envelopes): the test hands each one to the
// service itself, as the handler would, when it likes. alice starts runs (and so
// requests approvals); bob is on call, carol is an approver by handle, dave is nobody.
// The app's executor requires two approvals for critical risks (the default).
type world struct {
	*apptest.Kit
	t  *testing.T
	db *store.DB

	alice, bob, carol, dave slackfake.User
	ops                     slackfake.Channel
	incident                *runbook.Incident

	mu sync.Mutex
	// onCall, if set, runs when the emulator has handled a Web API call and before the
	// bot has its answer: what it does happens between the call and what follows it.
	onCall func(slackfake.APICall)
}

// apiCalled passes an emulator's call to onCall.
func (w *world) apiCalled(c slackfake.APICall) {
	w.mu.Lock()
	f := w.onCall
	w.mu.Unlock()
	if f != nil {
		f(c)
	}
}

// betweenCallAndAnswer runs f once, after the emulator has handled the first call of a
// method and before the bot has its answer.
func (w *world) betweenCallAndAnswer(method string, f func()) {
	var once sync.Once
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onCall = func(c slackfake.APICall) {
		if c.Method == method && c.Error == "" {
			once.Do(f)
		}
	}
}

// newWorld starts the world; configure adjusts the kit's configuration and app
// options before the bot starts.
func newWorld(t *testing.T, configure ...func(*apptest.Kit)) *world {
	t.Helper()
	w := &world{t: t}
	w.Kit = apptest.New(t, apptest.Options{
		Emulator:     slackfake.Options{OnAPICall: w.apiCalled},
		RunbooksFrom: os.DirFS("../runbooks/examples"),
		Runbooks: map[string]string{"gate.yaml": gateRunbook, "critical-gate.yaml": criticalRunbook,
			"short-gate.yaml": shortRunbook, "dave-gate.yaml": daveRunbook},
	})
	w.Slack.HoldEnvelopes(true)
	w.alice, w.bob, w.carol, w.dave = w.Person("alice"), w.Person("bob"), w.Person("carol"), w.Person("dave")
	w.Group("oncall", "bob")
	w.ops = w.Channel("ops", "alice")
	room := w.Channel("inc-room")
	w.db = apptest.OpenStore(t, w.Config.Store.Path)
	w.incident = &runbook.Incident{Title: "Checkout is down", Severity: "sev1", Status: "investigating",
		Service: "checkout", Commander: w.alice.ID, CreatedBy: w.alice.ID, Channel: room.ID}
	if err := w.db.Incidents().CreateIncident(context.Background(), w.incident); err != nil {
		t.Fatal(err)
	}
	w.Config.Slack.ApprovalChannel = "#ops"
	w.Config.Approvals.Approvers = []string{"@oncall", "<@" + w.alice.ID + ">", "carol"}
	for _, c := range configure {
		c(w.Kit)
	}
	w.Start()
	return w
}

// service is the running bot's approvals service.
func (w *world) service() *approvals.Service { return w.App().Approvals }

// executor is the running bot's executor.
func (w *world) executor() *engine.Executor { return w.App().Executor }

// run starts a run of a runbook as alice, and waits for it to ask for its approval.
func (w *world) run(name string, params map[string]any) (*runbook.Run, *runbook.Approval) {
	w.t.Helper()
	run, err := w.executor().StartRun(context.Background(), w.Runbook(name), engine.RunInput{IncidentID: w.incident.ID,
		Params: params, StartedBy: w.alice.ID, Channel: w.ops.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	w.waitRun(run.ID, runbook.RunWaitingApproval)
	return run, w.approval(run.ID)
}

// approval returns the run's (first step's) approval request as stored now.
func (w *world) approval(runID int64) *runbook.Approval {
	w.t.Helper()
	a, err := w.db.Approvals().ApprovalForStep(context.Background(), runID, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// waitRun waits until the run is in one of the given states.
func (w *world) waitRun(id int64, states ...runbook.RunState) *runbook.Run {
	w.t.Helper()
	return w.WaitRun(w.db, id, states...)
}

// press has a user press a button of the request message in the emulator, and returns
// the delivery Slack would send the bot (held in flight).
func (w *world) press(user slackfake.User, a *runbook.Approval, actionID string) *slackfake.Delivery {
	w.t.Helper()
	d, err := w.Slack.ClickButton(user.ID, a.Channel, a.MessageTS, actionID)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// handle decodes a delivery's payload as the bot does and hands the decision it
// carries to the service, as the handler would.
func (w *world) handle(d *slackfake.Delivery) approvals.Outcome {
	w.t.Helper()
	out, err := w.handleErr(d)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) handleErr(d *slackfake.Delivery) (approvals.Outcome, error) {
	req, err := bot.DecodeInteraction(d.Payload)
	if err != nil {
		return approvals.Outcome{}, err
	}
	dec, ok, err := handlers.DecisionFrom(req)
	if err != nil || !ok {
		return approvals.Outcome{}, fmt.Errorf("not a decision: %v, %w (%+v)", ok, err, req)
	}
	return w.service().Decide(context.Background(), dec)
}

// click is press then handle.
func (w *world) click(user slackfake.User, a *runbook.Approval, actionID string) approvals.Outcome {
	w.t.Helper()
	return w.handle(w.press(user, a, actionID))
}

// message returns the request message as Slack shows it now, text and blocks.
func (w *world) message(a *runbook.Approval) string {
	w.t.Helper()
	m, ok := w.Slack.Message(a.Channel, a.MessageTS)
	if !ok {
		w.t.Fatalf("no request message %s in %s", a.MessageTS, a.Channel)
	}
	return m.Text + "\n" + string(m.Blocks)
}

// audit returns the audit log, newest first.
func (w *world) audit() []runbook.AuditEntry {
	w.t.Helper()
	entries, err := w.db.Audit().Audit(context.Background(), 0, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return entries
}

// auditOf returns the audit entries about one request, newest first, as "action actor".
func (w *world) auditOf(a *runbook.Approval) []string {
	var out []string
	for _, e := range w.audit() {
		if e.ApprovalID == a.ID {
			out = append(out, e.Action+" "+e.Actor)
		}
	}
	return out
}

// snapshot is what must not change when a click is refused.
type snapshot struct {
	state   runbook.ApprovalState
	message string
	run     runbook.RunState
	updates int
	audit   int
}

func (w *world) snapshot(a *runbook.Approval) snapshot {
	w.t.Helper()
	run, err := w.db.Runs().Run(context.Background(), a.RunID)
	if err != nil {
		w.t.Fatal(err)
	}
	return snapshot{state: w.approval(a.RunID).State, message: w.message(a), run: run.State,
		updates: w.Slack.Calls("chat.update"), audit: len(w.audit())}
}

// unchanged checks that nothing but one new audit entry, a refusal by who, came of a click.
func (w *world) unchanged(before snapshot, a *runbook.Approval, who string) {
	w.t.Helper()
	after := w.snapshot(a)
	if after.state != before.state || after.message != before.message || after.run != before.run || after.updates != before.updates {
		w.t.Errorf("a refused click changed something:\nbefore %+v\nafter  %+v", before, after)
	}
	if after.audit != before.audit+1 {
		w.t.Errorf("%d audit entries written, want 1", after.audit-before.audit)
	}
	if e := w.audit()[0]; e.Action != runbook.AuditApprovalRefused || e.Actor != who {
		w.t.Errorf("newest audit entry = %+v, want a refusal by %s", e, who)
	}
}

// resumedOnce checks that a run went on from its approval at step gate once: every later
// step ran exactly once, or, for a run that did not succeed, none ran. (The service's
// resume, a kick, is harmless repeated; what must not repeat is the work after it.)
func (w *world) resumedOnce(run *runbook.Run, gate int) {
	w.t.Helper()
	want := 0
	if run.State == runbook.RunSucceeded {
		want = 1
	}
	for i, st := range run.Steps[gate+1:] {
		if st.Attempts != want {
			w.t.Errorf("R-%d (%s): step %d ran %d times, want %d", run.ID, run.State, gate+1+i, st.Attempts, want)
		}
	}
}

// stillWaiting checks that what happened (a refused click, a partial approval) left
// the run parked on its pending request, with nothing after the request done.
func (w *world) stillWaiting(runID int64, what string) {
	w.t.Helper()
	run, err := w.db.Runs().Run(context.Background(), runID)
	if err != nil {
		w.t.Fatal(err)
	}
	if a := w.approval(runID); run.State != runbook.RunWaitingApproval || a.State != runbook.ApprovalPending {
		w.t.Fatalf("after %s, R-%d is %s and its request %s; want it still waiting", what, runID, run.State, a.State)
	}
	w.resumedOnce(run, 0)
	if n := w.decisions(w.approval(runID)); n != 0 {
		w.t.Fatalf("after %s, the request is audited as decided", what)
	}
}

// botMessages are the bot's messages in a channel that contain text.
func (w *world) botMessages(channel, text string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.Slack.Messages(channel) {
		if m.BotID != "" && strings.Contains(m.Text, text) {
			out = append(out, m)
		}
	}
	return out
}

// decisions counts the approval.decided entries about a request.
func (w *world) decisions(a *runbook.Approval) int {
	return strings.Count(strings.Join(w.auditOf(a), "\n"), runbook.AuditApprovalDecided+" ")
}

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("%s does not contain %q:\n%s", what, s, got)
		}
	}
}
