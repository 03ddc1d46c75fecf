package slackfake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by [New] to zero-valued [Options] fields.
const (
	DefaultAckTimeout   = 3 * time.Second
	DefaultPingInterval = time.Second
	DefaultMaxRetries   = 3
	DefaultTriggerTTL   = 3 * time.Second
	// DefaultResponseURLTTL is how long Slack accepts posts to a response_url.
	DefaultResponseURLTTL = 30 * time.Minute
)

// Seeded workspace identity.
const (
	TeamName   = "Runbook Dev"
	TeamDomain = "runbook-dev"
	BotName    = "runbook"
)

// ErrClosed is returned by waiting methods once the server is closed.
var ErrClosed = errors.New("slackfake: server closed")

// ErrNotSent is returned by [Delivery.WaitAck] when Slack would have sent
// nothing, e.g. for a mention in a channel the bot is not in.
var ErrNotSent = errors.New("slackfake: no envelope was sent")

// Options configures a [Server]. The zero value is valid.
type Options struct {
	// AckTimeout is how long an envelope may stay unacknowledged before it
	// counts as timed out (Events API envelopes are then redelivered). It is
	// also the interval between redeliveries. Default 3 s, as on Slack.
	AckTimeout time.Duration
	// PingInterval is how often the server pings each Socket Mode
	// connection. Default 1 s; it must stay well below the client's own
	// ping timeout (30 s in slack-go).
	PingInterval time.Duration
	// MaxRetries is how many times an Events API envelope is redelivered.
	// Default 3, as on Slack; a negative value disables redelivery.
	MaxRetries int
	// TriggerTTL is how long a trigger_id can be exchanged with views.open.
	// Default 3 s, as on Slack; a negative value means trigger IDs never
	// expire.
	TriggerTTL time.Duration
	// ResponseURLTTL is how long a response_url accepts posts (at most 5 of them).
	// Default 30 min, as on Slack; a negative value means they never expire.
	ResponseURLTTL time.Duration
	// Logger receives debug logs of every call and socket event. Nil
	// discards them.
	Logger *slog.Logger
	// OnAPICall, if set, is called for every Web API and response_url
	// call once it is handled and before its answer is sent, outside the
	// server's lock, for live transcripts (e.g. a demo). Calls may be
	// concurrent.
	OnAPICall func(APICall)
	// FreePlan makes the workspace one on Slack's Free plan, which has no user groups:
	// every usergroups.* method answers plan_upgrade_required, as Slack does.
	FreePlan bool
}

// Server is a local Slack workspace serving the Web API and Socket Mode. It
// is safe for concurrent use. Create it with [New] and release it with
// [Server.Close].
type Server struct {
	opts   Options
	log    *slog.Logger
	ln     net.Listener
	http   *http.Server
	base   string // http://127.0.0.1:PORT
	wg     sync.WaitGroup
	quit   chan struct{}
	kick   chan struct{}
	paused atomic.Bool
	// latency delays every Web API and response_url answer (SetLatency).
	latency atomic.Int64

	mu      sync.Mutex
	closed  bool
	held    bool // envelopes wait in the queue (HoldEnvelopes)
	changed chan struct{}
	state
	sock    sockets
	limits  limits
	calls   map[string]int
	callLog []APICall
	// pinRefusal, when set, is the error pins.add answers (RefusePins).
	pinRefusal string
	// botsUnarchive lets the bot token unarchive (LetBotsUnarchive).
	botsUnarchive bool
	// httpTo, when set, is where envelopes are posted instead of sent on Socket Mode
	// connections (DeliverOverHTTP); httpAnswers are the app's answers by envelope.
	httpTo      *HTTPDelivery
	httpAnswers map[string][]HTTPResponse
}

// New starts a server on 127.0.0.1 on a random port. It is serving when New
// returns. The workspace is seeded with a team, the app, its bot user (named
// "runbook"), Slackbot, and the two tokens.
func New(opts Options) (*Server, error) {
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	} else if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.TriggerTTL == 0 {
		opts.TriggerTTL = DefaultTriggerTTL
	}
	if opts.ResponseURLTTL == 0 {
		opts.ResponseURLTTL = DefaultResponseURLTTL
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("slackfake: listen: %w", err)
	}
	s := &Server{
		opts:    opts,
		log:     logger,
		ln:      ln,
		base:    "http://" + ln.Addr().String(),
		quit:    make(chan struct{}),
		kick:    make(chan struct{}, 1),
		changed: make(chan struct{}),
		calls:   make(map[string]int),

		httpAnswers: make(map[string][]HTTPResponse),
	}
	s.state.init()
	s.sock.init()
	s.limits.init()

	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("/link/", s.serveSocket)
	mux.HandleFunc("/response/{id}", s.serveResponseURL)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("slackfake: serve", "err", err)
		}
	}()
	go s.dispatchLoop()
	return s, nil
}

// Close stops the server: it closes every Socket Mode connection (with a
// "going away" close frame), stops the HTTP server and waits for every
// goroutine the server started. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.quit)
	conns := s.sock.takeAll()
	s.notifyLocked()
	s.mu.Unlock()

	for _, c := range conns {
		c.closeWithFrame(1001, "server closing")
	}
	// Not Shutdown: a test server has no requests worth waiting for, and a client
	// that keeps a request open would hold Close for the whole grace period.
	err := s.http.Close()
	s.wg.Wait()
	return err
}

// APIURL is the Web API base URL, ending in "/", for slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.base + "/api/" }

// BotToken is the bot token ("xoxb-…") the Web API accepts.
func (s *Server) BotToken() string { return s.botToken }

// AppToken is the app-level token ("xapp-…") apps.connections.open accepts.
func (s *Server) AppToken() string { return s.appToken }

// BotUserID is the ID of the app's bot user.
func (s *Server) BotUserID() string { return s.botUserID }

// BotID is the bot ID ("B…") that marks the bot's messages.
func (s *Server) BotID() string { return s.botID }

// AppID is the app's ID ("A…").
func (s *Server) AppID() string { return s.appID }

// TeamID is the workspace ID ("T…").
func (s *Server) TeamID() string { return s.teamID }

// Wait calls cond until it returns true, re-checking it after every state
// change (message posted or updated, ack received, connection opened or
// closed, view opened, …). It returns ctx's error if ctx ends first, or
// [ErrClosed] if the server closes. cond must not block; it may call the
// server's read methods.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes every Wait. The caller holds s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// kickDispatcher asks the dispatch loop to look at the envelope queue.
func (s *Server) kickDispatcher() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// spawn runs f in a goroutine that Close waits for. It reports false, and
// does not run f, once the server is closed. The caller must not hold s.mu.
func (s *Server) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spawnLocked(f)
}

func (s *Server) spawnLocked(f func()) bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}
