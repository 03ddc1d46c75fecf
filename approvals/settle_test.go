package approvals_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/slackui"
)

// TestClickBeforeMessageRecorded has bob approve between the executor's
// chat.postMessage and its recording of the message: the click's follow-up has no
// message to update, so the message must be updated once it is recorded.
func TestClickBeforeMessageRecorded(t *testing.T) {
	w := newWorld(t)
	clicked := make(chan error, 1)
	w.betweenCallAndAnswer("chat.postMessage", func() {
		msgs := w.Slack.Messages(w.ops.ID)
		d, err := w.Slack.ClickButton(w.bob.ID, w.ops.ID, msgs[len(msgs)-1].TS, slackui.ActionApprove)
		if err == nil {
			var out approvals.Outcome
			if out, err = w.handleErr(d); err == nil && !out.Decided {
				err = fmt.Errorf("the click did not decide: %+v", out)
			}
		}
		clicked <- err
	})
	run, err := w.executor().StartRun(context.Background(), w.Runbook("scale-up"), engine.RunInput{IncidentID: w.incident.ID,
		Params: scaleParams, StartedBy: w.alice.ID, Channel: w.ops.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-clicked; err != nil {
		t.Fatalf("the click: %v", err)
	}
	w.waitRun(run.ID, runbook.RunSucceeded)
	a := w.approval(run.ID)
	w.showsApproved(a)
	if n := w.Slack.Calls("chat.update"); n != 1 {
		t.Errorf("chat.update called %d times, want 1", n)
	}
	w.auditedOnce(a)
}

// TestCrashBeforeMessageRecorded: the process died between chat.postMessage and
// recording the message, and the request was decided, its decision perhaps followed
// up with no message to update. The next process finds the message by its metadata,
// records it and updates it, and follows up nothing twice.
func TestCrashBeforeMessageRecorded(t *testing.T) {
	for _, tc := range []struct {
		name       string
		followedUp bool
	}{{"Decided", false}, {"FollowedUp", true}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			run, a := w.run("scale-up", scaleParams)
			w.Stop()
			ctx := context.Background()
			w.forgetMessage(a)
			w.decide(a, tc.followedUp)
			w.Start()

			w.waitRun(run.ID, runbook.RunSucceeded)
			w.showsApproved(a)
			if got := w.approval(run.ID); got.MessageTS != a.MessageTS {
				t.Errorf("recorded message %q, want the one posted, %q", got.MessageTS, a.MessageTS)
			}
			if n := len(w.Slack.Messages(w.ops.ID)); n != 1 {
				t.Errorf("%d messages in #ops, want the one request", n)
			}
			w.auditedOnce(a)
			updates := w.Slack.Calls("chat.update")
			w.Restart()
			if n := w.Slack.Calls("chat.update"); n != updates {
				t.Errorf("chat.update called %d more times after another restart, want 0", n-updates)
			}
			if left, err := w.db.Approvals().UnsettledApprovals(ctx, w.db.Now()); err != nil || len(left) != 0 {
				t.Errorf("left unsettled: %v, %v", left, err)
			}
		})
	}
}

// TestCrashBeforeMessageUpdated: a click decided the request before the executor
// recorded the message, and the process died once the message was recorded, before
// it was updated. The next start updates it.
func TestCrashBeforeMessageUpdated(t *testing.T) {
	w := newWorld(t)
	run, a := w.run("scale-up", scaleParams)
	w.Stop()
	w.forgetMessage(a)
	w.decide(a, true)
	if err := w.db.Approvals().SetApprovalMessage(context.Background(), a.ID, a.Channel, a.MessageTS); err != nil {
		t.Fatal(err)
	}
	w.Start()
	w.waitRun(run.ID, runbook.RunSucceeded)
	w.showsApproved(a)
	w.auditedOnce(a)
}

// TestFollowUpOnce follows up decisions made while no process ran, by two services at
// once (as a sweep may race a click): each decision is audited and put on the
// incident's timeline once.
func TestFollowUpOnce(t *testing.T) {
	w := newWorld(t)
	var requests []*runbook.Approval
	for range 3 {
		_, a := w.run("scale-up", scaleParams)
		requests = append(requests, a)
	}
	w.Stop()
	for _, a := range requests {
		w.decide(a, false)
	}
	var wg sync.WaitGroup
	for range 2 {
		svc := w.NewApp().Approvals // as another process would have it
		wg.Go(func() {
			if err := svc.Start(context.Background()); err != nil {
				t.Error(err)
			}
			svc.Stop()
		})
	}
	wg.Wait()
	for _, a := range requests {
		w.showsApproved(a)
		w.auditedOnce(a)
	}
	timeline, err := w.db.Incidents().Timeline(context.Background(), w.incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range timeline {
		if e.Kind == runbook.TimelineApproval {
			n++
		}
	}
	if n != len(requests) {
		t.Errorf("%d approval entries on the timeline, want %d", n, len(requests))
	}
}

// forgetMessage makes the store forget where a request's message is, as if the
// process died between chat.postMessage and recording it (the request named no
// channel, so none was stored either).
func (w *world) forgetMessage(a *runbook.Approval) {
	w.t.Helper()
	if err := w.db.Approvals().SetApprovalMessage(context.Background(), a.ID, "", ""); err != nil {
		w.t.Fatal(err)
	}
}

// decide has bob approve a request behind the service's back, as a process that died
// before the follow-up would; followedUp also records the follow-up done, as a click
// handled before the message was recorded would have.
func (w *world) decide(a *runbook.Approval, followedUp bool) {
	w.t.Helper()
	ctx := context.Background()
	res, err := w.db.Approvals().CastVote(ctx, a.ID, w.bob.ID, true, "")
	if err != nil || !res.Decided {
		w.t.Fatalf("vote = %+v, %v", res, err)
	}
	if !followedUp {
		return
	}
	e := runbook.AuditEntry{Actor: w.bob.ID, Action: runbook.AuditApprovalDecided, IncidentID: a.IncidentID,
		RunID: a.RunID, ApprovalID: a.ID, Detail: "approved via button"}
	if settled, err := w.db.Approvals().SettleApproval(ctx, a.ID, e, nil); err != nil || !settled {
		w.t.Fatalf("settle = %v, %v", settled, err)
	}
}

// showsApproved checks that the request message shows bob's approval, without buttons.
func (w *world) showsApproved(a *runbook.Approval) {
	w.t.Helper()
	msg := w.message(a)
	contains(w.t, "updated request", msg, "✅ Approved by <@"+w.bob.ID+">")
	if strings.Contains(msg, slackui.ActionApprove) || strings.Contains(msg, slackui.ActionDeny) {
		w.t.Errorf("%s keeps its buttons:\n%s", a.Key(), msg)
	}
}

// auditedOnce checks that a request's decision is in the audit log once.
func (w *world) auditedOnce(a *runbook.Approval) {
	w.t.Helper()
	n := 0
	for _, e := range w.auditOf(a) {
		if e == runbook.AuditApprovalDecided+" "+w.bob.ID {
			n++
		}
	}
	if n != 1 {
		w.t.Errorf("%s: %d approval.decided entries, want 1: %q", a.Key(), n, w.auditOf(a))
	}
}
