package bot

import (
	"strconv"
	"testing"
	"time"
)

// Slack's published example of a signed request ("Verifying requests from Slack"):
// a /webhook-collect slash command, its timestamp, the app's signing secret and the
// signature Slack sent.
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = "1531420618"
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func exampleTime(offset time.Duration) func() time.Time {
	sec, _ := strconv.ParseInt(exampleTimestamp, 10, 64)
	return func() time.Time { return time.Unix(sec, 0).Add(offset) }
}

// TestSlacksSigningExample reproduces Slack's published signature and has the
// verifier take the example request, on a clock set to when Slack sent it.
func TestSlacksSigningExample(t *testing.T) {
	if got := Sign([]byte(exampleSecret), exampleTimestamp, []byte(exampleBody)); got != exampleSignature {
		t.Fatalf("Sign = %s, want Slack's %s", got, exampleSignature)
	}
	v := &verifier{secret: []byte(exampleSecret), now: exampleTime(time.Minute), seen: newReplays(10)}
	sum, err := v.headers(exampleSignature, exampleTimestamp)
	if err != nil {
		t.Fatalf("headers: %v", err)
	}
	if err := v.body(sum, exampleTimestamp, []byte(exampleBody)); err != nil {
		t.Fatalf("body: %v", err)
	}
}

// TestVerifierRefuses checks each refusal and its reason: no headers, another secret,
// a changed body, a timestamp past the window either way, the same request again, and
// the same request after the window, which is stale (TestReplaysBounded shows the
// replay set forgetting).
func TestVerifierRefuses(t *testing.T) {
	now := exampleTime(0)
	newV := func() *verifier {
		return &verifier{secret: []byte(exampleSecret), now: func() time.Time { return now() }, seen: newReplays(10)}
	}
	check := func(v *verifier, sig, ts, body string) string {
		sum, err := v.headers(sig, ts)
		if err == nil {
			err = v.body(sum, ts, []byte(body))
		}
		if err == nil {
			return ""
		}
		r, ok := isRefusal(err)
		if !ok {
			t.Fatalf("not a refusal: %v", err)
		}
		return r.reason
	}
	other := Sign([]byte("another-secret-of-32-characters!"), exampleTimestamp, []byte(exampleBody))
	for _, c := range []struct {
		name, sig, ts, body, want string
		offset                    time.Duration
	}{
		{"unsigned", "", "", exampleBody, RefusedUnsigned, 0},
		{"no timestamp", exampleSignature, "", exampleBody, RefusedUnsigned, 0},
		{"another secret", other, exampleTimestamp, exampleBody, RefusedSignature, 0},
		{"changed body", exampleSignature, exampleTimestamp, exampleBody + "&text=rm", RefusedSignature, 0},
		{"not v0", "v1=" + exampleSignature[3:], exampleTimestamp, exampleBody, RefusedSignature, 0},
		{"stale", exampleSignature, exampleTimestamp, exampleBody, RefusedStale, SignatureWindow + time.Second},
		{"from the future", exampleSignature, exampleTimestamp, exampleBody, RefusedStale, -SignatureWindow - time.Second},
		{"at the window's edge", exampleSignature, exampleTimestamp, exampleBody, "", SignatureWindow},
	} {
		now = exampleTime(c.offset)
		if got := check(newV(), c.sig, c.ts, c.body); got != c.want {
			t.Errorf("%s: refused for %q, want %q", c.name, got, c.want)
		}
	}

	now = exampleTime(0)
	v := newV()
	if got := check(v, exampleSignature, exampleTimestamp, exampleBody); got != "" {
		t.Fatalf("first request refused: %s", got)
	}
	if got := check(v, exampleSignature, exampleTimestamp, exampleBody); got != RefusedReplay {
		t.Fatalf("the same request again: %q, want replay", got)
	}
	now = exampleTime(SignatureWindow + time.Second)
	if got := check(v, exampleSignature, exampleTimestamp, exampleBody); got != RefusedStale {
		t.Fatalf("the same request after the window: %q, want stale", got)
	}
}

// TestReplaysBounded checks that the replay set never grows past its bound: a request
// that would need a remembered signature dropped while still in the window is turned
// away as busy, and room returns as timestamps leave the window.
func TestReplaysBounded(t *testing.T) {
	r := newReplays(2)
	t0 := time.Unix(1_700_000_000, 0)
	for i, sig := range []string{"a", "b"} {
		if err := r.add(sig, t0.Add(SignatureWindow+time.Duration(i)*time.Second), t0); err != nil {
			t.Fatalf("add %s: %v", sig, err)
		}
	}
	if err := r.add("c", t0.Add(SignatureWindow), t0); err != errBusy {
		t.Fatalf("third signature in the window: %v, want busy", err)
	}
	later := t0.Add(SignatureWindow)
	if err := r.add("c", later.Add(SignatureWindow), later); err != nil {
		t.Fatalf("after a's window: %v", err)
	}
	if len(r.until) != 2 {
		t.Fatalf("%d signatures remembered, want 2", len(r.until))
	}
}
