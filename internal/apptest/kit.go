package apptest

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// Options say what a Kit starts with.
type Options struct {
	Emulator slackfake.Options
	// RunbooksFrom is copied into the runbooks directory (its top-level *.yaml files),
	// then Runbooks (file name → YAML) is written there.
	RunbooksFrom fs.FS
	Runbooks     map[string]string
}

// Kit is one test's Runbook: a workspace, a directory, the configuration pointed at
// both, and the bot — in this process (Start) or the binary (StartBinary) — until the
// test ends. Tests adjust Config and AppOptions before Start. When the test ends the
// bot is stopped, and the test fails if a token appears in its logs.
type Kit struct {
	*Workspace
	Config     *config.Config
	AppOptions app.Options // the kit sets Logger
	Logs       *LogBuffer  // the in-process bot's log
	Dir        string

	tb      TB
	mu      sync.Mutex
	running *Running
	procs   []*Process
}

// New starts the workspace and writes the runbooks; the bot starts with Start or
// StartBinary.
func New(tb TB, opts Options) *Kit {
	tb.Helper()
	k := &Kit{Workspace: NewWorkspace(tb, opts.Emulator), Logs: NewLogBuffer(), Dir: tb.TempDir(), tb: tb}
	k.Config = Config(k.Workspace, k.Dir)
	k.Config.Log.Level = "debug"
	if err := WriteRunbooks(k.Config.Runbooks.Dir, opts.RunbooksFrom, opts.Runbooks); err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(k.cleanup)
	return k
}

func (k *Kit) cleanup() {
	k.Stop()
	k.mu.Lock()
	procs := k.procs
	k.mu.Unlock()
	for _, p := range procs {
		p.Kill()
	}
	logs := k.Logs.String() + k.ProcessLog()
	for _, tok := range []string{k.Slack.BotToken(), k.Slack.AppToken(), SigningSecret, APITokenIncidents, APITokenApprovals, APITokenNone} {
		if strings.Contains(logs, tok) {
			k.tb.Errorf("a token or the signing secret appeared in the bot's logs")
		}
	}
}

// SigningSecret is the signing secret of the kit's app in HTTP mode.
const SigningSecret = "e2e0c8f4a1b7d3965f0a8c2b4d6e1f37"

// HTTPMode configures the bot for HTTP mode — Slack's requests posted, signed, to
// http.addr (a free port on 127.0.0.1), no app-level token; Kit.Start then points the
// emulator's delivery at it.
func HTTPMode(cfg *config.Config) {
	cfg.Slack.Mode = config.ModeHTTP
	cfg.Slack.SigningSecret = config.Secret(SigningSecret)
	cfg.Slack.AppToken = ""
	cfg.HTTP.Addr = "127.0.0.1:0"
}

// API tokens WithAPI configures: one per scope, named as the scope's user would be, and
// one with a scope that grants nothing the tests use.
const (
	APITokenIncidents = "alerts-0123456789abcdef0123456789abcdef"
	APITokenApprovals = "ci-0123456789abcdef0123456789abcdef0123"
	APITokenNone      = "idle-0123456789abcdef0123456789abcdef01"
)

// WithAPI turns the API on: http.addr on a free port of 127.0.0.1 unless set, and
// three tokens — alerts (scope incidents), ci (scope approvals) and idle (whose only
// scope is incidents too, so that a test can tell 403 from 401 on approvals). Kit.APIURL
// is the base URL once started.
func WithAPI(cfg *config.Config) {
	if cfg.HTTP.Addr == "" {
		cfg.HTTP.Addr = "127.0.0.1:0"
	}
	cfg.API.Tokens = []config.APIToken{
		{Name: "alerts", Token: config.Secret(APITokenIncidents), Scopes: []string{config.ScopeIncidents}},
		{Name: "ci", Token: config.Secret(APITokenApprovals), Scopes: []string{config.ScopeApprovals}},
		{Name: "idle", Token: config.Secret(APITokenNone), Scopes: []string{config.ScopeIncidents}},
	}
}

// APIURL is the running bot's base URL ("http://127.0.0.1:PORT"): the API is under
// /api/v1/ on it.
func (k *Kit) APIURL() string {
	k.tb.Helper()
	a := k.App()
	if a.HTTP == nil {
		k.tb.Fatalf("APIURL: the bot has no HTTP listener (configure apptest.WithAPI)")
	}
	return "http://" + a.HTTP.Addr()
}

// SlackRetryInterval is the first pause before the bot tries a Slack call again in
// tests: what is retried and how often is the same as with the adapter's 500 ms, and
// a test of eight tries waits a second, not sixteen.
const SlackRetryInterval = 20 * time.Millisecond

// options are the app's options for the kit: AppOptions, its logger, and
// SlackRetryInterval unless the test set one.
func (k *Kit) options() app.Options {
	opts := k.AppOptions
	opts.Logger = Logger(k.Logs, k.Config.Log.SlogLevel())
	if opts.SlackRetryInterval == 0 {
		opts.SlackRetryInterval = SlackRetryInterval
	}
	return opts
}

// Start starts the bot in this process on the kit's configuration and database, and
// waits until it is connected.
func (k *Kit) Start() *app.App {
	k.tb.Helper()
	opts := k.options()
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	var r *Running
	var err error
	if k.Config.Slack.HTTPMode() {
		r, err = StartServing(ctx, k.Workspace, k.Config, opts)
	} else {
		r, err = StartConnected(ctx, k.Workspace, k.Config, opts)
	}
	if err != nil {
		k.tb.Fatalf("start the bot: %v\n%s", err, k.diagnostics())
	}
	k.mu.Lock()
	k.running = r
	k.mu.Unlock()
	return r.App
}

