package slackfake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	outBuffer    = 256
	writeTimeout = 5 * time.Second
	// MaxConnections is how many Socket Mode connections Slack lets one app hold; it
	// answers one more with a disconnect, reason too_many_websockets.
	MaxConnections = 10
)

// sockets is the Socket Mode side of the server, guarded by Server.mu.
type sockets struct {
	conns    map[int]*wsConn
	nextID   int
	connects int
	refused  int // connections refused as one too many
	// ignoredAcks counts acks that came on another connection than their envelope.
	ignoredAcks int
	rr          int
	tickets     map[string]time.Time
	host        string

	envs   map[string]*envelope
	active []*envelope // queued or awaiting an ack, in creation order
	acks   map[string][]Ack
}

func (k *sockets) init() {
	k.conns = make(map[int]*wsConn)
	k.tickets = make(map[string]time.Time)
	k.envs = make(map[string]*envelope)
	k.acks = make(map[string][]Ack)
	k.host = "applink-slackfake-" + strings.ToLower(randAlnum(5))
}

// takeAll removes and returns every connection.
func (k *sockets) takeAll() []*wsConn {
	out := make([]*wsConn, 0, len(k.conns))
	for id, c := range k.conns {
		out = append(out, c)
		delete(k.conns, id)
	}
	return out
}

// live returns the connections that can take envelopes, by ID.
func (k *sockets) live() []*wsConn {
	var out []*wsConn
	for id := 1; id <= k.nextID; id++ {
		if c := k.conns[id]; c != nil && !c.draining {
			out = append(out, c)
		}
	}
	return out
}

// open counts the app's connections against Slack's limit: a connection Slack has
// begun to close no longer counts, so its replacement may connect at once.
func (k *sockets) open() int {
	n := 0
	for _, c := range k.conns {
		if !c.closing {
			n++
		}
	}
	return n
}

// routes returns the connections new envelopes go to: those not warned of a refresh,
// or, while the app has none, the warned ones, which are still open.
func (k *sockets) routes() []*wsConn {
	live := k.live()
	var fresh []*wsConn
	for _, c := range live {
		if !c.warned {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) > 0 {
		return fresh
	}
	return live
}

// wsConn is one Socket Mode connection. Only its writer goroutine writes
// data frames; Close and WriteControl may be called from anywhere.
type wsConn struct {
	id       int
	ws       *websocket.Conn
	out      chan outFrame
	done     chan struct{}
	once     sync.Once
	draining bool // guarded by Server.mu: takes no new envelopes
	warned   bool // guarded by Server.mu: will be refreshed; gets envelopes only if no other can
	closing  bool // guarded by Server.mu: Slack is closing it
}

// outFrame is a text message, or (close > 0) a request to send a close
// frame and close the connection.
type outFrame struct {
	data  []byte
	close int
	text  string
}

// enqueue hands a frame to the writer without blocking. A connection whose
// buffer is full is closed.
func (c *wsConn) enqueue(f outFrame) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- f:
		return true
	default:
		c.abort()
		return false
	}
}

// closeWithFrame sends a close frame and closes the connection.
func (c *wsConn) closeWithFrame(code int, text string) {
	c.once.Do(func() {
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
			time.Now().Add(time.Second))
		c.finish()
	})
}

// abort closes the connection without a close frame, as a network failure
// would.
func (c *wsConn) abort() { c.once.Do(c.finish) }

func (c *wsConn) finish() {
	close(c.done)
	_ = c.ws.Close()
}

func (s *Server) appsConnectionsOpen(q *apiRequest) (map[string]any, *apiError) {
	ticket := newUUID()
	s.sock.tickets[ticket] = time.Now()
	u := "ws" + strings.TrimPrefix(s.base, "http") + "/link/?ticket=" + url.QueryEscape(ticket) +
		"&app_id=" + s.appID
	return map[string]any{"url": u}, nil
}

var upgrader = websocket.Upgrader{
	HandshakeTimeout: 10 * time.Second,
	CheckOrigin: func(r *http.Request) bool {
		o := r.Header.Get("Origin")
		if o == "" || o == "https://api.slack.com" {
			return true
		}
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	},
}

// serveSocket accepts a Socket Mode connection at /link/?ticket=….
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	_, ok := s.sock.tickets[ticket]
	delete(s.sock.tickets, ticket)
	s.mu.Unlock()
	if !ok {
		s.log.Debug("slackfake: socket rejected: unknown ticket")
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("slackfake: socket upgrade", "err", err)
		return
	}
	c := &wsConn{ws: ws, out: make(chan outFrame, outBuffer), done: make(chan struct{})}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.closeWithFrame(websocket.CloseGoingAway, "server closing")
		return
	}
	s.sock.nextID++
	c.id = s.sock.nextID
	if s.sock.open() >= MaxConnections {
		// Slack's answer to an 11th connection: a disconnect, then the close.
		s.sock.refused++
		s.mu.Unlock()
		_ = ws.WriteMessage(websocket.TextMessage, mustJSON(map[string]any{"type": "disconnect",
			"reason": "too_many_websockets", "debug_info": map[string]any{"host": s.sock.host}}))
		c.closeWithFrame(websocket.CloseNormalClosure, "too_many_websockets")
		s.log.Debug("slackfake: socket refused: too many connections", "conn", c.id)
		return
	}
	s.sock.conns[c.id] = c
	s.sock.connects++
	hello := mustJSON(map[string]any{
		"type": "hello", "num_connections": len(s.sock.live()),
		"connection_info": map[string]any{"app_id": s.appID},
		"debug_info": map[string]any{"host": s.sock.host, "build_number": 1,
			"approximate_connection_time": 18060},
	})
	c.enqueue(outFrame{data: hello})
	s.wg.Add(2) // the writer and this reader
	go s.writeLoop(c)
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Debug("slackfake: socket connected", "conn", c.id)
	s.kickDispatcher()

	defer s.wg.Done()
	s.readLoop(c)
}

