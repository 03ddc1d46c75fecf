package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// world is the demo's workspace: the emulator, the bot connected to it, and the
// temporary directory holding the database and the runbooks. It is started with the
// same kit as the end-to-end tests.
type world struct {
	ws  *apptest.Workspace
	srv *slackfake.Server // ws.Slack
	bot *apptest.Running
	app *app.App // bot.App
	dir string
	tr  *transcript
	api *deployAPI // the stand-in deploy API the scale-up runbook calls
	// yours are the runbooks (and configuration) the person brought, or nil for the
	// bundled runbooks the script plays.
	yours *yours

	users  []slackfake.User             // the people, in the order they were added
	groups map[string]string            // user group id → handle
	chans  map[string]slackfake.Channel // the seeded channels, by name
}

const (
	oncallGroup     = "oncall"
	approvalChannel = "#ops"
	defaultChannel  = "#incidents"
)

// startWorld starts the emulator, seeds the workspace and starts the bot, connected.
func startWorld(ctx context.Context, logs io.Writer, y *yours) (w *world, err error) {
	dir, err := os.MkdirTemp("", "runbook-demo-")
	if err != nil {
		return nil, fmt.Errorf("create a temporary directory: %w", err)
	}
	w = &world{dir: dir, groups: map[string]string{}, chans: map[string]slackfake.Channel{}, tr: newTranscript(), yours: y}
	defer func() {
		if err != nil {
			w.stop()
		}
	}()
	if w.ws, err = apptest.StartWorkspace(slackfake.Options{OnAPICall: w.tr.onCall}); err != nil {
		return nil, err
	}
	w.srv = w.ws.Slack
	w.seed()
	w.seedYours()
	w.tr.attach(w.srv, w.names())
	if w.api, err = startDeployAPI(apptest.Logger(logs, slog.LevelInfo), w.tr.onExchange); err != nil {
		return nil, err
	}
	return w, w.startBot(ctx, logs)
}

// seed adds the kit's usual workspace: the people, the @oncall group (bob) and the
// channels everyone is in.
func (w *world) seed() {
	s := w.ws.Seed()
	w.users = s.People
	for _, g := range s.Groups {
		w.groups[g.ID] = g.Handle
	}
	for _, c := range s.Channels {
		w.chans[c.Name] = c
	}
}

// channelName is what the emulator takes as a channel name, as Slack does.
var channelName = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)

// seedYours adds what your configuration and runbooks name: their channels, with
// everyone in them, and a user group for each person of yours who is not a demo
// person (see yours.mapPeople).
func (w *world) seedYours() {
	if w.yours == nil {
		return
	}
	everyone := w.peopleNames()
	for _, name := range w.yours.channels() {
		if _, ok := w.chans[name]; !ok && channelName.MatchString(name) {
			w.chans[name] = w.ws.Channel(name, everyone...)
		}
	}
	made := map[string]bool{}
	for _, handle := range w.yours.groupHandles() {
		if !made[handle] {
			made[handle] = true
			g := w.ws.Group(handle, demoMembers...)
			w.groups[g.ID] = g.Handle
		}
	}
}

// config is the kit's configuration pointed at the emulator and the temporary
// directory, with the channels and approvers the script relies on. http.request may
// reach the stand-in deploy API and nothing else, and its token is a secret, as a
// production configuration would have them.
func (w *world) config() *config.Config {
	cfg := apptest.Config(w.ws, w.dir)
	cfg.Slack.DefaultChannel = defaultChannel
	cfg.Slack.ApprovalChannel = approvalChannel
	cfg.Services = map[string]config.Service{"checkout": {Slack: config.ServiceSlack{Channel: defaultChannel}}}
	cfg.Approvals.Approvers = []string{"@" + oncallGroup}
	cfg.Actions.HTTP.AllowedHosts = []string{w.api.host()}
	cfg.Secrets = map[string]config.Secret{deployTokenSecret: config.Secret(w.api.token)}
	if w.yours != nil {
		w.yours.apply(cfg)
	}
	return cfg
}

// startBot writes the runbooks, assembles the real bot and waits until it is connected.
func (w *world) startBot(ctx context.Context, logs io.Writer) error {
	cfg := w.config()
	if w.yours == nil {
		if err := apptest.WriteRunbooks(cfg.Runbooks.Dir, runbooksFS(), nil); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, actTimeout)
	defer cancel()
	bot, err := apptest.StartConnected(ctx, w.ws, cfg, app.Options{Logger: apptest.Logger(logs, cfg.Log.SlogLevel()),
		Sandbox: true}) // trying runbooks never reaches beyond this machine
	if err != nil {
		return err
	}
	w.bot, w.app = bot, bot.App
	return nil
}

// stop stops the bot gracefully, then the stand-in deploy API (which the bot may
// have been calling), closes the database and the emulator, and removes the
// temporary directory.
func (w *world) stop() error {
	var errs []error
	if w.bot != nil {
		if err := w.bot.Stop(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	if w.api != nil {
		errs = append(errs, w.api.stop())
	}
	if w.ws != nil {
		w.ws.Close()
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

// peopleNames are the handles of the seeded people.
func (w *world) peopleNames() []string {
	names := make([]string, len(w.users))
	for i, u := range w.users {
		names[i] = u.Name
	}
	return names
}
