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
	if _, err := s.SettleApproval(ctx, a.ID, decidedEntry(a), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UnsettledApprovals(ctx, *now); len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("after settling a: %v", got)
	}
}

// decidedEntry is the audit entry a follow-up writes for a.
func decidedEntry(a *runbook.Approval) runbook.AuditEntry {
	return runbook.AuditEntry{Actor: "U2", Action: runbook.AuditApprovalDecided, RunID: a.RunID, ApprovalID: a.ID, Detail: "approved"}
}

// auditCount counts the audit entries about an approval with an action.
func auditCount(tb testing.TB, db *store.DB, approvalID int64, action string) int {
	tb.Helper()
	entries, err := db.Audit().Audit(context.Background(), 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.ApprovalID == approvalID && e.Action == action {
			n++
		}
	}
	return n
}

func TestSettleApproval(t *testing.T) {
	ctx := context.Background()

	t.Run("WritesEntriesOnce", func(t *testing.T) {
		db := MustOpen(t)
		s := db.Approvals()
		inc := MustCreateIncident(t, db.Incidents(), "Checkout is down")
		a := mustCreateApproval(t, db, 1)
		s.CastVote(ctx, a.ID, "U2", true, "")
		line := &runbook.TimelineEntry{IncidentID: inc.ID, Actor: "U2", Kind: runbook.TimelineApproval, Text: "approved"}
		// Twice, as a follow-up repeated after a crash, and twice at once, as a sweep
		// racing a click: one call settles, and the entries are written once.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				settled, err := s.SettleApproval(ctx, a.ID, decidedEntry(a), line)
				if err != nil {
					t.Error(err)
				}
				if settled {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d calls settled the request, want 1", wins.Load())
		}
		if n := auditCount(t, db, a.ID, runbook.AuditApprovalDecided); n != 1 {
			t.Errorf("%d approval.decided entries, want 1", n)
		}
		timeline, err := db.Incidents().Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(slices.DeleteFunc(timeline, func(e runbook.TimelineEntry) bool { return e.Kind != runbook.TimelineApproval })); n != 1 {
			t.Errorf("%d approval entries on the timeline, want 1: %+v", n, timeline)
		}
	})

	t.Run("PendingIsNotSettled", func(t *testing.T) {
		db := MustOpen(t)
		a := mustCreateApproval(t, db, 1)
		settled, err := db.Approvals().SettleApproval(ctx, a.ID, decidedEntry(a), nil)
		if err != nil || settled {
			t.Fatalf("settle(pending) = %v, %v; want false", settled, err)
		}
		if n := auditCount(t, db, a.ID, runbook.AuditApprovalDecided); n != 0 {
			t.Errorf("%d approval.decided entries for a pending request, want 0", n)
		}
	})

	t.Run("ErrBadEntrySettlesNothing", func(t *testing.T) {
		db := MustOpen(t)
		s := db.Approvals()
		a := mustCreateApproval(t, db, 1)
		s.CastVote(ctx, a.ID, "U2", true, "")
		if _, err := s.SettleApproval(ctx, a.ID, runbook.AuditEntry{ApprovalID: a.ID}, nil); err == nil {
			t.Fatal("settled with an audit entry that has no actor or action")
		}
		if got, _ := s.UnsettledApprovals(ctx, db.Now()); len(got) != 1 {
			t.Fatalf("unsettled = %v; a failed audit entry must leave the request unsettled", got)
		}
	})

	t.Run("VanishedIncident", func(t *testing.T) {
		db := MustOpen(t)
		s := db.Approvals()
		a := mustCreateApproval(t, db, 1)
		s.CastVote(ctx, a.ID, "U2", true, "")
		line := &runbook.TimelineEntry{IncidentID: 999, Kind: runbook.TimelineApproval, Text: "approved"}
		if settled, err := s.SettleApproval(ctx, a.ID, decidedEntry(a), line); err != nil || !settled {
			t.Fatalf("settle = %v, %v; a missing incident must not keep the request unsettled", settled, err)
		}
	})
}

// TestMessageSettledApart covers a request decided before its message was recorded:
// settled without the message, then the message recorded, it is listed again until the
// message is settled.
func TestMessageSettledApart(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := db.Approvals()
	a := mustCreateApproval(t, db, 1)
	s.CastVote(ctx, a.ID, "U2", true, "")
	if settled, err := s.SettleApproval(ctx, a.ID, decidedEntry(a), nil); err != nil || !settled {
		t.Fatalf("settle = %v, %v", settled, err)
	}
	if got, _ := s.UnsettledApprovals(ctx, db.Now()); len(got) != 0 {
		t.Fatalf("unsettled = %v; a request with no message has nothing left to do", got)
	}
	if err := s.SetApprovalMessage(ctx, a.ID, "C1", "1.1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.UnsettledApprovals(ctx, db.Now())
	if err != nil || len(got) != 1 || got[0].MessageTS != "1.1" {
		t.Fatalf("unsettled = %v, %v; want the request whose message still has its buttons", got, err)
	}
	// Settling a message that is no longer the request's changes nothing.
	if err := s.SettleApprovalMessage(ctx, a.ID, "0.9"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UnsettledApprovals(ctx, db.Now()); len(got) != 1 {
		t.Fatalf("unsettled = %v after settling another message", got)
	}
	if err := s.SettleApprovalMessage(ctx, a.ID, "1.1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UnsettledApprovals(ctx, db.Now()); len(got) != 0 {
		t.Fatalf("unsettled = %v after settling the message", got)
	}
	// Recording the same message again (an adopted retry) keeps it settled; another one
	// needs updating.
	s.SetApprovalMessage(ctx, a.ID, "C1", "1.1")
	if got, _ := s.UnsettledApprovals(ctx, db.Now()); len(got) != 0 {
		t.Fatalf("unsettled = %v after recording the same message again", got)
	}
	s.SetApprovalMessage(ctx, a.ID, "C1", "1.2")
	if got, _ := s.UnsettledApprovals(ctx, db.Now()); len(got) != 1 {
		t.Fatalf("unsettled = %v after recording another message", got)
	}
	if n := auditCount(t, db, a.ID, runbook.AuditApprovalDecided); n != 1 {
		t.Errorf("%d approval.decided entries, want 1", n)
	}
}

func TestApprovedBy(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := db.Approvals()
	a := mustCreateApproval(t, db, 2)
	s.CastVote(ctx, a.ID, "U2", true, "")
	s.CastVote(ctx, a.ID, "U3", true, "")
	got, err := s.ApprovedBy(ctx, a.ID)
	if err != nil || !slices.Equal(got, []string{"U2", "U3"}) {
		t.Fatalf("approved by = %v, %v; want U2, U3", got, err)
	}
}
