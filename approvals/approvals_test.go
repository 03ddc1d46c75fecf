package approvals_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

var scaleParams = map[string]any{"service": "checkout", "count": 8}

func TestApprove(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("scale-up", scaleParams)
	contains(t, "request", w.message(a), slackui.ActionApprove, "Scale checkout to 8 tasks")

	out := w.click(w.bob, a, slackui.ActionApprove) // bob is in @oncall
	if !out.Decided || out.State != runbook.ApprovalApproved || out.Message != "You approved "+a.Key()+"." {
		t.Fatalf("outcome = %+v", out)
	}
	done := w.waitRun(run.ID, runbook.RunSucceeded)
	if done.Steps[0].Outputs["decided_by"] != "<@"+w.bob.ID+">" {
		t.Errorf("outputs = %v", done.Steps[0].Outputs)
	}
	msg := w.message(a)
	contains(t, "updated request", msg, "Approval needed: "+a.Key(), "Scale checkout to 8 tasks", "✅ Approved by <@"+w.bob.ID+"> at ")
	if strings.Contains(msg, slackui.ActionApprove) || strings.Contains(msg, slackui.ActionDeny) {
		t.Errorf("the buttons are still there:\n%s", msg)
	}
	if n := w.Slack.Calls("chat.update"); n != 1 {
		t.Errorf("chat.update called %d times, want 1", n)
	}
	w.resumedOnce(done, 0)
	if n := len(w.botMessages(w.incident.Channel, "Scaling checkout to 8 tasks, approved by")); n != 1 {
		t.Errorf("the step after the approval posted %d times, want 1", n)
	}
	want := []string{"approval.decided " + w.bob.ID, "approval.click " + w.bob.ID, "approval.requested " + w.alice.ID}
	if got := w.auditOf(a); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
	timeline, _ := w.db.Incidents().Timeline(context.Background(), w.incident.ID)
	if !slices.ContainsFunc(timeline, func(e runbook.TimelineEntry) bool {
		return e.Kind == runbook.TimelineApproval && e.Actor == w.bob.ID && strings.Contains(e.Text, a.Key()+": ✅ Approved by")
	}) {
		t.Errorf("the decision is not on the incident's timeline: %+v", timeline)
	}
}

func TestDeny(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("scale-up", scaleParams)
	out := w.click(w.carol, a, slackui.ActionDeny) // carol is an approver by handle
	if !out.Decided || out.State != runbook.ApprovalDenied || out.Message != "You denied "+a.Key()+"." {
		t.Fatalf("outcome = %+v", out)
	}
	done := w.waitRun(run.ID, runbook.RunDenied)
	if done.Steps[1].State != runbook.StepPending {
		t.Errorf("a step ran after the denial: %+v", done.Steps)
	}
	msg := w.message(a)
	contains(t, "updated request", msg, "❌ Denied by <@"+w.carol.ID+">")
	if strings.Contains(msg, slackui.ActionApprove) {
		t.Errorf("the buttons are still there:\n%s", msg)
	}
}

func TestRequesterMayWithdraw(t *testing.T) {
	w := newWorld(t, func(k *apptest.Kit) { k.Config.Approvals.Approvers = []string{"@oncall"} })
	run, a := w.run("gate", nil)
	if out := w.click(w.alice, a, slackui.ActionDeny); !out.Decided || out.State != runbook.ApprovalDenied {
		t.Fatalf("the requester could not deny their own request: %+v", out)
	}
	w.waitRun(run.ID, runbook.RunDenied)
}

