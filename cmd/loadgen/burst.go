package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Peers a burst can be sent to.
const (
	peerRunbook = "runbook" // the bot, in this process or as --bot-binary
	peerBare    = "bare"    // a slack-go Socket Mode client that only acks (peers.go)
	peerBolt    = "bolt"    // Slack's Bolt for JavaScript in Socket Mode (bench/bolt)
	// peerAnswer is the bare loop acking each slash command with Runbook's answer to
	// help, the same bytes: the floor for a bot that answers in its ack, since slack-go
	// and Slack (here the emulator) then handle the answer's bytes as well.
	peerAnswer = "bare-answer"
)

var peerNames = []string{peerBare, peerAnswer, peerRunbook, peerBolt}

// burstOptions are the flags of `loadgen burst`.
type burstOptions struct {
	peers       []string
	kind        string
	rounds      int
	n           int
	warmup      int
	window      int
	connections int
	botBinary   string
	boltDir     string
	wait        time.Duration
	json        bool
	cpuprof     string
	logLevel    string
	botLog      string
}

// runBurst sends the same burst (of /runbook help, or of mentions) to each peer in turn, round after
// round, each time on a new emulator, and compares their ack latencies: the bare loop is
// the floor the others are measured against, in the same run on the same machine.
func runBurst(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	bo, err := parseBurstFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "loadgen burst:", err)
		return 2
	}
	if slices.Contains(bo.peers, peerBolt) {
		if why := prepareBolt(ctx, bo.boltDir, stderr); why != "" {
			fmt.Fprintln(stderr, "loadgen burst: skipping bolt:", why)
			bo.peers = slices.DeleteFunc(bo.peers, func(p string) bool { return p == peerBolt })
			if len(bo.peers) == 0 {
				fmt.Fprintln(stderr, "loadgen burst: no peer left to measure")
				return 1
			}
		}
	}
	var prof *os.File
	if bo.cpuprof != "" {
		if prof, err = os.Create(bo.cpuprof); err != nil {
			fmt.Fprintln(stderr, "loadgen burst:", err)
			return 1
		}
		defer prof.Close()
	}
	var results []burstResult
	for round := 1; round <= bo.rounds; round++ {
		for _, peer := range bo.peers {
			fmt.Fprintf(stderr, "loadgen burst: round %d, %s\n", round, peer)
			profile := prof != nil && peer == bo.peers[0] && round == 1
			r, err := measureBurst(ctx, bo, peer, profile, prof)
			if err != nil {
				fmt.Fprintf(stderr, "loadgen burst: round %d, %s: %v\n", round, peer, err)
				return 1
			}
			r.Round = round
			results = append(results, r)
		}
	}
	rep := newBurstReport(bo, results)
	if err := printReport(stdout, bo.json, rep); err != nil {
		fmt.Fprintln(stderr, "loadgen burst:", err)
		return 1
	}
	return 0
}

