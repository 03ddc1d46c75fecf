package approvals_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/handlers"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/store"
)

// Test runbooks besides the examples: a bare approval gate, a critical one (which the
// world's executor requires two approvals for), one that expires in a second, and one
// only dave may decide.
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

// world is the approvals service and the executor, on a real store, talking to the
// emulator through the real Slack adapter. alice starts runs (and so requests
// approvals); bob is on call, carol is an approver by handle, dave is nobody.
type world struct {
	t       *testing.T
	srv     *slackfake.Server
	db      *store.DB
	catalog *runbooks.Catalog
	cfg     approvals.Config
	kicks   *kickCounter

	alice, bob, carol, dave slackfake.User
	ops                     slackfake.Channel
	incident                *runbook.Incident

	mu      sync.Mutex
	exec    *engine.Executor
	svc     *approvals.Service
	adapter *slackapi.Client
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

// kickCounter counts the resumes the service asks for, and passes them on.
type kickCounter struct {
	mu   sync.Mutex
	n    map[int64]int
	exec *engine.Executor
}

func (k *kickCounter) Kick(runID int64) {
	k.mu.Lock()
	k.n[runID]++
	exec := k.exec
	k.mu.Unlock()
	exec.Kick(runID)
}

func (k *kickCounter) count(runID int64) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n[runID]
}

func newWorld(t *testing.T, configure ...func(*approvals.Config)) *world {
	t.Helper()
	w := &world{t: t, kicks: &kickCounter{n: map[int64]int{}}}
	srv, err := slackfake.New(slackfake.Options{OnAPICall: w.apiCalled})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w.srv = srv
	w.db, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.Close() })
	w.catalog = loadCatalog(t)
	w.alice, w.bob, w.carol, w.dave = srv.AddUser("alice"), srv.AddUser("bob"), srv.AddUser("carol"), srv.AddUser("dave")
	srv.AddUserGroup("oncall", w.bob.ID)
	w.ops = srv.AddChannel("ops", slackfake.ChannelMembers(w.alice.ID))
	room := srv.AddChannel("inc-room")
	w.incident = &runbook.Incident{Title: "Checkout is down", Severity: "sev1", Status: "investigating",
		Service: "checkout", Commander: w.alice.ID, CreatedBy: w.alice.ID, Channel: room.ID}
	if err := w.db.Incidents().CreateIncident(context.Background(), w.incident); err != nil {
		t.Fatal(err)
	}
	w.cfg = approvals.Config{Approvers: []string{"@oncall", "<@" + w.alice.ID + ">", "carol"}}
	for _, c := range configure {
		c(&w.cfg)
	}
	w.start()
	t.Cleanup(w.stop)
	return w
}

func loadCatalog(t *testing.T) *runbooks.Catalog {
	t.Helper()
	examples, err := runbooks.LoadDir("../runbooks/examples")
	if err != nil {
		t.Fatal(err)
	}
	rbs := examples.List()
	for i, f := range []string{gateRunbook, criticalRunbook, shortRunbook, daveRunbook} {
		rb, err := runbooks.Parse("test"+string(rune('a'+i))+".yaml", []byte(f))
		if err != nil {
			t.Fatal(err)
		}
		rbs = append(rbs, rb)
	}
	return runbooks.NewCatalog(rbs...)
}

