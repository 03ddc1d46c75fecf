package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Slack's request-signing headers.
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
	HeaderRetryNum  = "X-Slack-Retry-Num"
)

// SignatureWindow is how far a request's timestamp may be from the bot's clock, as
// Slack's docs ask: an older request is refused even with a good signature, so that a
// recorded request cannot be replayed later.
const SignatureWindow = 5 * time.Minute

// Why a request to the HTTP receiver was refused, as runbook_http_requests_refused_total
// labels it.
const (
	RefusedUnsigned    = "unsigned"     // no signature or timestamp header
	RefusedSignature   = "signature"    // a signature that does not match the body
	RefusedStale       = "stale"        // a timestamp outside SignatureWindow
	RefusedReplay      = "replay"       // a signed request seen before
	RefusedTooLarge    = "too_large"    // a body over the limit
	RefusedContentType = "content_type" // not what Slack sends to that URL
	RefusedMalformed   = "malformed"    // signed, but not a request Slack would send
	RefusedBusy        = "busy"         // too many signatures to remember within the window
)

// RefusedReasons lists every reason, so that each series exists from the start.
var RefusedReasons = []string{RefusedUnsigned, RefusedSignature, RefusedStale, RefusedReplay,
	RefusedTooLarge, RefusedContentType, RefusedMalformed, RefusedBusy}

// Sign is Slack's v0 signature of a request: "v0=" and the hex HMAC-SHA256, keyed by
// the signing secret, of "v0:" + timestamp + ":" + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	return "v0=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("v0:" + timestamp + ":"))
	h.Write(body)
	return h.Sum(nil)
}

// refusal is why a request was refused: its reason label and the sentence logged.
// It never holds the signature, the secret or the body.
type refusal struct {
	reason string
	msg    string
}

func (r *refusal) Error() string { return r.msg }

// verifier checks Slack's request signatures. slack-go's SecretsVerifier computes the
// same HMAC, but its exported constructor checks the timestamp against the wall clock
// (time.Since), which tests cannot move and Slack's published example (from 2018)
// fails, and it remembers nothing, so it cannot refuse a replay. The check is a few
// lines of crypto/hmac, compared in constant time with hmac.Equal as slack-go does.
type verifier struct {
	secret []byte
	now    func() time.Time
	seen   *replays
}

// headers checks the headers alone, before the body is read: a request without a
// signature, or with a timestamp outside the window, is refused unread.
func (v *verifier) headers(signature, timestamp string) (sum []byte, err error) {
	if signature == "" || timestamp == "" {
		return nil, &refusal{RefusedUnsigned, "no " + HeaderSignature + " or " + HeaderTimestamp + " header"}
	}
	hexSum, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return nil, &refusal{RefusedSignature, "signature is not a v0 signature"}
	}
	sum, err = hex.DecodeString(hexSum)
	if err != nil || len(sum) != sha256.Size {
		return nil, &refusal{RefusedSignature, "signature is not a hex HMAC-SHA256"}
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return nil, &refusal{RefusedStale, "timestamp is not a number of seconds"}
	}
	if off := v.now().Sub(time.Unix(sec, 0)).Abs(); off > SignatureWindow {
		return nil, &refusal{RefusedStale, "timestamp is " + off.Round(time.Second).String() + " off the bot's clock (at most " + SignatureWindow.String() + ")"}
	}
	return sum, nil
}

// body checks the signature over the body, then that the same signed request was not
// seen within the window. Only a request whose signature matches is remembered, so
// that forged requests cannot fill the set.
func (v *verifier) body(sum []byte, timestamp string, body []byte) error {
	if !hmac.Equal(mac(v.secret, timestamp, body), sum) {
		return &refusal{RefusedSignature, "signature does not match the body"}
	}
	sec, _ := strconv.ParseInt(timestamp, 10, 64) // checked by headers
	return v.seen.add(string(sum), time.Unix(sec, 0).Add(SignatureWindow), v.now())
}

// maxReplays bounds the signatures remembered. Slack sends an app a few requests a
// second at most; this is far beyond five minutes of that.
const maxReplays = 100_000

// replays remembers the signatures of the requests taken within the window, each
// until its timestamp leaves the window: after that the timestamp check refuses it.
type replays struct {
	mu      sync.Mutex
	until   map[string]time.Time
	order   []string // signatures in the order they were taken, to forget the oldest first
	max     int
	removed int // of order's head, already forgotten
}

func newReplays(max int) *replays {
	return &replays{until: map[string]time.Time{}, max: max}
}

// errBusy is returned when the set is full of signatures still inside the window:
// forgetting one would let its replay through, so the new request is turned away
// (Slack retries events) instead.
var errBusy = &refusal{RefusedBusy, "too many requests within the signature window to remember"}

func (r *replays) add(sig string, until, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.until[sig]; ok && now.Before(t) {
		return &refusal{RefusedReplay, "the same signed request was taken before"}
	}
	r.forget(now)
	if len(r.until) >= r.max {
		return errBusy
	}
	r.until[sig] = until
	r.order = append(r.order, sig)
	return nil
}

// forget drops the signatures whose window has passed. Timestamps arrive roughly in
// order, so it stops at the first one still inside; an out-of-order one is dropped on
// a later call.
func (r *replays) forget(now time.Time) {
	for r.removed < len(r.order) {
		sig := r.order[r.removed]
		if t, ok := r.until[sig]; ok && now.Before(t) {
			break
		}
		delete(r.until, sig)
		r.removed++
	}
	if r.removed > 1024 && r.removed*2 > len(r.order) {
		r.order = append([]string(nil), r.order[r.removed:]...)
		r.removed = 0
	}
}

// isRefusal reports a refusal and its reason.
func isRefusal(err error) (*refusal, bool) {
	var r *refusal
	ok := errors.As(err, &r)
	return r, ok
}
