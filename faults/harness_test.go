package faults

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // to read the bot's database, and lock it

	"github.com/runbookhq/runbook/internal/apptest"
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

// world is the emulated workspace a test runs the bot in, through the test kit: the
// bot in this process (Start) or the real binary as a subprocess (StartBinary), on the
// kit's database and runbooks. alice talks to the bot; bob is the one approver.
type world struct {
	*apptest.Kit
	t     *testing.T
	alice slackfake.User
	bob   slackfake.User
}

// newWorld starts the emulator and writes the runbooks (name → YAML).
func newWorld(t *testing.T, opts slackfake.Options, runbooks map[string]string) *world {
	t.Helper()
	files := map[string]string{}
	for name, body := range runbooks {
		files[name+".yaml"] = body
	}
	w := &world{Kit: apptest.New(t, apptest.Options{Emulator: opts, Runbooks: files}), t: t}
	w.alice, w.bob = w.Person("alice"), w.Person("bob")
	w.Config.Approvals.Approvers = []string{w.bob.ID}
	return w
}

// channel adds a channel alice and bob are in (and the bot).
func (w *world) channel(name string) slackfake.Channel { return w.Channel(name, "alice", "bob") }

// dbPath is the bot's database.
func (w *world) dbPath() string { return w.Config.Store.Path }

// waitAck waits for an envelope's first ack.
func (w *world) waitAck(d *slackfake.Delivery) (slackfake.Ack, error) { return d.WaitAck(w.Context()) }

// sent is an envelope a test sent to the bot, and the channel it was sent in.
type sent struct {
	d       *slackfake.Delivery
	channel string
	mention bool
}

// mentionsAnsweredOnce waits until every mention in all is acked — until then, a late
// redelivery could still be (wrongly) answered twice — and checks that each has exactly
// one reply.
func (w *world) mentionsAnsweredOnce(all []sent) {
	w.t.Helper()
	w.WaitFor("every mention to be acked", func() bool {
		for _, s := range all {
			if s.mention && len(w.Slack.Acks(s.d.EnvelopeID)) == 0 {
				return false
			}
		}
		return true
	})
	for _, s := range all {
		if s.mention {
			if n := len(w.BotReplies(s.channel, s.d.TS)); n != 1 {
				w.t.Errorf("mention %s (sent %d times) got %d replies, want 1", s.d.TS, s.d.Attempts(), n)
			}
		}
	}
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
	db, err := sql.Open("sqlite3", "file:"+w.dbPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	return db.QueryRow(q, args...).Scan(dest)
}

// count is a COUNT(*) query, failing the test on error.
func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	return apptest.Count(w.t, w.dbPath(), q, args...)
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
