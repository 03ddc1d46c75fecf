package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackfake"
)

// virtualClock is Slack's time in the test: it moves only when the bot or the
// emulator waits (a pause for a rate budget, a Retry-After), and by exactly that wait.
// The emulator's limits and the bot's pacing share it, so the test spends minutes of
// Slack's per-minute budgets without waiting for them, and what it counts over that
// time does not depend on how fast or busy the machine is.
type virtualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep moves the clock to d after now; sleepers that wait at once from the same time
// wake at their own ends, as they would on a wall clock.
func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if end := c.now.Add(d); end.After(c.now) {
		c.now = end
	}
	return nil
}

// countCalls counts a method's calls in the emulator's log, and those answered 429.
func countCalls(srv *slackfake.Server, method string) (calls, limited int) {
	for _, c := range srv.APICalls() {
		if c.Method == method {
			calls++
			if c.Status == 429 {
				limited++
			}
		}
	}
	return calls, limited
}

// In a workspace of 10,000 people and 5,000 channels, with Slack's tier limits
// enforced, @handle and #name look-ups read each list once and share it: concurrent
// look-ups wait for one paging pass, a 429 in the middle of it resumes from its
// cursor, and after ten commands and ten #name look-ups more the bot has read each list
// once and stayed within tier 2 over the test's (simulated) time, without a single 429
// of its own making.
func TestLargeWorkspaceLookUpsStayWithinTier(t *testing.T) {
	const people, channels = 10_000, 5_000
	var srvp atomic.Pointer[slackfake.Server]
	var userPages atomic.Int32
	k := apptest.New(t, apptest.Options{Emulator: slackfake.Options{
		// Slack answers the third page of the first pass with a 429.
		OnAPICall: func(c slackfake.APICall) {
			if c.Method == "users.list" && c.Status == 200 && userPages.Add(1) == 2 {
				srvp.Load().FailNext("users.list", 1, 429)
			}
		},
	}})
	srv := k.Slack
	srvp.Store(srv)
	alice := k.Person("alice")
	ops := k.Channel("ops", "alice")
	began := time.Now()
	srv.Populate(people, channels)
	t.Logf("populated %d people and %d channels in %v", people, channels, time.Since(began))

	clock := &virtualClock{now: time.Now()}
	srv.SetClock(clock.Now)
	srv.SlackRateLimits()
	a := k.Start()
	a.Slack.SetClock(slackapi.Clock{Now: clock.Now, Sleep: clock.Sleep})
	from := clock.Now()
	before := func(method string) int { n, _ := countCalls(srv, method); return n }
	usersBefore, chansBefore := before("users.list"), before("conversations.list")

	// Ten look-ups at once, before the bot knows anyone: one pass, shared.
	handles := []string{"user-00007", "user-00010", "user-01234", "user-05000", "user-09999",
		"user-10000", "user-00500", "user-07777", "alice", "user-03333"}
	ids := make([]string, len(handles))
	errs := make([]error, len(handles))
	var wg sync.WaitGroup
	for i, h := range handles {
		wg.Go(func() { ids[i], errs[i] = a.Slack.ResolveUser(k.Context(), "@"+h) })
	}
	wg.Wait()
	for i, h := range handles {
		u, _ := srv.User(h)
		if errs[i] != nil || ids[i] != u.ID {
			t.Fatalf("@%s = %q, %v; want %s", h, ids[i], errs[i], u.ID)
		}
	}
	if !strings.HasPrefix(ids[1], "W") {
		t.Errorf("@user-00010 = %s: the workspace's Enterprise Grid members should have W ids", ids[1])
	}
	pages := (people + 3 + usersPerPage - 1) / usersPerPage // the bot, Slackbot and alice too
	calls, limited := countCalls(srv, "users.list")
	calls -= usersBefore
	t.Logf("10 concurrent @handle look-ups: %d users.list calls (%d pages, %d answered 429)", calls, pages, limited)
	if calls != pages+1 || limited != 1 {
		t.Fatalf("users.list called %d times with %d 429s for 10 concurrent look-ups: want one pass of %d pages, its one 429 asked again from the cursor",
			calls, limited, pages)
	}

	// Ten commands naming people by @handle, and ten runbook-style #name look-ups (a
	// slash command's #name arrives as an id: Slack escapes channels).
	for i := range 10 {
		u, _ := srv.User(fmt.Sprintf("user-%05d", 101+i*997))
		answer := k.Ask(alice.ID, ops.ID, fmt.Sprintf("declare sev3 slow pages %d commander=@%s", i, u.Name))
		if !strings.Contains(answer, "INC-") {
			t.Fatalf("declare with commander=@%s: %s", u.Name, answer)
		}
		name := fmt.Sprintf("channel-%05d", 11+i*487)
		want, _ := srv.Channel(name)
		if id, err := a.Slack.ResolveChannel(k.Context(), "#"+name); err != nil || id != want.ID {
			t.Fatalf("#%s = %q, %v; want %s", name, id, err, want.ID)
		}
	}
	elapsed := clock.Now().Sub(from)
	for _, m := range []struct {
		method string
		before int
	}{{"users.list", usersBefore}, {"conversations.list", chansBefore}} {
		calls, limited := countCalls(srv, m.method)
		calls -= m.before
		// What Slack's tier 2 allows over the test's time: a quarter minute's burst, then
		// 20 calls a minute.
		allowed := slackfake.Tier2/4 + int(float64(slackfake.Tier2)*elapsed.Minutes())
		t.Logf("%s: %d calls over %v of Slack time (tier 2 allows %d), %d answered 429", m.method, calls, elapsed.Round(time.Second), allowed, limited)
		if calls > allowed {
			t.Errorf("%s called %d times over %v: tier 2 allows %d", m.method, calls, elapsed, allowed)
		}
	}
	for _, c := range srv.APICalls() {
		if c.Status == 429 && c.Method != "users.list" {
			t.Errorf("%s answered 429: the bot went over Slack's tier", c.Method)
		}
	}
	// Every name looked up is in the directories, read once, for as long as they are
	// trusted (5 minutes of Slack time; the test takes well under one).
	if n, _ := countCalls(srv, "users.list"); n-usersBefore != pages+1 {
		t.Errorf("users.list called %d times in all: want the one pass of %d pages", n-usersBefore, pages)
	}
	if n, _ := countCalls(srv, "conversations.list"); n-chansBefore != (channels+1+channelsPerPage-1)/channelsPerPage { // #ops too
		t.Errorf("conversations.list called %d times for 10 #name look-ups: want one pass", n-chansBefore)
	}
}

// The page sizes the bot asks for (Slack's largest).
const usersPerPage, channelsPerPage = 1000, 1000
