package engine

import (
	"container/heap"
	"context"
	"time"

	"github.com/runbookhq/runbook"
)

// DefaultActiveRuns is how many runs are driven at once unless Deps.ActiveRuns says
// otherwise (limits.activeRuns).
const DefaultActiveRuns = 64

// The executor drives at most Deps.ActiveRuns runs at once, each on its own goroutine.
// A run kicked while every slot is taken waits for one: in ready, a short heap of ids
// oldest first, or — once ready is full, or after a restart — only in the store, where
// every active run is anyway. Then backlog is set, and drivers that free their slot
// read the store's active runs a page at a time, from cursor on, until a pass reaches
// the end. So a backlog of any size costs the memory of one page of ids, runs start in
// the order they were created, and a run parked on an approval or a wait holds no slot.

// readyRuns is a min-heap of run ids with a set to keep them unique.
type readyRuns struct {
	ids []int64
	in  map[int64]bool
}

func (r *readyRuns) Len() int           { return len(r.ids) }
func (r *readyRuns) Less(i, j int) bool { return r.ids[i] < r.ids[j] }
func (r *readyRuns) Swap(i, j int)      { r.ids[i], r.ids[j] = r.ids[j], r.ids[i] }
func (r *readyRuns) Push(x any)         { r.ids = append(r.ids, x.(int64)) }
func (r *readyRuns) Pop() any {
	id := r.ids[len(r.ids)-1]
	r.ids = r.ids[:len(r.ids)-1]
	return id
}

func (r *readyRuns) add(id int64) {
	if r.in == nil {
		r.in = map[int64]bool{}
	}
	if !r.in[id] {
		r.in[id] = true
		heap.Push(r, id)
	}
}

func (r *readyRuns) take() int64 {
	id := heap.Pop(r).(int64)
	delete(r.in, id)
	return id
}

// slots is the executor's bookkeeping of who drives what; the executor's mu guards it.
type slots struct {
	limit   int
	driving map[int64]bool // runs with a driver goroutine: at most limit
	again   map[int64]bool // runs kicked while being driven: look again when done
	ready   readyRuns      // runs waiting for a slot, at most limit of them
	// backlog says runs may be waiting for a slot in the store only; cursor is where
	// the pass through them stands, and rescan asks for another pass after this one
	// (a run before the cursor was kicked while ready was full).
	backlog  bool
	cursor   int64
	rescan   bool
	scanning bool
	// sleeping are runs a timer will kick (a wait, a backoff), with the time: a pass
	// through the store leaves them for their timer.
	sleeping map[int64]time.Time
}

func newSlots(limit int) slots {
	if limit <= 0 {
		limit = DefaultActiveRuns
	}
	return slots{limit: limit, driving: map[int64]bool{}, again: map[int64]bool{}, sleeping: map[int64]time.Time{}}
}

// restart forgets what waited in memory: every active run is in the store, and the
// next pass finds it.
func (s *slots) restart() {
	s.ready = readyRuns{}
	clear(s.sleeping) // their timers ended with the executor
	s.backlog, s.cursor, s.rescan = true, 0, false
}

// wait records a run kicked while every slot is taken.
func (s *slots) wait(id int64) {
	switch {
	case s.ready.in[id]:
	case s.backlog && id > s.cursor:
		// The pass under way reaches it — unless its page was read before the run was
		// stored and turns out to be the last: then another pass must.
		if s.scanning {
			s.rescan = true
		}
	case s.ready.Len() < s.limit:
		s.ready.add(id)
	case s.backlog:
		s.rescan = true
	default:
		s.backlog, s.cursor = true, 0
	}
}

// passed takes a page of the store's active runs into ready and moves the cursor; a
// short page ends the pass.
func (s *slots) passed(ids []int64, page int) {
	for _, id := range ids {
		if _, asleep := s.sleeping[id]; !s.driving[id] && !asleep {
			s.ready.add(id)
		}
	}
	if len(ids) > 0 {
		s.cursor = ids[len(ids)-1]
	}
	if len(ids) < page {
		s.cursor = 0
		s.backlog, s.rescan = s.rescan, false
	}
}

// launch starts a driver for a run; the caller holds mu and has checked for a slot.
func (e *Executor) launch(ctx context.Context, id int64) {
	e.s.driving[id] = true
	e.wg.Go(func() { e.drive(ctx, id) })
}

// fill gives free slots to the runs that wait for one. It reads the store for them
// when none waits in memory, one page at a time, from one driver at a time.
func (e *Executor) fill(ctx context.Context) {
	for ctx.Err() == nil {
		e.mu.Lock()
		for len(e.s.driving) < e.s.limit && e.s.ready.Len() > 0 {
			// A run kicked while it waited may have been given a slot already.
			if id := e.s.ready.take(); !e.s.driving[id] {
				e.launch(ctx, id)
			}
		}
		if !e.s.backlog || e.s.scanning || e.s.ready.Len() > 0 || len(e.s.driving) >= e.s.limit {
			e.mu.Unlock()
			return
		}
		e.s.scanning = true
		cursor, page := e.s.cursor, e.s.limit
		e.mu.Unlock()

		ids, err := e.d.Runs.ActiveRunIDs(ctx, cursor, page)
		e.mu.Lock()
		e.s.scanning = false
		if err == nil {
			e.s.passed(ids, page)
		}
		e.mu.Unlock()
		if err != nil {
			e.backlogFailed(ctx, err)
			return
		}
	}
}

// backlogFailed logs a store failure while reading the backlog and tries again after
// a pause: with no run driven, nothing else would read it before the next kick.
func (e *Executor) backlogFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	e.log.Error("read the runs waiting to be driven", "err", err, "retry_in", time.Second)
	e.wg.Go(func() {
		if runbook.Sleep(ctx, time.Second) == nil {
			e.fill(ctx)
		}
	})
}

// Driven counts the runs being driven and those a timer will kick: the runs under way
// that are not waiting for a slot.
func (e *Executor) Driven() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.s.driving) + len(e.s.sleeping)
}
