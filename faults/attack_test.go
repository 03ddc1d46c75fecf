package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// The attack suite: what a malicious member of the workspace could make the bot do,
// tried against the real bot through the emulator. Each test names the hole it keeps
// closed.

const (
	groupGate = `
name: group-gate
steps:
  - action: approval.request
    with: { operation: "Restart checkout", risk: high }
`
	handleGate = `
name: handle-gate
steps:
  - action: approval.request
    with: { operation: "Rotate keys", risk: high, approvers: ["@bob"] }
`
	notice = `
name: notice
steps:
  - action: slack.send_message
    with:
      channel: "#ops"
      blocks: '[{"type":"section","text":{"type":"mrkdwn","text":"Now: {{incident.title}}"}}]'
`
	soloGate = `
name: solo-gate
steps:
  - action: approval.request
    with: { operation: "Purge the queue", risk: high, approvers: ["@solo"] }
`
	criticalGate = `
name: critical-gate
steps:
  - action: approval.request
    with: { operation: "Fail over the database", risk: critical }
`
	bobOnly = `
name: bob-only
allowed: ["bob"]
steps:
  - { action: slack.send_message, with: { channel: "#ops", text: "bob was here" } }
`
	riskyGate = `
name: risky-gate
params:
  - { name: risk, type: string }
steps:
  - action: approval.request
    with: { operation: "Drop the cache", risk: "{{params.risk}}" }
`
)

// attackWorld is the bot with alice (who starts runs), bob (the on-call approver, the
// only member of @oncall) and mallory, who is in every public channel and may call
// herself anything.
type attackWorld struct {
	*world
	mallory slackfake.User
	oncall  slackfake.UserGroup
	ops     slackfake.Channel
}

func newAttackWorld(t *testing.T, configure ...func(*config.Config)) *attackWorld {
	t.Helper()
	w := &attackWorld{world: newWorld(t, slackfake.Options{}, map[string]string{
		"group-gate": groupGate, "handle-gate": handleGate, "risky-gate": riskyGate, "notice": notice, "bob-only": bobOnly,
		"solo-gate": soloGate, "critical-gate": criticalGate})}
	w.mallory = w.Person("mallory")
	w.oncall = w.Group("oncall", "bob")
	w.ops = w.Channel("ops", "alice", "bob", "mallory")
	w.Config.Approvals.Approvers = []string{"@oncall"}
	w.Config.Slack.ApprovalChannel = "#ops"
	for _, c := range configure {
		c(w.Config)
	}
	w.Start()
	return w
}

// request starts a runbook as alice and returns its approval request once posted.
func (w *attackWorld) request(runbookName string) *runbook.Approval {
	w.t.Helper()
	if answer := w.Ask(w.alice.ID, w.ops.ID, "run "+runbookName); !strings.Contains(answer, "Started") {
		w.t.Fatalf("run %s answered %q", runbookName, answer)
	}
	var found *runbook.Approval
	w.WaitFor("the approval request", func() bool {
		pending, _ := w.App().DB.Approvals().PendingApprovals(context.Background())
		for _, a := range pending {
			if a.MessageTS != "" {
				found = a
				return true
			}
		}
		return false
	})
	return found
}

// click presses a button of the request as a person and waits until the bot has
// answered the click.
func (w *attackWorld) click(user slackfake.User, a *runbook.Approval, action string) {
	w.t.Helper()
	d, err := w.Slack.ClickButton(user.ID, a.Channel, a.MessageTS, action)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.waitAck(d); err != nil {
		w.t.Fatal(err)
	}
	w.WaitFor("the click to be audited", func() bool {
		entries, _ := w.App().DB.Audit().Audit(context.Background(), 0, 0)
		for _, e := range entries {
			if e.Actor == user.ID && e.ApprovalID == a.ID {
				return true
			}
		}
		return false
	})
}

