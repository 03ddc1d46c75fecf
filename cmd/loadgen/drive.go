package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the bot's own driver, to read its database

	"github.com/runbookhq/runbook/slackfake"
)

// Kinds of envelope the generator sends.
const (
	kindStatus  = "status"  // /runbook status INC-n (the incident prepare declares), answered in the ack
	kindMention = "mention" // @Runbook help, answered in the thread
	kindClick   = "click"   // Approve clicked by someone who may not approve: refused privately
	kindDeclare = "declare" // /runbook declare …, which starts the 3-step lg-declared runbook
	kindHelp    = "help"    // /runbook help, answered in the ack: what loadgen burst sends every peer
)

// The read-only commands, each answered in its ack: how their cost grows with history
// is what --db measures.
const (
	kindList      = "list"      // /runbook list all
	kindTimeline  = "timeline"  // /runbook timeline INC-n
	kindAudit     = "audit"     // /runbook audit
	kindRuns      = "runs"      // /runbook runs, in a channel that is no incident's
	kindApprovals = "approvals" // /runbook approvals
)

var kinds = []string{kindStatus, kindHelp, kindMention, kindClick, kindDeclare, kindList, kindTimeline, kindAudit, kindRuns, kindApprovals}

// answeredInAck are the kinds whose whole answer is their ack: no end-to-end figure.
var answeredInAck = map[string]bool{kindStatus: true, kindHelp: true, kindList: true, kindTimeline: true, kindAudit: true, kindRuns: true, kindApprovals: true}

// mix is how often each kind is sent, as integer weights.
type mix map[string]int

func parseMix(s string) (mix, error) {
	m := mix{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("--mix: %q is not kind=weight", part)
		}
		name = strings.TrimSpace(name)
		if !contains(kinds, name) {
			return nil, fmt.Errorf("--mix: unknown kind %q (use %s)", name, strings.Join(kinds, ", "))
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--mix: the weight of %s must be a whole number ≥ 0", name)
		}
		m[name] += n
	}
	total := 0
	for _, n := range m {
		total += n
	}
	if total == 0 {
		return nil, errors.New("--mix: give at least one kind a weight above 0")
	}
	return m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sequence spreads the kinds evenly by their weights (smooth weighted round robin), so
// that a run is reproducible and no kind comes in clumps.
type sequence struct {
	m       mix
	current map[string]int
	total   int
}

func newSequence(m mix) *sequence {
	s := &sequence{m: m, current: map[string]int{}}
	for _, n := range m {
		s.total += n
	}
	return s
}

func (s *sequence) next() string {
	best := ""
	for _, k := range kinds {
		if s.m[k] == 0 {
			continue
		}
		s.current[k] += s.m[k]
		if best == "" || s.current[k] > s.current[best] {
			best = k
		}
	}
	s.current[best] -= s.total
	return best
}

// count says how many of n envelopes are of kind k.
func (s *sequence) count(n int, k string) int {
	c := newSequence(s.m)
	out := 0
	for range n {
		if c.next() == k {
			out++
		}
	}
	return out
}

// envelope is one envelope sent, and what became of it.
type envelope struct {
	kind    string
	channel string
	d       *slackfake.Delivery
	at      time.Time
	clicker string

	acked    bool
	ack      slackfake.Ack
	attempts int
	warning  string
	incident string // declare: the INC id its ack names
	e2e      time.Duration
	hasE2E   bool
}

// driver sends the load and follows it up.
type driver struct {
	w        *world
	o        options
	seq      *sequence
	clicks   []string // users who click (none of them an approver)
	pending  []string // ts of approval requests in #ops whose buttons are clicked
	incident string   // the incident status and timeline ask about, INC-n
	sent     []*envelope
	callsAt  int // length of the emulator's call log when the load began
	conns    int // the emulator's connect count when the load began
	runsAt   int64
	// acksOnly: follow waits for the acks alone, not for answers or runs (a burst to
	// peers that answer nothing).
	acksOnly bool
}

