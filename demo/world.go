package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// world is the demo's workspace: the emulator, the bot connected to it, and the
// temporary directory holding the database and the runbooks.
type world struct {
	srv *slackfake.Server
	app *app.App
	dir string
	tr  *transcript

	users  []slackfake.User             // the people, in the order they were added
	groups map[string]string            // user group id → handle
	chans  map[string]slackfake.Channel // the seeded channels, by name

	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	exitErr error // why App.Run returned, once done is closed
}

// The seeded workspace.
var (
	people       = []string{"alice", "bob", "carol"}
	seedChannels = []string{"general", "incidents", "ops"}
)

const (
	oncallGroup     = "oncall"
	approvalChannel = "#ops"
	defaultChannel  = "#incidents"
)

// startWorld starts the emulator, seeds the workspace and starts the bot, connected.
func startWorld(ctx context.Context, logs io.Writer) (w *world, err error) {
	dir, err := os.MkdirTemp("", "runbook-demo-")
	if err != nil {
		return nil, fmt.Errorf("create a temporary directory: %w", err)
	}
	w = &world{dir: dir, groups: map[string]string{}, chans: map[string]slackfake.Channel{}, tr: newTranscript()}
	defer func() {
		if err != nil {
			w.stop()
		}
	}()
	if err := writeRunbooks(filepath.Join(dir, "runbooks")); err != nil {
		return nil, err
	}
	if w.srv, err = slackfake.New(slackfake.Options{OnAPICall: w.tr.onCall}); err != nil {
		return nil, fmt.Errorf("start the Slack emulator: %w", err)
	}
	w.seed()
	w.tr.attach(w.srv, w.names())
	return w, w.startBot(ctx, logs)
}

// seed adds the people, the @oncall group (bob) and the channels everyone is in.
func (w *world) seed() {
	var ids []string
	for _, name := range people {
		u := w.srv.AddUser(name)
		w.users = append(w.users, u)
		ids = append(ids, u.ID)
	}
	g := w.srv.AddUserGroup(oncallGroup, w.user("bob").ID)
	w.groups[g.ID] = g.Handle
	for _, name := range seedChannels {
		w.chans[name] = w.srv.AddChannel(name, slackfake.ChannelMembers(ids...))
	}
}

// config is the default configuration pointed at the emulator and the temporary
// directory, with the channels and approvers the script relies on.
func (w *world) config() *config.Config {
	cfg := config.Default()
	cfg.Slack.BotToken = config.Secret(w.srv.BotToken())
	cfg.Slack.AppToken = config.Secret(w.srv.AppToken())
	cfg.Slack.APIURL = w.srv.APIURL()
	cfg.Slack.DefaultChannel = defaultChannel
	cfg.Slack.ApprovalChannel = approvalChannel
	cfg.Services = map[string]config.Service{"checkout": {Slack: config.ServiceSlack{Channel: defaultChannel}}}
	cfg.Approvals.Approvers = []string{"@" + oncallGroup}
	cfg.Store.Path = filepath.Join(w.dir, "runbook.db")
	cfg.Runbooks.Dir = filepath.Join(w.dir, "runbooks")
	return cfg
}

// startBot assembles the real bot and waits until it is connected.
func (w *world) startBot(ctx context.Context, logs io.Writer) error {
	cfg := w.config()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	a, err := app.New(ctx, cfg, app.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("assemble the bot: %w", err)
	}
	w.app = a
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		err := a.Run(runCtx)
		w.mu.Lock()
		w.exitErr = err
		w.mu.Unlock()
		close(w.done)
	}()
	return w.waitFor(ctx, "the bot to connect", func() bool { return w.srv.Connections() > 0 })
}

// exited reports why the bot stopped, if it has.
func (w *world) exited() (bool, error) {
	select {
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		return true, w.exitErr
	default:
		return false, nil
	}
}

// stop stops the bot gracefully, closes the database and the emulator, and removes
// the temporary directory.
func (w *world) stop() error {
	var errs []error
	if w.cancel != nil {
		w.cancel()
		<-w.done
		if _, err := w.exited(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("the bot stopped with an error: %w", err))
		}
	}
	if w.app != nil {
		errs = append(errs, w.app.Close())
	}
	if w.srv != nil {
		w.srv.Close()
	}
	errs = append(errs, os.RemoveAll(w.dir))
	return errors.Join(errs...)
}

// user returns a seeded person by handle.
func (w *world) user(name string) slackfake.User {
	for _, u := range w.users {
		if u.Name == name {
			return u
		}
	}
	return slackfake.User{}
}

// names is what the renderer needs to show ids as names.
func (w *world) names() *names {
	n := &names{srv: w.srv, groups: w.groups, users: map[string]string{w.srv.BotUserID(): botName}}
	for _, u := range w.users {
		n.users[u.ID] = u.Name
		n.ids = append(n.ids, u.ID)
	}
	return n
}
