package faults

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // to read the bot's database, and lock it

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// botBinary is the real bot, built once by TestMain for the tests that kill it.
var botBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	botBinary = filepath.Join(dir, "bot")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	// Built the way this test binary was (with -race under -race), so that the build
	// reuses the packages the test already compiled instead of compiling SQLite again.
	args := []string{"build", "-o", botBinary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool, append(args, "github.com/runbookhq/runbook/cmd/bot")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: go build ./cmd/bot: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a bot's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// world is the emulated workspace a test runs the bot in.
type world struct {
	t     *testing.T
	slack *slackfake.Server
	dir   string
	db    string
	rb    string // runbooks directory
	alice slackfake.User
	bob   slackfake.User // approver
	logs  *syncBuffer
}

// newWorld starts the emulator. The bot is started by the test, in this process or as a
// subprocess, on the world's database and runbooks.
func newWorld(t *testing.T, opts slackfake.Options, runbooks map[string]string) *world {
	t.Helper()
	srv, err := slackfake.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	w := &world{t: t, slack: srv, dir: dir, db: filepath.Join(dir, "runbook.db"), rb: filepath.Join(dir, "runbooks"), logs: &syncBuffer{}}
	if err := os.MkdirAll(w.rb, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range runbooks {
		if err := os.WriteFile(filepath.Join(w.rb, name+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.alice = srv.AddUser("alice")
	w.bob = srv.AddUser("bob")
	return w
}

// config is the bot's configuration for this world.
func (w *world) config(adjust ...func(*config.Config)) *config.Config {
	cfg := config.Default()
	cfg.Slack.BotToken = config.Secret(w.slack.BotToken())
	cfg.Slack.AppToken = config.Secret(w.slack.AppToken())
	cfg.Slack.APIURL = w.slack.APIURL()
	cfg.Store.Path = w.db
	cfg.Runbooks.Dir = w.rb
	cfg.Approvals.Approvers = []string{w.bob.ID}
	cfg.Log.Level = "debug"
	for _, a := range adjust {
		a(cfg)
	}
	return cfg
}

// channel adds a channel alice and bob are in (and the bot).
func (w *world) channel(name string) slackfake.Channel {
	return w.slack.AddChannel(name, slackfake.ChannelMembers(w.alice.ID, w.bob.ID))
}

// waitFor waits until cond holds, re-checking on every change in the emulator and at
// least every 50 ms (for conditions on the database).
func (w *world) waitFor(timeout time.Duration, what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := w.slack.Wait(ctx, cond)
		cancel()
		if err == nil {
			return
		}
		if errors.Is(err, slackfake.ErrClosed) || time.Now().After(deadline) {
			w.t.Fatalf("waiting for %s: timed out after %s\nbot log (tail):\n%s%s", what, timeout,
				tail(w.logs.String(), 40), tail(w.processLog(), 40))
		}
	}
}

// waitQuiet waits until cond holds, polling; it does not fail the test.
func waitQuiet(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// replies returns the bot's replies in the thread of ts.
func (w *world) replies(channel, ts string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.slack.Messages(channel) {
		if m.ThreadTS == ts && m.TS != ts && m.BotID != "" {
			out = append(out, m)
		}
	}
	return out
}

// ackText is the text (and blocks) a slash command's ack carried.
func ackText(a slackfake.Ack) string {
	var m struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if len(a.Payload) == 0 || json.Unmarshal(a.Payload, &m) != nil {
		return ""
	}
	return m.Text + string(m.Blocks)
}

// query runs a read-only query on the bot's database (it may be running: WAL lets a
// reader in) and scans one value of one row.
func (w *world) query(q string, dest any, args ...any) error {
	db, err := sql.Open("sqlite3", "file:"+w.db+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	return db.QueryRow(q, args...).Scan(dest)
}

// count is a COUNT(*) query, failing the test on error.
func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+w.db+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// inProcess is the bot assembled by app.New in the test process.
type inProcess struct {
	w      *world
	app    *app.App
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startInProcess starts the bot and waits until it is connected.
func (w *world) startInProcess(cfg *config.Config) *inProcess {
	w.t.Helper()
	logger := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	a, err := app.New(context.Background(), cfg, app.Options{Logger: logger})
	if err != nil {
		w.t.Fatal(err)
	}
	before := w.slack.ConnectCount()
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcess{w: w, app: a, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- a.Run(ctx) }()
	w.t.Cleanup(p.stop)
	w.waitFor(20*time.Second, "the bot to connect", func() bool {
		return w.slack.ConnectCount() > before && w.slack.Connections() > 0
	})
	return p
}

// stop stops the bot gracefully and closes its store.
func (p *inProcess) stop() {
	p.once.Do(func() {
		p.cancel()
		select {
		case err := <-p.done:
			if err != nil {
				p.w.t.Errorf("the bot stopped with an error: %v", err)
			}
		case <-time.After(30 * time.Second):
			p.w.t.Errorf("the bot did not stop within 30 s")
		}
		p.app.Close()
	})
}

// subprocess is the real binary.
type subprocess struct {
	w    *world
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// writeConfig writes the configuration file a subprocess reads; the tokens come from
// the environment.
func (w *world) writeConfig(extra string) string {
	w.t.Helper()
	body := fmt.Sprintf(`slack:
  apiURL: %q
store:
  path: %q
runbooks:
  dir: %q
approvals:
  approvers: [%q]
log:
  level: debug
%s`, w.slack.APIURL(), w.db, w.rb, w.bob.ID, extra)
	path := filepath.Join(w.dir, "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// startSubprocess starts the binary and waits until it is connected.
func (w *world) startSubprocess(configPath string) *subprocess {
	w.t.Helper()
	f, err := os.OpenFile(filepath.Join(w.dir, "bot.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.Command(botBinary, "run", "--config", configPath)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RUNBOOK_") && !strings.HasPrefix(kv, "SLACK_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "SLACK_BOT_TOKEN="+w.slack.BotToken(), "SLACK_APP_TOKEN="+w.slack.AppToken(),
		// A race-enabled binary otherwise sleeps a second at exit, which is not the
		// bot's shutdown time.
		"GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	cmd.Stdout, cmd.Stderr = f, f
	before := w.slack.ConnectCount()
	if err := cmd.Start(); err != nil {
		f.Close()
		w.t.Fatal(err)
	}
	p := &subprocess{w: w, cmd: cmd, log: f, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	w.t.Cleanup(func() { p.kill() })
	w.waitFor(30*time.Second, "the bot process to connect", func() bool {
		return (w.slack.ConnectCount() > before && w.slack.Connections() > 0) || p.exited()
	})
	if p.exited() {
		w.t.Fatalf("the bot exited before connecting: %v\n%s", p.err, w.processLog())
	}
	return p
}

func (p *subprocess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *subprocess) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// terminate sends SIGTERM and returns how long the process took to exit, and its
// exit code; it kills the process if it outlives timeout.
func (p *subprocess) terminate(timeout time.Duration) (time.Duration, int) {
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.w.t.Errorf("the bot did not exit within %s of SIGTERM", timeout)
		p.kill()
	}
	return time.Since(start), p.cmd.ProcessState.ExitCode()
}

// processLog is the subprocesses' log so far.
func (w *world) processLog() string {
	b, _ := os.ReadFile(filepath.Join(w.dir, "bot.log"))
	return string(b)
}

// waitAckFor waits for an envelope's first ack.
func waitAckFor(d *slackfake.Delivery, timeout time.Duration) (slackfake.Ack, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.WaitAck(ctx)
}

// lastLine returns the last line of logs that contains substr ("" if none).
func lastLine(logs, substr string) string {
	lines := strings.Split(logs, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return lines[i]
		}
	}
	return ""
}

// grepLines returns the lines of logs that contain any of substrs.
func grepLines(logs string, substrs ...string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		for _, s := range substrs {
			if strings.Contains(l, s) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// eventID is the event id of a delivered event: the id the bot records it under.
func eventID(d *slackfake.Delivery) string {
	var p struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(d.Payload, &p)
	return p.EventID
}