func parseBurstFlags(args []string, stderr io.Writer) (burstOptions, error) {
	fs := flag.NewFlagSet("loadgen burst", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bo burstOptions
	var peers string
	var compare bool
	fs.StringVar(&peers, "peer", peerRunbook, "who takes the burst: a comma-separated list of "+strings.Join(peerNames, ", "))
	fs.BoolVar(&compare, "compare", false, "every peer ("+strings.Join(peerNames, ", ")+"), in turn, each round: the same as --peer "+strings.Join(peerNames, ","))
	fs.StringVar(&bo.kind, "kind", kindHelp, "what the burst is: help (/runbook help, a slash command Runbook answers in its ack) or mention (@Runbook help, an event, acked empty; Runbook answers in the thread)")
	fs.IntVar(&bo.rounds, "rounds", 3, "how many times each peer takes the burst, the peers taking turns")
	fs.IntVar(&bo.n, "n", 2000, "envelopes in each burst")
	fs.IntVar(&bo.warmup, "warmup", 100, "envelopes sent and acked before each burst, not measured (connections, JIT and caches warm for every peer alike)")
	fs.IntVar(&bo.window, "burst-window", 200, "keep at most this many envelopes sent and not yet acked (0: none; the emulator drops a connection whose 256-frame buffer overflows)")
	fs.IntVar(&bo.connections, "connections", 0, "Socket Mode connections of Runbook and of the bare loop (0: the bot's default, slack.connections); Bolt holds one")
	fs.StringVar(&bo.botBinary, "bot-binary", "", "run Runbook from the binary at `PATH`, and the bare loop as a subprocess too (default: both in this process)")
	fs.StringVar(&bo.boltDir, "bolt-dir", "bench/bolt", "the Bolt peer's directory (index.js, package-lock.json); npm ci runs there if node_modules is missing")
	fs.DurationVar(&bo.wait, "wait", 30*time.Second, "how long to wait for the last acks after the last envelope is sent")
	fs.BoolVar(&bo.json, "json", false, "print the report as JSON")
	fs.StringVar(&bo.cpuprof, "cpuprofile", "", "write a CPU profile of this process during the first burst of the first --peer (without --bot-binary: that peer, the emulator and the driver)")
	fs.StringVar(&bo.logLevel, "log-level", "warn", "the bot's log.level")
	fs.StringVar(&bo.botLog, "bot-log", "", "append the peers' logs to this file (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return bo, err
	}
	if fs.NArg() > 0 {
		return bo, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if compare {
		peers = strings.Join(peerNames, ",")
	}
	for p := range strings.SplitSeq(peers, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(peerNames, p) {
			return bo, fmt.Errorf("--peer: unknown peer %q (use %s)", p, strings.Join(peerNames, ", "))
		}
		if !slices.Contains(bo.peers, p) {
			bo.peers = append(bo.peers, p)
		}
	}
	switch {
	case bo.kind != kindHelp && bo.kind != kindMention:
		return bo, errors.New("--kind is help or mention")
	case bo.rounds < 1 || bo.rounds > 20:
		return bo, errors.New("--rounds must be between 1 and 20")
	case bo.n < 1 || bo.n > 100000:
		return bo, errors.New("--n must be between 1 and 100000")
	case bo.warmup < 0 || bo.warmup > 10000:
		return bo, errors.New("--warmup must be between 0 and 10000")
	case bo.window < 0:
		return bo, errors.New("--burst-window must not be negative")
	case bo.connections < 0 || bo.connections > 10:
		return bo, errors.New("--connections must be between 0 and 10 (Slack's limit)")
	case bo.wait <= 0 || bo.wait > 10*time.Minute:
		return bo, errors.New("--wait must be between 0 and 10m")
	}
	return bo, nil
}

// burstResult is what one burst to one peer measured. Durations are in milliseconds.
type burstResult struct {
	Peer      string  `json:"peer"`
	Round     int     `json:"round"`
	Sent      int     `json:"sent"`
	Acked     int     `json:"acked"`
	Ack       *stats  `json:"ack_latency_ms,omitempty"`
	LastAckMS float64 `json:"first_send_to_last_ack_ms"`
	// CPUPer1000 is the peer process's CPU time (user and system) for the burst, per
	// 1,000 envelopes; 0 when the peer runs in this process.
	CPUPer1000 float64 `json:"peer_cpu_ms_per_1000,omitempty"`
	Warnings   int     `json:"warnings"` // acks that said busy or try again
	// AckBytes is the mean size of the acks' payloads: what the peer answered with.
	AckBytes   int `json:"ack_bytes"`
	Reconnects int `json:"reconnects"`
	// Answer is when the person sees the answer to a slash command: its ack when the
	// ack carries it, else the first post to its response_url; ViaResponseURL counts
	// the latter. Only for peers that answer (Runbook).
	Answer         *stats `json:"answer_latency_ms,omitempty"`
	ViaResponseURL int    `json:"answered_via_response_url,omitempty"`
}

// measureBurst starts a new emulator and the peer against it, warms it up, sends the
// burst and reads each envelope's ack latency (its send → its ack, on this process's
// clock: the emulator records the ack as it reads it).
func measureBurst(ctx context.Context, bo burstOptions, peer string, profile bool, prof *os.File) (burstResult, error) {
	res := burstResult{Peer: peer}
	dir, err := os.MkdirTemp("", "loadgen-burst-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	o := options{botBinary: bo.botBinary, window: bo.window, mix: mix{bo.kind: 1}, channels: 1,
		runbook: "store", logLevel: bo.logLevel, wait: bo.wait}
	w, err := newWorld(dir, o)
	if err != nil {
		return res, err
	}
	defer w.ws.Close()
	if bo.connections > 0 {
		w.cfg.Slack.Connections = bo.connections
	}
	// What a mention burst leaves in the reply outbox (thread replies, paced by
	// Slack's per-channel limit) is not measured: the stop need not wait for it.
	w.cfg.Bot.ShutdownTimeout = 2 * time.Second
	if err := w.writeFiles(o); err != nil {
		return res, err
	}
	logOut, closeLog, err := openBotLog(bo.botLog)
	if err != nil {
		return res, err
	}
	defer closeLog()
	p, err := startPeer(ctx, w, o, bo, peer, logOut)
	if err != nil {
		return res, fmt.Errorf("start %s: %w", peer, err)
	}
	defer func() { _ = p.Stop(15 * time.Second) }()

	if bo.warmup > 0 {
		warm := &driver{w: w, o: o, seq: newSequence(o.mix), acksOnly: true}
		_, end := warm.send(ctx, bo.warmup, 0)
		warm.follow(ctx, end.Add(bo.wait))
		for _, e := range warm.sent {
			if !e.acked {
				return res, errors.New("the warm-up was not all acked")
			}
		}
	}
	runtime.GC() // the warm-up's garbage is not the burst's

	dr := &driver{w: w, o: o, seq: newSequence(o.mix), acksOnly: true}
	dr.conns = w.srv.ConnectCount()
	cpu, _ := p.(cpuTimer)
	var cpuBefore time.Duration
	if cpu != nil {
		cpuBefore, _ = cpu.CPU()
	}
	if profile {
		if err := pprof.StartCPUProfile(prof); err != nil {
			return res, err
		}
	}
	start, end := dr.send(ctx, bo.n, 0)
	dr.follow(ctx, end.Add(bo.wait))
	if profile {
		pprof.StopCPUProfile()
	}
	if cpu != nil {
		if after, ok := cpu.CPU(); ok && len(dr.sent) > 0 {
			res.CPUPer1000 = math.Round(ms(after-cpuBefore)*1000/float64(len(dr.sent))*10) / 10
		}
	}
	res.Sent = len(dr.sent)
	res.Reconnects = w.srv.ConnectCount() - dr.conns
	var lats []time.Duration
	var last time.Time
	var bytes int
	for _, e := range dr.sent {
		if !e.acked {
			continue
		}
		res.Acked++
		bytes += len(e.ack.Payload)
		if t := ackText(e.ack); strings.HasPrefix(t, ":warning:") || strings.HasPrefix(t, ":hourglass:") {
			res.Warnings++
		}
		lats = append(lats, e.ack.At.Sub(e.at))
		if e.ack.At.After(last) {
			last = e.ack.At
		}
	}
	res.Ack = newStats(lats)
	if res.Acked > 0 {
		res.AckBytes = bytes / res.Acked
	}
	if !last.IsZero() {
		res.LastAckMS = ms(last.Sub(start))
	}
	if peer == peerRunbook && bo.kind == kindHelp {
		res.Answer, res.ViaResponseURL = answerLatency(ctx, w, dr, end.Add(bo.wait))
	}
	return res, ctx.Err()
}

// answerLatency waits, up to the deadline, for every acked command's answer — in its
// ack, or posted to its response_url when the ack went out empty — and returns how
// long after its send each was, and how many came through the response_url.
func answerLatency(ctx context.Context, w *world, dr *driver, deadline time.Time) (*stats, int) {
	for {
		posted := map[string]time.Time{}
		for _, c := range w.srv.APICalls() {
			if c.Method == "response_url" && c.Error == "" {
				if _, seen := posted[c.URL]; !seen {
					posted[c.URL] = c.At
				}
			}
		}
		var lats []time.Duration
		via, missing := 0, 0
		for _, e := range dr.sent {
			switch at, ok := posted[e.d.ResponseURL]; {
			case !e.acked:
			case len(e.ack.Payload) > 0:
				lats = append(lats, e.ack.At.Sub(e.at))
			case ok:
				lats = append(lats, at.Sub(e.at))
				via++
			default:
				missing++
			}
		}
		if missing == 0 || ctx.Err() != nil || time.Now().After(deadline) {
			return newStats(lats), via
		}
		time.Sleep(100 * time.Millisecond) // the emulator's call log has no wake-up
	}
}

// burstReport is the rounds and, per peer, the spread of its rounds and its ratio to
// the bare loop's round taken just before it.
type burstReport struct {
	Scenario struct {
		N          int      `json:"n"`
		Kind       string   `json:"kind"`
		Warmup     int      `json:"warmup"`
		Window     int      `json:"burst_window"`
		Rounds     int      `json:"rounds"`
		Peers      []string `json:"peers"`
		Bot        string   `json:"runbook"`
		GOMAXPROCS int      `json:"loadgen_gomaxprocs"`
	} `json:"scenario"`
	Rounds []burstResult           `json:"rounds"`
	Peers  map[string]*peerSummary `json:"peers"`
}

type peerSummary struct {
	P50 []float64 `json:"p50_ms"`
	P99 []float64 `json:"p99_ms"`
	// Ratios to the bare loop's figure of the same round.
	P50Ratio []float64 `json:"p50_over_bare,omitempty"`
	P99Ratio []float64 `json:"p99_over_bare,omitempty"`
	// Ratios to the answering bare loop's figure of the same round.
	P99OverAnswer []float64 `json:"p99_over_bare_answer,omitempty"`
}

func newBurstReport(bo burstOptions, results []burstResult) *burstReport {
	r := &burstReport{Rounds: results, Peers: map[string]*peerSummary{}}
	r.Scenario.N, r.Scenario.Warmup, r.Scenario.Window, r.Scenario.Rounds = bo.n, bo.warmup, bo.window, bo.rounds
	r.Scenario.Peers, r.Scenario.Kind = bo.peers, bo.kind
	r.Scenario.Bot = "in-process"
	if bo.botBinary != "" {
		r.Scenario.Bot = "subprocess " + bo.botBinary
	}
	r.Scenario.GOMAXPROCS = runtime.GOMAXPROCS(0)
	bare, answering := map[int]*stats{}, map[int]*stats{}
	for _, res := range results {
		switch res.Peer {
		case peerBare:
			bare[res.Round] = res.Ack
		case peerAnswer:
			answering[res.Round] = res.Ack
		}
	}
	for _, res := range results {
		s := r.Peers[res.Peer]
		if s == nil {
			s = &peerSummary{}
			r.Peers[res.Peer] = s
		}
		if res.Ack == nil {
			continue
		}
		s.P50 = append(s.P50, res.Ack.P50)
		s.P99 = append(s.P99, res.Ack.P99)
		if b := bare[res.Round]; b != nil && res.Peer != peerBare {
			s.P50Ratio = append(s.P50Ratio, ratio(res.Ack.P50, b.P50))
			s.P99Ratio = append(s.P99Ratio, ratio(res.Ack.P99, b.P99))
		}
		if a := answering[res.Round]; a != nil && res.Peer != peerBare && res.Peer != peerAnswer {
			s.P99OverAnswer = append(s.P99OverAnswer, ratio(res.Ack.P99, a.P99))
		}
	}
	return r
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return math.Round(a/b*100) / 100
}

func (r *burstReport) writeText(out io.Writer) error {
	s := r.Scenario
	what := "/runbook help"
	if s.Kind == kindMention {
		what = "@Runbook help"
	}
	fmt.Fprintf(out, "burst: %d × %s (after %d unmeasured), at most %d unacked (0: no limit); %d round(s); Runbook %s\n\n",
		s.N, what, s.Warmup, s.Window, s.Rounds, s.Bot)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tpeer\tacked\tbusy/try again\tp50 ms\tp99 ms\tmax ms\tlast ack ms\treconnects\tpeer CPU ms/1000\tack bytes\t")
	for _, res := range r.Rounds {
		p50, p99, mx := "-", "-", "-"
		if res.Ack != nil {
			p50, p99, mx = fmt.Sprintf("%.2f", res.Ack.P50), fmt.Sprintf("%.2f", res.Ack.P99), fmt.Sprintf("%.2f", res.Ack.Max)
		}
		cpu := "-"
		if res.CPUPer1000 > 0 {
			cpu = fmt.Sprintf("%.0f", res.CPUPer1000)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d/%d\t%d\t%s\t%s\t%s\t%.1f\t%d\t%s\t%d\t\n", res.Round, res.Peer, res.Acked, res.Sent, res.Warnings, p50, p99, mx, res.LastAckMS, res.Reconnects, cpu, res.AckBytes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Rounds {
		if a := res.Answer; a != nil {
			fmt.Fprintf(out, "round %d %s: answer seen (in the ack, or posted to the response_url) p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d of %d through the response_url\n",
				res.Round, res.Peer, a.P50, a.P99, a.Max, res.ViaResponseURL, a.N)
		}
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "peer\tp50 ms (rounds)\tp99 ms (rounds)\tp50 ÷ bare\tp99 ÷ bare (same round)\tp99 ÷ bare-answer (same round)")
	for _, peer := range s.Peers {
		sum := r.Peers[peer]
		if sum == nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", peer, floats(sum.P50), floats(sum.P99), floats(sum.P50Ratio), floats(sum.P99Ratio), floats(sum.P99OverAnswer))
	}
	return tw.Flush()
}

func floats(fs []float64) string {
	if len(fs) == 0 {
		return "-"
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%.2f", f)
	}
	return strings.Join(parts, ", ")
}
