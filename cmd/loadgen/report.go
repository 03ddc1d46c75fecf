package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// slackAckDeadline is how long Slack waits for an ack.
const slackAckDeadline = 3 * time.Second

// report is what one scenario measured. Durations are in milliseconds.
type report struct {
	Scenario struct {
		Bot        string         `json:"bot"` // "subprocess PATH" or "in-process"
		Mode       string         `json:"mode"`
		Rate       float64        `json:"rate_per_s,omitempty"`
		Duration   string         `json:"duration,omitempty"`
		Burst      int            `json:"burst,omitempty"`
		Window     int            `json:"burst_window,omitempty"`
		Mix        map[string]int `json:"mix"`
		Workers    int            `json:"bot_workers,omitempty"`
		Queue      int            `json:"bot_queue,omitempty"`
		Runbook    string         `json:"declare_runbook"`
		Channels   int            `json:"channels"`
		GOMAXPROCS int            `json:"loadgen_gomaxprocs"`
	} `json:"scenario"`

	Sent         int                    `json:"sent"`
	SendSeconds  float64                `json:"send_seconds"`
	Acked        int                    `json:"acked"`
	AckedInTime  int                    `json:"acked_within_3s"`
	NotAcked     int                    `json:"not_acked"`
	LastAckMS    float64                `json:"first_send_to_last_ack_ms"`
	Ack          *stats                 `json:"ack_latency_ms,omitempty"`
	E2E          *stats                 `json:"e2e_latency_ms,omitempty"`
	Redelivered  int                    `json:"redeliveries"`
	Reconnects   int                    `json:"reconnects"`
	Errors       int                    `json:"errors"`
	ErrorSamples []string               `json:"error_samples,omitempty"`
	Kinds        map[string]*kindReport `json:"by_kind,omitempty"`

	Runs             map[string]int `json:"runs_by_state,omitempty"`
	FailedRuns       int            `json:"failed_runs"`
	AllRunsSucceeded float64        `json:"first_declare_to_all_runs_succeeded_ms,omitempty"`

	Memory struct {
		What   string  `json:"what"`
		IdleMB float64 `json:"idle_mb"`
		PeakMB float64 `json:"peak_mb"`
	} `json:"memory"`
	StartToConnected []float64 `json:"start_to_connected_ms,omitempty"`
	Database         string    `json:"database"` // "new", or the file --db copied
	StopMS           float64   `json:"stop_ms"`
	StopError        string    `json:"stop_error,omitempty"`
}

type kindReport struct {
	Sent        int    `json:"sent"`
	Acked       int    `json:"acked"`
	Redelivered int    `json:"redeliveries"`
	Errors      int    `json:"errors"`
	Ack         *stats `json:"ack_latency_ms,omitempty"`
	E2E         *stats `json:"e2e_latency_ms,omitempty"`
	E2EMissing  int    `json:"e2e_not_seen,omitempty"`
}