func (w *attackWorld) state(a *runbook.Approval) runbook.ApprovalState {
	w.t.Helper()
	cur, err := w.App().DB.Approvals().Approval(context.Background(), a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return cur.State
}

// Hole: approval by display name. Mallory names herself after the on-call group, then
// after bob; neither makes her an approver, and bob still decides.
func TestAttackDisplayNameImpersonation(t *testing.T) {
	w := newAttackWorld(t)
	for _, tc := range []struct{ runbook, name string }{{"group-gate", "oncall"}, {"handle-gate", "bob"}} {
		t.Run(tc.runbook, func(t *testing.T) {
			a := w.request(tc.runbook)
			w.Slack.SetDisplayName(w.mallory.ID, tc.name)
			w.click(w.mallory, a, slackui.ActionApprove)
			if got := w.state(a); got != runbook.ApprovalPending {
				t.Fatalf("mallory, displayed as %q, moved %s to %s", tc.name, a.Key(), got)
			}
			w.click(w.bob, a, slackui.ActionApprove)
			if got := w.state(a); got != runbook.ApprovalApproved {
				t.Fatalf("bob's approval left %s %s", a.Key(), got)
			}
		})
	}
}

// Hole: a templated risk nobody checked. "CRITICAL!" must not ask for fewer approvals
// than critical needs: the run fails and says why.
func TestAttackTemplatedRisk(t *testing.T) {
	w := newAttackWorld(t)
	answer := w.Ask(w.alice.ID, w.ops.ID, "run risky-gate risk=CRITICAL!")
	if !strings.Contains(answer, "Started") {
		t.Fatalf("run answered %q", answer)
	}
	run := w.WaitRun(w.App().DB, 1, runbook.RunFailed)
	if !strings.Contains(run.Error, `risk "CRITICAL!" is not a risk level`) {
		t.Fatalf("the run failed with %q", run.Error)
	}
	if pending, _ := w.App().DB.Approvals().PendingApprovals(context.Background()); len(pending) != 0 {
		t.Fatalf("%d approval requests were made", len(pending))
	}
}

// Hole: private channels leak. Mallory can neither read nor post into a private
// channel she is not in, and the answer she gets is the one for a channel that does
// not exist; bob, a member, can. Her attempts are audited.
func TestAttackPrivateChannel(t *testing.T) {
	w := newAttackWorld(t)
	secret := w.Slack.AddChannel("secret", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.bob.ID, w.Slack.BotUserID()))
	if _, err := w.Slack.PostAs(w.bob.ID, secret.ID, "the db password rotates at 5"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"show recent messages in %s", "post to %s: hello from mallory"} {
		nowhere := w.Ask(w.mallory.ID, w.ops.ID, fmt.Sprintf(cmd, "#nowhere"))
		for _, ref := range []string{"#secret", "<#" + secret.ID + "|secret>"} {
			answer := w.Ask(w.mallory.ID, w.ops.ID, fmt.Sprintf(cmd, ref))
			if strings.Contains(answer, "db password") || answer != strings.ReplaceAll(nowhere, "nowhere", "secret") {
				t.Errorf("%q answered mallory %q; want the answer for a channel that does not exist", fmt.Sprintf(cmd, ref), answer)
			}
		}
	}
	for _, m := range w.Slack.Messages(secret.ID) {
		if strings.Contains(m.Text, "mallory") {
			t.Errorf("mallory posted into #secret: %q", m.Text)
		}
	}
	if answer := w.Ask(w.bob.ID, w.ops.ID, "show recent messages in #secret"); !strings.Contains(answer, "db password") {
		t.Errorf("bob, a member, was answered %q", answer)
	}
	refusals := 0
	entries, _ := w.App().DB.Audit().Audit(context.Background(), 0, 0)
	for _, e := range entries {
		if e.Action == runbook.AuditRefused && e.Actor == w.mallory.ID && strings.Contains(e.Detail, secret.ID) {
			refusals++
		}
	}
	if refusals != 4 {
		t.Errorf("%d refusals of mallory audited, want 4", refusals)
	}
}

// Hole: mass mentions through the bot. No form of @here, @channel, @everyone or a
// user-group ping survives post to.
func TestAttackMassMentions(t *testing.T) {
	w := newAttackWorld(t)
	group := w.oncall
	forms := []string{"<!here>", "<!channel>", "<!everyone>", "<!here|here>", "<!channel|channel>",
		"<!everyone|everyone>", "<!subteam^" + group.ID + ">", "<!subteam^" + group.ID + "|@oncall>", "<!channel|<!here>>"}
	answer := w.Ask(w.mallory.ID, w.ops.ID, "post to #ops: wake up "+strings.Join(forms, " "))
	if !strings.Contains(answer, "Posted") {
		t.Fatalf("post answered %q", answer)
	}
	for _, m := range w.Slack.Messages(w.ops.ID) {
		if m.BotID == "" {
			continue
		}
		for _, bad := range []string{"<!here", "<!channel", "<!everyone", "<!subteam"} {
			if strings.Contains(m.Text, bad) {
				t.Errorf("the bot posted %q", m.Text)
			}
		}
	}
}

