package slackapi

import (
	"testing"
	"time"
)

// A user group's members are trusted for seconds only: a removal from the on-call
// group takes away the right to approve within membersTTL.
func TestGroupMembersAreForgottenQuickly(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	l := newLookups()
	l.now = func() time.Time { return now }
	l.putFor("members:S1", []string{"U1"}, membersTTL)
	if _, ok := l.get("members:S1"); !ok {
		t.Fatal("members forgotten at once")
	}
	now = now.Add(membersTTL + time.Millisecond)
	if _, ok := l.get("members:S1"); ok {
		t.Fatalf("members still trusted after %v", membersTTL)
	}
	if membersTTL > 10*time.Second {
		t.Fatalf("membersTTL = %v: a removed approver keeps approving that long", membersTTL)
	}
}
