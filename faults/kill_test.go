package faults

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

const gatedRunbook = `name: gated
description: a channel, a message, an approval gate, and a message after it
params:
  - { name: n, type: string, required: true }
steps:
  - id: room
    action: slack.create_channel
    with: { name: "gate-{{params.n}}" }
  - action: slack.send_message
    with: { channel: "{{steps.room.id}}", text: "run {{params.n}}: before the gate" }
  - id: gate
    action: approval.request
    with: { operation: "operation {{params.n}}", risk: low, channel: "{{steps.room.id}}" }
  - action: slack.send_message
    with: { channel: "{{steps.room.id}}", text: "run {{params.n}}: approved by {{steps.gate.decided_by}}" }
`

// TestKillAndRestartWithApprovalsInFlight kills the bot process with SIGKILL at random
// points while ~20 runs with approval gates are in flight (some approvals being clicked),
// restarts it, three times; then everything is approved. Every run succeeds, no
// approval is lost, no channel is created twice, no message is posted twice and no
// decision is counted twice.
func TestKillAndRestartWithApprovalsInFlight(t *testing.T) {
	const runs = 20
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("FAULTS_SEED"), 10, 64); err == nil {
		seed = s
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("random seed %d (FAULTS_SEED=%d repeats it)", seed, seed)

	w := newWorld(t, slackfake.Options{AckTimeout: 2 * time.Second}, map[string]string{"gated": gatedRunbook})
	general := w.channel("general")
	w.Config.Bot.ShutdownTimeout = 5 * time.Second
	bot := w.StartBinary(botBinary)
	t.Cleanup(func() {
		if t.Failed() {
			keep := filepath.Join(os.TempDir(), fmt.Sprintf("faults-kill-%d.log", seed))
			_ = os.WriteFile(keep, []byte(w.ProcessLog()+"\n"+w.approvalsTable()), 0o644)
			t.Logf("the bot's log and the approvals are in %s", keep)
		}
	})

	for n := 1; n <= runs; n++ {
		d := w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", fmt.Sprintf("run gated n=%d", n))
		if ack, err := w.waitAck(d); err != nil || !strings.Contains(ackText(ack), "Started") {
			t.Fatalf("run %d: %v %q\n%s", n, err, ackText(ack), apptest.Tail(w.ProcessLog(), 20))
		}
	}

	clicked := map[string]time.Time{} // approval request ts → when bob last clicked Approve
	approveSome := func(share float64) int {
		n := 0
		for _, m := range w.pendingRequests() {
			if rng.Float64() < share && time.Since(clicked[m.TS]) > 3*time.Second {
				if _, err := w.Slack.ClickButton(w.bob.ID, m.Channel, m.TS, "approval.approve"); err == nil {
					clicked[m.TS] = time.Now()
					n++
				}
			}
		}
		return n
	}
	for kill := 1; kill <= 3; kill++ {
		time.Sleep(time.Duration(5+rng.IntN(400)) * time.Millisecond)
		clicks := approveSome(0.3)
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // while those clicks are handled
		states := w.runStates()
		bot.Kill()
		t.Logf("kill %d: runs %v; %d approvals clicked just before", kill, states, clicks)
		bot = w.StartBinary(botBinary)
	}

	// After the last restart, everything is approved (a click lost with a killed process
	// is clicked again, as a person would, if the buttons are still there). A run parked
	// on a request that is approved and followed up, with nothing left to click, will not
	// move again in this process: the wait then runs out, and the check below names it.
	allDone := w.Eventually(func() bool {
		approveSome(1)
		return w.count("SELECT COUNT(*) FROM runs WHERE state = 'succeeded'") == runs
	})
	if stuck := w.count(stuckRuns); stuck > 0 {
		t.Errorf("%d run(s) stay parked in waiting_approval although their request was approved and followed up:\n%s\n%s",
			stuck, w.approvalsTable(), grepLines(w.ProcessLog(), "level=WARN", "level=ERROR"))
	} else if !allDone {
		t.Fatalf("not every run succeeded: %v\n%s\nbot log (warnings and errors):\n%s", w.runStates(), w.approvalsTable(),
			grepLines(w.ProcessLog(), "level=WARN", "level=ERROR", "resuming", "following up", "run ended"))
	}
	if err := bot.Terminate(apptest.Patience); err != nil {
		t.Errorf("the last process did not stop cleanly: %v", err)
	}

	if n := w.count("SELECT COUNT(*) FROM runs WHERE state = 'succeeded'") + w.count(stuckRuns); n != runs {
		t.Errorf("%d runs succeeded (or are stuck as above), want %d: %v", n, runs, w.runStates())
	}
	if n := w.count("SELECT COUNT(*) FROM runs"); n != runs {
		t.Errorf("%d runs, want %d", n, runs)
	}
	// No channel created twice: a second attempt would have made gate-N-2.
	var gates []string
	for _, c := range w.Slack.Channels() {
		if strings.HasPrefix(c.Name, "gate-") {
			gates = append(gates, c.Name)
		}
	}
	if len(gates) != runs {
		t.Errorf("%d gate channels, want %d: %v", len(gates), runs, gates)
	}
	// No message posted twice: each step's message carries its run and step.
	for _, name := range gates {
		ch, _ := w.Slack.Channel(name)
		seen := map[string]int{}
		for _, m := range w.Slack.Messages(ch.ID) {
			if key := stepMarker(m); key != "" {
				seen[key]++
			}
		}
		var state string
		_ = w.query("SELECT r.state FROM runs r JOIN approvals a ON a.run_id = r.id WHERE a.channel = ?", &state, ch.ID)
		if len(seen) != 3 && (state == "succeeded" || len(seen) > 3) {
			t.Errorf("#%s has step messages %v (run %s), want three (before, request, after)", name, seen, state)
		}
		for key, n := range seen {
			if n != 1 {
				t.Errorf("#%s: the message of %s was posted %d times", name, key, n)
			}
		}
		for _, m := range w.Slack.Messages(ch.ID) {
			if !strings.Contains(string(m.Blocks), `"approval.approve"`) {
				continue
			}
			if line := lastLine(w.ProcessLog(), "update approval message"); line != "" {
				t.Errorf("#%s: an approval request still has its buttons after the run succeeded; the update failed: %s", name, line)
				continue
			}
			t.Errorf("#%s: the approval request keeps its buttons after it was approved and its run succeeded "+
				"(a click decided before the executor recorded the message, or a crash in between, must still "+
				"end in the message being updated)", name)
		}
	}
	// No approval lost, none decided twice.
	if n := w.count("SELECT COUNT(*) FROM approvals WHERE state = 'approved'"); n != runs {
		t.Errorf("%d approvals approved, want %d", n, runs)
	}
	if n := w.count("SELECT COUNT(*) FROM (SELECT approval_id FROM approval_votes GROUP BY approval_id HAVING COUNT(*) != 1)"); n != 0 {
		t.Errorf("%d approvals have more or fewer than one vote", n)
	}
	if n := w.count("SELECT COUNT(*) FROM (SELECT approval_id FROM audit_log WHERE action = 'approval.decided' GROUP BY approval_id HAVING COUNT(*) > 1)"); n != 0 {
		t.Errorf("%d approval(s) recorded as decided twice in the audit log (a follow-up repeated after a crash "+
			"must not write its audit entry again)", n)
	}
	if n := w.count("SELECT COUNT(DISTINCT approval_id) FROM audit_log WHERE action = 'approval.decided'"); n != runs {
		t.Errorf("%d approvals recorded as decided, want %d", n, runs)
	}
}

