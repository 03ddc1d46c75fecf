package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

func MustCreateRun(tb testing.TB, runs runbook.RunStore, steps ...string) *runbook.Run {
	tb.Helper()
	r := &runbook.Run{Runbook: "kickoff", Params: map[string]any{"count": 3}, StartedBy: "U1", Channel: "C1"}
	for i, a := range steps {
		r.Steps = append(r.Steps, runbook.StepRun{StepID: string(rune('a' + i)), Action: a})
	}
	if err := runs.CreateRun(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestRuns(t *testing.T) {
	ctx := context.Background()
	t.Run("CreateAndRead", func(t *testing.T) {
		runs := MustOpen(t).Runs()
		r := MustCreateRun(t, runs, "slack.send_message", "approval.request")
		got, err := runs.Run(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Key() != "R-1" || got.State != runbook.RunRunning || len(got.Steps) != 2 || got.Steps[1].Action != "approval.request" ||
			got.Steps[0].State != runbook.StepPending || got.Params["count"] != float64(3) {
			t.Fatalf("run = %+v", got)
		}
	})
	t.Run("StepOutputsSurvive", func(t *testing.T) {
		db := MustOpen(t)
		runs := db.Runs()
		r := MustCreateRun(t, runs, "slack.create_channel", "slack.send_message")
		if n, err := runs.StartStep(ctx, r.ID, 0); err != nil || n != 1 {
			t.Fatalf("start = %d, %v", n, err)
		}
		runs.RecordProgress(ctx, r.ID, 0, map[string]any{"attempted_name": "inc-1"})
		if n, _ := runs.StartStep(ctx, r.ID, 0); n != 2 {
			t.Fatalf("second start counted attempt %d, want 2", n)
		}
		got, _ := runs.Run(ctx, r.ID)
		if got.Steps[0].Outputs["attempted_name"] != "inc-1" {
			t.Fatalf("progress = %v", got.Steps[0].Outputs)
		}
		if err := runs.FinishStep(ctx, r.ID, 0, runbook.StepSucceeded, map[string]any{"id": "C9"}, ""); err != nil {
			t.Fatal(err)
		}
		got, _ = runs.Run(ctx, r.ID)
		if got.Steps[0].State != runbook.StepSucceeded || got.Steps[0].Outputs["id"] != "C9" || got.Steps[0].FinishedAt.IsZero() {
			t.Fatalf("step = %+v", got.Steps[0])
		}
	})
	t.Run("ErrStartStepOfFinishedRun", func(t *testing.T) {
		runs := MustOpen(t).Runs()
		r := MustCreateRun(t, runs, "slack.send_message")
		runs.SetRunState(ctx, r.ID, []runbook.RunState{runbook.RunRunning}, runbook.RunCancelled, "")
		if _, err := runs.StartStep(ctx, r.ID, 0); runbook.ErrorCode(err) != runbook.ECONFLICT {
			t.Fatalf("err = %v, want ECONFLICT", err)
		}
	})
	t.Run("ActiveRuns", func(t *testing.T) {
		runs := MustOpen(t).Runs()
		a := MustCreateRun(t, runs, "x")
		b := MustCreateRun(t, runs, "x")
		c := MustCreateRun(t, runs, "x")
		runs.SetRunState(ctx, b.ID, []runbook.RunState{runbook.RunRunning}, runbook.RunWaitingApproval, "")
		runs.SetRunState(ctx, c.ID, []runbook.RunState{runbook.RunRunning}, runbook.RunSucceeded, "")
		got, err := runs.ActiveRuns(ctx)
		if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
			t.Fatalf("active = %v, %v", got, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := MustOpen(t).Runs().Run(ctx, 99); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestSetRunStateDecidesOnce races many state changes of one run: exactly one wins.
func TestSetRunStateDecidesOnce(t *testing.T) {
	runs := MustOpen(t).Runs()
	r := MustCreateRun(t, runs, "x")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			to := runbook.RunSucceeded
			if i%2 == 0 {
				to = runbook.RunCancelled
			}
			ok, err := runs.SetRunState(context.Background(), r.ID, []runbook.RunState{runbook.RunRunning, runbook.RunWaitingApproval}, to, "")
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d state changes won, want 1", wins.Load())
	}
}

func TestApprovals(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	r := MustCreateRun(t, db.Runs(), "approval.request")
	approvals := db.Approvals()
	a := &runbook.Approval{RunID: r.ID, StepIndex: 0, Operation: "scale", Risk: "high", RequestedBy: "U1", ExpiresAt: time.Now().Add(time.Hour)}
	created, err := approvals.CreateApproval(ctx, a)
	if err != nil || !created || a.ID == 0 || a.State != runbook.ApprovalPending {
		t.Fatalf("create = %v, %v, %+v", created, err, a)
	}
	again := &runbook.Approval{RunID: r.ID, StepIndex: 0, Operation: "other", Risk: "low", ExpiresAt: time.Now()}
	if created, _ := approvals.CreateApproval(ctx, again); created || again.ID != a.ID || again.Operation != "scale" {
		t.Fatalf("a resumed step asked twice: %+v", again)
	}
	approvals.SetApprovalMessage(ctx, a.ID, "C1", "1.2")

	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			to := runbook.ApprovalApproved
			if i%2 == 1 {
				to = runbook.ApprovalDenied
			}
			if ok, err := approvals.DecideApproval(ctx, a.ID, to, "U2", ""); err != nil {
				t.Error(err)
			} else if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d decisions, want 1", wins.Load())
	}
	got, _ := approvals.Approval(ctx, a.ID)
	if got.State == runbook.ApprovalPending || got.DecidedBy != "U2" || got.MessageTS != "1.2" || got.Key() != "APR-1" {
		t.Fatalf("approval = %+v", got)
	}
	if pending, _ := approvals.PendingApprovals(ctx); len(pending) != 0 {
		t.Fatalf("pending = %v", pending)
	}
}
