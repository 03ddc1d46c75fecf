package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/handlers"
	"github.com/runbookhq/runbook/internal/apptest"
)

// peer is whatever took the burst: it is stopped after it.
type peer interface {
	Stop(timeout time.Duration) error
}

// cpuTimer is a peer that runs as a process of its own, whose CPU time can be read.
type cpuTimer interface {
	CPU() (time.Duration, bool)
}

// processCPU reads a process's user and system CPU time from /proc/PID/stat.
func processCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: the fields follow its end.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticks = 100 // USER_HZ, 100 on Linux whatever the kernel's own HZ
	return time.Duration(utime+stime) * time.Second / ticks, true
}

// startPeer starts one peer against the world's emulator and waits until it holds all
// its Socket Mode connections, so that no burst is measured against a connection still
// opening.
func startPeer(ctx context.Context, w *world, o options, bo burstOptions, name string, logOut io.Writer) (peer, error) {
	since := w.srv.ConnectCount()
	conns := w.cfg.Slack.Connections
	var (
		p    peer
		gone func() bool
	)
	switch name {
	case peerRunbook:
		bp, _, err := startBot(ctx, w, o, logOut)
		if err != nil {
			return nil, err
		}
		p, gone = bp, func() bool { return false }
	case peerBare, peerAnswer:
		var answer []byte
		if name == peerAnswer {
			var err error
			if answer, err = helpAnswer(); err != nil {
				return nil, err
			}
		}
		if bo.botBinary == "" {
			bl := startBare(w.srv.APIURL(), w.srv.BotToken(), w.srv.AppToken(), conns, answer, logOut)
			p, gone = bl, bl.exited
			break
		}
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		args := []string{"bare-peer", "--api-url", w.srv.APIURL(), "--connections", strconv.Itoa(conns)}
		if answer != nil {
			args = append(args, "--answer-help")
		}
		cmd := exec.Command(self, args...)
		sp, err := startSubprocess(cmd, apptest.Environ(w.ws), logOut)
		if err != nil {
			return nil, err
		}
		p, gone = sp, sp.exited
	case peerBolt:
		conns = 1
		cmd := exec.Command("node", "index.js")
		cmd.Dir = bo.boltDir
		sp, err := startSubprocess(cmd, append(apptest.Environ(w.ws), "SLACK_API_URL="+w.srv.APIURL()), logOut)
		if err != nil {
			return nil, err
		}
		p, gone = sp, sp.exited
	default:
		return nil, fmt.Errorf("unknown peer %q", name)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.ws.WaitConnected(wctx, since, conns, gone); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// subprocess is a peer run as a program of its own.
type peerProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startSubprocess(cmd *exec.Cmd, env []string, out io.Writer) (*peerProcess, error) {
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &peerProcess{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *peerProcess) CPU() (time.Duration, bool) { return processCPU(p.cmd.Process.Pid) }

func (p *peerProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits; past the timeout it kills the process.
func (p *peerProcess) Stop(timeout time.Duration) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within %s of SIGTERM; killed", p.cmd.Path, timeout)
	}
}

// bare is the floor: slack-go's Socket Mode client on conns connections, acking every
// envelope as it reads it and doing nothing else — or, given an answer, acking each
// slash command with it.
type bare struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
}

func startBare(apiURL, botToken, appToken string, conns int, answer []byte, logOut io.Writer) *bare {
	ctx, cancel := context.WithCancel(context.Background())
	b := &bare{cancel: cancel, done: make(chan struct{})}
	for range max(conns, 1) {
		api := slack.New(botToken, slack.OptionAppLevelToken(appToken), slack.OptionAPIURL(apiURL))
		c := socketmode.New(api)
		b.wg.Go(func() {
			if err := c.RunContext(ctx); err != nil && !errors.Is(err, context.Canceled) {
				fmt.Fprintln(logOut, "bare peer:", err)
			}
		})
		b.wg.Go(func() { ackAll(ctx, c, answer) })
	}
	go func() { b.wg.Wait(); close(b.done) }()
	return b
}

// helpAnswer is Runbook's answer to /runbook help as its ack carries it, the same
// bytes: the same handler builds it and the bot's own encoding encodes it. A mention
// is acked empty by the answering loop too: Runbook answers it after the ack, through
// its outbox, paced by Slack's limit of about one message a second per channel, so a
// loop posting every answer at once would measure the emulator's 429s, not a floor.
func helpAnswer() ([]byte, error) {
	reply, err := handlers.New(handlers.Deps{}).Handle(context.Background(),
		&runbook.Request{Kind: runbook.KindCommand, Command: "/runbook", Text: "help"})
	if err != nil {
		return nil, err
	}
	return bot.CommandAnswer(reply)
}

// ackAll acks each envelope of c's connection: a slash command with answer (if any),
// anything else empty.
func ackAll(ctx context.Context, c *socketmode.Client, answer []byte) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-c.Events:
			switch {
			case evt.Request != nil && evt.Request.EnvelopeID != "":
				var payload any
				if answer != nil && evt.Type == socketmode.EventTypeSlashCommand {
					payload = json.RawMessage(answer) // as the bot acks: pre-encoded bytes
				}
				_ = c.AckCtx(ctx, evt.Request.EnvelopeID, payload)
			case evt.Type == socketmode.EventTypeErrorBadMessage:
				// A payload slack-go cannot type still has an envelope id to ack.
				if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
					var env struct {
						EnvelopeID string `json:"envelope_id"`
					}
					if json.Unmarshal(e.Message, &env) == nil && env.EnvelopeID != "" {
						_ = c.AckCtx(ctx, env.EnvelopeID, nil)
					}
				}
			}
		}
	}
}

