package slackapi

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
	"golang.org/x/time/rate"
)

// Slack's rate tiers, per method and workspace, in calls per minute. Runbook stays
// under them rather than learning them from 429s; a 429 that still comes is retried
// after its Retry-After.
var tiers = map[string]int{
	"conversations.create": 20, "conversations.archive": 20, "conversations.unarchive": 20, "conversations.setTopic": 20,
	"conversations.setPurpose": 20, "conversations.list": 20, "users.list": 20, "usergroups.list": 20,
	"usergroups.users.list": 20, "pins.add": 20,
	"chat.update": 50, "conversations.invite": 50, "conversations.history": 50, "conversations.replies": 50,
	"conversations.info": 50, "conversations.open": 50, "users.conversations": 50,
	"chat.getPermalink": 100, "chat.postEphemeral": 100, "views.open": 100, "auth.test": 100,
	"conversations.members": 100, "users.info": 100,
}

// Messages to one channel: Slack allows about one a second with short bursts; the
// client keeps a tenth below that, so clock skew between the two buckets never
// earns a 429.
var perChannelRate = rate.Every(1100 * time.Millisecond)

const (
	perChannelBurst = 3
	// maxChannelLimiters bounds the per-channel table; idle entries are dropped.
	maxChannelLimiters = 1024
)

// Clock is the time the adapter spends Slack's rate budgets in and trusts its
// look-ups by. A test that runs minutes of Slack's per-minute budgets in seconds gives
// the adapter and the emulator the same faster clock.
type Clock struct {
	Now func() time.Time
	// Sleep waits d of the clock's time, or until ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
}

// WallClock is the real time.
var WallClock = Clock{Now: time.Now, Sleep: runbook.Sleep}

// tierBurst is how many calls of a method are made at once: a quarter of a minute's
// budget, less one. Slack's bucket starts refilling when the burst reaches it, later
// than it left; once both are empty, a call that arrives sooner after the burst than
// the burst's first call did (network jitter of a millisecond) would find Slack's
// bucket a hair short and earn a 429. The call held back keeps the client a whole
// interval behind Slack's bucket for as long as the calls go on, at the cost of one
// interval once.
func tierBurst(perMinute int) int { return max(perMinute/4-1, 1) }

// limiter holds a token bucket per method and, for chat.postMessage, per channel.
type limiter struct {
	clock    Clock
	mu       sync.Mutex
	methods  map[string]*rate.Limiter
	channels map[string]*rate.Limiter
}

func newLimiter(clock Clock) *limiter {
	l := &limiter{clock: clock, methods: map[string]*rate.Limiter{}, channels: map[string]*rate.Limiter{}}
	for method, perMinute := range tiers {
		l.methods[method] = rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), tierBurst(perMinute))
	}
	return l
}

// wait blocks until a call of method (to channel, for chat.postMessage) is within
// budget, or ctx ends.
func (l *limiter) wait(ctx context.Context, method, channel string) error {
	if l == nil {
		return nil
	}
	if method == "chat.postMessage" {
		return l.take(ctx, l.channel(channel))
	}
	if m := l.methods[method]; m != nil {
		return l.take(ctx, m)
	}
	return nil
}

// take waits on the limiter's clock until lim grants a call.
func (l *limiter) take(ctx context.Context, lim *rate.Limiter) error {
	now := l.clock.Now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return errors.New("slack rate budget: a call larger than the burst")
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := l.clock.Sleep(ctx, d); err != nil {
		r.CancelAt(l.clock.Now()) // the budget it held goes back
		return err
	}
	return nil
}

func (l *limiter) channel(id string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.channels[id]; ok {
		return c
	}
	if len(l.channels) >= maxChannelLimiters {
		for k, c := range l.channels {
			if c.TokensAt(l.clock.Now()) >= perChannelBurst {
				delete(l.channels, k)
			}
		}
	}
	c := rate.NewLimiter(perChannelRate, perChannelBurst)
	l.channels[id] = c
	return c
}

// PacedMethods lists the methods with a rate budget.
func PacedMethods() []string {
	return append(slices.Sorted(maps.Keys(tiers)), "chat.postMessage")
}
