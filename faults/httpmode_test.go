package faults

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// TestHTTPModeBinaryKilledWhileARunWaits runs the real binary in HTTP mode: a slash
// command posted, signed, starts a gated run; the process is killed with SIGKILL while
// the run waits for its approval; the next process takes the click on the request
// message the first one posted and finishes the run once. The command posted again as
// it was first sent — same timestamp, same signature, within Slack's five minutes — is
// known to the new process's inbox and starts nothing: the in-memory replay check died
// with the first process, the record did not.
func TestHTTPModeBinaryKilledWhileARunWaits(t *testing.T) {
	w := newWorld(t, slackfake.Options{}, map[string]string{"gated": gatedRunbook})
	apptest.HTTPMode(w.Config)
	general := w.channel("general")
	bot := w.StartBinary(botBinary)

	r, err := slackfake.RequestFor(slackfake.EnvelopeSlashCommands, mustJSON(t, map[string]string{
		"team_id": w.Slack.TeamID(), "channel_id": general.ID, "user_id": w.alice.ID, "user_name": "alice",
		"command": "/runbook", "text": "run gated n=1", "trigger_id": "7.8.9",
	}), 0)
	if err != nil {
		t.Fatal(err)
	}
	signedAt := time.Now()
	first := w.Slack.PostToApp(w.Context(), r, apptest.SigningSecret, signedAt)
	if first.Err != nil || first.Status != http.StatusOK || !bytes.Contains(first.Body, []byte("Started")) {
		t.Fatalf("the command was answered %d %s (%v)", first.Status, first.Body, first.Err)
	}
	w.WaitFor("the approval request", func() bool { return len(w.pendingRequests()) == 1 })
	bot.Kill()

	w.StartBinary(botBinary)
	request := w.pendingRequests()[0]
	d, err := w.Slack.ClickButton(w.bob.ID, request.Channel, request.TS, "approval.approve")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.WaitAck(w.Context()); err != nil {
		t.Fatalf("the click was not answered: %v\n%s", err, apptest.Tail(w.ProcessLog(), 30))
	}
	w.WaitFor("the run to succeed", func() bool {
		return w.count("SELECT COUNT(*) FROM runs WHERE state = 'succeeded'") == 1
	})

	again := w.Slack.PostToApp(w.Context(), r, apptest.SigningSecret, signedAt)
	if again.Err != nil || again.Status != http.StatusOK || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("the command posted again was answered %d %s (%v); want the first answer %s", again.Status, again.Body, again.Err, first.Body)
	}
	if n := w.count("SELECT COUNT(*) FROM runs"); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	var gates, before, after int
	for _, c := range w.Slack.Channels() {
		if !strings.HasPrefix(c.Name, "gate-") {
			continue
		}
		gates++
		for _, m := range w.Slack.Messages(c.ID) {
			before += strings.Count(m.Text, "run 1: before the gate")
			after += strings.Count(m.Text, "run 1: approved by")
		}
	}
	if gates != 1 || before != 1 || after != 1 {
		t.Errorf("%d gate channels, %d messages before the gate and %d after; want one of each", gates, before, after)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