// stuckRuns counts runs parked on a request that is no longer pending and was followed
// up: nothing will kick them again.
const stuckRuns = `SELECT COUNT(*) FROM runs r JOIN approvals a ON a.run_id = r.id
	WHERE r.state = 'waiting_approval' AND a.state <> 'pending' AND a.settled_at IS NOT NULL`

// pendingRequests are the approval requests whose buttons are still there.
func (w *world) pendingRequests() []slackfake.Message {
	var out []slackfake.Message
	for _, c := range w.Slack.Channels() {
		if !strings.HasPrefix(c.Name, "gate-") {
			continue
		}
		for _, m := range w.Slack.Messages(c.ID) {
			if m.BotID != "" && strings.Contains(string(m.Blocks), `"approval.approve"`) {
				out = append(out, m)
			}
		}
	}
	return out
}

// runStates counts runs by state.
func (w *world) runStates() map[string]int {
	out := map[string]int{}
	db, err := sql.Open("sqlite3", "file:"+w.dbPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT state, COUNT(*) FROM runs GROUP BY state")
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			w.t.Fatal(err)
		}
		out[state] = n
	}
	return out
}

// stepMarker is "run R step S" for a message a runbook step posted, from its metadata.
func stepMarker(m slackfake.Message) string {
	var md struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if len(m.Metadata) == 0 || json.Unmarshal(m.Metadata, &md) != nil || md.EventType != "runbook_step" {
		return ""
	}
	return fmt.Sprintf("run %v step %v", md.EventPayload["run"], md.EventPayload["step"])
}

