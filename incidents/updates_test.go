package incidents

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// poster is an updatePoster whose posts are recorded, and held until released.
type poster struct {
	*updatePoster
	mu     sync.Mutex
	posted []string
	calls  chan string
	hold   chan struct{}
}

func newPoster() *poster {
	p := &poster{calls: make(chan string, 100), hold: make(chan struct{})}
	p.updatePoster = newUpdatePoster(func(ctx context.Context, id int64, text string) error {
		p.calls <- text
		select {
		case <-p.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
		p.posted = append(p.posted, fmt.Sprintf("INC-%d %s", id, text))
		p.mu.Unlock()
		return nil
	}, slog.New(slog.DiscardHandler))
	return p
}

func (p *poster) start(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.run(ctx, time.Second) })
	// Wait until the sender takes lines, without queueing one: a probe line could be
	// taken for posting before it was dropped, and be counted as the first post.
	for !p.isRunning() {
		time.Sleep(time.Millisecond)
	}
	return func() { cancel(); wg.Wait() }
}

func (p *poster) isRunning() bool {
	p.updatePoster.mu.Lock()
	defer p.updatePoster.mu.Unlock()
	return p.updatePoster.running
}

// While the channel's pace holds one update, the lines that arrive meanwhile wait, and
// go out one message per incident, in order.
func TestUpdatesWaitingForAnIncidentGoOutTogether(t *testing.T) {
	p := newPoster()
	stop := p.start(t)
	p.add(1, "declared")
	<-p.calls // being posted, held by the channel's pace
	p.add(1, "status → mitigating")
	p.add(2, "declared")
	p.add(1, "resolved")
	close(p.hold)
	<-p.calls
	<-p.calls
	stop()
	want := []string{"INC-1 declared", "INC-1 status → mitigating\nresolved", "INC-2 declared"}
	if fmt.Sprint(p.posted) != fmt.Sprint(want) {
		t.Fatalf("posted %q, want %q", p.posted, want)
	}
	if n := p.waiting(); n != 0 {
		t.Fatalf("%d lines still counted as waiting after all were posted", n)
	}
}

// Lines that do not fit in one message are split, in order.
func TestLongUpdatesAreSplit(t *testing.T) {
	p := newPoster()
	close(p.hold)
	p.running = true
	line := string(make([]byte, maxUpdateText/3))
	for range 3 {
		p.add(7, line)
	}
	_, first, _ := p.take()
	_, second, n := p.take()
	if n != 1 || len(first) != 2*len(line)+1 || second != line {
		t.Fatalf("messages of %d and %d bytes, want two lines then one", len(first), len(second))
	}
}

// At a stop, what is queued is still posted; once stopped, the caller posts in line.
func TestStopPostsWhatIsQueued(t *testing.T) {
	p := newPoster()
	stop := p.start(t)
	p.add(1, "one")
	<-p.calls
	p.add(1, "two")
	go func() { time.Sleep(10 * time.Millisecond); close(p.hold) }()
	stop()
	if fmt.Sprint(p.posted) != fmt.Sprint([]string{"INC-1 one", "INC-1 two"}) {
		t.Fatalf("posted %q at the stop", p.posted)
	}
	if p.add(1, "three") {
		t.Fatal("a stopped poster took a line; the caller would never see it posted")
	}
}
