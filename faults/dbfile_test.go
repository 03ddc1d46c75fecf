package faults

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// probe GETs one of the bot's HTTP endpoints.
func (w *world) probe(path string) (int, string) {
	w.t.Helper()
	res, err := http.Get("http://" + w.App().HTTP.Addr() + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// startObserved starts the bot with its HTTP endpoints on a free port.
func startObserved(t *testing.T) (*world, slackfake.Channel) {
	t.Helper()
	w := newWorld(t, slackfake.Options{}, nil)
	w.Config.HTTP.Addr = "127.0.0.1:0"
	general := w.channel("general")
	w.Start()
	w.WaitFor("ready", func() bool { code, _ := w.probe("/readyz"); return code == 200 })
	return w, general
}

// declare declares an incident and checks that it was given key.
func (w *world) declare(channel, title, key string) {
	w.t.Helper()
	ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, channel, "/runbook", "declare sev3 "+title))
	if err != nil || !strings.Contains(ackText(ack), key) {
		w.t.Fatalf("declare %s: %v %q", title, err, ackText(ack))
	}
}

// stopped checks what a bot whose database file was lost (what: "deleted" or
// "replaced by another file") shows: /readyz fails with the loss, /healthz stays 200, one Error line
// names the path, the rescue copy and what to do, and a slash command and a mention
// are both answered with the sentence, without being carried out.
func (w *world) stopped(channel, lostPath, what string) (rescued string) {
	w.t.Helper()
	loss := "the database file " + lostPath + " was " + what + " while Runbook was running"
	if code, body := w.probe("/readyz"); code != 503 || !strings.Contains(body, loss) {
		w.t.Errorf("/readyz after the loss = %d %q, want 503 saying %q", code, body, loss)
	}
	w.WaitFor("the log line", func() bool { return strings.Contains(w.Logs.String(), loss+"; Runbook has stopped taking work") })
	line := lastLine(w.Logs.String(), loss)
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "start Runbook again") {
		w.t.Errorf("the loss is not one Error line saying what to do: %s", line)
	}
	if n := strings.Count(w.Logs.String(), loss+"; Runbook has stopped"); n != 1 {
		w.t.Errorf("the loss was logged %d times, want once", n)
	}
	_, rescued, _ = strings.Cut(line, "rescued_to=")
	rescued, _, _ = strings.Cut(rescued, " ")
	if _, err := os.Stat(rescued); err != nil {
		w.t.Errorf("the rescue copy the log names (%q): %v", rescued, err)
	}
	if code, body := w.probe("/healthz"); code != 200 {
		w.t.Errorf("/healthz after the loss = %d %s, want 200: a restart would run on an empty or mispaired database", code, body)
	}

	refused := "Runbook has stopped taking requests: its database file was " + strings.Fields(what)[0]
	ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, channel, "/runbook", "declare sev2 after the loss"))
	if err != nil || !strings.Contains(ackText(ack), refused) {
		w.t.Errorf("a command after the loss: %v %q, want the refusal", err, ackText(ack))
	}
	m := w.Slack.Mention(w.alice.ID, channel, "declare sev2 mentioned after the loss", "")
	if _, err := w.waitAck(m); err != nil {
		w.t.Fatalf("the mention after the loss was never acked: %v", err)
	}
	w.WaitFor("the mention to be answered", func() bool {
		for _, r := range append(w.BotReplies(channel, m.TS), w.Slack.Ephemerals(channel, w.alice.ID)...) {
			if strings.Contains(r.Text, refused) {
				return true
			}
		}
		return false
	})
	for _, msg := range w.Slack.Messages(channel) {
		if strings.Contains(msg.Text, "after the loss") && msg.BotID != "" {
			w.t.Errorf("a request after the loss was carried out: %q", msg.Text)
		}
	}
	return rescued
}

// A database file deleted while the bot runs is found: the bot stops taking work,
// says so to people and in one log line, keeps a copy of what it held, and a restart
// before the copy is put back refuses rather than starting on an empty database. Put
// back, the copy starts as the database it was.
func TestDeletedDatabaseStopsTheBot(t *testing.T) {
	w, general := startObserved(t)
	w.declare(general.ID, "before the loss", "INC-1")
	path := w.dbPath()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	rescued := w.stopped(general.ID, path, "deleted")

	w.Stop()
	_, err := app.New(context.Background(), w.Config, app.Options{})
	if msg := runbook.ErrorMessage(err); err == nil || !strings.Contains(msg, "the database file "+path+" is missing") || !strings.Contains(msg, rescued) {
		t.Fatalf("a start without the database, beside its rescued copy = %v, want the refusal naming it", err)
	}
	for _, leftover := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("%s exists after the stop; a restored copy would be paired with it", leftover)
		}
	}
	if err := os.Rename(rescued, path); err != nil {
		t.Fatal(err)
	}
	w.Start()
	w.declare(general.ID, "after the restore", "INC-2")
}

