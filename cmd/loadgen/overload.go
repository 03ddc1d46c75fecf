package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// overloadRunbook is the run each command of `loadgen overload` starts: one message,
// in the channel the command names, so that every run waits for Slack.
const overloadRunbook = `name: lg-overload
description: loadgen — one message per run, in the channel the command names
params:
  - { name: ch, type: string, required: true }
steps:
  - action: slack.send_message
    with: { channel: "#{{params.ch}}", text: "lg-overload {{run.id}}" }
`

// overload is `loadgen overload`: Slack answering every call late, commands that start
// runs arriving faster than Slack lets them finish, then a restart on the backlog.
type overload struct {
	botBinary string
	rate      float64
	duration  time.Duration
	latency   time.Duration
	channels  int
	drain     time.Duration
	botLog    string
	limits    [4]int // activeRuns, queuedRuns, runsPerPerson, slackCalls; 0: the default
}

func parseOverload(args []string, stderr io.Writer) (overload, error) {
	fs := flag.NewFlagSet("loadgen overload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o overload
	fs.StringVar(&o.botBinary, "bot-binary", "", "the bot binary at `PATH`, run as a subprocess (required: its RSS is measured)")
	fs.Float64Var(&o.rate, "rate", 1000, "commands per second")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long to send")
	fs.DurationVar(&o.latency, "slack-latency", 800*time.Millisecond, "how long the emulator takes to answer each Web API call")
	fs.IntVar(&o.channels, "channels", 50, "channels the runs post in, round robin (Slack paces posts per channel)")
	fs.DurationVar(&o.drain, "drain", 10*time.Minute, "how long the restarted bot may take to finish the backlog")
	fs.StringVar(&o.botLog, "bot-log", "", "write the bot's log to this file (default: discarded)")
	for i, name := range []string{"active-runs", "queued-runs", "runs-per-person", "slack-calls"} {
		fs.IntVar(&o.limits[i], name, 0, "limits."+strings.ReplaceAll(camel(name), "-", "")+" (0: the default)")
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.botBinary == "":
		return o, errors.New("--bot-binary is required: the scenario measures the bot process's RSS")
	case o.rate <= 0 || o.rate > 5000, o.duration <= 0 || o.duration > 10*time.Minute:
		return o, errors.New("--rate must be in (0, 5000] and --duration in (0, 10m]")
	case o.channels < 1 || o.channels > 1000:
		return o, errors.New("--channels must be between 1 and 1000")
	}
	return o, nil
}

// camel turns "active-runs" into "activeRuns".
func camel(s string) string {
	parts := strings.Split(s, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

func runOverload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOverload(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "loadgen overload:", err)
		return 2
	}
	rep, err := o.run(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen overload:", err)
		return 1
	}
	rep.write(stdout)
	return 0
}

// overloadReport is what each phase measured.
type overloadReport struct {
	o                          overload
	sent                       int
	ok, busy, other, unacked   int
	otherSample                string
	accepted                   int // runs stored
	endedByStop, backlog       int // runs ended before the restart, and left active
	drained                    int // runs ended after the restart
	drainTook                  time.Duration
	loadRSS, restartRSS        uint64 // peak RSS (VmHWM) of each process
	loadGoroutines, restartGor int    // peak goroutines of each process
	posts, runsPosted          int    // the runs' messages, and the runs that posted
	finalRuns                  int    // runs stored at the end: the restart finishes requests taken and not finished
}

func (o overload) run(ctx context.Context, progress io.Writer) (*overloadReport, error) {
	dir, err := os.MkdirTemp("", "loadgen-overload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	w, err := newWorld(dir, options{botBinary: o.botBinary, logLevel: "warn", channels: 1, runbook: "store"})
	if err != nil {
		return nil, err
	}
	defer w.ws.Close()
	addr, err := o.configure(w)
	if err != nil {
		return nil, err
	}
	logOut, closeLog, err := openBotLog(o.botLog)
	if err != nil {
		return nil, err
	}
	defer closeLog()
	w.srv.SetLatency(o.latency)
	rep := &overloadReport{o: o}

	fmt.Fprintf(progress, "loadgen overload: %v commands/s for %s, Slack answering after %s\n", o.rate, o.duration, o.latency)
	bot, sampled, err := o.startSampled(ctx, w, addr, logOut)
	if err != nil {
		return nil, err
	}
	sent := o.send(ctx, w)
	rep.sent = len(sent)
	o.classify(ctx, w, sent, rep)
	_, rep.loadRSS, _ = bot.Memory()
	rep.loadGoroutines = sampled.stop()
	if err := bot.Stop(30 * time.Second); err != nil {
		fmt.Fprintln(progress, "loadgen overload: stopping the bot:", err)
	}
	if err := o.countRuns(ctx, w, rep); err != nil {
		return nil, err
	}

	fmt.Fprintf(progress, "loadgen overload: restarting on a backlog of %d active runs\n", rep.backlog)
	bot, sampled, err = o.startSampled(ctx, w, addr, logOut)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rep.drained = o.waitDrained(ctx, w, rep.backlog)
	rep.drainTook = time.Since(start)
	_, rep.restartRSS, _ = bot.Memory()
	rep.restartGor = sampled.stop()
	if err := bot.Stop(30 * time.Second); err != nil {
		fmt.Fprintln(progress, "loadgen overload: stopping the bot:", err)
	}
	rep.posts, rep.runsPosted = countPosts(w)
	all, err := (&driver{w: w}).query(ctx, "SELECT COUNT(*) FROM runs WHERE runbook = 'lg-overload'")
	if err != nil {
		return nil, err
	}
	rep.finalRuns = int(all)
	return rep, ctx.Err()
}

// configure adds the scenario's runbook, channels, limits and a metrics listener.
func (o overload) configure(w *world) (string, error) {
	for i := range o.channels {
		w.ws.Channel(fmt.Sprintf("lg-o-%d", i+1))
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	w.cfg.HTTP.Addr = addr
	l := &w.cfg.Limits
	for i, p := range []*int{&l.ActiveRuns, &l.QueuedRuns, &l.RunsPerPerson, &l.SlackCalls} {
		if o.limits[i] > 0 {
			*p = o.limits[i]
		}
	}
	// The load is one person's: their share must not be what turns them away.
	if o.limits[2] == 0 {
		l.RunsPerPerson = l.QueuedRuns + l.ActiveRuns
	}
	if err := os.WriteFile(filepath.Join(w.cfg.Runbooks.Dir, "lg-overload.yaml"), []byte(overloadRunbook), 0o600); err != nil {
		return "", err
	}
	return addr, apptest.WriteConfigFile(w.config, w.cfg)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startSampled starts the bot and samples its goroutines (its go_goroutines metric)
// until stopped.
func (o overload) startSampled(ctx context.Context, w *world, addr string, logOut io.Writer) (botProcess, *sampler, error) {
	bot, _, err := startBot(ctx, w, options{botBinary: o.botBinary}, logOut)
	if err != nil {
		return nil, nil, err
	}
	return bot, startSampler("http://" + addr + "/metrics"), nil
}

// send sends the commands at the rate, each naming the next channel.
func (o overload) send(ctx context.Context, w *world) []*slackfake.Delivery {
	n := int(o.rate * o.duration.Seconds())
	out := make([]*slackfake.Delivery, 0, n)
	start := time.Now()
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		if wait := time.Until(start.Add(time.Duration(float64(i) / o.rate * float64(time.Second)))); wait > 0 {
			time.Sleep(wait)
		}
		text := fmt.Sprintf("run lg-overload ch=lg-o-%d", i%o.channels+1)
		out = append(out, w.srv.SlashCommand(w.alice.ID, w.general.ID, "/runbook", text))
	}
	return out
}

// classify waits out Slack's ack deadline and sorts what each person was told.
func (o overload) classify(ctx context.Context, w *world, sent []*slackfake.Delivery, rep *overloadReport) {
	_ = runbook.Sleep(ctx, slackAckDeadline+time.Second)
	for _, d := range sent {
		acks := w.srv.Acks(d.EnvelopeID)
		if len(acks) == 0 {
			rep.unacked++
			continue
		}
		text := ackText(acks[0])
		switch {
		case strings.HasPrefix(text, ":arrow_forward: Started"):
			rep.ok++
		case strings.Contains(text, "busy"):
			rep.busy++
		default:
			rep.other++
			if rep.otherSample == "" {
				rep.otherSample = text
			}
		}
	}
}

func (o overload) countRuns(ctx context.Context, w *world, rep *overloadReport) error {
	dr := &driver{w: w}
	all, err := dr.query(ctx, "SELECT COUNT(*) FROM runs WHERE runbook = 'lg-overload'")
	if err != nil {
		return err
	}
	active, err := dr.query(ctx, "SELECT COUNT(*) FROM runs WHERE runbook = 'lg-overload' AND state IN ('running', 'waiting_approval')")
	if err != nil {
		return err
	}
	rep.accepted, rep.backlog, rep.endedByStop = int(all), int(active), int(all-active)
	return nil
}

// waitDrained waits until no lg-overload run is active, or --drain passes, and
// returns how many of the backlog ended.
func (o overload) waitDrained(ctx context.Context, w *world, backlog int) int {
	dr := &driver{w: w}
	deadline := time.Now().Add(o.drain)
	active := int64(backlog)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		n, err := dr.query(ctx, "SELECT COUNT(*) FROM runs WHERE runbook = 'lg-overload' AND state IN ('running', 'waiting_approval')")
		if err == nil {
			active = n
			if n == 0 {
				break
			}
		}
		_ = runbook.Sleep(ctx, 250*time.Millisecond)
	}
	return backlog - int(active)
}

// countPosts counts the runs' messages and the runs they name: more messages than
// runs would be a run that posted twice.
func countPosts(w *world) (posts, runs int) {
	seen := map[string]bool{}
	for _, c := range w.srv.Channels() {
		if !strings.HasPrefix(c.Name, "lg-o-") {
			continue
		}
		for _, m := range w.srv.Messages(c.ID) {
			if strings.HasPrefix(m.Text, "lg-overload ") {
				posts++
				seen[m.Text] = true
			}
		}
	}
	return posts, len(seen)
}

func (r *overloadReport) write(out io.Writer) {
	o := r.o
	fmt.Fprintf(out, "load:            %v commands/s for %s (%d sent), Slack answering every call after %s, %d channels\n", o.rate, o.duration, r.sent, o.latency, o.channels)
	fmt.Fprintf(out, "told:            ok %d, busy %d, other %d, not acked within Slack's 3 s %d\n", r.ok, r.busy, r.other, r.unacked)
	if r.otherSample != "" {
		fmt.Fprintf(out, "                 (an \"other\" answer: %q)\n", r.otherSample)
	}
	fmt.Fprintf(out, "runs:            %d accepted; %d ended before the stop, %d left active in the database\n", r.accepted, r.endedByStop, r.backlog)
	fmt.Fprintf(out, "under load:      peak RSS %.1f MB, peak goroutines %d\n", mb(r.loadRSS), r.loadGoroutines)
	fmt.Fprintf(out, "restart:         %d of the %d backlog runs ended in %s; peak RSS %.1f MB, peak goroutines %d\n",
		r.drained, r.backlog, r.drainTook.Round(time.Millisecond), mb(r.restartRSS), r.restartGor)
	fmt.Fprintf(out, "exactly once:    %d messages from %d distinct runs; %d runs stored in all (the restarted bot finishes requests taken and not finished)\n", r.posts, r.runsPosted, r.finalRuns)
}

// sampler reads a bot's go_goroutines metric every 200 ms and keeps the highest.
type sampler struct {
	url  string
	mu   sync.Mutex
	peak int
	done chan struct{}
	wg   sync.WaitGroup
}

func startSampler(url string) *sampler {
	s := &sampler{url: url, done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := s.read(); err == nil {
				s.mu.Lock()
				s.peak = max(s.peak, n)
				s.mu.Unlock()
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

// stop ends the sampling, after one last sample, and returns the peak.
func (s *sampler) stop() int {
	close(s.done)
	s.wg.Wait()
	if n, err := s.read(); err == nil {
		s.peak = max(s.peak, n)
	}
	return s.peak
}

func (s *sampler) read() (int, error) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(s.url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, errors.New("no go_goroutines in the metrics")
}
