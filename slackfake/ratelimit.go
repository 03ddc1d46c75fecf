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

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
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
	now := time.Now()
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
			b = newBucket(l.chanRate, l.chanBurst)
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
	s.limits.methods[method] = newBucket(float64(perMinute)/60, float64(max(burst, 1)))
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