func (s *Server) writeLoop(c *wsConn) {
	defer s.wg.Done()
	defer s.connGone(c)
	ticker := time.NewTicker(s.opts.PingInterval)
	defer ticker.Stop()
	pings := 0
	for {
		select {
		case <-c.done:
			return
		case f := <-c.out:
			if f.close > 0 {
				c.closeWithFrame(f.close, f.text)
				return
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, f.data); err != nil {
				s.log.Debug("slackfake: socket write", "conn", c.id, "err", err)
				return
			}
		case <-ticker.C:
			if s.paused.Load() {
				continue
			}
			pings++
			err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(pings)),
				time.Now().Add(writeTimeout))
			if err != nil {
				s.log.Debug("slackfake: socket ping", "conn", c.id, "err", err)
				return
			}
		}
	}
}

func (s *Server) readLoop(c *wsConn) {
	defer s.connGone(c)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			s.log.Debug("slackfake: socket closed", "conn", c.id, "err", err)
			return
		}
		var a struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := decodeJSON(data, &a); err != nil || a.EnvelopeID == "" {
			s.log.Debug("slackfake: ignoring socket message", "conn", c.id, "data", string(data))
			continue
		}
		s.mu.Lock()
		s.recordAckLocked(c.id, a.EnvelopeID, a.Payload)
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// connGone closes c and forgets it.
func (s *Server) connGone(c *wsConn) {
	c.abort()
	s.mu.Lock()
	if s.sock.conns[c.id] == c {
		delete(s.sock.conns, c.id)
		s.notifyLocked()
	}
	s.mu.Unlock()
	s.kickDispatcher()
}

// Connections reports the open Socket Mode connections that can receive
// envelopes (connections told to disconnect no longer count).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sock.live())
}

// ConnectCount reports how many Socket Mode handshakes have succeeded.
func (s *Server) ConnectCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.connects
}

// Refused reports how many connections were refused as more than MaxConnections.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.refused
}

// IgnoredAcks reports how many acks were ignored for coming on another connection
// than the one their envelope was sent on.
func (s *Server) IgnoredAcks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.ignoredAcks
}

// WaitConnected waits until at least n connections can receive envelopes.
func (s *Server) WaitConnected(ctx context.Context, n int) error {
	return s.Wait(ctx, func() bool { return s.Connections() >= n })
}

// Disconnect sends {"type":"disconnect","reason":reason,…} to every
// connection and closes each closeAfter later unless the client closed it
// first. Slack uses "refresh_requested" (it refreshes connections every few
// hours), "warning" (about 10 s before a refresh) and "link_disabled".
// Except for "warning", the connections take no further envelopes. A warned
// connection gets new envelopes only while the app has no other open, and is
// sent "refresh_requested" as it is closed; connections already warned are
// not warned again. An envelope sent on a connection and not acked on it
// before it closes is lost, as with Slack.
func (s *Server) Disconnect(reason string, closeAfter time.Duration) {
	s.mu.Lock()
	var targets []*wsConn
	for _, c := range s.sock.live() {
		if reason == "warning" && c.warned {
			continue
		}
		targets = append(targets, c)
	}
	s.disconnectLocked(targets, reason, closeAfter)
	s.mu.Unlock()
}

// Refresh does what Slack does to each connection every few hours: it warns the
// app's oldest connection not yet warned ("warning") and closes it closeAfter
// later (after "refresh_requested"). Slack refreshes each connection on its own
// schedule, so one refresh concerns one connection; it reports whether there
// was one to refresh.
func (s *Server) Refresh(closeAfter time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.sock.live() { // oldest first
		if !c.warned {
			s.disconnectLocked([]*wsConn{c}, "warning", closeAfter)
			return true
		}
	}
	return false
}

// disconnectLocked announces a disconnect to targets and closes each closeAfter
// later, as Disconnect describes.
func (s *Server) disconnectLocked(targets []*wsConn, reason string, closeAfter time.Duration) {
	msg := s.disconnectFrame(reason)
	for _, c := range targets {
		if reason == "warning" {
			c.warned = true
		} else {
			c.draining = true
		}
		c.enqueue(outFrame{data: msg})
	}
	s.notifyLocked()
	for _, c := range targets {
		s.spawnLocked(func() {
			t := time.NewTimer(closeAfter)
			defer t.Stop()
			select {
			case <-t.C:
				s.mu.Lock()
				c.draining, c.closing = true, true
				s.mu.Unlock()
				if reason == "warning" {
					c.enqueue(outFrame{data: s.disconnectFrame("refresh_requested")})
				}
				c.enqueue(outFrame{close: websocket.CloseNormalClosure, text: reason})
			case <-c.done:
			case <-s.quit:
			}
		})
	}
	s.log.Debug("slackfake: disconnect", "reason", reason, "connections", len(targets))
}

func (s *Server) disconnectFrame(reason string) []byte {
	return mustJSON(map[string]any{"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": s.sock.host}})
}

// DropConnections closes every Socket Mode connection abruptly, without a
// close frame, as a network failure would.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.sock.takeAll()
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
	s.log.Debug("slackfake: dropped connections", "count", len(conns))
}

// PausePings stops (true) or resumes (false) the server's websocket pings,
// so that a client's ping timeout can be exercised.
func (s *Server) PausePings(paused bool) { s.paused.Store(paused) }
