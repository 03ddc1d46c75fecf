package slackapi

import (
	"sync"
	"time"
)

// lookupTTL is how long a name-to-id answer is trusted. conversations.list and
// users.list are tier-2 methods (about 20 calls a minute): without a memory of their
// answers, a busy incident would spend its budget finding #ops again and again.
const lookupTTL = 5 * time.Minute

// membersTTL is how long a user group's members are trusted: they decide who may
// approve, so someone removed from the on-call group loses the right within this long.
// Five seconds keeps usergroups.users.list (tier 2, about 20 calls a minute) to at most
// 12 calls a minute per group however many clicks arrive, and a burst of clicks on one
// request still costs one call.
const membersTTL = 5 * time.Second

// lookups remembers recent name-to-id answers: channels by name, users and groups by
// handle.
type lookups struct {
	mu      sync.Mutex
	entries map[string]lookup
	now     func() time.Time
}

type lookup struct {
	value any
	until time.Time
}

func newLookups() *lookups { return &lookups{entries: map[string]lookup{}, now: time.Now} }

func (l *lookups) get(key string) (any, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok || l.now().After(e.until) {
		return nil, false
	}
	return e.value, true
}

func (l *lookups) put(key string, value any) { l.putFor(key, value, lookupTTL) }

func (l *lookups) putFor(key string, value any, ttl time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) > 10_000 {
		clear(l.entries) // a crude bound; the next lookups refill it
	}
	l.entries[key] = lookup{value: value, until: l.now().Add(ttl)}
}

func (l *lookups) forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// Apart returns a client that shares this one's Slack connection, retries and rate
// budget, but not its memory of look-ups: what it learns is forgotten with it. For
// checks made on the side, such as the start-up report of unusable user groups,
// whose "not found" must not make a member or group added a moment later unknown to
// the runs and clicks that follow.
func (c *Client) Apart() *Client {
	a := New(c.api, c.http, c.log) // memories of its own
	a.MaxAttempts, a.MaxElapsed, a.RetryInterval, a.OnCall = c.MaxAttempts, c.MaxElapsed, c.RetryInterval, c.OnCall
	a.limits.Store(c.limits.Load())
	a.identity.Store(c.identity.Load())
	return a
}
