package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// Runbooks the load generator installs in the bot's runbooks directory. Nothing else is
// loaded, so that no example runbook adds work the scenario did not ask for.
const (
	// declaredStore runs on every declared incident: three steps that touch only the
	// store, so that the figure measures the bot and not Slack's rate limits.
	declaredStore = `name: lg-declared
description: loadgen — three steps run for every declared incident
on:
  - event: incident.declared
steps:
  - action: incident.update
    with: { note: "loadgen step 1 of 3" }
  - action: incident.update
    with: { status: investigating, note: "loadgen step 2 of 3" }
  - action: incident.update
    with: { status: mitigating, note: "loadgen step 3 of 3" }
`
	// declaredSlack posts a message in its second step, so that every run makes one
	// Web API call (and is bound by Slack's limit on chat.postMessage, which the bot
	// honours client-side).
	declaredSlack = `name: lg-declared
description: loadgen — three steps run for every declared incident, one of them a message
on:
  - event: incident.declared
steps:
  - action: incident.update
    with: { note: "loadgen step 1 of 3" }
  - action: slack.send_message
    with: { channel: "#lg-runs", text: "loadgen {{incident.id}}: step 2 of 3" }
  - action: incident.update
    with: { status: mitigating, note: "loadgen step 3 of 3" }
`
	// approval parks a run on an approval request, whose buttons the click mix clicks.
	approvalRunbook = `name: lg-approval
description: loadgen — a request whose buttons are clicked under load
steps:
  - id: gate
    action: approval.request
    with: { operation: "loadgen operation for {{incident.id}}", risk: low, rollback: "none" }
  - action: incident.update
    with: { note: "loadgen approval {{steps.gate.approval_id}} decided" }
`
)

// world is the emulated workspace and the files the bot runs from, set up with the
// same kit as the end-to-end tests.
type world struct {
	ws     *apptest.Workspace
	srv    *slackfake.Server // ws.Slack
	dir    string
	cfg    *config.Config // the bot's configuration
	config string         // path of the same configuration, as a file, for a subprocess
	db     string         // path of the bot's database
	alice  slackfake.User
	bob    slackfake.User // the only approver
	// talk are the channels commands and mentions are spread over; general first.
	general slackfake.Channel
	talk    []slackfake.Channel
	ops     slackfake.Channel
	runs    slackfake.Channel
}

// newWorld starts the emulator on 127.0.0.1 and writes the bot's configuration and
// runbooks into dir.
func newWorld(dir string, o options) (*world, error) {
	ws, err := apptest.StartWorkspace(slackfake.Options{})
	if err != nil {
		return nil, err
	}
	w := &world{ws: ws, srv: ws.Slack, dir: dir, config: filepath.Join(dir, "config.yaml")}
	w.alice, w.bob = ws.Person("alice"), ws.Person("bob")
	w.general = ws.Channel("general", "alice", "bob")
	w.talk = []slackfake.Channel{w.general}
	for i := 2; i <= o.channels; i++ {
		w.talk = append(w.talk, ws.Channel(fmt.Sprintf("general-%d", i), "alice", "bob"))
	}
	w.ops = ws.Channel("ops", "alice", "bob")
	w.runs = ws.Channel("lg-runs")
	w.cfg = w.configure(o)
	w.db = w.cfg.Store.Path
	if err := w.writeFiles(o); err != nil {
		ws.Close()
		return nil, err
	}
	if o.db != "" {
		// A copy, so that the history written once serves every run unchanged.
		if err := copyFile(o.db, w.db); err != nil {
			ws.Close()
			return nil, fmt.Errorf("--db: %w", err)
		}
	}
	return w, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	// On disk before the bot starts: otherwise the bot's first fsync of the file (a
	// WAL checkpoint) waits for the whole copy to be written back, and the run
	// measures the copy.
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// configure is the kit's configuration for the workspace and dir, with the scenario's
// settings.
func (w *world) configure(o options) *config.Config {
	cfg := apptest.Config(w.ws, w.dir)
	cfg.Slack.ApprovalChannel = "#ops"
	cfg.Approvals.Approvers = []string{w.bob.ID}
	cfg.Log.Level = o.logLevel
	if o.workers > 0 {
		cfg.Bot.Workers = o.workers
	}
	if o.queue > 0 {
		cfg.Bot.Queue = o.queue
	}
	cfg.Bot.ShutdownTimeout = 10 * time.Second
	return cfg
}

func (w *world) writeFiles(o options) error {
	declared := declaredStore
	if o.runbook == "slack" {
		declared = declaredSlack
	}
	files := map[string]string{"lg-declared.yaml": declared, "lg-approval.yaml": approvalRunbook}
	if err := apptest.WriteRunbooks(w.cfg.Runbooks.Dir, nil, files); err != nil {
		return err
	}
	return apptest.WriteConfigFile(w.config, w.cfg)
}