func TestRefusals(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("scale-up", scaleParams)

	t.Run("NotAnApprover", func(t *testing.T) {
		before := w.snapshot(a)
		out := w.click(w.dave, a, slackui.ActionApprove)
		want := "You are not an approver for " + a.Key() + ". Approvers: @oncall, <@" + w.alice.ID + ">, @carol."
		if !out.Refused || out.Decided || out.Message != want {
			t.Fatalf("outcome = %+v\nwant message %q", out, want)
		}
		w.unchanged(before, a, w.dave.ID)
		contains(t, "audit detail", w.audit()[0].Detail, "approve via button refused: not an approver")
	})
	t.Run("NotAnApproverDenying", func(t *testing.T) {
		before := w.snapshot(a)
		if out := w.click(w.dave, a, slackui.ActionDeny); !out.Refused {
			t.Fatalf("outcome = %+v", out)
		}
		w.unchanged(before, a, w.dave.ID)
	})
	t.Run("SelfApproval", func(t *testing.T) {
		before := w.snapshot(a)
		out := w.click(w.alice, a, slackui.ActionApprove) // alice asked, and is an approver
		if !out.Refused || out.Message != "You asked for "+a.Key()+", so someone else must approve it." {
			t.Fatalf("outcome = %+v", out)
		}
		w.unchanged(before, a, w.alice.ID)
	})
	t.Run("UnknownID", func(t *testing.T) {
		before := w.snapshot(a)
		out, err := w.service().Decide(context.Background(), approvals.Decision{ApprovalID: 99, UserID: w.bob.ID, Approve: true})
		if err != nil || !out.Refused || out.Message != "There is no approval APR-99." || out.Approval != nil {
			t.Fatalf("outcome = %+v, %v", out, err)
		}
		w.unchanged(before, a, w.bob.ID)
		if e := w.audit()[0]; e.ApprovalID != 99 {
			t.Errorf("audit entry = %+v", e)
		}
	})
	t.Run("StillWaiting", func(t *testing.T) {
		w.stillWaiting(run.ID, "a refused click")
	})
	var bobAgain *slackfake.Delivery
	t.Run("AlreadyDecided", func(t *testing.T) {
		late := w.press(w.dave, a, slackui.ActionApprove) // in flight while bob decides
		bobAgain = w.press(w.bob, a, slackui.ActionApprove)
		if out := w.click(w.bob, a, slackui.ActionApprove); !out.Decided {
			t.Fatalf("outcome = %+v", out)
		}
		w.waitRun(run.ID, runbook.RunSucceeded)
		before := w.snapshot(a)
		out := w.handle(late)
		if !out.Refused || out.Message != a.Key()+" was already approved by <@"+w.bob.ID+">." {
			t.Fatalf("outcome = %+v", out)
		}
		w.unchanged(before, a, w.dave.ID)
	})
	t.Run("ByTheSamePersonAgain", func(t *testing.T) {
		// bob's own click again (a double click, or the click handled again after a
		// crash): his decision stands, and he is not told he was refused.
		if bobAgain == nil {
			t.Skip("AlreadyDecided failed")
		}
		before := w.snapshot(a)
		out := w.handle(bobAgain)
		if out.Refused || out.Decided || out.Message != "You already approved "+a.Key()+"." {
			t.Fatalf("outcome = %+v", out)
		}
		if after := w.snapshot(a); after.state != before.state || after.message != before.message || after.run != before.run {
			t.Errorf("a repeated decision changed something:\nbefore %+v\nafter  %+v", before, after)
		}
		if e := w.audit()[0]; e.Action != runbook.AuditApprovalClick || e.Actor != w.bob.ID || !strings.Contains(e.Detail, "repeated") {
			t.Errorf("newest audit entry = %+v, want bob's click, repeated", e)
		}
	})
}

