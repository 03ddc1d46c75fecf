package faults

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/slackfake"
)

// lockDB opens the bot's database file with a connection of its own, takes an exclusive
// lock (BEGIN EXCLUSIVE), and returns a function that releases it.
func lockDB(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	// Something written, so the lock is a writer's in every journal mode.
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS lock_probe (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	released := false
	return func() {
		if released {
			return
		}
		released = true
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
		db.Close()
	}
}

// errorDump reports whether an answer shows a person an internal error instead of a
// sentence.
func errorDump(answer string) bool {
	low := strings.ToLower(answer)
	for _, s := range []string{"sqlite", "database is locked", "sql:", "begin:", "claim envelope", "internal error", "panic"} {
		if strings.Contains(low, s) {
			return true
		}
	}
	return false
}

// TestDatabaseLocked locks the database from another connection for about a second
// while commands arrive: no request is lost, a command that could not be recorded is
// told to try again rather than shown an error, and later commands succeed.
func TestDatabaseLocked(t *testing.T) {
	w := newWorld(t, slackfake.Options{}, nil)
	general := w.channel("general")
	var talk []slackfake.Channel
	for i := range 5 {
		talk = append(talk, w.channel(fmt.Sprintf("talk-%d", i)))
	}
	w.Start()
	if ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "declare sev3 the database is slow")); err != nil || !strings.Contains(ackText(ack), "INC-1") {
		t.Fatalf("declare: %v %q", err, ackText(ack))
	}

	type sent struct {
		d       *slackfake.Delivery
		at      time.Time
		channel string
		mention bool
	}
	var all []sent
	release := lockDB(t, w.dbPath())
	defer release()
	locked := time.Now()
	for i := 0; time.Since(locked) < 1500*time.Millisecond; i++ {
		if time.Since(locked) > time.Second {
			release()
		}
		ch := talk[i%len(talk)].ID
		if i%4 == 3 {
			all = append(all, sent{w.Slack.Mention(w.alice.ID, ch, "status INC-1", ""), time.Now(), ch, true})
		} else {
			all = append(all, sent{w.Slack.SlashCommand(w.alice.ID, ch, "/runbook", "status INC-1"), time.Now(), ch, false})
		}
		time.Sleep(40 * time.Millisecond)
	}
	release()
	t.Logf("sent %d envelopes while the database was locked for 1 s", len(all))

	tryAgain := 0
	for _, s := range all {
		ack, err := w.waitAck(s.d)
		if err != nil {
			t.Errorf("envelope %s (mention %v) was never acked", s.d.EnvelopeID, s.mention)
			continue
		}
		if late := ack.At.Sub(s.at); late > 3*time.Second {
			t.Errorf("envelope %s acked %s after it was sent, past Slack's 3 s", s.d.EnvelopeID, late)
		}
		if s.mention {
			continue
		}
		answer := ackText(ack)
		if answer == "" {
			// Answered after the ack, through the response_url.
			w.WaitFor("the answer to a slash command", func() bool {
				return len(w.Slack.Ephemerals(s.channel, w.alice.ID)) > 0
			})
			eph := w.Slack.Ephemerals(s.channel, w.alice.ID)
			answer = eph[len(eph)-1].Text
		}
		switch {
		case errorDump(answer):
			t.Errorf("a slash command was answered with an error dump: %.300s", answer)
		case strings.Contains(answer, "try again"):
			tryAgain++
		case !strings.Contains(answer, "INC-1"):
			t.Errorf("a slash command got neither its answer nor a try-again: %.300s", answer)
		}
	}
	for _, s := range all {
		if s.mention {
			w.WaitFor("a reply to each mention", func() bool { return len(w.BotReplies(s.channel, s.d.TS)) > 0 })
			if n := len(w.BotReplies(s.channel, s.d.TS)); n != 1 {
				t.Errorf("mention got %d replies, want 1", n)
			}
		}
	}
	t.Logf("%d slash commands were told to try again", tryAgain)

	// Later commands succeed.
	for range 3 {
		ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "status INC-1"))
		if err != nil || !strings.Contains(ackText(ack), "INC-1") || errorDump(ackText(ack)) {
			t.Fatalf("status after the lock: %v %.300q", err, ackText(ack))
		}
	}
}

// TestDatabaseLockedPastSlacksDeadline holds the lock until every command sent while it
// was taken has been acked — past Slack's 3 s ack deadline and the bot's ack budget,
// and up to the store's 5 s busy timeout if need be: a slash command that cannot be
// recorded in time must still be answered by the bot's own deadline — "try again" —
// instead of waiting for the store and being acked late, which Slack shows the person
// as a failure (dispatch_failed). The store cannot answer while it is locked, so an ack
// that came before the lock was released came from that deadline; its words tell it
// from the store's own "busy" error, which only comes at the busy timeout.
func TestDatabaseLockedPastSlacksDeadline(t *testing.T) {
	w := newWorld(t, slackfake.Options{}, nil)
	general := w.channel("general")
	w.Start()

	release := lockDB(t, w.dbPath())
	defer release()
	var all []*slackfake.Delivery
	for i := range 5 {
		all = append(all, w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", fmt.Sprintf("declare sev3 locked out %d", i)))
		time.Sleep(200 * time.Millisecond)
	}
	// A read needs no record, and the lock holds only the writer: it is answered in full.
	if ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "help")); err != nil || !strings.Contains(ackText(ack), "Runbook commands") {
		t.Errorf("help while the writer is locked: %v %.200q", err, ackText(ack))
	}
	w.WaitFor("every command to be acked while the database is locked", func() bool {
		for _, d := range all {
			if len(w.Slack.Acks(d.EnvelopeID)) == 0 {
				return false
			}
		}
		return true
	})
	release()
	for _, d := range all {
		answer := ackText(w.Slack.Acks(d.EnvelopeID)[0])
		if errorDump(answer) {
			t.Errorf("a slash command was answered with an error dump: %.300s", answer)
		}
		if !strings.Contains(answer, "Runbook's database is busy; try again") {
			t.Errorf("a slash command the locked store could not record was answered %.200q; want the try-again the bot gives "+
				"at its ack deadline, not an answer that waited for the store (Slack has shown the person dispatch_failed)", answer)
		}
	}
	ack, err := w.waitAck(w.Slack.SlashCommand(w.alice.ID, general.ID, "/runbook", "declare sev3 after the lock"))
	if err != nil || !strings.Contains(ackText(ack), "Declared *INC-1*") {
		t.Fatalf("declare after the lock: %v %.200q; want INC-1, the commands told to try again declaring nothing", err, ackText(ack))
	}
}
