package slackapi

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Slack's rate tiers, per method and workspace, in calls per minute. Runbook stays
// under them rather than learning them from 429s; a 429 that still comes is retried
// after its Retry-After.
var tiers = map[string]int{
	"conversations.create": 20, "conversations.archive": 20, "conversations.setTopic": 20,
	"conversations.setPurpose": 20, "conversations.list": 20, "users.list": 20, "usergroups.list": 20,
	"chat.update": 50, "conversations.invite": 50, "conversations.history": 50, "conversations.replies": 50,
	"conversations.info": 50, "conversations.open": 50, "usergroups.users.list": 50, "pins.add": 50,
	"chat.getPermalink": 100, "chat.postEphemeral": 100, "views.open": 100, "auth.test": 100,
	"conversations.members": 100,
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

// limiter holds a token bucket per method and, for chat.postMessage, per channel.
type limiter struct {
	mu       sync.Mutex
	methods  map[string]*rate.Limiter
	channels map[string]*rate.Limiter
}

func newLimiter() *limiter {
	l := &limiter{methods: map[string]*rate.Limiter{}, channels: map[string]*rate.Limiter{}}
	for method, perMinute := range tiers {
		// A quarter of a minute's budget may be spent at once.
		l.methods[method] = rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), max(perMinute/4, 1))
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
		return l.channel(channel).Wait(ctx)
	}
	if m := l.methods[method]; m != nil {
		return m.Wait(ctx)
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
			if c.Tokens() >= perChannelBurst {
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
