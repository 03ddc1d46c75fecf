// Package observe is how operators see Runbook: Prometheus metrics and a health check,
// served on an optional HTTP listener.
package observe

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/runbookhq/runbook"
)

// Metrics holds Runbook's Prometheus series. Its methods are the hooks the bot and
// the Slack adapter call; all are safe for concurrent use.
type Metrics struct {
	Registry *prometheus.Registry

	envelopes     *prometheus.CounterVec
	ackSeconds    prometheus.Histogram
	handlerErrors *prometheus.CounterVec
	slackCalls    *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	reconnects    prometheus.Counter
	undelivered   *prometheus.CounterVec
	httpRefused   *prometheus.CounterVec
	busy          prometheus.Counter
}

// StateCounts reports how many runs or approvals are in each state.
type StateCounts func(ctx context.Context) (map[string]int, error)

// NewMetrics registers every series. runs and approvals are read from the store when
// Prometheus scrapes. refusedReasons are the reasons an HTTP request may be refused
// for, whose series start at zero.
func NewMetrics(runs, approvals StateCounts, refusedReasons ...string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runbook_envelopes_total", Help: "Requests received from Slack (Socket Mode envelopes or HTTP requests), by Socket Mode envelope type."}, []string{"type"}),
		ackSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "runbook_ack_seconds", Help: "Time from receiving an envelope to sending its ack.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3}}),
		handlerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runbook_handler_errors_total", Help: "Requests whose handler failed or panicked, by request kind."}, []string{"kind"}),
		slackCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runbook_slack_calls_total", Help: "Slack Web API calls, by method and result (ok or Slack's error code)."}, []string{"method", "result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runbook_slack_ratelimited_total", Help: "Slack Web API calls answered 429, by method."}, []string{"method"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runbook_socket_reconnects_total", Help: "Socket Mode connections opened again after one was lost (Slack's planned refreshes are not counted)."}),
		undelivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runbook_replies_undelivered_total", Help: "Replies Slack refused for good, by reason (Slack's error code or HTTP status)."}, []string{"reason"}),
		busy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runbook_requests_busy_total", Help: "Requests answered busy (try again in a minute) instead of taken: past limits.*, or every worker and queue slot in use."}),
		httpRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runbook_http_requests_refused_total", Help: "Requests to Slack's request URLs (HTTP mode) refused before they were read, by reason."}, []string{"reason"}),
	}
	reg.MustRegister(m.envelopes, m.ackSeconds, m.handlerErrors, m.slackCalls, m.rateLimited, m.reconnects, m.undelivered, m.httpRefused, m.busy,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		stateCollector("runbook_runs", "Runs by state.", runs, runStates),
		stateCollector("runbook_approvals", "Approval requests by state.", approvals, approvalStates))
	// Series exist at zero from the start, so that rates and alerts work before the
	// first failure.
	for _, kind := range []string{"command", "mention", "action", "view_submission"} {
		m.handlerErrors.WithLabelValues(kind)
	}
	for _, method := range []string{"chat.postMessage", "chat.update", "conversations.create"} {
		m.rateLimited.WithLabelValues(method)
	}
	for _, reason := range refusedReasons {
		m.httpRefused.WithLabelValues(reason)
	}
	return m
}

var (
	runStates      = names(runbook.RunStates)
	approvalStates = names(runbook.ApprovalStates)
)

// names turns a list of states into label values.
func names[S ~string](states []S) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}

// Envelope counts an envelope of a Socket Mode type.
func (m *Metrics) Envelope(typ string) { m.envelopes.WithLabelValues(typ).Inc() }

// Acked records how long an envelope waited for its ack.
func (m *Metrics) Acked(d time.Duration) { m.ackSeconds.Observe(d.Seconds()) }

// HandlerError counts a failed request.
func (m *Metrics) HandlerError(kind string) { m.handlerErrors.WithLabelValues(kind).Inc() }

// Reconnected counts a connection opened again after one was lost.
func (m *Metrics) Reconnected() { m.reconnects.Inc() }

// ReplyUndelivered counts a reply that could not be delivered, by reason.
func (m *Metrics) ReplyUndelivered(reason string) { m.undelivered.WithLabelValues(reason).Inc() }

// HTTPRefused counts a request to Slack's request URLs refused before it was read.
func (m *Metrics) HTTPRefused(reason string) { m.httpRefused.WithLabelValues(reason).Inc() }

// Busy counts a request answered busy instead of taken.
func (m *Metrics) Busy() { m.busy.Inc() }

// SlackCall counts a Web API call by its result: "ok", Slack's error code, "ratelimited"
// or "error".
func (m *Metrics) SlackCall(method, result string) {
	m.slackCalls.WithLabelValues(method, result).Inc()
	if result == "ratelimited" {
		m.rateLimited.WithLabelValues(method).Inc()
	}
}

// stateCollector reports a gauge per state, asking the store at scrape time.
type stateGauge struct {
	desc   *prometheus.Desc
	count  StateCounts
	states []string
}

func stateCollector(name, help string, count StateCounts, states []string) prometheus.Collector {
	return &stateGauge{desc: prometheus.NewDesc(name, help, []string{"state"}, nil), count: count, states: states}
}

func (g *stateGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *stateGauge) Collect(ch chan<- prometheus.Metric) {
	if g.count == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := g.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(g.desc, err)
		return
	}
	for _, state := range g.states {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(counts[state]), state)
	}
}
