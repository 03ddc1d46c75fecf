package demo

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// transcript turns what the emulator saw into readable lines. The emulator calls
// onCall after every Web API and response_url call; the transcript then compares the
// channel the call addressed with what it has already shown, and keeps what changed
// as events. flush prints the events found since the last flush.
type transcript struct {
	mu      sync.Mutex
	srv     *slackfake.Server
	n       *names
	seen    map[string]slackfake.Message // messages shown, by msgKey
	views   map[string]bool              // forms shown, by view id
	events  []event
	buttons []button // every button shown so far, for `click N`
	// numbered shows each button's number for `click N` (interactive mode).
	numbered bool
}

type eventKind int

const (
	evPosted eventKind = iota
	evEdited
	evPinned
	evDeleted
	evForm
	evHTTP // the stand-in deploy API received a request and answered it
)

// event is one change in the workspace. at orders events: a new message's ts, or
// the time of the call that edited, pinned or deleted one.
type event struct {
	kind eventKind
	at   int64 // microseconds since 1970
	msg  slackfake.Message
	view slackfake.View
	http exchange
}

func newTranscript() *transcript {
	return &transcript{seen: map[string]slackfake.Message{}, views: map[string]bool{}}
}

// attach starts watching the emulator; what it already holds is not news.
func (t *transcript) attach(srv *slackfake.Server, n *names) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.srv, t.n = srv, n
	for _, c := range srv.Channels() {
		for _, m := range t.messages(c.ID) {
			t.seen[msgKey(m)] = m
		}
	}
}

// onCall is the emulator's OnAPICall hook: it notes what the call changed.
func (t *transcript) onCall(call slackfake.APICall) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.srv == nil {
		return
	}
	at := call.At.UnixMicro()
	if strings.HasPrefix(call.Method, "views.") {
		t.scanViews(at)
	}
	if call.Channel != "" {
		t.scanChannel(call.Channel, at)
	}
}

// onExchange is the stand-in deploy API's hook: it notes a request and its answer.
func (t *transcript) onExchange(x exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, event{kind: evHTTP, at: x.At.UnixMicro(), http: x})
}

// scanAll notes every change not seen yet, such as answers that came in acks.
func (t *transcript) scanAll() {
	at := time.Now().UnixMicro()
	for _, c := range t.srv.Channels() {
		t.scanChannel(c.ID, at)
	}
	t.scanViews(at)
}

// messages returns a channel's messages and the ephemeral messages shown in it.
func (t *transcript) messages(channel string) []slackfake.Message {
	msgs := t.srv.Messages(channel)
	for _, id := range t.n.ids {
		msgs = append(msgs, t.srv.Ephemerals(channel, id)...)
	}
	return msgs
}

// scanChannel compares a channel with what was shown and records the differences.
func (t *transcript) scanChannel(channel string, at int64) {
	present := map[string]bool{}
	for _, m := range t.messages(channel) {
		k := msgKey(m)
		present[k] = true
		old, shown := t.seen[k]
		t.seen[k] = m
		switch {
		case !shown:
			t.events = append(t.events, event{kind: evPosted, at: tsMicros(m.TS), msg: m})
		case old.Text != m.Text || string(old.Blocks) != string(m.Blocks):
			t.events = append(t.events, event{kind: evEdited, at: at, msg: m})
		}
		if shown && m.Pinned && !old.Pinned {
			t.events = append(t.events, event{kind: evPinned, at: at, msg: m})
		}
	}
	var gone []slackfake.Message
	for k, m := range t.seen {
		if m.Channel == channel && !present[k] {
			gone = append(gone, m)
			delete(t.seen, k)
		}
	}
	slices.SortFunc(gone, func(a, b slackfake.Message) int { return cmp.Compare(a.TS, b.TS) })
	for _, m := range gone {
		t.events = append(t.events, event{kind: evDeleted, at: at, msg: m})
	}
}

// scanViews records forms (modals) the bot opened.
func (t *transcript) scanViews(at int64) {
	for _, v := range t.srv.Views() {
		if !t.views[v.ID] {
			t.views[v.ID] = true
			t.events = append(t.events, event{kind: evForm, at: at, view: v})
		}
	}
}

// say prints what a person did in a channel, as they did it.
func (t *transcript) say(w io.Writer, channel, what string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(w, "%s  %s\n", t.n.channel(channel), what)
}

// flush prints the changes since the last flush, oldest first, but those for which
// lead is true (the answer to what a person just did) first of all, as Slack shows
// a person the answer to their command at once.
func (t *transcript) flush(w io.Writer, lead func(slackfake.Message) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.scanAll()
	events := t.events
	t.events = nil
	slices.SortStableFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	first := func(e event) bool { return e.kind == evPosted && lead != nil && lead(e.msg) }
	for _, pass := range []bool{true, false} {
		for _, e := range events {
			if first(e) == pass {
				for _, l := range t.render(e) {
					fmt.Fprintln(w, strings.TrimRight(l, " "))
				}
			}
		}
	}
}

// hasNews reports whether something happened that has not been printed yet.
func (t *transcript) hasNews() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.events) > 0
}

// button returns the nth button shown (from 1).
func (t *transcript) button(n int) (button, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n < 1 || n > len(t.buttons) {
		return button{}, false
	}
	return t.buttons[n-1], true
}

// lastButton returns the last button shown with a label.
func (t *transcript) lastButton(label string) (button, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.buttons) - 1; i >= 0; i-- {
		if t.buttons[i].Label == label {
			return t.buttons[i], true
		}
	}
	return button{}, false
}

func (t *transcript) numberButtons() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.numbered = true
}

func msgKey(m slackfake.Message) string {
	if m.Ephemeral {
		return m.Channel + "/" + m.TS + "/" + m.To
	}
	return m.Channel + "/" + m.TS
}

// tsMicros reads a message ts ("1700000000.123456") as microseconds.
func tsMicros(ts string) int64 {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return s*1e6 + f
}