// Stop stops the bot started by Start, as a stop signal would, and closes its store;
// the test fails if Run returns an error.
func (k *Kit) Stop() {
	k.tb.Helper()
	k.mu.Lock()
	r := k.running
	k.running = nil
	k.mu.Unlock()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		k.tb.Errorf("%v", err)
	}
}

// Restart stops the bot and starts a new one on the same database, as the next process
// would.
func (k *Kit) Restart() *app.App {
	k.tb.Helper()
	k.Stop()
	return k.Start()
}

// App is the running bot's app, or nil.
func (k *Kit) App() *app.App {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.running == nil {
		return nil
	}
	return k.running.App
}

// NewApp assembles Runbook on the kit's configuration without running it — another
// process on the same database, say — and closes it when the test ends.
func (k *Kit) NewApp() *app.App {
	k.tb.Helper()
	opts := k.options()
	a, err := app.New(context.Background(), k.Config, opts)
	if err != nil {
		k.tb.Fatalf("assemble the bot: %v", err)
	}
	k.tb.Cleanup(func() { a.Close() })
	return a
}

// StartBinary writes the kit's configuration to Dir/config.yaml and starts the bot
// binary on it, its output appended to Dir/bot.log, and waits until it is connected.
// It is killed when the test ends, if it has not ended before.
//
// In HTTP mode it gives http.addr a free port of 127.0.0.1 (when it is 0, for a
// subprocess tells no one which port it got), waits until /readyz answers 200 and
// points the emulator's signed delivery at it.
func (k *Kit) StartBinary(binary string) *Process {
	k.tb.Helper()
	if k.Config.Slack.HTTPMode() {
		return k.startBinaryServing(binary)
	}
	since := k.Slack.ConnectCount()
	p := k.startProcess(binary)
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	if err := k.WaitConnected(ctx, since, k.Config.Slack.Connections, p.Exited); err != nil {
		k.tb.Fatalf("start the bot binary: %v (%v)\n%s", err, p.Err(), k.diagnostics())
	}
	return p
}

func (k *Kit) startBinaryServing(binary string) *Process {
	k.tb.Helper()
	if strings.HasSuffix(k.Config.HTTP.Addr, ":0") {
		addr, err := freeAddr()
		if err != nil {
			k.tb.Fatalf("%v", err)
		}
		k.Config.HTTP.Addr = addr
	}
	p := k.startProcess(binary)
	ready := func() bool {
		if p.Exited() {
			return true
		}
		resp, err := http.Get("http://" + k.Config.HTTP.Addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if err := WaitWithin(Patience, k.Slack, ready); err != nil || p.Exited() {
		k.tb.Fatalf("start the bot binary in HTTP mode: %v (%v)\n%s", err, p.Err(), k.diagnostics())
	}
	k.Slack.DeliverOverHTTP(slackfake.HTTPDelivery{URL: "http://" + k.Config.HTTP.Addr, Secret: SigningSecret})
	return p
}

// startProcess writes the configuration and starts the binary on it.
func (k *Kit) startProcess(binary string) *Process {
	k.tb.Helper()
	path := filepath.Join(k.Dir, "config.yaml")
	if err := WriteConfigFile(path, k.Config); err != nil {
		k.tb.Fatalf("%v", err)
	}
	f, err := os.OpenFile(k.processLogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		k.tb.Fatalf("%v", err)
	}
	defer f.Close() // the process has its own descriptor
	p, err := StartProcess(binary, path, k.Workspace, f)
	if err != nil {
		k.tb.Fatalf("%v", err)
	}
	k.mu.Lock()
	k.procs = append(k.procs, p)
	k.mu.Unlock()
	return p
}

// freeAddr is a port of 127.0.0.1 that nothing listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (k *Kit) processLogPath() string { return filepath.Join(k.Dir, "bot.log") }

// ProcessLog is what the binaries started by StartBinary have written so far.
func (k *Kit) ProcessLog() string {
	b, _ := os.ReadFile(k.processLogPath())
	return string(b)
}

// WaitFor waits until cond holds, waking at every change in the emulator and every
// Tick; it fails the test, with the end of the logs, if cond does not hold within
// Patience.
func (k *Kit) WaitFor(what string, cond func() bool) {
	k.tb.Helper()
	if err := WaitWithin(Patience, k.Slack, cond); err != nil {
		k.tb.Fatalf("waiting for %s: %v\n%s", what, err, k.diagnostics())
	}
}

// Eventually is WaitFor that reports instead of failing: whether cond held within
// Patience.
func (k *Kit) Eventually(cond func() bool) bool {
	return WaitWithin(Patience, k.Slack, cond) == nil
}

// Context is a context for one call to the bot or the emulator: it ends after
// Patience, or when the test ends.
func (k *Kit) Context() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	k.tb.Cleanup(cancel)
	return ctx
}

// diagnostics is the end of the logs, for a failure message.
func (k *Kit) diagnostics() string {
	out := "bot log (tail):\n" + Tail(k.Logs.String(), 60)
	if p := k.ProcessLog(); p != "" {
		out += "\nbot process log (tail):\n" + Tail(p, 60)
	}
	return out
}
