package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
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

func newAttackWorld(t *testing.T) *attackWorld {
	t.Helper()
	w := &attackWorld{world: newWorld(t, slackfake.Options{}, map[string]string{
		"group-gate": groupGate, "handle-gate": handleGate, "risky-gate": riskyGate})}
	w.mallory = w.Person("mallory")
	w.oncall = w.Group("oncall", "bob")
	w.ops = w.Channel("ops", "alice", "bob", "mallory")
	w.Config.Approvals.Approvers = []string{"@oncall"}
	w.Config.Slack.ApprovalChannel = "#ops"
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