// TestRacingClicks has two approvers click at the same moment, each twice (the exact
// payloads Slack sends), many times over: every request is decided once, its message
// updated once, its run resumed once.
func TestRacingClicks(t *testing.T) {
	w := newWorld(t)
	passed := 0
	for i := range 12 {
		run, a := w.run("gate", nil)
		second := slackui.ActionApprove
		if i%2 == 1 {
			second = slackui.ActionDeny
		}
		var clicks []*slackfake.Delivery
		for range 2 {
			clicks = append(clicks, w.press(w.bob, a, slackui.ActionApprove), w.press(w.carol, a, second))
		}
		updates := w.Slack.Calls("chat.update")
		var decided atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, c := range clicks {
			wg.Go(func() {
				<-start
				out, err := w.handleErr(c)
				if err != nil {
					t.Error(err)
				} else if out.Decided {
					decided.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		done := w.waitRun(run.ID, runbook.RunSucceeded, runbook.RunDenied)
		if done.State == runbook.RunSucceeded {
			passed++
		}
		if decided.Load() != 1 {
			t.Fatalf("round %d: %d clicks decided %s, want 1", i, decided.Load(), a.Key())
		}
		if n := w.Slack.Calls("chat.update") - updates; n != 1 {
			t.Fatalf("round %d: chat.update called %d times, want 1", i, n)
		}
		if n := w.decisions(a); n != 1 {
			t.Fatalf("round %d: %s decided %d times in the audit log, want 1", i, a.Key(), n)
		}
		w.resumedOnce(done, 0)
	}
	if got := countText(w.Slack.Messages(w.ops.ID), "gate passed"); got != passed {
		t.Fatalf("%d runs passed the gate but %d said so", passed, got)
	}
}

func countText(msgs []slackfake.Message, text string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, text) {
			n++
		}
	}
	return n
}

func TestTwoApprovalsForCriticalRisk(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("critical-gate", nil)
	if a.Required != 2 {
		t.Fatalf("required = %d, want 2", a.Required)
	}
	first := w.click(w.bob, a, slackui.ActionApprove)
	if first.Decided || first.State != runbook.ApprovalPending || first.Message != "You approved "+a.Key()+"; 1 more approval is needed." {
		t.Fatalf("first = %+v", first)
	}
	repeat := w.click(w.bob, a, slackui.ActionApprove)
	if repeat.Decided || repeat.State != runbook.ApprovalPending || repeat.Message != "You already approved "+a.Key()+"; 1 more approval is needed." {
		t.Fatalf("repeat = %+v", repeat)
	}
	if w.Slack.Calls("chat.update") != 0 {
		t.Fatal("a partial approval updated the message")
	}
	w.stillWaiting(run.ID, "a partial approval")
	second := w.click(w.carol, a, slackui.ActionApprove)
	if !second.Decided || second.State != runbook.ApprovalApproved {
		t.Fatalf("second = %+v", second)
	}
	w.waitRun(run.ID, runbook.RunSucceeded)
	contains(t, "updated request", w.message(a), "✅ Approved by <@"+w.bob.ID+"> and <@"+w.carol.ID+"> at ")
	want := []string{"approval.decided " + w.carol.ID, "approval.click " + w.carol.ID, "approval.click " + w.bob.ID,
		"approval.click " + w.bob.ID, "approval.requested " + w.alice.ID}
	if got := w.auditOf(a); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

// TestExpiry lets a request with a one-second timeout expire: the sweeper wakes at its
// expiry, updates the message, and the run ends expired. Its regular sweep is an hour
// away, so only waking at the request's expiry can end the run within the wait. A click
// that was in flight then gets the expired sentence.
func TestExpiry(t *testing.T) {
	w := newWorld(t, func(k *apptest.Kit) { k.Config.Approvals.SweepInterval = time.Hour })
	run, a := w.run("short-gate", nil)
	late := w.press(w.bob, a, slackui.ActionApprove)
	w.waitRun(run.ID, runbook.RunExpired)
	msg := w.message(a)
	contains(t, "expired request", msg, "⌛ Expired — no decision by "+a.ExpiresAt.UTC().Format("15:04")+" UTC")
	if strings.Contains(msg, slackui.ActionApprove) {
		t.Errorf("the buttons are still there:\n%s", msg)
	}
	before := w.snapshot(a)
	out := w.handle(late)
	want := a.Key() + " expired at " + a.ExpiresAt.UTC().Format("15:04") + " UTC with no decision; nothing was changed."
	if !out.Refused || out.State != runbook.ApprovalExpired || out.Message != want {
		t.Fatalf("outcome = %+v\nwant %q", out, want)
	}
	w.unchanged(before, a, w.bob.ID)
	if got := w.auditOf(a)[1]; got != "approval.expired runbook" {
		t.Errorf("audit = %q", w.auditOf(a))
	}
}

// TestClickPastExpiry clicks on a request past its expiry before the sweeper has seen
// it: the click expires it, the same way the sweeper would, and is told so.
func TestClickPastExpiry(t *testing.T) {
	var skew atomic.Int64
	w := newWorld(t, func(k *apptest.Kit) {
		k.AppOptions.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		// The sweeper reads the skewed clock too: left to run, it would find the
		// request overdue itself, or take the click's fresh decision for one left
		// without its follow-up, and race the click.
		k.Config.Approvals.SweepInterval = time.Hour
	})
	run, a := w.run("gate", nil)
	skew.Store(int64(time.Hour))
	out := w.click(w.bob, a, slackui.ActionApprove)
	if !out.Refused || out.Decided || out.State != runbook.ApprovalExpired || !strings.Contains(out.Message, "with no decision; nothing was changed.") {
		t.Fatalf("outcome = %+v", out)
	}
	w.waitRun(run.ID, runbook.RunExpired)
	contains(t, "expired request", w.message(a), "⌛ Expired")
	if n := w.Slack.Calls("chat.update"); n != 1 {
		t.Errorf("chat.update called %d times, want 1", n)
	}
}

// TestRestart stops everything between the request and the click: the click, handled
// by a new process, resumes the run.
func TestRestart(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("scale-up", scaleParams)
	w.Restart()
	if out := w.click(w.bob, a, slackui.ActionApprove); !out.Decided {
		t.Fatalf("outcome = %+v", out)
	}
	w.waitRun(run.ID, runbook.RunSucceeded)
	if n := len(w.Slack.Messages(w.ops.ID)); n != 1 {
		t.Errorf("%d messages in #ops, want the one request", n)
	}
}

// TestCrashAfterDecision decides a request and "crashes" before the message update and
// the resume: the next start does them.
func TestCrashAfterDecision(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("scale-up", scaleParams)
	w.Stop()
	res, err := w.db.Approvals().CastVote(context.Background(), a.ID, w.bob.ID, true, "")
	if err != nil || !res.Decided {
		t.Fatalf("vote = %+v, %v", res, err)
	}
	w.Start()
	w.waitRun(run.ID, runbook.RunSucceeded)
	contains(t, "updated request", w.message(a), "✅ Approved by <@"+w.bob.ID+">")
	w.Restart()
	if n := w.Slack.Calls("chat.update"); n != 1 {
		t.Errorf("chat.update called %d times, want 1: the follow-up was repeated", n)
	}
}

// TestDenialReason requires a reason to deny: the click asks for one, the modal opened
// with its trigger id collects it, and its submission decides with the reason shown.
func TestDenialReason(t *testing.T) {
	w := newWorld(t, func(k *apptest.Kit) { k.Config.Approvals.RequireDenialReason = true })
	run, a := w.run("scale-up", scaleParams)
	click := w.press(w.carol, a, slackui.ActionDeny)
	out := w.handle(click)
	if !out.NeedsReason || out.Decided || out.State != runbook.ApprovalPending || out.Approval == nil {
		t.Fatalf("outcome = %+v", out)
	}
	if got := w.approval(run.ID).State; got != runbook.ApprovalPending {
		t.Fatalf("asking for a reason changed the request to %s", got)
	}
	viewID, err := w.App().Slack.OpenModal(context.Background(), click.TriggerID, slackui.DenialModal(out.Approval))
	if err != nil {
		t.Fatal(err)
	}
	submit, err := w.Slack.SubmitView(w.carol.ID, viewID, map[string]map[string]string{
		slackui.ReasonBlockID: {slackui.ReasonActionID: "not during peak <!channel>"}})
	if err != nil {
		t.Fatal(err)
	}
	out = w.handle(submit)
	if !out.Decided || out.State != runbook.ApprovalDenied {
		t.Fatalf("outcome = %+v", out)
	}
	done := w.waitRun(run.ID, runbook.RunDenied)
	contains(t, "run error", done.Error, "not during peak")
	contains(t, "updated request", w.message(a), "❌ Denied by <@"+w.carol.ID+">: not during peak &lt;!channel&gt;")
}

func TestPendingFor(t *testing.T) {
	w := newWorld(t)
	_, gate := w.run("gate", nil)
	_, dave := w.run("dave-gate", nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		user string
		want []int64
	}{
		{"GroupMember", w.bob.ID, []int64{gate.ID}},
		{"ByHandle", w.carol.ID, []int64{gate.ID}},
		{"StepApprover", w.dave.ID, []int64{dave.ID}},
		{"NotTheirOwn", w.alice.ID, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.service().PendingFor(ctx, tc.user)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("pending = %v, want %v", ids, tc.want)
			}
		})
	}
}

// TestCancelled cancels a run waiting for its approval: the request message says so.
func TestCancelled(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("gate", nil)
	ctx := context.Background()
	// The executor follows the cancellation up through the approvals service.
	if err := w.executor().Cancel(ctx, run.ID, w.alice.ID); err != nil {
		t.Fatal(err)
	}
	w.waitRun(run.ID, runbook.RunCancelled)
	contains(t, "cancelled request", w.message(a), "🚫 Cancelled by <@"+w.alice.ID+">: the run was cancelled")
	if got := w.auditOf(a)[0]; got != "approval.cancelled "+w.alice.ID {
		t.Errorf("audit = %q", w.auditOf(a))
	}
	before := w.snapshot(a)
	out, err := w.service().Decide(ctx, approvals.Decision{ApprovalID: a.ID, UserID: w.bob.ID, Approve: true, Token: a.Token})
	if err != nil || out.Message != a.Key()+" was cancelled; nothing was changed." {
		t.Fatalf("outcome = %+v, %v", out, err)
	}
	w.unchanged(before, a, w.bob.ID)
	w.Restart()
	if n := w.Slack.Calls("chat.update"); n != 1 {
		t.Errorf("chat.update called %d times, want 1", n)
	}
}