// start starts an executor and an approvals service on the world's database, as a
// process would.
func (w *world) start() {
	w.t.Helper()
	api := slack.New(w.srv.BotToken(), slack.OptionAPIURL(w.srv.APIURL()))
	adapter := slackapi.New(api, nil, nil)
	adapter.RetryInterval = 50 * time.Millisecond
	exec := engine.New(engine.Deps{Runs: w.db.Runs(), Incidents: w.db.Incidents(), Slack: adapter,
		Catalog: func() *runbooks.Catalog { return w.catalog }})
	svc := approvals.New(w.db.Approvals(), adapter, w.kicks, w.db.Audit(), w.db.Incidents(), w.cfg, nil)
	inc := incidents.New(w.db.Incidents(), adapter, exec, incidents.NewUpdates(w.db.Incidents(), adapter, "", nil),
		incidents.Config{Severities: []string{"sev0", "sev1", "sev2"}, Statuses: []string{"investigating", "mitigating", "resolved"}}, nil)
	exec.Register(engine.SlackActions(inc), engine.IncidentActions(inc), engine.ApprovalActions(w.db.Approvals(), svc,
		engine.ApprovalSettings{Channel: "#ops", Required: map[string]int{"critical": 2}}))
	w.mu.Lock()
	w.exec, w.svc, w.adapter = exec, svc, adapter
	w.mu.Unlock()
	w.kicks.mu.Lock()
	w.kicks.exec = exec
	w.kicks.mu.Unlock()
	if err := exec.Start(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// stop stops the service and the executor, as a process exiting would.
func (w *world) stop() {
	svc, exec := w.service(), w.executor()
	svc.Stop()
	exec.Stop()
}

func (w *world) restart() {
	w.stop()
	w.start()
}

func (w *world) service() *approvals.Service {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.svc
}

func (w *world) executor() *engine.Executor {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.exec
}

// run starts a run of a runbook as alice, and waits for it to ask for its approval.
func (w *world) run(name string, params map[string]any) (*runbook.Run, *runbook.Approval) {
	w.t.Helper()
	rb, ok := w.catalog.Get(name)
	if !ok {
		w.t.Fatalf("no runbook %s", name)
	}
	run, err := w.executor().StartRun(context.Background(), rb, engine.RunInput{IncidentID: w.incident.ID, Params: params,
		StartedBy: w.alice.ID, Channel: w.ops.ID})
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

// waitRun polls the store until the run is in one of the given states.
func (w *world) waitRun(id int64, states ...runbook.RunState) *runbook.Run {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := w.db.Runs().Run(context.Background(), id)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, s := range states {
			if run.State == s {
				return run
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("R-%d is %s (error %q); want %v", id, run.State, run.Error, states)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// press has a user press a button of the request message in the emulator, and returns
// the delivery Slack would send the bot.
func (w *world) press(user slackfake.User, a *runbook.Approval, actionID string) *slackfake.Delivery {
	w.t.Helper()
	d, err := w.srv.ClickButton(user.ID, a.Channel, a.MessageTS, actionID)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// handle decodes a delivery's payload the way the bot does and hands the decision it
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
	req, err := decodeInteraction(d.Payload)
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

// decodeInteraction reads an interactive payload as bot/decode.go does.
func decodeInteraction(raw json.RawMessage) (*runbook.Request, error) {
	var p struct {
		Type string `json:"type"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		TriggerID string `json:"trigger_id"`
		Container struct {
			MessageTS string `json:"message_ts"`
		} `json:"container"`
		Actions []struct {
			ActionID string `json:"action_id"`
			BlockID  string `json:"block_id"`
			Value    string `json:"value"`
		} `json:"actions"`
		View struct {
			ID              string `json:"id"`
			CallbackID      string `json:"callback_id"`
			PrivateMetadata string `json:"private_metadata"`
			State           struct {
				Values map[string]map[string]struct {
					Value string `json:"value"`
				} `json:"values"`
			} `json:"state"`
		} `json:"view"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	req := &runbook.Request{UserID: p.User.ID, TriggerID: p.TriggerID}
	switch p.Type {
	case "block_actions":
		a := p.Actions[0]
		req.Kind = runbook.KindAction
		req.Action = &runbook.Action{ActionID: a.ActionID, BlockID: a.BlockID, Value: a.Value, MessageTS: p.Container.MessageTS}
	case "view_submission":
		values := map[string]map[string]string{}
		for block, inputs := range p.View.State.Values {
			values[block] = map[string]string{}
			for action, v := range inputs {
				values[block][action] = v.Value
			}
		}
		req.Kind = runbook.KindViewSubmission
		req.View = &runbook.ViewSubmission{ViewID: p.View.ID, CallbackID: p.View.CallbackID,
			PrivateMetadata: p.View.PrivateMetadata, Values: values}
	}
	return req, nil
}

// message returns the request message as Slack shows it now, text and blocks.
func (w *world) message(a *runbook.Approval) string {
	w.t.Helper()
	m, ok := w.srv.Message(a.Channel, a.MessageTS)
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
		updates: w.srv.Calls("chat.update"), audit: len(w.audit())}
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

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("%s does not contain %q:\n%s", what, s, got)
		}
	}
}
