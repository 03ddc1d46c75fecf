package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	// Web API call (and is bound by Slack's limits on chat.postMessage and
	// chat.getPermalink, which the bot honours client-side).
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

// world is the emulated workspace and the files the bot runs from.
type world struct {
	srv     *slackfake.Server
	dir     string
	config  string // path of the bot's configuration file
	db      string // path of the bot's database
	alice   slackfake.User
	bob     slackfake.User // the only approver
	general slackfake.Channel
	// talk are the channels commands and mentions are spread over; general first.
	talk []slackfake.Channel
	ops  slackfake.Channel
	runs slackfake.Channel
}

// newWorld starts the emulator on 127.0.0.1 and writes the bot's configuration and
// runbooks into dir.
func newWorld(dir string, o options) (*world, error) {
	srv, err := slackfake.New(slackfake.Options{})
	if err != nil {
		return nil, err
	}
	w := &world{srv: srv, dir: dir, config: filepath.Join(dir, "config.yaml"), db: filepath.Join(dir, "runbook.db")}
	w.alice = srv.AddUser("alice")
	w.bob = srv.AddUser("bob")
	w.general = srv.AddChannel("general", slackfake.ChannelMembers(w.alice.ID, w.bob.ID))
	w.talk = []slackfake.Channel{w.general}
	for i := 2; i <= o.channels; i++ {
		w.talk = append(w.talk, srv.AddChannel(fmt.Sprintf("general-%d", i), slackfake.ChannelMembers(w.alice.ID, w.bob.ID)))
	}
	w.ops = srv.AddChannel("ops", slackfake.ChannelMembers(w.alice.ID, w.bob.ID))
	w.runs = srv.AddChannel("lg-runs")
	if err := w.writeFiles(o); err != nil {
		srv.Close()
		return nil, err
	}
	return w, nil
}

func (w *world) writeFiles(o options) error {
	rbDir := filepath.Join(w.dir, "runbooks")
	if err := os.MkdirAll(rbDir, 0o755); err != nil {
		return err
	}
	declared := declaredStore
	if o.runbook == "slack" {
		declared = declaredSlack
	}
	files := map[string]string{"lg-declared.yaml": declared, "lg-approval.yaml": approvalRunbook}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(rbDir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "slack:\n  botToken: ${SLACK_BOT_TOKEN}\n  appToken: ${SLACK_APP_TOKEN}\n")
	fmt.Fprintf(&b, "  apiURL: %q\n  approvalChannel: \"#ops\"\n", w.srv.APIURL())
	fmt.Fprintf(&b, "store:\n  path: %q\n", w.db)
	fmt.Fprintf(&b, "runbooks:\n  dir: %q\n", rbDir)
	fmt.Fprintf(&b, "approvals:\n  approvers: [%q]\n", w.bob.ID)
	fmt.Fprintf(&b, "log:\n  level: %s\n", o.logLevel)
	fmt.Fprintf(&b, "bot:\n")
	if o.workers > 0 {
		fmt.Fprintf(&b, "  workers: %d\n", o.workers)
	}
	if o.queue > 0 {
		fmt.Fprintf(&b, "  queue: %d\n", o.queue)
	}
	fmt.Fprintf(&b, "  shutdownTimeout: 10s\n")
	return os.WriteFile(w.config, []byte(b.String()), 0o600)
}

// environ is the bot's environment: the tokens, and nothing that could override the
// generated configuration.
func (w *world) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RUNBOOK_") || strings.HasPrefix(kv, "SLACK_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "SLACK_BOT_TOKEN="+w.srv.BotToken(), "SLACK_APP_TOKEN="+w.srv.AppToken())
}
