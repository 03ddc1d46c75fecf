package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Envelope types.
const (
	EnvelopeEventsAPI     = "events_api"
	EnvelopeSlashCommands = "slash_commands"
	EnvelopeInteractive   = "interactive"
)

// envelope is one Socket Mode request, guarded by Server.mu.
type envelope struct {
	id, typ   string
	payload   json.RawMessage
	accepts   bool
	autoRetry bool
	attempts  int
	sentOn    []int // the connections it was sent on: an ack counts only on one of them
	retry     int   // retry_attempt of the pending or last send
	pending   bool  // waiting to be (re)sent
	deadline  time.Time
	acked     bool
	expired   bool // timed out for good
	ctx       envContext
}

// envContext says what an envelope's ack acts on.
type envContext struct {
	kind      string // "slash", "view_submission" or ""
	userID    string
	channelID string
	hookID    string
	viewID    string
}

// Ack is an acknowledgement received for an envelope.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage // nil when the ack carried no payload
	At         time.Time
	Connection int // which connection it came on (1 for the first)
}

// Delivery is an envelope the server queued. Its methods are safe for
// concurrent use.
type Delivery struct {
	EnvelopeID string
	Type       string          // events_api, slash_commands or interactive
	Payload    json.RawMessage // the payload as sent
	// TS is the ts of the message the delivery is about: the stored
	// mention for Mention, the clicked message for ClickButton.
	TS string
	// TriggerID and ResponseURL are those of the payload, if any.
	TriggerID   string
	ResponseURL string

	s *Server
}

// WaitAck waits for the first ack of the envelope. It returns [ErrNotSent]
// at once for a Delivery that has no envelope.
func (d *Delivery) WaitAck(ctx context.Context) (Ack, error) {
	if d.EnvelopeID == "" {
		return Ack{}, ErrNotSent
	}
	var ack Ack
	err := d.s.Wait(ctx, func() bool {
		d.s.mu.Lock()
		defer d.s.mu.Unlock()
		if l := d.s.sock.acks[d.EnvelopeID]; len(l) > 0 {
			ack = l[0]
			return true
		}
		return false
	})
	return ack, err
}

// Attempts reports how many times the envelope was sent.
func (d *Delivery) Attempts() int {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if e := d.s.sock.envs[d.EnvelopeID]; e != nil {
		return e.attempts
	}
	return 0
}

// TimedOut reports whether the envelope went unacknowledged past its last
// AckTimeout and will not be sent again (unless redelivered by hand).
func (d *Delivery) TimedOut() bool {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	e := d.s.sock.envs[d.EnvelopeID]
	return e != nil && e.expired
}

// Acks returns every ack received for an envelope, oldest first.
func (s *Server) Acks(envelopeID string) []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sock.acks[envelopeID])
}

// Send queues a raw envelope and returns at once. payload is marshalled to
// JSON; a json.RawMessage or []byte is sent verbatim, even if it is not
// valid JSON, for fault tests. Envelopes wait while no connection is up.
// Only events_api envelopes are redelivered automatically.
func (s *Server) Send(envelopeType string, payload any, acceptsResponse bool) *Delivery {
	var raw json.RawMessage
	switch p := payload.(type) {
	case json.RawMessage:
		raw = slices.Clone(p)
	case []byte:
		raw = slices.Clone(p)
	default:
		b, err := marshal(payload)
		if err != nil {
			s.log.Error("slackfake: Send: marshal payload", "err", err)
			b = []byte("null")
		}
		raw = b
	}
	s.mu.Lock()
	d := s.enqueueLocked(envelopeType, raw, acceptsResponse, envContext{})
	s.mu.Unlock()
	s.kickDispatcher()
	return d
}

// HoldEnvelopes keeps queued envelopes from being sent while hold is true, as a slow
// network would: a click is in flight for as long as the test likes. A test that hands
// a delivery's payload to the bot's parts itself holds the envelopes, so that the
// connected bot does not take them too. HoldEnvelopes(false) sends what waited.
func (s *Server) HoldEnvelopes(hold bool) {
	s.mu.Lock()
	s.held = hold
	s.mu.Unlock()
	s.kickDispatcher()
}

// Redeliver sends an envelope again now, on any live connection (or the
// next one), with retry_attempt one higher and retry_reason "timeout".
func (s *Server) Redeliver(envelopeID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.sock.envs[envelopeID]
	if e == nil {
		return fmt.Errorf("slackfake: unknown envelope %q", envelopeID)
	}
	e.retry++
	e.expired = false
	if !e.pending {
		e.pending = true
		if !slices.Contains(s.sock.active, e) {
			s.sock.active = append(s.sock.active, e)
		}
	}
	s.kickDispatcher()
	return nil
}