func (b *bare) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func (b *bare) Stop(timeout time.Duration) error {
	b.cancel()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-b.done:
		return nil
	case <-t.C:
		return errors.New("the bare loop did not stop")
	}
}

// runBarePeer is `loadgen bare-peer`: the bare loop as a program of its own, so that
// it runs as Runbook's binary does, with the tokens in SLACK_BOT_TOKEN and
// SLACK_APP_TOKEN. It runs until a signal.
func runBarePeer(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen bare-peer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiURL := fs.String("api-url", "", "the Web API base URL (ending in /api/)")
	conns := fs.Int("connections", 1, "Socket Mode connections")
	answerHelp := fs.Bool("answer-help", false, "ack each slash command with Runbook's answer to help instead of empty")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bot, app := os.Getenv("SLACK_BOT_TOKEN"), os.Getenv("SLACK_APP_TOKEN")
	if *apiURL == "" || bot == "" || app == "" {
		fmt.Fprintln(stderr, "loadgen bare-peer: give --api-url, and SLACK_BOT_TOKEN and SLACK_APP_TOKEN in the environment")
		return 2
	}
	var answer []byte
	if *answerHelp {
		var err error
		if answer, err = helpAnswer(); err != nil {
			fmt.Fprintln(stderr, "loadgen bare-peer:", err)
			return 1
		}
	}
	b := startBare(*apiURL, bot, app, *conns, answer, stderr)
	select {
	case <-ctx.Done():
	case <-b.done:
	}
	if err := b.Stop(5 * time.Second); err != nil {
		fmt.Fprintln(stderr, "loadgen bare-peer:", err)
		return 1
	}
	return 0
}

// prepareBolt makes the Bolt peer runnable: node on the PATH, and its locked
// dependencies installed (npm ci) if they are not. It returns why it cannot, or "".
func prepareBolt(ctx context.Context, dir string, progress io.Writer) string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed (Bolt for JavaScript needs Node.js 18 or later)"
	}
	if _, err := os.Stat(filepath.Join(dir, "index.js")); err != nil {
		return fmt.Sprintf("no index.js in %s (give --bolt-dir)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@slack", "bolt")); err == nil {
		return ""
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Sprintf("npm is not installed, and %s has no node_modules", dir)
	}
	fmt.Fprintf(progress, "loadgen burst: npm ci in %s\n", dir)
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("npm ci in %s failed: %v", dir, err)
	}
	return ""
}
