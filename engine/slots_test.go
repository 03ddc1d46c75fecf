package engine

import "testing"

// TestRunKickedDuringTheLastPageIsNotStranded: a run stored and kicked while a pass
// through the backlog is reading its last page — a page read before the run existed —
// is not left to that pass: another pass follows and finds it. Without it the run stays
// active in the store with no driver until the next restart.
func TestRunKickedDuringTheLastPageIsNotStranded(t *testing.T) {
	s := newSlots(1)
	s.backlog, s.cursor, s.scanning = true, 5, true
	s.wait(10)                  // stored and kicked after the page query ran
	s.passed([]int64{6, 7}, 50) // the last page, without it
	s.scanning = false
	if !s.backlog {
		t.Fatal("the pass ended the backlog; run 10 waits in the store with nothing to find it")
	}
	s.scanning = true
	s.passed([]int64{6, 7, 10}, 50)
	if !s.ready.in[10] {
		t.Fatal("the next pass did not take run 10")
	}
}
