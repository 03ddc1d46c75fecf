// Command loadgen puts Runbook under load. It starts the Slack emulator (slackfake) on
// 127.0.0.1, starts the real bot against it — in this process (app.New), or as a
// subprocess running the binary given with --bot-binary, pointed at the emulator by a
// generated configuration file and the tokens in its environment, so that its memory
// can be measured — and sends Socket Mode envelopes at a steady rate or all at once:
//
//	loadgen --bot-binary ./bot --rate 500 --duration 60s          # /runbook status INC-1
//	loadgen --bot-binary ./bot --burst 10000
//	loadgen --bot-binary ./bot --burst 1000 --mix declare=1      # each runs a 3-step runbook
//	loadgen --bot-binary ./bot --rate 100 --mix status=2,mention=1,click=1,declare=1 --channels 50
//	loadgen --bot-binary ./bot --starts 5 --idle 5s               # no load: start-up and idle memory
//	loadgen burst --compare --bot-binary ./bot                     # the same burst to Runbook, a bare slack-go loop and Bolt
//	loadgen overload --bot-binary ./bot                            # Slack slow, 1,000 runs/s for 60 s, then a restart
//	loadgen history --db /tmp/large.db                             # a year of history, to run on:
//	loadgen --bot-binary ./bot --db /tmp/large.db --rate 20 --duration 60s --mix status=1,list=1,timeline=1,audit=1,runs=1,approvals=1,declare=1
//	loadgen kickoff --incidents 100 --messages 3                   # Slack's rate limits enforced: see kickoff.go
//
// Kinds: status (/runbook status INC-n, answered in the ack), help, list, timeline, audit, runs
// and approvals (those commands, answered in the ack), mention (@Runbook help,
// answered in its thread), click (Approve on a pending request, by someone who may not
// approve it: refused privately, so the request stays clickable), declare (/runbook
// declare …, which starts the 3-step lg-declared runbook).
//
// It reports envelopes sent and acked, ack latency (queued in the emulator → its ack
// received), end-to-end latency (sent → the bot's first Web API call caused by it, by the
// emulator's clock: a mention's thread reply, a click's response_url answer, a declared
// run's message with --runbook slack), redeliveries, errors (ack warnings such as "busy"
// or "try again", failed runs), the bot's memory (a subprocess: VmRSS when idle and
// VmHWM; in this process: Go heap and stacks, labelled so), and for a subprocess the time
// from its start to its Socket Mode connection. --json prints the same as JSON.
//
// A burst is sent as fast as the bot takes it, with at most --burst-window envelopes
// unacked: the emulator drops a connection whose 256-frame outgoing buffer overflows.
// All traffic stays on loopback; every loop and wait is bounded in count and time, and
// the command stops by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/runbookhq/runbook"
)