// TestKillBetweenAckAndReply kills the bot after it acked a mention and while Slack is
// refusing its reply (429): the next process must still answer the mention. Slack will
// not redeliver an acked event, so only the bot's own record can bring the reply back.
func TestKillBetweenAckAndReply(t *testing.T) {
	w := newWorld(t, slackfake.Options{AckTimeout: 2 * time.Second}, nil)
	general := w.channel("general")
	bot := w.StartBinary(botBinary)

	w.Slack.FailNext("chat.postMessage", 1000, http.StatusTooManyRequests)
	d := w.Slack.Mention(w.alice.ID, general.ID, "help", "")
	if _, err := w.waitAck(d); err != nil {
		t.Fatalf("the mention was not acked: %v", err)
	}
	w.WaitFor("the bot to try to reply", func() bool { return w.Slack.Calls("chat.postMessage") > 0 })
	bot.Kill()
	w.Slack.FailNext("chat.postMessage", 0, 0)
	w.StartBinary(botBinary)

	if !w.Eventually(func() bool { return len(w.BotReplies(general.ID, d.TS)) > 0 }) {
		var done, acked int
		_ = w.query("SELECT done FROM envelopes WHERE type = 'events_api'", &done)
		_ = w.query("SELECT acked FROM envelopes WHERE type = 'events_api'", &acked)
		t.Errorf("the mention acked before the kill was never answered (its inbox record: done=%d acked=%d)", done, acked)
	} else if n := len(w.BotReplies(general.ID, d.TS)); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}

// approvalsTable lists the approval requests, for a failure message.
func (w *world) approvalsTable() string {
	db, err := sql.Open("sqlite3", "file:"+w.dbPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	rows, err := db.Query(`SELECT a.id, a.run_id, a.state, a.message_ts, COALESCE(a.settled_at, 0), r.state,
		(SELECT COUNT(*) FROM approval_votes v WHERE v.approval_id = a.id) FROM approvals a JOIN runs r ON r.id = a.run_id ORDER BY a.id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	b.WriteString("approval run state message_ts settled_at run_state votes\n")
	for rows.Next() {
		var id, run, settled, votes int64
		var state, ts, runState string
		if err := rows.Scan(&id, &run, &state, &ts, &settled, &runState, &votes); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "APR-%d R-%d %s %q %d %s %d\n", id, run, state, ts, settled, runState, votes)
	}
	return b.String()
}

// TestKillBetweenDeclareAnswerAndAnnouncement kills the bot after it answered a
// declaration — which it does before announcing it — while Slack is refusing the
// announcement (429). Slack never sends a slash command again: the next process must
// find the declaration in its own record, announce it, report it in the updates
// thread and start its kickoff once, and not answer the person a second time.
func TestKillBetweenDeclareAnswerAndAnnouncement(t *testing.T) {
	w := newWorld(t, slackfake.Options{AckTimeout: 2 * time.Second}, map[string]string{"kickoff": `name: kickoff
on:
  - event: incident.declared
steps:
  - action: incident.update
    with: { note: "kickoff ran" }
`})
	general, incidents, updates := w.channel("general"), w.channel("incidents"), w.channel("incident-updates")
	w.Config.Slack.DefaultChannel = "#incidents"
	w.Config.Slack.InvestigationUpdates = true
	w.Config.Slack.UpdateChannel = "#incident-updates"
	bot := w.StartBinary(botBinary)

	w.Slack.FailNext("chat.postMessage", 1000, http.StatusTooManyRequests)
	d := w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "declare sev1 Checkout errors")
	ack, err := w.waitAck(d)
	if err != nil {
		t.Fatalf("the declaration was not acked: %v", err)
	}
	if !strings.Contains(string(ack.Payload), "Declared *INC-1*") {
		t.Fatalf("the ack carried %s; want the answer, before the announcement", ack.Payload)
	}
	w.WaitFor("the bot to try to announce", func() bool { return w.Slack.Calls("chat.postMessage") > 0 })
	bot.Kill()
	w.Slack.FailNext("chat.postMessage", 0, 0)
	w.StartBinary(botBinary)

	w.WaitFor("the kickoff to run", func() bool {
		var n int
		return w.query("SELECT COUNT(*) FROM runs WHERE runbook = 'kickoff' AND state = 'succeeded'", &n) == nil && n == 1
	})
	w.WaitDone(d.EnvelopeID)
	var runs int
	if err := w.query("SELECT COUNT(*) FROM runs", &runs); err != nil || runs != 1 {
		t.Errorf("%d runs (%v), want the one kickoff", runs, err)
	}
	var announcements int
	for _, m := range w.Slack.Messages(incidents.ID) {
		if m.ThreadTS == "" && strings.Contains(m.Text, "INC-1") {
			announcements++
		}
	}
	if announcements != 1 {
		t.Errorf("%d announcements of INC-1, want 1", announcements)
	}
	// The first investigation update was still queued when the first process died:
	// with no updates thread recorded, the next one knows it never went out.
	w.WaitFor("the declaration's investigation update", func() bool {
		for _, m := range w.Slack.Messages(updates.ID) {
			if strings.Contains(m.Text, "INC-1 declared by") {
				return true
			}
		}
		return false
	})
	// The ack's answer is shown as an ephemeral message; nothing else was said to alice.
	if eph := w.Slack.Ephemerals(general.ID, w.alice.ID); len(eph) != 1 {
		var said []string
		for _, m := range eph {
			said = append(said, m.Text)
		}
		t.Errorf("alice was answered %d times, want once: %q", len(eph), said)
	}
}
