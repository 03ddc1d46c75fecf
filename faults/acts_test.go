package faults

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// Runbooks that act — http.request and command.run — when the real bot is killed in
// the middle of an action, and what a command gets from the bot.

// actsWorld is newWorld with runbooks (file name → YAML) whose $API and $BIN stand
// for an API of the test's own and a directory of its scripts; alice runs them in
// #general.
func actsWorld(t *testing.T, api *apptest.API, bin string, runbooks map[string]string) (*world, slackfake.Channel) {
	t.Helper()
	url := ""
	if api != nil {
		url = api.URL
	}
	fill := strings.NewReplacer("$API", url, "$BIN", bin)
	files := map[string]string{}
	for name, body := range runbooks {
		files[name] = fill.Replace(body)
	}
	w := newWorld(t, slackfake.Options{}, files)
	return w, w.channel("general")
}

var startedRe = regexp.MustCompile(`Started \*[a-z0-9_-]+\* \(R-(\d+)\)`)

// startRun runs a runbook as alice in channel and returns the run's id.
func (w *world) startRun(channel, text string) int64 {
	w.t.Helper()
	answer := w.Ask(w.alice.ID, channel, "run "+text)
	m := startedRe.FindStringSubmatch(answer)
	if m == nil {
		w.t.Fatalf("run %s answered %q", text, answer)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// runIs reports whether a run is in state, reading the bot's database.
func (w *world) runIs(id int64, state string) bool {
	var got string
	return w.query("SELECT state FROM runs WHERE id = ?", &got, id) == nil && got == state
}

// waitRunIs waits for a run to be in state and returns its error.
func (w *world) waitRunIs(id int64, state string) string {
	w.t.Helper()
	w.WaitFor("R-"+strconv.FormatInt(id, 10)+" to be "+state, func() bool { return w.runIs(id, state) })
	var why string
	if err := w.query("SELECT error FROM runs WHERE id = ?", &why, id); err != nil {
		w.t.Fatal(err)
	}
	return why
}

// step reads a step of a run from the bot's database: its state and outputs.
func (w *world) step(run int64, index int) (string, map[string]any) {
	w.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+w.dbPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	var state, outputs string
	err = db.QueryRow("SELECT state, outputs FROM run_steps WHERE run_id = ? AND idx = ?", run, index).Scan(&state, &outputs)
	if err != nil {
		w.t.Fatalf("R-%d step %d: %v", run, index+1, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(outputs), &out); err != nil {
		w.t.Fatalf("R-%d step %d outputs: %v", run, index+1, err) // not printed: they may hold what must not be
	}
	return state, out
}

// botSaid waits for a message of the bot in a channel that contains text and returns
// its text.
func (w *world) botSaid(channel, text string) string {
	w.t.Helper()
	var said string
	w.WaitFor("the bot to say "+strconv.Quote(text), func() bool {
		for _, m := range w.Slack.Messages(channel) {
			if m.BotID != "" && strings.Contains(m.Text, text) {
				said = m.Text
				return true
			}
		}
		return false
	})
	return said
}

// holdScript records each time it runs, a line each, in the file named by its
// argument. Its first run then holds, as a long deploy would, until that file's name
// with ".done" exists; a later run finishes at once.
const holdScript = `#!/bin/sh
echo run >> "$1"
if [ "$(wc -l < "$1")" -eq 1 ]; then
	while [ ! -e "$1.done" ]; do sleep 0.05; done
	exit 0
fi
echo "ran again"
`

// runsOf is how many times a holdScript recorded in path that it ran.
func runsOf(path string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), "run\n")
}

// release lets the first run of a holdScript recording in path end.
func release(t *testing.T, path string) {
	if err := os.WriteFile(path+".done", nil, 0o644); err != nil {
		t.Error(err)
	}
}

// TestKillDuringActions SIGKILLs the bot while three actions are in flight: an
// http.request whose API holds the answer, and two commands still running, one of them
// marked idempotent. After the restart the request is sent again with the same
// Idempotency-Key and its run succeeds; the plain command is not run again and its run
// fails as "interrupted; may or may not have completed", in Slack and in /runbook runs;
// the idempotent one is run again and its run succeeds.
func TestKillDuringActions(t *testing.T) {
	held := make(chan struct{})
	api := apptest.NewAPI(t, func(n int, _ apptest.APIRequest) apptest.APIAnswer {
		if n == 1 {
			return apptest.APIAnswer{Hold: held, Body: "deployed (first)"}
		}
		return apptest.APIAnswer{Body: "deployed"}
	})
	bin := t.TempDir()
	script := filepath.Join(bin, "hold.sh")
	if err := os.WriteFile(script, []byte(holdScript), 0o755); err != nil {
		t.Fatal(err)
	}
	plain, safe := filepath.Join(bin, "plain.runs"), filepath.Join(bin, "safe.runs")
	w, general := actsWorld(t, api, bin, map[string]string{
		"deploy.yaml": `name: deploy
steps:
  - { id: call, action: http.request, with: { url: "$API/deploy", json: { service: checkout }, timeout: 10m } }
`,
		"restart.yaml": `name: restart
steps:
  - { action: command.run, with: { command: ["$BIN/hold.sh", "$BIN/plain.runs"] } }
`,
		"restart-safe.yaml": `name: restart-safe
steps:
  - { action: command.run, idempotent: true, with: { command: ["$BIN/hold.sh", "$BIN/safe.runs"] } }
`,
	})
	w.Config.Actions.Command.Allowed = []string{script}
	// The first runs of the script outlive the bot that started them, until released.
	t.Cleanup(func() { release(t, plain); release(t, safe) })
	bot := w.StartBinary(botBinary)
	deploy := w.startRun(general.ID, "deploy")
	restart := w.startRun(general.ID, "restart")
	restartSafe := w.startRun(general.ID, "restart-safe")
	w.WaitFor("the request to arrive and both commands to run", func() bool {
		return len(api.Requests()) == 1 && runsOf(plain) == 1 && runsOf(safe) == 1
	})
	// The key is stored before the request is sent, with no result yet.
	state, progress := w.step(deploy, 0)
	key := api.Requests()[0].Header.Get("Idempotency-Key")
	if state != "running" || key == "" || progress["idempotency_key"] != key {
		t.Fatalf("before the kill the step is %s with %v; the request carried Idempotency-Key %q", state, progress, key)
	}
	bot.Kill()
	close(held)
	release(t, plain)
	release(t, safe)
	w.StartBinary(botBinary)

	w.waitRunIs(deploy, "succeeded")
	reqs := api.Requests()
	if len(reqs) != 2 {
		t.Errorf("the API received %d requests, want 2 (one cut short by the kill, one after the restart)", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); got != key {
			t.Errorf("request %d carried Idempotency-Key %q, want the first's %q", i+1, got, key)
		}
	}

	const interrupted = "interrupted; may or may not have completed"
	if why := w.waitRunIs(restart, "failed"); !strings.Contains(why, interrupted) {
		t.Errorf("R-%d failed with %q, want %q", restart, why, interrupted)
	}
	if said := w.botSaid(general.ID, interrupted); !strings.Contains(said, "<@"+w.alice.ID+">") || !strings.Contains(said, "R-2") {
		t.Errorf("alice was told %q", said)
	}
	runs := w.Ask(w.alice.ID, general.ID, "runs")
	if _, line, _ := strings.Cut(runs, "*R-2* restart — failed"); !strings.Contains(strings.Split(line, "*R-1*")[0], interrupted) {
		t.Errorf("runs does not show R-2 interrupted: %q", runs)
	}
	if n := runsOf(plain); n != 1 {
		t.Errorf("the command that is not idempotent ran %d times, want once", n)
	}

	w.waitRunIs(restartSafe, "succeeded")
	if n := runsOf(safe); n != 2 {
		t.Errorf("the idempotent command ran %d times, want twice", n)
	}
	if _, out := w.step(restartSafe, 0); out["stdout"] != "ran again\n" {
		t.Errorf("the idempotent command's second run printed %q", out["stdout"])
	}
}

// TestCommandRunOutputsAndEnvironment runs commands from the bot binary: their exit
// code, stdout and stderr are outputs for later steps; a non-zero exit fails the run
// with the end of stderr, told in Slack; and a command gets none of the bot's
// environment but PATH and the like — not its Slack tokens, not anything else.
func TestCommandRunOutputsAndEnvironment(t *testing.T) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	canary := hex.EncodeToString(b)
	t.Setenv("ACTS_CANARY", canary) // in the bot's environment, as a credential would be
	w, general := actsWorld(t, nil, "", map[string]string{"probe.yaml": `name: probe
steps:
  - { id: env, action: command.run, with: { command: [/usr/bin/env] } }
  - { id: talk, action: command.run, with: { command: [/bin/sh, -c, 'echo "to stdout"; echo "to stderr" >&2'] } }
  - action: slack.send_message
    with: { channel: "#general", text: "exit {{steps.talk.exit_code}}, out {{steps.talk.stdout}}, err {{steps.talk.stderr}}" }
  - id: fail
    action: command.run
    with: { command: [/bin/sh, -c, 'echo partial; echo "deployment checkout not found" >&2; exit 3'] }
`})
	w.Config.Actions.Command.Allowed = []string{"/usr/bin/env", "/bin/sh"}
	w.StartBinary(botBinary)
	id := w.startRun(general.ID, "probe")

	const failure = "exit 3: deployment checkout not found"
	if why := w.waitRunIs(id, "failed"); !strings.Contains(why, failure) {
		t.Errorf("the run failed with %q, want %q", why, failure)
	}
	if said := w.botSaid(general.ID, "exit 0"); !strings.Contains(said, "exit 0, out to stdout\n, err to stderr") {
		t.Errorf("the step after the command posted %q", said)
	}
	if said := w.botSaid(general.ID, failure); !strings.Contains(said, "<@"+w.alice.ID+">") {
		t.Errorf("alice was told %q", said)
	}
	state, out := w.step(id, 3)
	if state != "failed" || out["exit_code"] != 3.0 || out["stdout"] != "partial\n" || out["stderr"] != "deployment checkout not found\n" {
		t.Errorf("the failed command's step is %s with %v", state, out)
	}

	_, out = w.step(id, 0)
	env, _ := out["stdout"].(string)
	if !strings.Contains(env, "PATH=") {
		t.Errorf("the command's environment has no PATH")
	}
	// Compared, never printed: the environment holds the tokens if the test fails.
	for name, value := range map[string]string{"the bot token": w.Slack.BotToken(), "the app token": w.Slack.AppToken(),
		"ACTS_CANARY's value": canary, "a SLACK_ variable": "SLACK_", "ACTS_CANARY": "ACTS_CANARY"} {
		if strings.Contains(env, value) {
			t.Errorf("the command's environment holds %s", name)
		}
	}
}
