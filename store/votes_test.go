package store_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/store"
)

// mustCreateApproval stores a pending request needing required approvals, expiring in an hour.
func mustCreateApproval(tb testing.TB, db *store.DB, required int) *runbook.Approval {
	tb.Helper()
	r := MustCreateRun(tb, db.Runs(), "approval.request")
	a := &runbook.Approval{RunID: r.ID, Operation: "scale", Risk: "high", RequestedBy: "U1", Required: required,
		ExpiresAt: db.Now().Add(time.Hour)}
	if _, err := db.Approvals().CreateApproval(context.Background(), a); err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestCastVote(t *testing.T) {
	ctx := context.Background()

	t.Run("OneApprovalDecides", func(t *testing.T) {
		db := MustOpen(t)
		a := mustCreateApproval(t, db, 1)
		res, err := db.Approvals().CastVote(ctx, a.ID, "U2", true, "go")
		if err != nil || !res.Decided || res.Repeat || res.Approval.State != runbook.ApprovalApproved ||
			res.Approval.DecidedBy != "U2" || res.Approval.Note != "go" || !slices.Equal(res.Approvers, []string{"U2"}) {
			t.Fatalf("vote = %+v, %v", res, err)
		}
		again, err := db.Approvals().CastVote(ctx, a.ID, "U2", true, "")
		if err != nil || again.Decided || again.Approval.State != runbook.ApprovalApproved {
			t.Fatalf("vote on a decided request = %+v, %v", again, err)
		}
	})

	t.Run("NOfM", func(t *testing.T) {
		db := MustOpen(t)
		a := mustCreateApproval(t, db, 2)
		s := db.Approvals()
		first, _ := s.CastVote(ctx, a.ID, "U2", true, "")
		if first.Decided || first.Approval.State != runbook.ApprovalPending || len(first.Approvers) != 1 {
			t.Fatalf("first = %+v", first)
		}
		repeat, _ := s.CastVote(ctx, a.ID, "U2", true, "")
		if !repeat.Repeat || repeat.Decided || len(repeat.Approvers) != 1 {
			t.Fatalf("repeat = %+v; a second click counted", repeat)
		}
		second, _ := s.CastVote(ctx, a.ID, "U3", true, "")
		if !second.Decided || second.Approval.State != runbook.ApprovalApproved || !slices.Equal(second.Approvers, []string{"U2", "U3"}) {
			t.Fatalf("second = %+v", second)
		}
	})

	t.Run("DenyDecidesAtOnce", func(t *testing.T) {
		db := MustOpen(t)
		a := mustCreateApproval(t, db, 3)
		s := db.Approvals()
		s.CastVote(ctx, a.ID, "U2", true, "")
		res, err := s.CastVote(ctx, a.ID, "U2", false, "changed my mind")
		if err != nil || !res.Decided || res.Approval.State != runbook.ApprovalDenied || res.Approval.Note != "changed my mind" || len(res.Approvers) != 0 {
			t.Fatalf("deny after approve = %+v, %v", res, err)
		}
	})

	t.Run("OverdueChangesNothing", func(t *testing.T) {
		db := MustOpen(t)
		now := fixedClock(db)
		a := mustCreateApproval(t, db, 1)
		*now = now.Add(2 * time.Hour)
		res, err := db.Approvals().CastVote(ctx, a.ID, "U2", true, "")
		if err != nil || !res.Overdue || res.Decided || res.Approval.State != runbook.ApprovalPending {
			t.Fatalf("late vote = %+v, %v", res, err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := MustOpen(t).Approvals().CastVote(ctx, 42, "U2", true, ""); runbook.ErrorCode(err) != runbook.ENOTFOUND {
			t.Fatalf("err = %v, want ENOTFOUND", err)
		}
	})
}

// TestCastVoteDecidesOnce races many votes, approvals and denials by several people on
// one request: exactly one of them decides it.
func TestCastVoteDecidesOnce(t *testing.T) {
	for _, required := range []int{1, 2} {
		db := MustOpen(t)
		a := mustCreateApproval(t, db, required)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				user := []string{"U2", "U3", "U4"}[i%3]
				res, err := db.Approvals().CastVote(context.Background(), a.ID, user, i%7 != 6, "")
				if err != nil {
					t.Error(err)
				} else if res.Decided {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("required %d: %d votes decided the request, want 1", required, wins.Load())
		}
	}
}

func TestUnsettledApprovals(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	now := fixedClock(db)
	s := db.Approvals()
	a := mustCreateApproval(t, db, 1)
	b := mustCreateApproval(t, db, 1)
	mustCreateApproval(t, db, 1) // stays pending
	s.CastVote(ctx, a.ID, "U2", true, "")
	*now = now.Add(time.Minute)
	s.DecideApproval(ctx, b.ID, runbook.ApprovalCancelled, "U1", "")

	got, err := s.UnsettledApprovals(ctx, *now)
	if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
		t.Fatalf("unsettled = %v, %v; want a and b", got, err)
	}
	if got, _ := s.UnsettledApprovals(ctx, now.Add(-time.Second)); len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("unsettled before b's decision = %v; want a", got)
	}
	if err := s.SettleApproval(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UnsettledApprovals(ctx, *now); len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("after settling a: %v", got)
	}
}
