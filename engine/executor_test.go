package engine_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
	"github.com/runbookhq/runbook/store"
)

// world is Runbook — the real app, so the executor with the action families wired as
// the bot wires them — on the emulator, with a store handle of the test's own and an
// incident to run runbooks about. Runbooks given to newWorld are loaded beside the
// examples.
type world struct {
	*apptest.Kit
	t        *testing.T
	db       *store.DB
	alice    slackfake.User
	bob      slackfake.User
	ops      slackfake.Channel
	incident *runbook.Incident
	// hold, when set, is called before the emulator answers a Web API call.
	mu   sync.Mutex
	hold func(call slackfake.APICall)
}

func newWorld(t *testing.T, files ...string) *world {
	t.Helper()
	return newWorldWith(t, slackfake.Options{}, files...)
}

// newWorldWith is newWorld on a workspace with the given emulator options.
func newWorldWith(t *testing.T, opts slackfake.Options, files ...string) *world {
	t.Helper()
	return newWorldConfigured(t, opts, nil, files...)
}

// newWorldConfigured is newWorldWith with the configuration adjusted before the bot
// starts.
func newWorldConfigured(t *testing.T, opts slackfake.Options, configure func(*config.Config), files ...string) *world {
	t.Helper()
	w := &world{t: t}
	given := map[string]string{}
	for i, f := range files {
		given["test"+string(rune('a'+i))+".yaml"] = f
	}
	opts.OnAPICall = func(c slackfake.APICall) {
		w.mu.Lock()
		hold := w.hold
		w.mu.Unlock()
		if hold != nil {
			hold(c)
		}
	}
	w.Kit = apptest.New(t, apptest.Options{
		Emulator:     opts,
		RunbooksFrom: os.DirFS("../runbooks/examples"),
		Runbooks:     given,
	})
	w.alice, w.bob = w.Person("alice"), w.Person("bob")
	w.Group("oncall", "bob")
	w.ops = w.Channel("ops", "alice")
	w.Channel("incidents")
	w.db = apptest.OpenStore(t, w.Config.Store.Path)
	w.incident = &runbook.Incident{Title: "Checkout <!channel> is down", Severity: "sev1", Status: "investigating",
		Service: "checkout", Commander: w.alice.ID, CreatedBy: w.alice.ID}
	if err := w.db.Incidents().CreateIncident(context.Background(), w.incident); err != nil {
		t.Fatal(err)
	}
	w.Config.Slack.ApprovalChannel = "#ops"
	w.Config.Incidents.Statuses = []string{"investigating", "mitigating", "resolved"}
	if configure != nil {
		configure(w.Config)
	}
	w.Start()
	return w
}

// exec is the running bot's executor.
func (w *world) exec() *engine.Executor { return w.App().Executor }

func (w *world) setHold(fn func(slackfake.APICall)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hold = fn
}