// clickRaw clicks Approve with value on the message at ts in #ops, and returns the
// private answer.
func (w *attackWorld) clickRaw(user slackfake.User, ts, value string) string {
	w.t.Helper()
	return w.Press(user.ID, w.ops.ID, ts, slackui.ActionApprove, value)
}

// Hole: a click not tied to its request. An approve button whose value names the
// request but lacks its token (guessed, or built by a runbook), or one with the right
// value on another message, decides nothing — even when an approver clicks it.
func TestAttackForeignButton(t *testing.T) {
	w := newAttackWorld(t)
	a := w.request("group-gate")
	other, err := w.Slack.PostAs(w.alice.ID, w.ops.ID, "an innocent message")
	if err != nil {
		t.Fatal(err)
	}
	for name, click := range map[string]func() string{
		"guessed value":   func() string { return w.clickRaw(w.bob, a.MessageTS, strconv.FormatInt(a.ID, 10)) },
		"wrong token":     func() string { return w.clickRaw(w.bob, a.MessageTS, strconv.FormatInt(a.ID, 10)+".x"+a.Token[1:]) },
		"another message": func() string { return w.clickRaw(w.bob, other.TS, slackui.ApprovalValue(a)) },
	} {
		answer := click()
		if !strings.Contains(answer, "not on the request message") || w.state(a) != runbook.ApprovalPending {
			t.Errorf("%s: answered %q, request %s", name, answer, w.state(a))
		}
	}
	refused := 0
	entries, _ := w.App().DB.Audit().Audit(context.Background(), 0, 0)
	for _, e := range entries {
		if e.Action == runbook.AuditApprovalRefused && e.ApprovalID == a.ID && e.Actor == w.bob.ID {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d refused clicks audited, want 3", refused)
	}
	if answer := w.clickRaw(w.bob, a.MessageTS, slackui.ApprovalValue(a)); !strings.Contains(answer, "approved") || w.state(a) != runbook.ApprovalApproved {
		t.Errorf("bob's click on the request itself answered %q, request %s", answer, w.state(a))
	}
}

// Hole: an injected button. An incident title rendered into a runbook's JSON blocks
// stays text: it cannot add a block, let alone a button that approves.
func TestAttackInjectedButton(t *testing.T) {
	w := newAttackWorld(t)
	title := `x"}},{"type":"actions","elements":[{"type":"button","action_id":"ack","value":"1",` +
		`"text":{"type":"plain_text","text":"Ack"}}]},{"type":"section","text":{"type":"mrkdwn","text":"y`
	inc := &runbook.Incident{Title: title, Severity: "sev3", Status: "detected", CreatedBy: w.mallory.ID}
	if err := w.App().DB.Incidents().CreateIncident(context.Background(), inc); err != nil {
		t.Fatal(err)
	}
	if answer := w.Ask(w.alice.ID, w.ops.ID, "run notice "+inc.Key()); !strings.Contains(answer, "Started") {
		t.Fatalf("run answered %q", answer)
	}
	w.WaitRun(w.App().DB, 1, runbook.RunSucceeded)
	var posted []slackfake.Message
	for _, m := range w.Slack.Messages(w.ops.ID) {
		if m.BotID != "" {
			posted = append(posted, m)
		}
	}
	if len(posted) != 1 {
		t.Fatalf("%d bot messages in #ops", len(posted))
	}
	var blocks []map[string]any
	if err := json.Unmarshal(posted[0].Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 || blocks[0]["type"] != "section" {
		t.Fatalf("the title added structure: %s", posted[0].Blocks)
	}
	text, _ := blocks[0]["text"].(map[string]any)["text"].(string)
	if !strings.Contains(text, `"action_id":"ack"`) {
		t.Fatalf("the section does not show the title as text: %q", text)
	}
}

// refusals counts the refusals of a person's commands in the audit log.
func (w *attackWorld) refusals(user slackfake.User) int {
	w.t.Helper()
	n := 0
	entries, _ := w.App().DB.Audit().Audit(context.Background(), 0, 0)
	for _, e := range entries {
		if e.Action == runbook.AuditRefused && e.Actor == user.ID {
			n++
		}
	}
	return n
}

// Hole: anyone can do anything. Mallory, who neither declared INC-1 nor leads it, is
// not in its channel and is no responder, can neither update, resolve nor cancel; each
// refusal says who may and is audited. The declarer updates; a responder cancels.
func TestAttackUnauthorisedChanges(t *testing.T) {
	w := newAttackWorld(t, func(c *config.Config) { c.Permissions.Responders = []string{"@oncall"} })
	if answer := w.Ask(w.alice.ID, w.ops.ID, "declare sev2 checkout Checkout is slow"); !strings.Contains(answer, "Declared") {
		t.Fatalf("declare answered %q", answer)
	}
	w.request("group-gate") // R-1, waiting for its approval
	for cmd, want := range map[string]string{
		"update INC-1 status=mitigating": "Only whoever declared INC-1, its commander, the members of its channel, responders and admins may update it.",
		"resolve INC-1":                  "Only whoever declared INC-1, its commander, the members of its channel, responders and admins may resolve it.",
		"cancel R-1":                     "Only whoever started R-1, its incident's commander, responders and admins may cancel it.",
	} {
		if answer := w.Ask(w.mallory.ID, w.ops.ID, cmd); !strings.Contains(answer, want) {
			t.Errorf("%s answered mallory %q; want %q", cmd, answer, want)
		}
	}
	inc, _ := w.App().DB.Incidents().Incident(context.Background(), 1)
	run, _ := w.App().DB.Runs().Run(context.Background(), 1)
	if inc.Status != "detected" || !inc.ResolvedAt.IsZero() || run.State != runbook.RunWaitingApproval {
		t.Fatalf("after mallory: INC-1 %s, R-1 %s", inc.Status, run.State)
	}
	if n := w.refusals(w.mallory); n != 3 {
		t.Errorf("%d refusals of mallory audited, want 3", n)
	}
	if answer := w.Ask(w.alice.ID, w.ops.ID, "update INC-1 status=mitigating"); !strings.Contains(answer, "Updated") {
		t.Errorf("the declarer's update answered %q", answer)
	}
	if answer := w.Ask(w.bob.ID, w.ops.ID, "cancel R-1"); !strings.Contains(answer, "Cancelled R-1") {
		t.Errorf("a responder's cancel answered %q", answer)
	}
}

// A runbook that says who may run it, and permissions.declare, hold against everyone
// else; admins may do everything.
func TestAttackRestrictedRunbookAndDeclare(t *testing.T) {
	w := newAttackWorld(t, func(c *config.Config) {
		c.Permissions.Declare = []string{"@oncall"}
		c.Permissions.Admins = []string{"alice"}
	})
	if answer := w.Ask(w.mallory.ID, w.ops.ID, "declare sev1 checkout Fake outage"); !strings.Contains(answer, "Only the people permissions.declare names may declare incidents.") {
		t.Errorf("mallory's declare answered %q", answer)
	}
	if answer := w.Ask(w.mallory.ID, w.ops.ID, "run bob-only"); !strings.Contains(answer, "Only the people the runbook *bob-only* allows may run it.") {
		t.Errorf("mallory's run answered %q", answer)
	}
	if n, _ := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{}); len(n) != 0 {
		t.Fatalf("%d incidents declared", len(n))
	}
	if answer := w.Ask(w.bob.ID, w.ops.ID, "run bob-only"); !strings.Contains(answer, "Started") {
		t.Errorf("bob's run answered %q", answer)
	}
	if answer := w.Ask(w.alice.ID, w.ops.ID, "declare sev2 checkout Real outage"); !strings.Contains(answer, "Declared") {
		t.Errorf("an admin's declare answered %q", answer)
	}
	if n := w.refusals(w.mallory); n != 2 {
		t.Errorf("%d refusals of mallory audited, want 2", n)
	}
}

// Hole: approvals that can never be decided. A request whose only approver is the
// requester, or a critical one (2 approvals) from a one-person group, is refused when
// it is made, naming the gap, instead of waiting for an approval nobody can give. A
// request that can be decided shows who may approve and how many are needed, and
// someone who may not approve can still see what is waiting and for whom.
func TestAttackUndecidableApprovals(t *testing.T) {
	w := newAttackWorld(t)
	w.Group("solo", "alice")
	for runbookName, want := range map[string]string{
		"solo-gate":     "this approval could never be given: it needs 1 approval, and its approvers (@solo) are 0 people, not counting the requester",
		"critical-gate": "this approval could never be given: it needs 2 approvals, and its approvers (@oncall) are 1 person",
	} {
		if answer := w.Ask(w.alice.ID, w.ops.ID, "run "+runbookName); !strings.Contains(answer, "Started") {
			t.Fatalf("run answered %q", answer)
		}
		var failed *runbook.Run
		w.WaitFor(runbookName+" to fail", func() bool {
			runs, _ := w.App().DB.Runs().ListRuns(context.Background(), 0, 50)
			for _, r := range runs {
				if r.Runbook == runbookName && r.State == runbook.RunFailed {
					failed = r
				}
			}
			return failed != nil
		})
		if !strings.Contains(failed.Error, want) {
			t.Errorf("%s failed with %q; want it to say %q", runbookName, failed.Error, want)
		}
	}
	if pending, _ := w.App().DB.Approvals().PendingApprovals(context.Background()); len(pending) != 0 {
		t.Fatalf("%d undecidable requests were made", len(pending))
	}
	audited := 0
	entries, _ := w.App().DB.Audit().Audit(context.Background(), 0, 0)
	for _, e := range entries {
		if e.Action == runbook.AuditApprovalUndecidable && e.Actor == w.alice.ID && strings.Contains(e.Detail, "could never be given") {
			audited++
		}
	}
	if audited != 2 {
		t.Errorf("%d undecidable requests audited, want 2", audited)
	}

	a := w.request("group-gate")
	msg, _ := w.Slack.Message(a.Channel, a.MessageTS)
	if !strings.Contains(string(msg.Blocks), "*Who may approve*\\n@oncall · 1 approval needed") {
		t.Errorf("the request does not say who may approve: %s", msg.Blocks)
	}
	answer := w.Ask(w.mallory.ID, w.ops.ID, "approvals")
	if !strings.Contains(answer, "No approvals are waiting for you; 1 waiting for others") || !strings.Contains(answer, a.Key()) ||
		!strings.Contains(answer, "waiting for @oncall (0 of 1)") {
		t.Errorf("approvals answered mallory %q", answer)
	}
}

// Hole: a huge command went unanswered. Two megabytes of text get a short answer.
func TestAttackHugeCommand(t *testing.T) {
	w := newAttackWorld(t)
	answer := w.Ask(w.mallory.ID, w.ops.ID, "declare sev1 "+strings.Repeat("x", 2<<20))
	if !strings.Contains(answer, "That command is too long for Runbook") {
		t.Fatalf("a 2 MiB command answered %.200q", answer)
	}
	if n, _ := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{}); len(n) != 0 {
		t.Fatalf("%d incidents declared", len(n))
	}
}

