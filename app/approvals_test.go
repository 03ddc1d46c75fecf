package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// approvalWorld has an incident whose scale-up run waits for an approval in #ops.
type approvalWorld struct {
	*incidentWorld
	carol, dave slackfake.User
	ops         slackfake.Channel
	approval    *runbook.Approval
}

func startApproval(t *testing.T, opts ...func(*config.Config)) *approvalWorld {
	t.Helper()
	w := &approvalWorld{}
	w.incidentWorld = startIncidentsWith(t, append([]func(*config.Config){func(c *config.Config) {
		c.Slack.ApprovalChannel = "#ops"
		c.Approvals.Approvers = []string{"@oncall", "@alice"}
	}}, opts...)...)
	w.carol, w.dave = w.Person("carol"), w.Person("dave")
	w.Group("sre", "dave")
	w.ops = w.Channel("ops", "alice", "bob", "carol", "dave")
	w.command("declare sev3 slow checkout")
	if answer := w.command("run scale-up INC-1 service=checkout count=8"); !strings.Contains(answer, "Started") {
		t.Fatalf("run answered %q", answer)
	}
	w.WaitFor("the approval request", func() bool {
		a, err := w.App().DB.Approvals().ApprovalForStep(context.Background(), 1, 0)
		if err != nil || a.MessageTS == "" {
			return false
		}
		w.approval = a
		return true
	})
	return w
}

func (w *approvalWorld) click(user slackfake.User, action string) string {
	w.t.Helper()
	before := len(w.Slack.Ephemerals(w.ops.ID, user.ID))
	d, err := w.Slack.ClickButton(user.ID, w.ops.ID, w.approval.MessageTS, action)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := d.WaitAck(w.Context()); err != nil {
		w.t.Fatal(err)
	}
	var got string
	w.WaitFor("the answer to "+user.Name+"'s click", func() bool {
		eph := w.Slack.Ephemerals(w.ops.ID, user.ID)
		if len(eph) == before {
			return false
		}
		got = eph[len(eph)-1].Text
		return true
	})
	return got
}

// staleClick clicks a button on the request as a client that has not yet seen the
// message updated: the exact block_actions payload, sent even though the buttons are
// gone.
func (w *approvalWorld) staleClick(user slackfake.User, action string) string {
	w.t.Helper()
	return w.Press(user.ID, w.ops.ID, w.approval.MessageTS, action, slackui.ApprovalValue(w.approval))
}

func (w *approvalWorld) runState() runbook.RunState {
	r, err := w.App().DB.Runs().Run(context.Background(), 1)
	if err != nil {
		w.t.Fatal(err)
	}
	return r.State
}

func (w *approvalWorld) requestMessage() slackfake.Message {
	m, _ := w.Slack.Message(w.ops.ID, w.approval.MessageTS)
	return m
}

func TestApproveButtonResumesTheRun(t *testing.T) {
	w := startApproval(t)
	if answer := w.click(w.bob, "approval.approve"); !strings.Contains(answer, "approved APR-1") {
		t.Fatalf("bob's click answered %q", answer)
	}
	w.WaitFor("the run to finish", func() bool { return w.runState() == runbook.RunSucceeded })
	msg := w.requestMessage()
	if !msg.Edited || strings.Contains(string(msg.Blocks), "approval.approve") || !strings.Contains(string(msg.Blocks), "Approved by <@"+w.bob.ID+">") {
		t.Fatalf("request message after approval = %s", msg.Blocks)
	}
	audit := w.command("audit INC-1")
	for _, want := range []string{"requested APR-1", "decided APR-1"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %q:\n%s", want, audit)
		}
	}
}

func TestDenyButtonStopsTheRun(t *testing.T) {
	w := startApproval(t)
	w.click(w.bob, "approval.deny")
	w.WaitFor("the run to stop", func() bool { return w.runState() == runbook.RunDenied })
	if msg := w.requestMessage(); !strings.Contains(string(msg.Blocks), "Denied by <@"+w.bob.ID+">") {
		t.Fatalf("request message after denial = %s", msg.Blocks)
	}
}

