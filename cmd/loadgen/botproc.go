package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/internal/apptest"
)

// botProcess is the bot under load: a subprocess running the real binary, or the same
// program assembled in this process with app.New.
type botProcess interface {
	// Memory reports the bot's resident memory now and at its peak, in bytes, and
	// what the figure is.
	Memory() (now, peak uint64, what string)
	// Stop stops the bot gracefully and reports how it ended.
	Stop(timeout time.Duration) error
}

// startBot starts the bot and waits until it holds a Socket Mode connection. It
// returns the time from the start to that connection.
func startBot(ctx context.Context, w *world, o options, logOut io.Writer) (botProcess, time.Duration, error) {
	since := w.srv.ConnectCount()
	start := time.Now()
	var (
		p    botProcess
		gone func() bool
	)
	if o.botBinary != "" {
		proc, err := apptest.StartProcess(o.botBinary, w.config, w.ws, logOut)
		if err != nil {
			return nil, 0, err
		}
		p, gone = &subprocess{proc}, proc.Exited
	} else {
		r, err := apptest.Start(ctx, w.cfg, app.Options{Logger: apptest.Logger(logOut, w.cfg.Log.SlogLevel())})
		if err != nil {
			return nil, 0, err
		}
		p, gone = newInProcess(r), r.Exited
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.ws.WaitConnected(wctx, since, 1, gone); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, 0, err
	}
	return p, time.Since(start), nil
}

// subprocess is the real binary, run with the generated configuration.
type subprocess struct{ *apptest.Process }

// Memory reads VmRSS and VmHWM (the peak resident set) from /proc.
func (s *subprocess) Memory() (now, peak uint64, what string) {
	what = "bot process RSS (/proc/PID/status VmRSS, VmHWM)"
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.Pid()))
	if err != nil {
		return 0, 0, what
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			now = kb * 1024
		case "VmHWM":
			peak = kb * 1024
		}
	}
	return now, peak, what
}

// CPU is the bot process's CPU time so far.
func (s *subprocess) CPU() (time.Duration, bool) { return processCPU(s.Pid()) }

// Stop sends SIGTERM and waits; past the timeout it kills the process.
func (s *subprocess) Stop(timeout time.Duration) error { return s.Terminate(timeout) }

// inProcess is the bot assembled with app.New in this process.
type inProcess struct {
	bot *apptest.Running

	mu   sync.Mutex
	peak uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func newInProcess(bot *apptest.Running) *inProcess {
	p := &inProcess{bot: bot, stop: make(chan struct{})}
	// runtime/metrics has no peak: sample it.
	p.wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			p.Memory()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	})
	return p
}

var goMemory = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/os-stacks:bytes",
}

// Memory is the Go heap in use plus goroutine stacks of this whole process (bot and
// emulator together): an in-process bot has no RSS of its own.
func (p *inProcess) Memory() (now, peak uint64, what string) {
	samples := make([]metrics.Sample, len(goMemory))
	for i, name := range goMemory {
		samples[i].Name = name
	}
	metrics.Read(samples)
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			now += s.Value.Uint64()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.peak = max(p.peak, now)
	return now, p.peak, "in-process: Go heap in use + stacks of the loadgen process (bot and emulator together; runtime/metrics), not RSS"
}

func (p *inProcess) Stop(timeout time.Duration) error {
	defer func() {
		close(p.stop)
		p.wg.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return p.bot.Stop(ctx)
}
