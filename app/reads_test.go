package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// slashRecords counts the slash commands recorded in the bot's inbox.
func (h *harness) slashRecords() int {
	h.t.Helper()
	return apptest.Count(h.t, h.Config.Store.Path, "SELECT count(*) FROM envelopes WHERE type = 'slash_commands'")
}

// TestReadsAreAnsweredWithoutARecord: every command that only reads is answered in
// full while any write it tried would be refused — so each one really only reads —
// and leaves nothing in the inbox; the commands that change something are recorded.
func TestReadsAreAnsweredWithoutARecord(t *testing.T) {
	h := start(t)
	h.Ask(h.alice.ID, h.general.ID, "declare sev2 checkout is slow")
	h.Ask(h.alice.ID, h.general.ID, `followup INC-1 "add an alert" @alice`)
	// A change in disguise is still a change: the verb is read as the handler reads it.
	if got := h.Ask(h.alice.ID, h.general.ID, `"DECLARE" sev3 quoted`); !strings.Contains(got, "Declared *INC-2*") {
		t.Fatalf("a quoted declare answered %q", got)
	}
	writes := h.slashRecords()
	if writes != 3 {
		t.Fatalf("two declares and a followup left %d record(s), want 3", writes)
	}
	reads := map[string]string{
		"":                         "Runbook commands",
		"help":                     "Runbook commands",
		"help declare":             "Declare an incident",
		"help run sev1-kickoff":    "sev1-kickoff",
		"status INC-1":             "checkout is slow",
		"list":                     "2 incident(s)",
		"list all":                 "2 incident(s)",
		"timeline INC-1":           "Timeline of INC-1",
		"followups INC-1":          "add an alert",
		"runbooks":                 "sev1-kickoff",
		"runs":                     "Recent runs",
		"runs INC-1":               "Runs for INC-1",
		"approvals":                "No approvals are waiting",
		"audit":                    "Audit log",
		"audit INC-1":              "Audit log of INC-1",
		"frobnicate":               "I don't know the command",
		"status INC-999":           "INC-999",
		"list sideways":            "not “sideways”",
		"help declare sev1 sneaky": "Declare an incident",
	}
	for text, want := range reads {
		got := h.Ask(h.alice.ID, h.general.ID, text)
		if !strings.Contains(got, want) || strings.Contains(got, "Something went wrong") {
			t.Errorf("/runbook %s answered %q; want it to contain %q", text, got, want)
		}
	}
	if n := h.slashRecords(); n != writes {
		t.Errorf("%d read(s) were recorded in the inbox, want none", n-writes)
	}
	if got := h.Ask(h.alice.ID, h.general.ID, "list all"); strings.Contains(got, "sneaky") || !strings.Contains(got, "2 incident(s)") {
		t.Errorf("a read declared an incident: %q", got)
	}
}

// TestPrivateIncidentReadsStayPrivate: every read that names an incident whose channel
// is private answers only that channel's members; an outsider is told so, learns
// nothing of it, and the refusal is audited although the read itself is not recorded.
func TestPrivateIncidentReadsStayPrivate(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 payments Card refunds stuck")
	secret := w.Slack.AddChannel("inc-secret", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.alice.ID, w.Slack.BotUserID()))
	if err := w.App().Incidents.ClaimChannel(context.Background(), 1, runbook.Conversation{ID: secret.ID, Private: true}); err != nil {
		t.Fatal(err)
	}
	w.Ask(w.alice.ID, secret.ID, "note root cause: refund worker deadlocked on acct 4417")
	carol := w.Person("carol")
	reads := []string{"status INC-1", "timeline INC-1", "runs INC-1", "audit INC-1", "followups INC-1"}
	for _, text := range reads {
		answer := w.Ask(carol.ID, w.general.ID, text)
		if !strings.Contains(answer, "only its members may see") || strings.Contains(answer, "deadlocked") || strings.Contains(answer, "refunds") {
			t.Errorf("an outsider's /runbook %s answered %q", text, answer)
		}
	}
	audit := w.Ask(w.alice.ID, w.general.ID, "audit")
	if n := strings.Count(audit, "whose private channel"); n != len(reads) {
		t.Errorf("%d refusal(s) audited for %d refused reads: %q", n, len(reads), audit)
	}
	for _, text := range reads[:2] {
		if answer := w.Ask(w.alice.ID, w.general.ID, text); strings.Contains(answer, "only its members") {
			t.Errorf("a member's /runbook %s answered %q", text, answer)
		}
	}
}
