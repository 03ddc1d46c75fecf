package slackapi

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// A pass that ends because its own caller gave up (a request's deadline) does not fail
// the callers waiting for it who still have time: one of them pages again, and they get
// the answer.
func TestDirectoryPassCancelledByItsCallerServesTheOthers(t *testing.T) {
	d := newDirectory[string](time.Now)
	first, giveUp := context.WithCancel(context.Background())
	paging := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		_, _, err := d.find(first, "alice", time.Time{}, func(ctx context.Context) (map[string]string, error) {
			close(paging)
			<-ctx.Done()
			return nil, ctx.Err()
		})
		firstDone <- err
	}()
	<-paging
	type answer struct {
		id    string
		found bool
		err   error
	}
	second := make(chan answer, 1)
	go func() {
		id, found, err := d.find(context.Background(), "alice", time.Time{}, func(context.Context) (map[string]string, error) {
			return map[string]string{"alice": "U1"}, nil
		})
		second <- answer{id, found, err}
	}()
	for { // until the second caller waits for the first one's pass
		d.mu.Lock()
		joined := d.waiting == 1
		d.mu.Unlock()
		if joined {
			break
		}
		runtime.Gosched()
	}
	giveUp()
	if err := <-firstDone; err == nil {
		t.Fatal("the caller that gave up got no error")
	}
	if got := <-second; got.err != nil || !got.found || got.id != "U1" {
		t.Fatalf("the caller still waiting got %+v; want U1: another caller's deadline is not its own", got)
	}
}
