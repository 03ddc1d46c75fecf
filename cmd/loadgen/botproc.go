package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
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
	before := w.srv.ConnectCount()
	start := time.Now()
	var (
		p   botProcess
		err error
	)
	if o.botBinary != "" {
		p, err = startSubprocess(w, o.botBinary, logOut)
	} else {
		p, err = startInProcess(w, logOut)
	}
	if err != nil {
		return nil, 0, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var connected time.Time
	err = w.srv.Wait(wctx, func() bool {
		if w.srv.ConnectCount() > before && w.srv.Connections() > 0 {
			connected = time.Now()
			return true
		}
		if s, ok := p.(*subprocess); ok && s.exited() {
			return true
		}
		return false
	})
	if err == nil && connected.IsZero() {
		err = errors.New("the bot exited before it connected")
	}
	if err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, 0, fmt.Errorf("waiting for the bot to connect: %w", err)
	}
	return p, connected.Sub(start), nil
}

// subprocess is the real binary, run with the generated configuration.
type subprocess struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startSubprocess(w *world, binary string, logOut io.Writer) (*subprocess, error) {
	cmd := exec.Command(binary, "run", "--config", w.config)
	cmd.Env = w.environ()
	cmd.Dir = w.dir
	cmd.Stdout, cmd.Stderr = logOut, logOut
	// Wait returns even if something the bot started holds its output open.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	s := &subprocess{cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	return s, nil
}

func (s *subprocess) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Memory reads VmRSS and VmHWM (the peak resident set) from /proc.
func (s *subprocess) Memory() (now, peak uint64, what string) {
	what = "bot process RSS (/proc/PID/status VmRSS, VmHWM)"
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
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

// Stop sends SIGTERM and waits; past the timeout it kills the process.
func (s *subprocess) Stop(timeout time.Duration) error {
	if s.exited() {
		return s.err
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.done:
		return s.err
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("the bot did not stop within %s after SIGTERM; killed", timeout)
	}
}

// inProcess is the bot assembled with app.New in this process.
type inProcess struct {
	app    *app.App
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	peak uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startInProcess(w *world, logOut io.Writer) (*inProcess, error) {
	cfg, err := config.Load(w.config, w.environ())
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	a, err := app.New(context.Background(), cfg, app.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcess{app: a, cancel: cancel, done: make(chan error, 1), stop: make(chan struct{})}
	go func() { p.done <- a.Run(ctx) }()
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
	return p, nil
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
	p.cancel()
	defer func() {
		close(p.stop)
		p.wg.Wait()
		p.app.Close()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-p.done:
		return err
	case <-t.C:
		return fmt.Errorf("the bot did not stop within %s", timeout)
	}
}