func TestRefusedClicksChangeNothing(t *testing.T) {
	w := startApproval(t)
	before := w.requestMessage()
	for _, tt := range []struct {
		user slackfake.User
		want string
	}{
		{w.carol, "You are not an approver for APR-1"},
		{w.alice, "You asked for APR-1, so someone else must approve it"},
	} {
		if answer := w.click(tt.user, "approval.approve"); !strings.Contains(answer, tt.want) {
			t.Errorf("%s's click answered %q; want %q", tt.user.Name, answer, tt.want)
		}
	}
	if w.runState() != runbook.RunWaitingApproval || w.requestMessage().Text != before.Text || w.requestMessage().Edited {
		t.Fatal("a refused click changed the run or the message")
	}
	audit := w.command("audit INC-1")
	if strings.Count(audit, "refused") < 2 {
		t.Fatalf("refused clicks are not audited:\n%s", audit)
	}
}

func TestRacingApproversDecideOnce(t *testing.T) {
	w := startApproval(t)
	var wg sync.WaitGroup
	for _, u := range []slackfake.User{w.bob, w.bob, w.alice} {
		wg.Go(func() {
			d, err := w.Slack.ClickButton(u.ID, w.ops.ID, w.approval.MessageTS, "approval.approve")
			if err == nil {
				d.WaitAck(w.Context())
			}
		})
	}
	dave := w.dave
	wg.Go(func() {
		d, err := w.Slack.ClickButton(dave.ID, w.ops.ID, w.approval.MessageTS, "approval.deny")
		if err == nil {
			d.WaitAck(w.Context())
		}
	})
	wg.Wait()
	w.WaitFor("the run to end", func() bool { return w.runState().Final() })
	a, _ := w.App().DB.Approvals().Approval(context.Background(), w.approval.ID)
	updates := 0
	for _, c := range w.Slack.APICalls() {
		if c.Method == "chat.update" && c.Channel == w.ops.ID {
			updates++
		}
	}
	if a.State != runbook.ApprovalApproved || updates != 1 {
		t.Fatalf("approval %s with %d message updates; want approved once (dave is no approver)", a.State, updates)
	}
}

func TestApprovalCommands(t *testing.T) {
	w := startApproval(t)
	d := w.Slack.SlashCommand(w.bob.ID, w.ops.ID, "/runbook", "approvals")
	ack, err := d.WaitAck(w.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, text := ackMessage(t, ack); !strings.Contains(text, "APR-1") || !strings.Contains(text, "Scale checkout to 8 tasks") {
		t.Fatalf("approvals for bob = %q", text)
	}
	d = w.Slack.SlashCommand(w.carol.ID, w.ops.ID, "/runbook", "approve APR-1")
	ack, _ = d.WaitAck(w.Context())
	if _, text := ackMessage(t, ack); !strings.Contains(text, "not an approver") {
		t.Fatalf("carol's approve = %q", text)
	}
	d = w.Slack.SlashCommand(w.bob.ID, w.ops.ID, "/runbook", "deny APR-1 too risky at peak")
	ack, _ = d.WaitAck(w.Context())
	if _, text := ackMessage(t, ack); !strings.Contains(text, "denied APR-1") {
		t.Fatalf("bob's deny = %q", text)
	}
	w.WaitFor("the run to stop", func() bool { return w.runState() == runbook.RunDenied })
	if msg := w.requestMessage(); !strings.Contains(string(msg.Blocks), "too risky at peak") {
		t.Fatalf("message lacks the reason: %s", msg.Blocks)
	}
	if answer := w.staleClick(w.bob, "approval.approve"); !strings.Contains(answer, "already denied") {
		t.Fatalf("a late click answered %q", answer)
	}
}

func TestApprovalSurvivesRestart(t *testing.T) {
	w := startApproval(t)
	w.Stop()
	w.Start()
	w.click(w.bob, "approval.approve")
	w.WaitFor("the run to finish", func() bool { return w.runState() == runbook.RunSucceeded })
}

func TestCancelSettlesTheApproval(t *testing.T) {
	w := startApproval(t)
	if answer := w.command("cancel R-1"); !strings.Contains(answer, "Cancelled R-1") {
		t.Fatalf("cancel answered %q", answer)
	}
	w.WaitFor("the request to show the cancellation", func() bool { return w.requestMessage().Edited })
	if answer := w.staleClick(w.bob, "approval.approve"); !strings.Contains(answer, "cancelled") {
		t.Fatalf("a click after cancelling answered %q", answer)
	}
}