type options struct {
	botBinary string
	rate      float64
	duration  time.Duration
	burst     int
	window    int
	mix       mix
	json      bool
	workers   int
	queue     int
	runbook   string
	wait      time.Duration
	idle      time.Duration
	starts    int
	channels  int
	logLevel  string
	botLog    string
	keep      bool
	cpuprof   string
	latencies string
	db        string
	incident  string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "history" {
		return runHistory(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "kickoff" {
		return runKickoffCommand(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "burst" {
		return runBurst(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "bare-peer" {
		return runBarePeer(ctx, args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "overload" {
		return runOverload(ctx, args[1:], stdout, stderr)
	}
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	rep, err := runLoad(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if o.json {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var mixSpec string
	fs.StringVar(&o.botBinary, "bot-binary", "", "run the bot binary at `PATH` as a subprocess (bot run --config FILE); default: the bot in this process")
	fs.Float64Var(&o.rate, "rate", 0, "envelopes per second, for --duration")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send at --rate")
	fs.IntVar(&o.burst, "burst", 0, "send this many envelopes at once instead of a rate")
	fs.IntVar(&o.window, "burst-window", 200, "during a burst, keep at most this many envelopes sent and not yet acked (0: no limit, which overflows the emulator's 256-frame socket buffer)")
	fs.StringVar(&mixSpec, "mix", "status=1", "weights of the kinds sent: "+strings.Join(kinds, ", "))
	fs.StringVar(&o.incident, "incident", "", "ask status and timeline about this incident (`INC-n`, one the --db history holds) instead of declaring one first, so that the load starts as soon as the bot connects")
	fs.StringVar(&o.db, "db", "", "start the bot on a copy of the database at `PATH` (one written by loadgen history) instead of a new one")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.IntVar(&o.workers, "workers", 0, "bot.workers (0: the bot's default)")
	fs.IntVar(&o.queue, "queue", 0, "bot.queue (0: the bot's default)")
	fs.StringVar(&o.runbook, "runbook", "store", "steps of the runbook a declare starts: store (3 incident updates) or slack (update, message, update)")
	fs.DurationVar(&o.wait, "wait", 60*time.Second, "how long to wait for acks, answers and runs after the last envelope is sent")
	fs.DurationVar(&o.idle, "idle", 2*time.Second, "how long the bot idles after connecting before its idle memory is read")
	fs.IntVar(&o.starts, "starts", 1, "start the bot this many times (the first on a new database, or the --db copy) and report each start-to-connected time")
	fs.IntVar(&o.channels, "channels", 1, "spread commands and mentions over this many channels (the bot limits its posts per channel)")
	fs.StringVar(&o.logLevel, "log-level", "warn", "the bot's log.level")
	fs.StringVar(&o.botLog, "bot-log", "", "write the bot's log to this file (default: discarded)")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory (config, runbooks, database)")
	fs.StringVar(&o.latencies, "latencies", "", "write each envelope's kind, send time and ack latency (ms) to this CSV file")
	fs.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of this process (with an in-process bot: bot and emulator) during the load")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	m, err := parseMix(mixSpec)
	if err != nil {
		return o, err
	}
	o.mix = m
	switch {
	case o.rate < 0, o.burst < 0:
		return o, errors.New("--rate and --burst must not be negative")
	case o.rate > 0 && o.burst > 0:
		return o, errors.New("give --rate or --burst, not both")
	case o.rate > 0 && (o.duration <= 0 || o.duration > time.Hour):
		return o, errors.New("--duration must be between 0 and 1h")
	case o.rate > 20000:
		return o, errors.New("--rate is at most 20000 envelopes/s")
	case o.burst > 200000 || o.rate*o.duration.Seconds() > 200000:
		return o, errors.New("at most 200000 envelopes per run")
	case o.wait <= 0 || o.wait > 30*time.Minute:
		return o, errors.New("--wait must be between 0 and 30m")
	case o.starts < 1 || o.starts > 20:
		return o, errors.New("--starts must be between 1 and 20")
	case o.runbook != "store" && o.runbook != "slack":
		return o, errors.New("--runbook is store or slack")
	case o.window < 0:
		return o, errors.New("--burst-window must not be negative")
	case o.channels < 1 || o.channels > 1000:
		return o, errors.New("--channels must be between 1 and 1000")
	case o.idle < 0 || o.idle > 10*time.Minute:
		return o, errors.New("--idle must be between 0 and 10m")
	}
	return o, nil
}

// runLoad runs one scenario and returns its report.
func runLoad(ctx context.Context, o options, progress io.Writer) (*report, error) {
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(progress, "loadgen: working directory", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	w, err := newWorld(dir, o)
	if err != nil {
		return nil, err
	}
	defer w.ws.Close()

	logOut, closeLog, err := openBotLog(o.botLog)
	if err != nil {
		return nil, err
	}
	defer closeLog()

	rep := newReport(o)
	var bot botProcess
	for i := range o.starts {
		if bot != nil {
			if err := bot.Stop(15 * time.Second); err != nil {
				return nil, fmt.Errorf("stop the bot between starts: %w", err)
			}
		}
		p, took, err := startBot(ctx, w, o, logOut)
		if err != nil {
			return nil, err
		}
		bot = p
		if o.botBinary != "" {
			rep.StartToConnected = append(rep.StartToConnected, ms(took))
		}
		if i == 0 && o.starts > 1 {
			fmt.Fprintf(progress, "loadgen: start %d (new database): connected after %s\n", i+1, took.Round(time.Millisecond))
		}
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = bot.Stop(15 * time.Second)
		}
	}()

	_ = runbook.Sleep(ctx, o.idle) // a stop ends the idle wait early
	now, _, what := bot.Memory()
	rep.Memory.What, rep.Memory.IdleMB = what, mb(now)

	n := o.burst
	rate := 0.0
	if o.rate > 0 {
		n, rate = int(o.rate*o.duration.Seconds()), o.rate
	}
	if n > 0 {
		dr := &driver{w: w, o: o, seq: newSequence(o.mix)}
		fmt.Fprintln(progress, "loadgen: preparing")
		if err := dr.prepare(ctx, n); err != nil {
			return nil, err
		}
		if o.cpuprof != "" {
			f, err := os.Create(o.cpuprof)
			if err != nil {
				return nil, err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return nil, err
			}
		}
		fmt.Fprintf(progress, "loadgen: sending %d envelopes\n", n)
		start, end := dr.send(ctx, n, rate)
		fmt.Fprintf(progress, "loadgen: sent in %s; waiting up to %s for acks, answers and runs\n", end.Sub(start).Round(time.Millisecond), o.wait)
		dr.follow(ctx, end.Add(o.wait))
		if o.cpuprof != "" {
			pprof.StopCPUProfile()
		}
		dr.account()
		rep.addLoad(ctx, dr, start, end)
		if o.latencies != "" {
			if err := dr.writeLatencies(o.latencies, start); err != nil {
				return nil, err
			}
		}
	}
	_, peak, _ := bot.Memory()
	rep.Memory.PeakMB = mb(peak)
	stopped = true
	stopStart := time.Now()
	if err := bot.Stop(15 * time.Second); err != nil {
		rep.StopError = err.Error()
	}
	rep.StopMS = ms(time.Since(stopStart))
	return rep, ctx.Err()
}