type stats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func newStats(ds []time.Duration) *stats {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	return &stats{N: len(ds), P50: ms(percentile(ds, 0.50)), P99: ms(percentile(ds, 0.99)), Max: ms(ds[len(ds)-1])}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
func mb(b uint64) float64        { return math.Round(float64(b)/(1<<20)*10) / 10 }

func newReport(o options) *report {
	r := &report{}
	r.Scenario.Bot = "in-process"
	if o.botBinary != "" {
		r.Scenario.Bot = "subprocess " + o.botBinary
	}
	switch {
	case o.burst > 0:
		r.Scenario.Mode, r.Scenario.Burst, r.Scenario.Window = "burst", o.burst, o.window
	case o.rate > 0:
		r.Scenario.Mode, r.Scenario.Rate, r.Scenario.Duration = "rate", o.rate, o.duration.String()
	default:
		r.Scenario.Mode = "idle"
	}
	r.Scenario.Mix = o.mix
	r.Scenario.Workers, r.Scenario.Queue, r.Scenario.Runbook = o.workers, o.queue, o.runbook
	r.Scenario.Channels = o.channels
	r.Database = "new"
	if o.db != "" {
		r.Database = o.db
	}
	r.Scenario.GOMAXPROCS = runtime.GOMAXPROCS(0)
	return r
}

func (r *report) addLoad(ctx context.Context, dr *driver, start, end time.Time) {
	r.Sent, r.SendSeconds = len(dr.sent), math.Round(end.Sub(start).Seconds()*1000)/1000
	r.Reconnects = dr.w.srv.ConnectCount() - dr.conns
	r.Kinds = map[string]*kindReport{}
	var acks, e2es []time.Duration
	perAck, perE2E := map[string][]time.Duration{}, map[string][]time.Duration{}
	var lastAck time.Time
	for _, e := range dr.sent {
		k := r.Kinds[e.kind]
		if k == nil {
			k = &kindReport{}
			r.Kinds[e.kind] = k
		}
		k.Sent++
		if e.attempts > 1 {
			r.Redelivered++
			k.Redelivered++
		}
		if e.warning != "" {
			r.Errors++
			k.Errors++
			if len(r.ErrorSamples) < 5 {
				r.ErrorSamples = append(r.ErrorSamples, e.kind+": "+firstLine(e.warning))
			}
		}
		if !e.acked {
			r.NotAcked++
			continue
		}
		r.Acked++
		k.Acked++
		lat := e.ack.At.Sub(e.at)
		if lat <= slackAckDeadline {
			r.AckedInTime++
		}
		if e.ack.At.After(lastAck) {
			lastAck = e.ack.At
		}
		acks = append(acks, lat)
		perAck[e.kind] = append(perAck[e.kind], lat)
		if e.hasE2E {
			e2es = append(e2es, e.e2e)
			perE2E[e.kind] = append(perE2E[e.kind], e.e2e)
		} else if !answeredInAck[e.kind] && (e.kind != kindDeclare || dr.o.runbook == "slack") {
			k.E2EMissing++
		}
	}
	if !lastAck.IsZero() {
		r.LastAckMS = ms(lastAck.Sub(start))
	}
	r.Ack, r.E2E = newStats(acks), newStats(e2es)
	for kind, k := range r.Kinds {
		k.Ack, k.E2E = newStats(perAck[kind]), newStats(perE2E[kind])
	}
	states, last, err := dr.runStates(ctx)
	if err != nil {
		r.ErrorSamples = append(r.ErrorSamples, "reading runs: "+err.Error())
		return
	}
	r.Runs = states
	r.FailedRuns = states["failed"]
	r.Errors += r.FailedRuns
	if k := r.Kinds[kindDeclare]; k != nil && states["succeeded"] >= k.Sent && last > 0 {
		r.AllRunsSucceeded = ms(time.UnixMilli(last).Sub(start))
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func (r *report) writeJSON(w io.Writer) error { return writeJSON(w, r) }

// writeJSON writes v as indented JSON, the form of every --json report.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// textReport is a report printed as text, or as JSON with --json.
type textReport interface{ writeText(io.Writer) error }

// printReport prints rep as --json asks.
func printReport(w io.Writer, asJSON bool, rep textReport) error {
	if asJSON {
		return writeJSON(w, rep)
	}
	return rep.writeText(w)
}

// openBotLog is where the bot's log goes: the file at path (appended to, as a bot
// started again writes after the first), or nowhere when path is "". close closes it.
func openBotLog(path string) (out io.Writer, close func(), err error) {
	if path == "" {
		return io.Discard, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

func (r *report) writeText(w io.Writer) error {
	var b strings.Builder
	s := r.Scenario
	fmt.Fprintf(&b, "bot:            %s\n", s.Bot)
	switch s.Mode {
	case "burst":
		fmt.Fprintf(&b, "load:           burst of %d (at most %d unacked at a time; 0: no limit), mix %s, %d channel(s)\n", s.Burst, s.Window, mixString(s.Mix), s.Channels)
	case "rate":
		fmt.Fprintf(&b, "load:           %g/s for %s, mix %s, %d channel(s)\n", s.Rate, s.Duration, mixString(s.Mix), s.Channels)
	default:
		fmt.Fprintf(&b, "load:           none (idle)\n")
	}
	if s.Mode != "idle" {
		fmt.Fprintf(&b, "sent:           %d in %.3f s\n", r.Sent, r.SendSeconds)
		fmt.Fprintf(&b, "acked:          %d (%d within Slack's 3 s), not acked %d; last ack %.1f ms after the first send\n",
			r.Acked, r.AckedInTime, r.NotAcked, r.LastAckMS)
		fmt.Fprintf(&b, "ack latency:    %s\n", r.Ack)
		fmt.Fprintf(&b, "end to end:     %s\n", r.E2E)
		fmt.Fprintf(&b, "redeliveries:   %d; reconnects during the load: %d\n", r.Redelivered, r.Reconnects)
		fmt.Fprintf(&b, "errors:         %d (ack warnings and failed runs)\n", r.Errors)
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(&b, "                  %s\n", e)
		}
		names := make([]string, 0, len(r.Kinds))
		for k := range r.Kinds {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			k := r.Kinds[name]
			fmt.Fprintf(&b, "  %-8s sent %d acked %d redelivered %d errors %d; ack %s; e2e %s", name, k.Sent, k.Acked, k.Redelivered, k.Errors, k.Ack, k.E2E)
			if k.E2EMissing > 0 {
				fmt.Fprintf(&b, " (%d answers not seen)", k.E2EMissing)
			}
			b.WriteString("\n")
		}
		if len(r.Runs) > 0 {
			fmt.Fprintf(&b, "runs:           %v\n", r.Runs)
		}
		if r.AllRunsSucceeded > 0 {
			fmt.Fprintf(&b, "declares:       all runs succeeded %.1f ms after the first declare was sent\n", r.AllRunsSucceeded)
		}
	}
	fmt.Fprintf(&b, "memory:         idle %.1f MB, peak %.1f MB — %s\n", r.Memory.IdleMB, r.Memory.PeakMB, r.Memory.What)
	if len(r.StartToConnected) > 0 {
		first := "a new database"
		if r.Database != "new" {
			first = "a copy of " + r.Database
		}
		fmt.Fprintf(&b, "start→connected: %v ms (first on %s)\n", r.StartToConnected, first)
	}
	fmt.Fprintf(&b, "stop:           %.1f ms", r.StopMS)
	if r.StopError != "" {
		fmt.Fprintf(&b, " (%s)", r.StopError)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (s *stats) String() string {
	if s == nil {
		return "n/a"
	}
	return fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)", s.P50, s.P99, s.Max, s.N)
}

func mixString(m map[string]int) string {
	var parts []string
	for _, k := range kinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, ",")
}

// writeLatencies writes one CSV line per envelope: kind, ms from the first send to its
// send, ack latency in ms (empty if not acked), attempts.
func (dr *driver) writeLatencies(path string, start time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "kind,sent_ms,ack_ms,attempts")
	for _, e := range dr.sent {
		ack := ""
		if e.acked {
			ack = fmt.Sprintf("%.3f", ms(e.ack.At.Sub(e.at)))
		}
		fmt.Fprintf(w, "%s,%.3f,%s,%d\n", e.kind, ms(e.at.Sub(start)), ack, e.attempts)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