// enqueueLocked queues an envelope. The caller kicks the dispatcher after
// unlocking.
func (s *Server) enqueueLocked(typ string, payload json.RawMessage, accepts bool, ctx envContext) *Delivery {
	e := &envelope{id: newUUID(), typ: typ, payload: payload, accepts: accepts,
		autoRetry: typ == EnvelopeEventsAPI, pending: true, ctx: ctx}
	s.sock.envs[e.id] = e
	s.sock.active = append(s.sock.active, e)
	s.notifyLocked()
	return &Delivery{EnvelopeID: e.id, Type: typ, Payload: slices.Clone(payload), s: s}
}

// encode renders an envelope in Slack's field order. The payload is
// written verbatim.
func (e *envelope) encode() []byte {
	var b bytes.Buffer
	b.WriteString(`{"envelope_id":`)
	b.Write(mustJSON(e.id))
	b.WriteString(`,"payload":`)
	b.Write(rawOrNull(e.payload))
	b.WriteString(`,"type":`)
	b.Write(mustJSON(e.typ))
	b.WriteString(`,"accepts_response_payload":` + strconv.FormatBool(e.accepts))
	if e.typ == EnvelopeEventsAPI || e.retry > 0 {
		reason := ""
		if e.retry > 0 {
			reason = "timeout"
		}
		b.WriteString(`,"retry_attempt":` + strconv.Itoa(e.retry) + `,"retry_reason":`)
		b.Write(mustJSON(reason))
	}
	b.WriteString("}")
	return b.Bytes()
}

func (s *Server) dispatchLoop() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := s.dispatch()
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
		select {
		case <-s.kick:
		case <-timer.C:
		case <-s.quit:
			return
		}
	}
}

// dispatch sends pending envelopes, handles ack timeouts, and returns the
// next deadline (zero if none).
func (s *Server) dispatch() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	live := s.sock.routes()
	var next time.Time
	changed := false
	keep := s.sock.active[:0]
	for _, e := range s.sock.active {
		if !e.pending && !e.acked && !now.Before(e.deadline) {
			if e.autoRetry && e.retry < s.opts.MaxRetries {
				e.retry++
				e.pending = true
			} else {
				e.expired = true
				changed = true
				s.log.Debug("slackfake: envelope timed out", "envelope", e.id, "type", e.typ)
				continue
			}
		}
		if e.pending && s.postLocked(e, now) {
			changed = true
		} else if e.pending && len(live) > 0 && !s.held {
			c := live[s.sock.rr%len(live)]
			s.sock.rr++
			if c.enqueue(outFrame{data: e.encode()}) {
				e.pending = false
				if !slices.Contains(e.sentOn, c.id) {
					e.sentOn = append(e.sentOn, c.id)
				}
				e.attempts++
				e.deadline = now.Add(s.opts.AckTimeout)
				changed = true
				s.log.Debug("slackfake: envelope sent", "envelope", e.id, "type", e.typ, "conn", c.id,
					"retry", e.retry)
			}
		}
		if e.pending {
			keep = append(keep, e)
			continue
		}
		if e.acked {
			continue
		}
		if next.IsZero() || e.deadline.Before(next) {
			next = e.deadline
		}
		keep = append(keep, e)
	}
	clear(s.sock.active[len(keep):])
	s.sock.active = keep
	if changed {
		s.notifyLocked()
	}
	return next
}

// recordAckLocked records an ack and applies its payload on the first one.
func (s *Server) recordAckLocked(connID int, envelopeID string, payload json.RawMessage) {
	if len(payload) == 0 || string(payload) == "null" {
		payload = nil
	}
	if e := s.sock.envs[envelopeID]; e != nil && !slices.Contains(e.sentOn, connID) {
		// Slack takes an ack only on a connection that got the envelope.
		s.sock.ignoredAcks++
		s.log.Debug("slackfake: ack on another connection ignored", "envelope", envelopeID,
			"conn", connID, "sent_on", e.sentOn)
		return
	}
	s.sock.acks[envelopeID] = append(s.sock.acks[envelopeID],
		Ack{EnvelopeID: envelopeID, Payload: slices.Clone(payload), At: time.Now(), Connection: connID})
	e := s.sock.envs[envelopeID]
	if e == nil {
		s.log.Debug("slackfake: ack for unknown envelope", "envelope", envelopeID)
		return
	}
	first := !e.acked
	e.acked = true
	s.log.Debug("slackfake: ack", "envelope", envelopeID, "conn", connID, "payload", len(payload) > 0)
	if first && !e.expired {
		s.applyAckLocked(e, payload)
	}
}
