package slackfake

import (
	"time"
)

// limits holds rate limits and injected faults, guarded by Server.mu.
type limits struct {
	methods   map[string]*bucket
	chanRate  float64 // chat.postMessage per channel, tokens per second
	chanBurst float64
	channels  map[string]*bucket
	faults    map[string]*fault
	// degradedUntil: until then every Web API call and response_url post answers 429.
	degradedUntil time.Time
	// now is the limits' clock (SetClock): a test that runs minutes of Slack's
	// per-minute budgets in seconds moves it faster than the wall clock.
	now func() time.Time
}

type fault struct {
	remaining int
	Failure
}

// Failure is how Slack answers a call that fails: an HTTP status and, for an answer
// of HTTP 200, Slack's error code ("internal_error", "missing_scope", …), with the
// scopes the method needs and the token has for missing_scope.
type Failure struct {
	Status   int    // HTTP status; 0 means 200
	Code     string // the "error" of {"ok":false,…}; answered with HTTP 200 unless Status says otherwise
	Needed   string // missing_scope: the scope the method needs ("chat:write")
	Provided string // missing_scope: the scopes the token has, comma-separated
}

// bucket is a token bucket: it holds up to burst tokens and gains rate
// tokens per second; a call takes one.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate, burst float64, now time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take takes a token, or reports how long until one is available.
func (b *bucket) take(now time.Time) (wait time.Duration, ok bool) {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second)), false
}

func (l *limits) init() {
	l.methods = make(map[string]*bucket)
	l.channels = make(map[string]*bucket)
	l.faults = make(map[string]*fault)
	l.now = time.Now
}

// takeFault consumes an injected fault for method, if one is pending.
func (l *limits) takeFault(method string) (Failure, bool) {
	f := l.faults[method]
	if f == nil {
		return Failure{}, false
	}
	f.remaining--
	if f.remaining <= 0 {
		delete(l.faults, method)
	}
	return f.Failure, true
}

// degraded reports whether Slack answers every call with 429 at now.
func (l *limits) degraded(now time.Time) bool { return now.Before(l.degradedUntil) }

// take applies the method's limit and, for chat.postMessage, the channel's.
func (l *limits) take(s *Server, q *apiRequest) (time.Duration, bool) {
	now := l.now()
	if b := l.methods[q.method]; b != nil {
		if wait, ok := b.take(now); !ok {
			return wait, true
		}
	}
	if q.method == "chat.postMessage" && l.chanRate > 0 {
		key := q.str("channel")
		if c := s.lookupChannel(key); c != nil {
			key = c.id
		}
		b := l.channels[key]
		if b == nil {
			b = newBucket(l.chanRate, l.chanBurst, now)
			l.channels[key] = b
		}
		if wait, ok := b.take(now); !ok {
			return wait, true
		}
	}
	return 0, false
}

// SetRateLimit limits a Web API method to perMinute calls a minute with
// bursts of up to burst calls (at least 1). Calls over the limit get HTTP
// 429 with a Retry-After header (whole seconds, at least 1) and
// {"ok":false,"error":"ratelimited"}, which slack-go reports as
// *slack.RateLimitedError. perMinute <= 0 removes the limit. Limits are off
// by default.
func (s *Server) SetRateLimit(method string, perMinute, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perMinute <= 0 {
		delete(s.limits.methods, method)
		return
	}
	s.limits.methods[method] = newBucket(float64(perMinute)/60, float64(max(burst, 1)), s.limits.now())
}

// Slack's published rate tiers, in calls per minute per method and workspace: tier 2
// is "20+ per minute", tier 3 "50+", tier 4 "100+". Slack publishes no burst size, only
// that short bursts are tolerated.
const (
	Tier2 = 20
	Tier3 = 50
	Tier4 = 100
)

// SlackTiers are the tiers Slack documents for the methods the emulator serves
// (chat.postMessage is limited per channel instead: SetChannelRateLimit).
var SlackTiers = map[string]int{
	"conversations.list": Tier2, "users.list": Tier2, "usergroups.list": Tier2,
	"usergroups.users.list": Tier2, "conversations.create": Tier2, "conversations.archive": Tier2,
	"conversations.unarchive": Tier2, "conversations.setTopic": Tier2, "conversations.setPurpose": Tier2,
	"conversations.join": Tier3, "conversations.invite": Tier3, "conversations.info": Tier3,
	"conversations.history": Tier3, "conversations.replies": Tier3, "conversations.open": Tier3,
	"chat.update": Tier3, "chat.delete": Tier3, "pins.add": Tier2,
	"chat.getPermalink": Tier4, "chat.postEphemeral": Tier4, "conversations.members": Tier4,
	"users.info": Tier4, "users.conversations": Tier3, "users.lookupByEmail": Tier3, "views.open": Tier4, "views.update": Tier4,
	"views.push": Tier4, "auth.test": Tier4,
}

// SlackRateLimits limits every method in SlackTiers to its tier, allowing a quarter of
// a minute's calls at once, and chat.postMessage to about one message a second per
// channel with bursts of 3, as Slack does. A client that paces itself by Slack's
// published tiers never sees a 429; one that pages a large workspace on every look-up
// does.
func (s *Server) SlackRateLimits() {
	for method, perMinute := range SlackTiers {
		s.SetRateLimit(method, perMinute, max(perMinute/4, 1))
	}
	s.SetChannelRateLimit(1, 3)
}

// SetClock sets the clock of the rate limits (time.Now by default), so that a test can
// spend minutes of Slack's per-minute budgets in seconds: with a clock running 60 times
// faster than the wall clock, a tier-2 method allows 20 calls a wall-clock second.
// Retry-After is given in the clock's seconds. Limits set before keep their tokens.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.limits.now = now
	t := now()
	for _, b := range s.limits.methods {
		b.last = t
	}
	for _, b := range s.limits.channels {
		b.last = t
	}
}

// SetChannelRateLimit limits chat.postMessage per channel to perSecond
// messages a second with bursts of up to burst (at least 1), like Slack's
// "about one message per second per channel". perSecond <= 0 removes the
// limit.
func (s *Server) SetChannelRateLimit(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.channels = make(map[string]*bucket)
	if perSecond <= 0 {
		s.limits.chanRate = 0
		return
	}
	s.limits.chanRate, s.limits.chanBurst = perSecond, float64(max(burst, 1))
}

// FailNext answers the next n calls of a Web API method with the given HTTP
// status (for example 500 or 503) and a plain-text body, as Slack's front
// end does on outages. Status 429 answers like a rate limit, with
// Retry-After: 1. n <= 0 cancels pending failures.
func (s *Server) FailNext(method string, n, status int) {
	s.FailNextWith(method, n, Failure{Status: status})
}

// FailNextWith answers the next n calls of a Web API method as Slack answers a
// failure f: a Slack error code comes with HTTP 200 (or f.Status) as
// {"ok":false,"error":code}, and missing_scope adds "needed" and "provided", as
// Slack does. Slack's own failures (fatal_error, internal_error,
// service_unavailable, request_timeout) are answered this way, with HTTP 200.
// Without a code it is FailNext. n <= 0 cancels pending failures.
func (s *Server) FailNextWith(method string, n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.limits.faults, method)
		return
	}
	s.limits.faults[method] = &fault{remaining: n, Failure: f}
}

// RateLimitAllUntil has every Web API call and every response_url post answer HTTP 429
// with Retry-After: 1 until the given time, as Slack does on a bad day when a whole
// workspace is over its limits. A zero or past time ends it at once.
func (s *Server) RateLimitAllUntil(until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.degradedUntil = until
}