// Hole: a list longer than Slack's 50 blocks was refused by Slack and the person
// heard nothing. A timeline of 600 long entries answers in one valid message that
// says what it left out.
func TestAttackLongList(t *testing.T) {
	w := newAttackWorld(t)
	ctx := context.Background()
	inc := &runbook.Incident{Title: "Busy", Severity: "sev3", Status: "detected", CreatedBy: w.alice.ID}
	if err := w.App().DB.Incidents().CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		e := runbook.TimelineEntry{IncidentID: inc.ID, Actor: w.mallory.ID, Kind: runbook.TimelineNote,
			Text: fmt.Sprintf("note %d %s", i, strings.Repeat("n", 400))}
		if err := w.App().DB.Incidents().AddTimeline(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	answer := w.Ask(w.alice.ID, w.ops.ID, "timeline INC-1")
	if !strings.Contains(answer, "note 0 ") || !strings.Contains(answer, "more not shown") {
		t.Fatalf("timeline answered %.300q", answer)
	}
}

// On Slack's Free plan (no user groups) the bot still starts when some approver names
// someone, and a click by someone who could only have qualified through a group is
// told why — never "try again".
func TestAttackWorkspaceWithoutGroups(t *testing.T) {
	w := &attackWorld{world: newWorld(t, slackfake.Options{FreePlan: true}, map[string]string{"group-gate": groupGate})}
	w.mallory = w.Person("mallory")
	w.ops = w.Channel("ops", "alice", "bob", "mallory")
	w.Config.Approvals.Approvers = []string{"@oncall", "bob"}
	w.Config.Slack.ApprovalChannel = "#ops"
	w.Start()
	if !strings.Contains(w.Logs.String(), "@oncall is no member's username, and this workspace's Slack plan has no user groups") {
		t.Errorf("no warning naming @oncall in the log:\n%s", w.Logs.String())
	}
	a := w.request("group-gate")
	answer := w.clickRaw(w.mallory, a.MessageTS, slackui.ApprovalValue(a))
	if !strings.Contains(answer, "You are not an approver for "+a.Key()) || !strings.Contains(answer, "Slack plan has no user groups") ||
		strings.Contains(answer, "try again") {
		t.Errorf("mallory's click answered %q", answer)
	}
	if answer := w.clickRaw(w.bob, a.MessageTS, slackui.ApprovalValue(a)); !strings.Contains(answer, "approved") {
		t.Errorf("bob's click answered %q", answer)
	}
}

// hook calls an API, runs a program and posts a message, each with a param in it.
const hook = `
name: hook
params:
  - { name: service, type: string, required: true }
steps:
  - id: call
    action: http.request
    with:
      url: "https://deploy.example.invalid/hook"
      json: { service: "{{params.service}}" }
  - id: run
    action: command.run
    with: { command: [echo, "{{params.service}}"] }
  - id: tell
    action: slack.send_message
    with: { channel: "#ops", text: "Deploying {{params.service}}" }
`

// Hole: a dry run as a way round a runbook's allowed: list. Mallory is refused a dry
// run of bob-only in the same words as a run, and the refusal is audited; bob may.
func TestAttackDryRunRestricted(t *testing.T) {
	w := newAttackWorld(t)
	run := w.Ask(w.mallory.ID, w.ops.ID, "run bob-only")
	dry := w.Ask(w.mallory.ID, w.ops.ID, "run bob-only --dry-run")
	if !strings.Contains(dry, "Only the people the runbook *bob-only* allows may run it.") || dry != run {
		t.Errorf("mallory's dry run answered %q; her run %q", dry, run)
	}
	if n := w.refusals(w.mallory); n != 2 {
		t.Errorf("%d refusals of mallory audited, want 2", n)
	}
	if answer := w.Ask(w.bob.ID, w.ops.ID, "run bob-only --dry-run"); !strings.Contains(answer, "Dry run of bob-only") {
		t.Errorf("bob's dry run answered %q", answer)
	}
	if runs, _ := w.App().DB.Runs().ListRuns(context.Background(), 0, 10); len(runs) != 0 || len(w.Slack.Messages(w.ops.ID)) != 0 {
		t.Fatalf("%d run(s), %d message(s) in #ops", len(runs), len(w.Slack.Messages(w.ops.ID)))
	}
}

// Hole: a param that breaks out of what a dry run shows. A service name with a quote,
// a brace and a mass mention stays one JSON string in the body the dry run shows, one
// argument of the command, and text in the message; the answer mentions nobody and
// every code block in it is closed.
func TestAttackDryRunHostileParam(t *testing.T) {
	w := newWorld(t, slackfake.Options{}, map[string]string{"hook": hook})
	w.Config.Actions.Command.Allowed = []string{"echo"}
	ops := w.Channel("ops", "alice")
	w.Start()
	const hostile = "x\"} <!channel> ```"
	if answer := w.Ask(w.alice.ID, ops.ID, `run hook service="x\"} <!channel>" --dry-run`); !strings.Contains(answer, "quote") {
		t.Errorf("an unbalanced quote answered %q", answer)
	}
	blocks := w.AskBlocks(w.alice.ID, ops.ID, "run hook service='"+hostile+"' --dry-run")
	for _, text := range blocks {
		if strings.Contains(text, "<!") || strings.Count(text, "```")%2 != 0 {
			t.Errorf("a block mentions or leaves a code block open: %q", text)
		}
	}
	reply := strings.Join(blocks, "\n")
	_, call, ok := strings.Cut(reply, "*1.* `call` http.request\n```")
	call, _, _ = strings.Cut(call, "```\n")
	if !ok {
		t.Fatalf("no request shown:\n%s", reply)
	}
	lines := strings.Split(strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\u200b", "").Replace(call), "\n")
	var body map[string]string
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &body); err != nil || len(body) != 1 || body["service"] != hostile {
		t.Errorf("the body shown is %q (%v); want {\"service\": %q}", lines[len(lines)-1], err, hostile)
	}
	for _, want := range []string{
		"*2.* `run` command.run\n```echo 'x\"} &lt;!channel&gt; ``\u200b`'```",
		"text: Deploying x\"} &amp;lt;!channel&amp;gt; ``\u200b`\u200b```",
	} {
		if !strings.Contains(reply, want) {
			t.Errorf("the answer does not show %q:\n%s", want, reply)
		}
	}
	if len(w.Slack.Messages(ops.ID)) != 0 {
		t.Errorf("#ops got a message")
	}
}