func (w *world) run(name string, params map[string]any) *runbook.Run {
	w.t.Helper()
	run, err := w.exec().StartRun(context.Background(), w.Runbook(name), engine.RunInput{IncidentID: w.incident.ID, Params: params,
		StartedBy: w.alice.ID, Channel: w.ops.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	return run
}

// waitRun waits until the run is in one of the given states.
func (w *world) waitRun(id int64, states ...runbook.RunState) *runbook.Run {
	w.t.Helper()
	return w.WaitRun(w.db, id, states...)
}

func (w *world) channelNamed(name string) slackfake.Channel {
	w.t.Helper()
	ch, ok := w.Slack.Channel(name)
	if !ok {
		w.t.Fatalf("no channel #%s; channels: %+v", name, w.Slack.Channels())
	}
	return ch
}

// botMessages are the top-level and threaded messages the bot posted in a channel.
func (w *world) botMessages(channel string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.Slack.Messages(channel) {
		if m.BotID != "" && m.SubType == "" {
			out = append(out, m)
		}
	}
	return out
}

func TestExamplesValidate(t *testing.T) {
	c, err := runbooks.LoadDir("../runbooks/examples")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Names(), ","); got != "periodic-status,scale-up,sev1-kickoff,wrap-up" {
		t.Fatalf("examples = %s", got)
	}
}

func TestSev1Kickoff(t *testing.T) {
	w := newWorld(t)
	run := w.waitRun(w.run("sev1-kickoff", nil).ID, runbook.RunSucceeded)
	ch := w.channelNamed("inc-1-checkout")
	if !strings.Contains(ch.Topic, "sev1 | investigating | Checkout") {
		t.Errorf("topic = %q", ch.Topic)
	}
	for _, u := range []string{w.alice.ID, w.bob.ID} {
		if !strings.Contains(strings.Join(ch.Members, ","), u) {
			t.Errorf("%s was not invited; members %v", u, ch.Members)
		}
	}
	msgs := w.botMessages(ch.ID)
	if len(msgs) != 2 {
		t.Fatalf("bot posted %d messages in the incident channel, want 2: %+v", len(msgs), msgs)
	}
	announce := msgs[0]
	if !announce.Pinned || !strings.Contains(announce.Text, "INC-1 Checkout &lt;!channel&gt; is down") ||
		!strings.Contains(announce.Text, "Commander: <@"+w.alice.ID+">") {
		t.Errorf("announcement = %+v", announce)
	}
	if msgs[1].ThreadTS != announce.TS {
		t.Errorf("the follow-up is not in the announcement's thread: %+v", msgs[1])
	}
	inc, _ := w.db.Incidents().Incident(context.Background(), w.incident.ID)
	if inc.Channel != ch.ID {
		t.Errorf("incident channel = %q, want the new channel %s", inc.Channel, ch.ID)
	}
	if run.Steps[0].Outputs["name"] != "inc-1-checkout" {
		t.Errorf("outputs = %v", run.Steps[0].Outputs)
	}
}

const createOnly = `
name: make-channel
steps:
  - id: ch
    action: slack.create_channel
    with: { name: "{{params.name}}", on_exists: "{{params.on_exists}}" }
  - action: slack.send_message
    with: { channel: "{{steps.ch.id}}", text: "made {{steps.ch.name}}" }
params:
  - { name: name, type: string, required: true }
  - { name: on_exists, type: enum, values: [suffix, reuse], default: suffix }
`

func TestCreateChannel(t *testing.T) {
	t.Run("NameTakenAddsSuffix", func(t *testing.T) {
		w := newWorld(t, createOnly)
		w.Slack.AddChannel("inc-7")
		w.Slack.AddChannel("inc-7-2")
		run := w.waitRun(w.run("make-channel", map[string]any{"name": "INC 7", "on_exists": "suffix"}).ID, runbook.RunSucceeded)
		if run.Steps[0].Outputs["name"] != "inc-7-3" {
			t.Fatalf("created %v, want inc-7-3", run.Steps[0].Outputs["name"])
		}
	})
	t.Run("NameTakenReuses", func(t *testing.T) {
		w := newWorld(t, createOnly)
		existing := w.Slack.AddChannel("war-room")
		run := w.waitRun(w.run("make-channel", map[string]any{"name": "war-room", "on_exists": "reuse"}).ID, runbook.RunSucceeded)
		if run.Steps[0].Outputs["id"] != existing.ID || len(w.botMessages(existing.ID)) != 1 {
			t.Fatalf("outputs %v; want the existing channel %s reused and posted in", run.Steps[0].Outputs, existing.ID)
		}
	})
	t.Run("ErrArchivedReuse", func(t *testing.T) {
		w := newWorld(t, createOnly)
		w.Slack.AddChannel("old-room", slackfake.ChannelArchived())
		run := w.waitRun(w.run("make-channel", map[string]any{"name": "old-room", "on_exists": "reuse"}).ID, runbook.RunFailed)
		if !strings.Contains(run.Error, "#old-room exists but is archived") {
			t.Fatalf("error = %q", run.Error)
		}
	})
	t.Run("ErrInvalidName", func(t *testing.T) {
		w := newWorld(t, createOnly)
		run := w.waitRun(w.run("make-channel", map[string]any{"name": "!!!"}).ID, runbook.RunFailed)
		want := `step 1 “ch” (slack.create_channel) failed: the channel name "!!!" has no letters or digits Slack accepts`
		if run.Error != want {
			t.Fatalf("error = %q\nwant    %q", run.Error, want)
		}
		// The person who started the run is told, where they started it, just after the
		// run is marked failed.
		w.WaitFor("the failure report", func() bool { return len(w.botMessages(w.ops.ID)) > 0 })
		msgs := w.botMessages(w.ops.ID)
		if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "<@"+w.alice.ID+">") || !strings.Contains(msgs[0].Text, "has no letters or digits") {
			t.Fatalf("failure report = %+v", msgs)
		}
	})
	t.Run("LongNameIsShortened", func(t *testing.T) {
		w := newWorld(t, createOnly)
		run := w.waitRun(w.run("make-channel", map[string]any{"name": strings.Repeat("Very Long Name ", 10)}).ID, runbook.RunSucceeded)
		if n := len(run.Steps[0].Outputs["name"].(string)); n > 80 {
			t.Fatalf("name of %d characters", n)
		}
	})
}