// prepare creates what the mix needs: an incident for status and timeline (INC-1 on a
// new database; the next number on one given with --db), approval requests and
// clicking users for clicks.
func (dr *driver) prepare(ctx context.Context, n int) error {
	w := dr.w
	dr.incident = dr.o.incident
	if dr.incident == "" {
		d := w.srv.SlashCommand(w.alice.ID, w.general.ID, "/runbook", "declare sev3 loadgen baseline incident")
		ack, err := waitAck(ctx, d, 30*time.Second)
		if err != nil {
			return fmt.Errorf("prepare: declare an incident: %w", err)
		}
		m := declaredRe.FindStringSubmatch(ackText(ack))
		if m == nil {
			return fmt.Errorf("prepare: declare an incident answered %q", ackText(ack))
		}
		dr.incident = m[1]
	}
	if clicks := dr.seq.count(n, kindClick); clicks > 0 {
		const requests = 3
		for range requests {
			d := w.srv.SlashCommand(w.alice.ID, w.general.ID, "/runbook", "run lg-approval "+dr.incident)
			if _, err := waitAck(ctx, d, 30*time.Second); err != nil {
				return fmt.Errorf("prepare: start an approval run: %w", err)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := w.srv.Wait(wctx, func() bool {
			dr.pending = dr.pending[:0]
			for _, m := range w.srv.Messages(w.ops.ID) {
				if m.BotID != "" && strings.Contains(string(m.Blocks), `"approval.approve"`) {
					dr.pending = append(dr.pending, m.TS)
				}
			}
			return len(dr.pending) >= requests
		})
		if err != nil {
			return fmt.Errorf("prepare: waiting for %d approval requests in #ops: %w", requests, err)
		}
		for i := range clicks {
			dr.clicks = append(dr.clicks, w.srv.AddUser(fmt.Sprintf("clicker%d", i)).ID)
		}
	}
	if err := dr.waitRunsSettled(ctx, 60*time.Second); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	dr.callsAt = len(w.srv.APICalls())
	dr.conns = w.srv.ConnectCount()
	dr.runsAt, _ = dr.maxRunID(ctx)
	return nil
}

// send sends n envelopes: at the rate, or (rate 0) all at once. All at once means as
// fast as the bot takes them, with at most o.window sent and not yet acked: the
// emulator drops a connection whose outgoing buffer (256 frames) overflows — and slash
// commands sent on it are lost for good, as on Slack — so a true burst would measure
// the emulator's buffer rather than the bot (o.window 0 sends it anyway).
func (dr *driver) send(ctx context.Context, n int, rate float64) (time.Time, time.Time) {
	w := dr.w
	dr.sent = make([]*envelope, 0, n)
	start := time.Now()
	// A bound on the sending loop whatever happens: the planned time plus half.
	limit := start.Add(time.Duration(float64(n)/max(rate, 1)*1.5*float64(time.Second)) + 10*time.Second)
	if rate == 0 {
		limit = start.Add(time.Duration(n)*time.Millisecond + 30*time.Second)
	}
	var window []*envelope
	perKind := map[string]int{}
	clicks := 0
	for i := range n {
		if ctx.Err() != nil || time.Now().After(limit) {
			break
		}
		if rate > 0 {
			if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
				time.Sleep(wait)
			}
		} else if dr.o.window > 0 {
			window = dr.room(window, limit)
		}
		kind := dr.seq.next()
		// Each kind goes round the channels on its own, so that every channel gets its
		// share of each kind whatever the mix.
		ch := w.talk[perKind[kind]%len(w.talk)].ID
		perKind[kind]++
		e := &envelope{kind: kind, at: time.Now(), channel: ch}
		switch e.kind {
		case kindStatus:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", "status "+dr.incident)
		case kindHelp:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", "help")
		case kindList:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", "list all")
		case kindTimeline:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", "timeline "+dr.incident)
		case kindAudit:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", "audit")
		case kindRuns:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", "runs")
		case kindApprovals:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", "approvals")
		case kindMention:
			e.d = w.srv.Mention(w.alice.ID, ch, "help", "")
		case kindDeclare:
			e.d = w.srv.SlashCommand(w.alice.ID, ch, "/runbook", fmt.Sprintf("declare sev3 loadgen incident %d", i))
		case kindClick:
			e.clicker = dr.clicks[clicks%len(dr.clicks)]
			ts := dr.pending[clicks%len(dr.pending)]
			clicks++
			d, err := w.srv.ClickButton(e.clicker, w.ops.ID, ts, "approval.approve")
			if err != nil {
				e.warning = "could not click: " + err.Error()
				d = &slackfake.Delivery{}
			}
			e.d = d
		}
		dr.sent = append(dr.sent, e)
		if e.d.EnvelopeID != "" {
			window = append(window, e)
		}
	}
	return start, time.Now()
}

// room waits until fewer than o.window envelopes are sent and not acked, and returns
// those that still are. One unacked past Slack's deadline no longer holds a place.
func (dr *driver) room(window []*envelope, limit time.Time) []*envelope {
	for len(window) >= dr.o.window && time.Now().Before(limit) {
		rest := window[:0]
		for _, e := range window {
			if len(dr.w.srv.Acks(e.d.EnvelopeID)) == 0 && time.Since(e.at) < slackAckDeadline {
				rest = append(rest, e)
			}
		}
		clear(window[len(rest):])
		window = rest
		if len(window) >= dr.o.window {
			time.Sleep(200 * time.Microsecond)
		}
	}
	return window
}

// follow waits, up to the deadline, until every envelope is acked, every mention and
// click answered, and every run started by a declare has ended.
func (dr *driver) follow(ctx context.Context, deadline time.Time) {
	w := dr.w
	want := map[string]int{}
	for _, e := range dr.sent {
		want[e.kind]++
	}
	unacked := append([]*envelope(nil), dr.sent...)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		rest := unacked[:0]
		for _, e := range unacked {
			if e.d.EnvelopeID == "" {
				continue
			}
			if acks := w.srv.Acks(e.d.EnvelopeID); len(acks) > 0 {
				e.acked, e.ack = true, acks[0]
				continue
			}
			rest = append(rest, e)
		}
		unacked = rest
		done := len(unacked) == 0
		if done && dr.acksOnly {
			return
		}
		if done && want[kindMention]+want[kindClick] > 0 {
			// Every mention answered in its thread and every click privately: counted
			// from the calls made since the load began (accounted exactly later).
			posts, responses := 0, 0
			for _, c := range w.srv.APICalls()[dr.callsAt:] {
				switch {
				case c.Method == "chat.postMessage" && c.Error == "" && !strings.HasPrefix(c.Text, "loadgen INC-"):
					posts++
				case c.Method == "response_url" && c.Error == "":
					responses++
				}
			}
			done = posts >= want[kindMention] && responses >= want[kindClick]
		}
		if done && want[kindDeclare] > 0 {
			ended, err := dr.runsEnded(ctx)
			done = err == nil && ended >= want[kindDeclare]
		}
		if done {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// account reads what became of each envelope from the emulator.
func (dr *driver) account() {
	w := dr.w
	replies := map[string]string{} // channel and mention ts → first bot reply ts
	for _, c := range w.talk {
		for _, m := range w.srv.Messages(c.ID) {
			if m.BotID != "" && m.ThreadTS != "" && m.ThreadTS != m.TS {
				if _, seen := replies[c.ID+"/"+m.ThreadTS]; !seen {
					replies[c.ID+"/"+m.ThreadTS] = m.TS
				}
			}
		}
	}
	step2 := map[string]time.Time{} // "loadgen INC-n:" → first post of the run's step 2
	for _, c := range w.srv.APICalls()[dr.callsAt:] {
		if c.Method == "chat.postMessage" && strings.HasPrefix(c.Text, "loadgen INC-") {
			key, _, _ := strings.Cut(c.Text, ":")
			if _, seen := step2[key]; !seen {
				step2[key] = c.At
			}
		}
	}
	for _, e := range dr.sent {
		if e.d.EnvelopeID == "" {
			continue
		}
		e.attempts = e.d.Attempts()
		if !e.acked {
			continue
		}
		text := ackText(e.ack)
		if strings.HasPrefix(text, ":warning:") || strings.HasPrefix(text, ":hourglass:") {
			e.warning = text
		}
		switch e.kind {
		case kindMention:
			if ts, ok := replies[e.channel+"/"+e.d.TS]; ok {
				e.e2e, e.hasE2E = tsTime(ts).Sub(e.at), true
			}
		case kindClick:
			if eph := w.srv.Ephemerals(w.ops.ID, e.clicker); len(eph) > 0 {
				e.e2e, e.hasE2E = tsTime(eph[0].TS).Sub(e.at), true
			}
		case kindDeclare:
			if m := declaredRe.FindStringSubmatch(text); m != nil {
				e.incident = m[1]
				if at, ok := step2["loadgen "+m[1]]; ok {
					e.e2e, e.hasE2E = at.Sub(e.at), true
				}
			}
		}
	}
}

var declaredRe = regexp.MustCompile(`Declared \*(INC-\d+)\*`)

// tsTime reads a message ts ("1700000000.123456"), which the emulator takes from its
// clock when it handles the call that posts the message.
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	us, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(s, us*1000)
}

func waitAck(ctx context.Context, d *slackfake.Delivery, timeout time.Duration) (slackfake.Ack, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return d.WaitAck(ctx)
}

// ackText is the text of a slash command's ack payload ("" if none).
func ackText(a slackfake.Ack) string {
	var m struct {
		Text string `json:"text"`
	}
	if len(a.Payload) == 0 || json.Unmarshal(a.Payload, &m) != nil {
		return ""
	}
	return m.Text
}

// The bot's database, read (read-only) for the state of runs.

func (dr *driver) openDB() (*sql.DB, error) {
	return sql.Open("sqlite3", "file:"+dr.w.db+"?mode=ro&_busy_timeout=5000")
}

func (dr *driver) query(ctx context.Context, q string, args ...any) (int64, error) {
	db, err := dr.openDB()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n sql.NullInt64
	err = db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n.Int64, err
}

func (dr *driver) maxRunID(ctx context.Context) (int64, error) {
	return dr.query(ctx, "SELECT MAX(id) FROM runs")
}

// runsEnded counts the lg-declared runs started by the load that have ended.
func (dr *driver) runsEnded(ctx context.Context) (int, error) {
	n, err := dr.query(ctx, "SELECT COUNT(*) FROM runs WHERE runbook = 'lg-declared' AND id > ? AND state NOT IN ('running', 'waiting_approval')", dr.runsAt)
	return int(n), err
}

// waitRunsSettled waits until no run is running (approval runs park, which counts).
func (dr *driver) waitRunsSettled(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n, err := dr.query(ctx, "SELECT COUNT(*) FROM runs WHERE state = 'running'")
		if err == nil && n == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("runs started while preparing did not settle")
}

// runStates counts the load's runs by state, and says when the last lg-declared one
// ended (unix ms, the bot's clock).
func (dr *driver) runStates(ctx context.Context) (map[string]int, int64, error) {
	db, err := dr.openDB()
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT state, COUNT(*) FROM runs WHERE id > ? GROUP BY state", dr.runsAt)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, 0, err
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var last sql.NullInt64
	err = db.QueryRowContext(ctx, "SELECT MAX(updated_at) FROM runs WHERE runbook = 'lg-declared' AND id > ?", dr.runsAt).Scan(&last)
	return out, last.Int64, err
}