// A database file replaced while the bot runs (a restore renamed over it) is found
// likewise; after a restart the bot runs on the restored file, untouched by the
// process that was running when it was put there.
func TestReplacedDatabaseStopsTheBot(t *testing.T) {
	w, general := startObserved(t)
	w.declare(general.ID, "in the backup", "INC-1")
	path := w.dbPath()
	backup := filepath.Join(filepath.Dir(path), "backup.db")
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("VACUUM INTO ?", backup); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	w.declare(general.ID, "after the backup", "INC-2")
	if err := os.Rename(backup, path); err != nil {
		t.Fatal(err)
	}
	w.stopped(general.ID, path, "replaced by another file")

	w.Stop()
	w.Start()
	if n := w.count("SELECT COUNT(*) FROM incidents"); n != 1 {
		t.Errorf("the restored database holds %d incidents after the restart, want the backup's 1", n)
	}
	w.declare(general.ID, "after the restore", "INC-2")
}

// /readyz says when the store cannot write — here another process holds its write
// lock, which stops writes whoever the bot runs as — and is ready again once it can.
func TestReadyzReportsAStoreThatCannotWrite(t *testing.T) {
	w, _ := startObserved(t)
	release := lockDB(t, w.dbPath())
	defer release()
	if code, body := w.probe("/readyz"); code != 503 || !strings.Contains(body, "database not writable") {
		t.Errorf("/readyz with the write lock held elsewhere = %d %q, want 503 database not writable", code, body)
	}
	if code, body := w.probe("/healthz"); code != 200 {
		t.Errorf("/healthz with the write lock held elsewhere = %d %q, want 200: a restart would not free the lock", code, body)
	}
	release()
	w.WaitFor("ready once the lock is gone", func() bool { code, _ := w.probe("/readyz"); return code == 200 })
}

const lostGateRunbook = `name: lost-gate
steps:
  - action: approval.request
    with: { operation: "Restart checkout", risk: high }
  - action: slack.send_message
    with: { channel: "#general", text: "after the approval" }
`

// After the database file is deleted, a click on a run's approval is turned away with
// the sentence, deciding nothing; with the rescued copy put back and the bot
// restarted, the request is still open, and the run goes on once it is approved.
func TestLostDatabaseTurnsClicksAwayAndTheRunGoesOnAfterTheRestore(t *testing.T) {
	w := newWorld(t, slackfake.Options{}, map[string]string{"lost-gate": lostGateRunbook})
	w.Config.HTTP.Addr = "127.0.0.1:0"
	w.Config.Slack.ApprovalChannel = "#general"
	general := w.channel("general")
	w.Start()
	ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "run lost-gate"))
	if err != nil || !strings.Contains(ackText(ack), "Started") {
		t.Fatalf("run: %v %q", err, ackText(ack))
	}
	var request *runbook.Approval
	w.WaitFor("the approval request", func() bool {
		pending, _ := w.App().DB.Approvals().PendingApprovals(context.Background())
		for _, a := range pending {
			if a.MessageTS != "" {
				request = a
				return true
			}
		}
		return false
	})
	path := w.dbPath()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	rescued := w.stopped(general.ID, path, "deleted")

	before := len(w.Slack.Ephemerals(general.ID, w.bob.ID))
	click := func() {
		t.Helper()
		d, err := w.Slack.ClickButton(w.bob.ID, request.Channel, request.MessageTS, slackui.ActionApprove)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.waitAck(d); err != nil {
			t.Fatalf("the click was never acked: %v", err)
		}
	}
	click()
	w.WaitFor("the click to be turned away", func() bool {
		eph := w.Slack.Ephemerals(general.ID, w.bob.ID)
		return len(eph) > before && strings.Contains(eph[len(eph)-1].Text, "Runbook has stopped taking requests")
	})

	w.Stop()
	if err := os.Rename(rescued, path); err != nil {
		t.Fatal(err)
	}
	w.Start()
	if n := w.count("SELECT COUNT(*) FROM approvals WHERE id = ? AND state = 'pending'", request.ID); n != 1 {
		t.Fatalf("the approval clicked while the database was lost is not pending after the restore")
	}
	click()
	w.WaitFor("the run to go on", func() bool {
		for _, m := range w.Slack.Messages(general.ID) {
			if strings.Contains(m.Text, "after the approval") {
				return true
			}
		}
		return false
	})
}