const postTo = `
name: post
params:
  - { name: channel, type: string, required: true }
steps:
  - action: slack.send_message
    with: { channel: "{{params.channel}}", text: "hello" }
`

func TestSendMessageFailures(t *testing.T) {
	for _, tt := range []struct{ name, setup, want string }{
		{"PrivateChannelBotIsNotIn", "private", "the bot cannot see that channel: invite it or check the name (channel_not_found)"},
		{"Archived", "archived", "that channel is archived (is_archived)"},
		{"Unknown", "", "the bot cannot see that channel: invite it or check the name (channel_not_found)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, postTo)
			channel := "#nowhere"
			switch tt.setup {
			case "private":
				channel = w.Slack.AddChannel("secret", slackfake.ChannelPrivate(), slackfake.ChannelWithoutBot()).ID
			case "archived":
				channel = w.Slack.AddChannel("attic", slackfake.ChannelArchived()).ID
			}
			run := w.waitRun(w.run("post", map[string]any{"channel": channel}).ID, runbook.RunFailed)
			if !strings.HasSuffix(run.Error, tt.want) {
				t.Fatalf("error = %q, want it to end %q", run.Error, tt.want)
			}
		})
	}
}

const burst = `
name: burst
steps:
  - { action: slack.send_message, with: { channel: "#ops", text: "one" } }
  - { action: slack.send_message, with: { channel: "#ops", text: "two" } }
  - { action: slack.send_message, with: { channel: "#ops", text: "three" } }
  - { action: slack.send_message, with: { channel: "#ops", text: "four" } }
`

func TestRateLimitStormIsRiddenOut(t *testing.T) {
	w := newWorld(t, burst)
	w.Slack.SetChannelRateLimit(2, 1)
	w.Slack.SetRateLimit("conversations.list", 120, 1)
	w.waitRun(w.run("burst", nil).ID, runbook.RunSucceeded)
	var got []string
	for _, m := range w.botMessages(w.ops.ID) {
		got = append(got, m.Text)
	}
	if strings.Join(got, ",") != "one,two,three,four" {
		t.Fatalf("messages = %v; want each once, in order", got)
	}
	if w.Slack.Calls("chat.postMessage") <= 4 && w.Slack.Calls("conversations.list") <= 4 {
		t.Fatal("no call was rate limited: the test did not test anything")
	}
}

func TestApprovalParksAndResumes(t *testing.T) {
	decide := func(t *testing.T, w *world, run *runbook.Run, to runbook.ApprovalState) {
		t.Helper()
		w.waitRun(run.ID, runbook.RunWaitingApproval)
		a, err := w.db.Approvals().ApprovalForStep(context.Background(), run.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		msg, ok := w.Slack.Message(a.Channel, a.MessageTS)
		if !ok || a.Channel != w.ops.ID || !strings.Contains(string(msg.Blocks), "Scale checkout to 8 tasks") ||
			!strings.Contains(string(msg.Blocks), slackui.ActionApprove) || !strings.Contains(string(msg.Blocks), "--desired-count 4") {
			t.Fatalf("request message = %+v", msg)
		}
		if ok, err := w.db.Approvals().DecideApproval(context.Background(), a.ID, to, w.bob.ID, "not now"); !ok || err != nil {
			t.Fatalf("decide = %v, %v", ok, err)
		}
		w.exec().Kick(run.ID)
	}
	t.Run("Approved", func(t *testing.T) {
		w := newWorld(t)
		w.Slack.AddChannel("inc-room")
		w.db.Incidents().UpdateIncident(context.Background(), w.incident.ID, func(i *runbook.Incident) error {
			ch, _ := w.Slack.Channel("inc-room")
			i.Channel = ch.ID
			return nil
		})
		run := w.run("scale-up", map[string]any{"service": "checkout", "count": 8})
		decide(t, w, run, runbook.ApprovalApproved)
		done := w.waitRun(run.ID, runbook.RunSucceeded)
		if done.Steps[0].Outputs["decided_by"] != "<@"+w.bob.ID+">" {
			t.Fatalf("outputs = %v", done.Steps[0].Outputs)
		}
		ch, _ := w.Slack.Channel("inc-room")
		if msgs := w.botMessages(ch.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "approved by <@"+w.bob.ID+">") {
			t.Fatalf("after approval: %+v", msgs)
		}
		inc, _ := w.db.Incidents().Incident(context.Background(), w.incident.ID)
		if inc.Status != "mitigating" {
			t.Fatalf("incident status = %s, want mitigating", inc.Status)
		}
	})
	t.Run("Denied", func(t *testing.T) {
		w := newWorld(t)
		run := w.run("scale-up", map[string]any{"service": "checkout", "count": 8})
		decide(t, w, run, runbook.ApprovalDenied)
		done := w.waitRun(run.ID, runbook.RunDenied)
		if done.Steps[1].State != runbook.StepPending {
			t.Fatalf("a step ran after a denial: %+v", done.Steps)
		}
		if !strings.Contains(done.Error, "was denied by <@"+w.bob.ID+">: not now") {
			t.Fatalf("error = %q", done.Error)
		}
	})
	t.Run("RestartWhileWaiting", func(t *testing.T) {
		w := newWorld(t)
		run := w.run("scale-up", map[string]any{"service": "checkout", "count": 8})
		w.waitRun(run.ID, runbook.RunWaitingApproval)
		w.Restart()
		decide(t, w, run, runbook.ApprovalDenied)
		w.waitRun(run.ID, runbook.RunDenied)
		// The report of the denial is posted just after the run stops: wait for it.
		reported := func() bool {
			for _, m := range w.botMessages(w.ops.ID) {
				if strings.Contains(m.Text, "approval denied") {
					return true
				}
			}
			return false
		}
		w.WaitFor("the report of the denial", reported)
		if n := len(w.botMessages(w.ops.ID)); n != 2 { // the request, and the report of the denial
			t.Fatalf("%d messages in #ops; the request was posted twice?", n)
		}
	})
}

// TestCrashDuringStepResumesWithoutRepeating stops the executor while Slack is handling
// a call (Slack does the work, the bot never hears back), then starts a new one on the
// same database: the step is retried, adopts what Slack did, and nothing is duplicated.
func TestCrashDuringStepResumesWithoutRepeating(t *testing.T) {
	for _, method := range []string{"conversations.create", "chat.postMessage"} {
		t.Run(method, func(t *testing.T) {
			w := newWorld(t)
			release := make(chan struct{})
			entered := make(chan struct{})
			var once sync.Once
			w.setHold(func(c slackfake.APICall) {
				if c.Method == method {
					once.Do(func() { close(entered); <-release })
				}
			})
			run := w.run("sev1-kickoff", nil)
			<-entered
			w.Stop() // the call is cut off: the step is still "running" in the store
			close(release)
			if r, _ := w.db.Runs().Run(context.Background(), run.ID); r.State != runbook.RunRunning {
				t.Fatalf("after the crash the run is %s", r.State)
			}
			w.Start()
			done := w.waitRun(run.ID, runbook.RunSucceeded)
			if got := w.Slack.Calls("conversations.create"); got != 1 {
				t.Errorf("conversations.create called %d times, want 1", got)
			}
			ch := w.channelNamed("inc-1-checkout")
			if n := len(w.botMessages(ch.ID)); n != 2 {
				t.Errorf("%d bot messages in the channel, want 2 (no duplicate)", n)
			}
			if _, ok := w.Slack.Channel("inc-1-checkout-2"); ok {
				t.Error("a second channel was created")
			}
			attempts := 0
			for _, st := range done.Steps {
				attempts += st.Attempts
			}
			if attempts != len(done.Steps)+1 {
				t.Errorf("attempts = %d over %d steps, want exactly one retry", attempts, len(done.Steps))
			}
		})
	}
}

// TestCrashAfterThreadedPostRepliesOnce stops the bot while Slack is taking the kickoff's
// threaded follow-up, then starts a new one: the retried step finds its reply in the
// thread (channel history never holds thread replies) and the thread has it once.
func TestCrashAfterThreadedPostRepliesOnce(t *testing.T) {
	w := newWorld(t)
	release := make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	w.setHold(func(c slackfake.APICall) {
		if c.Method == "chat.postMessage" && strings.Contains(c.Text, "set this channel up") {
			once.Do(func() { close(entered); <-release })
		}
	})
	run := w.run("sev1-kickoff", nil)
	<-entered
	w.Stop() // Slack posted the reply; the bot never heard back
	close(release)
	w.Start()
	done := w.waitRun(run.ID, runbook.RunSucceeded)
	ch := w.channelNamed("inc-1-checkout")
	announce := done.Steps[1].Outputs["ts"]
	var replies []slackfake.Message
	for _, m := range w.botMessages(ch.ID) {
		if m.ThreadTS == announce && m.TS != announce {
			replies = append(replies, m)
		}
	}
	if len(replies) != 1 {
		t.Fatalf("%d replies in the announcement's thread, want 1: %+v", len(replies), replies)
	}
	if got := done.Steps[2].Outputs["ts"]; got != replies[0].TS {
		t.Errorf("the step recorded ts %v, want the reply it posted before the crash (%s)", got, replies[0].TS)
	}
}

func TestTemplateDataOfTheRun(t *testing.T) {
	w := newWorld(t, `
name: echo
params:
  - { name: note, type: string, default: "none" }
steps:
  - action: slack.send_message
    with:
      channel: "#ops"
      text: "{{run.id}} {{run.runbook}} by {{user.name}} for {{Activity.id}} ({{incident.severity}}): {{params.note}}"
`)
	w.waitRun(w.run("echo", map[string]any{"note": "a & b"}).ID, runbook.RunSucceeded)
	msgs := w.botMessages(w.ops.ID)
	want := "R-1 echo by <@" + w.alice.ID + "> for INC-1 (sev1): a &amp; b"
	if len(msgs) != 1 || msgs[0].Text != want {
		b, _ := json.Marshal(msgs)
		t.Fatalf("messages = %s\nwant %q", b, want)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	w := newWorld(t, burst)
	w.Slack.FailNext("chat.postMessage", 3, 503)
	w.waitRun(w.run("burst", nil).ID, runbook.RunSucceeded)
	if n := len(w.botMessages(w.ops.ID)); n != 4 {
		t.Fatalf("%d messages after 503s, want 4", n)
	}
}

func TestTriggers(t *testing.T) {
	w := newWorld(t)
	started, err := w.exec().Trigger(context.Background(), runbook.EventIncidentDeclared, w.incident, w.alice.ID, "")
	if err != nil || len(started) != 1 || started[0].Runbook != "sev1-kickoff" {
		t.Fatalf("declared sev1 started %v, %v; want the kickoff", started, err)
	}
	w.waitRun(started[0].ID, runbook.RunSucceeded)
	inc, _ := w.db.Incidents().Incident(context.Background(), w.incident.ID)
	started, err = w.exec().Trigger(context.Background(), runbook.EventIncidentResolved, inc, w.alice.ID, "")
	if err != nil || len(started) != 1 || started[0].Runbook != "wrap-up" {
		t.Fatalf("resolved started %v, %v; want the wrap-up", started, err)
	}
	w.waitRun(started[0].ID, runbook.RunSucceeded)
	if ch := w.channelNamed("inc-1-checkout"); !ch.Archived {
		t.Error("the wrap-up did not archive the incident channel")
	}
	incidents, _ := w.Slack.Channel("incidents")
	if msgs := w.botMessages(incidents.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "INC-1") {
		t.Errorf("summary = %+v", msgs)
	}

	sev3 := &runbook.Incident{Title: "slow", Severity: "sev3", Status: "investigating"}
	w.db.Incidents().CreateIncident(context.Background(), sev3)
	if started, _ := w.exec().Trigger(context.Background(), runbook.EventIncidentDeclared, sev3, "", ""); len(started) != 0 {
		t.Fatalf("a sev3 started %v", started)
	}
}

// A templated risk is checked when the step runs: an unknown level fails the step with
// a sentence instead of asking for fewer approvals than the real level needs.
func TestTemplatedRiskIsChecked(t *testing.T) {
	w := newWorld(t, `
name: risky
params:
  - { name: risk, type: string }
steps:
  - action: approval.request
    with:
      operation: "Drop the cache"
      risk: "{{params.risk}}"
`)
	run := w.waitRun(w.run("risky", map[string]any{"risk": "CRITICAL!"}).ID, runbook.RunFailed)
	if want := `risk "CRITICAL!" is not a risk level; use one of low, medium, high, critical`; !strings.Contains(run.Error, want) {
		t.Fatalf("run error %q, want it to say %q", run.Error, want)
	}
	if pending, _ := w.db.Approvals().PendingApprovals(context.Background()); len(pending) != 0 {
		t.Fatalf("%d approval requests were made", len(pending))
	}
	ok := w.waitRun(w.run("risky", map[string]any{"risk": "Critical"}).ID, runbook.RunWaitingApproval)
	a, err := w.db.Approvals().ApprovalForStep(context.Background(), ok.ID, 0)
	if err != nil || a.Risk != runbook.RiskCritical {
		t.Fatalf("approval = %+v, %v", a, err)
	}
}

// A wait is durable: its end is stored when it starts, and a restart during the wait
// resumes it until that same end, not for the whole duration again.
func TestWaitSurvivesARestart(t *testing.T) {
	w := newWorld(t, `
name: pause
steps:
  - { action: wait, with: { duration: 2s } }
  - { action: slack.send_message, with: { channel: "#ops", text: "after the wait" } }
`)
	run := w.run("pause", nil)
	var until string
	w.WaitFor("the wait to start", func() bool {
		r, err := w.db.Runs().Run(context.Background(), run.ID)
		if err != nil {
			return false
		}
		until, _ = r.Steps[0].Outputs["until"].(string)
		return until != ""
	})
	end, err := time.Parse(time.RFC3339Nano, until)
	if err != nil {
		t.Fatal(err)
	}
	w.Restart()
	done := w.waitRun(run.ID, runbook.RunSucceeded)
	if got := done.Steps[0].Outputs["until"]; got != end.UTC().Format(time.RFC3339) {
		t.Errorf("the wait ended at %v; it was to end at %v (a restart must not start it again)", got, end)
	}
	// The store keeps times to the millisecond.
	if done.Steps[0].FinishedAt.Before(end.Truncate(time.Millisecond)) {
		t.Errorf("the wait finished at %v, before its end %v", done.Steps[0].FinishedAt, end)
	}
	if done.Steps[0].Attempts != 1 {
		t.Errorf("the wait was started %d times", done.Steps[0].Attempts)
	}
	if msgs := w.botMessages(w.ops.ID); len(msgs) != 1 || msgs[0].Text != "after the wait" {
		t.Errorf("messages after the wait: %+v", msgs)
	}
}

// TestPinRefusedKickoffGoesOn: a workspace where only admins may pin refuses the
// announcement's pin (restricted_action). The announcement is posted, the rest of the
// kickoff runs, and the person who started it is told the pin did not happen.
func TestPinRefusedKickoffGoesOn(t *testing.T) {
	w := newWorld(t)
	w.Slack.RefusePins("restricted_action")
	run := w.waitRun(w.run("sev1-kickoff", nil).ID, runbook.RunSucceeded)
	ch := w.channelNamed("inc-1-checkout")
	msgs := w.botMessages(ch.ID)
	if len(msgs) != 2 || msgs[0].Pinned || msgs[1].ThreadTS != msgs[0].TS {
		t.Fatalf("want the announcement, unpinned, and its threaded follow-up; got %+v", msgs)
	}
	if run.Steps[1].Outputs["pinned"] != false {
		t.Errorf("announce outputs = %v, want pinned: false", run.Steps[1].Outputs)
	}
	w.WaitFor("a warning about the pin in #ops", func() bool {
		for _, m := range w.botMessages(w.ops.ID) {
			if strings.Contains(m.Text, "finished, but") && strings.Contains(m.Text, "would not pin it (restricted_action)") {
				return true
			}
		}
		return false
	})
}

const inviteSome = `
name: room
steps:
  - id: ch
    action: slack.create_channel
    with: { name: war-room, invite: ["@alice", "@guest", "@bob"] }
  - action: slack.invite
    with: { channel: "{{steps.ch.id}}", users: ["@guest", "@carol"] }
  - action: slack.send_message
    with: { channel: "{{steps.ch.id}}", text: "ready" }
`

// TestInviteRefusedForOneInvitesTheRest: Slack refuses a whole conversations.invite
// batch for one user it cannot invite (a single-channel guest already in a channel).
// Everyone else gets in, the run goes on, and the starter is told who is missing.
func TestInviteRefusedForOneInvitesTheRest(t *testing.T) {
	w := newWorld(t, inviteSome)
	guest := w.Slack.AddUser("guest", slackfake.UserSingleChannelGuest())
	w.Slack.AddChannel("vendor", slackfake.ChannelMembers(guest.ID))
	carol := w.Person("carol")
	run := w.waitRun(w.run("room", nil).ID, runbook.RunSucceeded)
	ch := w.channelNamed("war-room")
	members := strings.Join(ch.Members, ",")
	for _, u := range []string{w.alice.ID, w.bob.ID, carol.ID} {
		if !strings.Contains(members, u) {
			t.Errorf("%s was not invited; members %v", u, ch.Members)
		}
	}
	if strings.Contains(members, guest.ID) {
		t.Errorf("the guest got in: %v", ch.Members)
	}
	if len(w.botMessages(ch.ID)) != 1 {
		t.Errorf("the step after the invitations did not post")
	}
	if got := run.Steps[1].Outputs["invited"]; got != carol.ID {
		t.Errorf("invite outputs = %v", run.Steps[1].Outputs)
	}
	w.WaitFor("a warning naming the guest in #ops", func() bool {
		for _, m := range w.botMessages(w.ops.ID) {
			if strings.Contains(m.Text, "2 steps failed") && strings.Count(m.Text, "<@"+guest.ID+"> (ura_max_channels)") == 2 {
				return true
			}
		}
		return false
	})
}
