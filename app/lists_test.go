package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// startWithRunbooks starts the incidents world with these runbook files.
func startWithRunbooks(t *testing.T, files map[string]string, opts ...func(*config.Config)) *incidentWorld {
	t.Helper()
	dir := t.TempDir()
	if err := apptest.WriteRunbooks(dir, nil, files); err != nil {
		t.Fatal(err)
	}
	return startIncidentsWith(t, append([]func(*config.Config){func(c *config.Config) { c.Runbooks.Dir = dir }}, opts...)...)
}

// privateKickoff gives every sev1 a private channel and asks, in it, for an approval
// whose wording is as secret as the incident; approvers is the step's approvers line,
// or "" for none (anyone).
func privateKickoff(name, approvers string) string {
	return `name: ` + name + `
on:
  - event: incident.declared
    if: { severity: [sev1] }
steps:
  - id: channel
    action: slack.create_channel
    with:
      name: "inc-{{incident.number}}-restricted"
      private: true
  - action: approval.request
    with:
      operation: "Rotate the payroll signing key"
` + approvers
}

// secretKickoff asks bob; openKickoff asks anyone.
var (
	secretKickoff = privateKickoff("secret-kickoff", `      approvers: ["@bob"]`+"\n")
	openKickoff   = privateKickoff("open-kickoff", "")
)

// TestPrivateIncidentsStayOutOfLists: an incident whose channel is private, with its
// runs, approvals and audit entries, is left out of list, runs, audit and approvals for
// anyone outside that channel — who learns nothing of it, not even that it exists —
// and shown to its declarer and to the channel's members.
func TestPrivateIncidentsStayOutOfLists(t *testing.T) {
	w := startWithRunbooks(t, map[string]string{"secret.yaml": secretKickoff})
	w.command("declare sev3 Checkout latency is up")
	w.command("declare sev1 Payroll export leaks salaries")
	run := w.WaitRun(w.App().DB, 1, runbook.RunWaitingApproval)
	inc, err := w.App().DB.Incidents().Incident(context.Background(), run.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Channel == "" || inc.ChannelPrivacy != runbook.ChannelPrivate {
		t.Fatalf("the kickoff's private channel was recorded as %q, %q", inc.Channel, inc.ChannelPrivacy)
	}
	secrets := []string{"Payroll", "payroll", "INC-2", "R-1", "APR-1", "secret-kickoff", "restricted"}

	carol := w.Person("carol")
	for _, text := range []string{"list", "list all", "runs", "audit", "approvals"} {
		answer := w.Ask(carol.ID, w.general.ID, text)
		for _, s := range secrets {
			if strings.Contains(answer, s) {
				t.Errorf("an outsider's /runbook %s shows %q: %q", text, s, answer)
			}
		}
		if text == "list" && !strings.Contains(answer, "Checkout latency") {
			t.Errorf("an outsider's list lost the public incident: %q", answer)
		}
	}
	// bob is the approver but not in the channel: the request waiting for him is his to
	// see, and the rest of the incident is not.
	if got := w.Ask(w.bob.ID, w.general.ID, "approvals"); !strings.Contains(got, "Rotate the payroll signing key") {
		t.Errorf("the approver's own pending request was hidden from him: %q", got)
	}
	if got := w.Ask(w.bob.ID, w.general.ID, "list"); strings.Contains(got, "Payroll") {
		t.Errorf("the approver outside the channel sees the incident in list: %q", got)
	}

	// The declarer, and a member of the channel asking anywhere, see all of it.
	dave := w.Person("dave")
	w.Slack.JoinChannel(inc.Channel, dave.ID)
	for _, who := range []slackfake.User{w.alice, dave} {
		for text, want := range map[string]string{"list": "Payroll export leaks salaries", "runs": "secret-kickoff",
			"audit": "APR-1", "approvals": "Rotate the payroll signing key"} {
			if got := w.Ask(who.ID, w.general.ID, text); !strings.Contains(got, want) {
				t.Errorf("%s's /runbook %s does not show %q: %q", who.Name, text, want, got)
			}
		}
	}
}

// TestListsLearnOlderIncidentsChannelPrivacyOnce: an incident recorded before its
// channel's privacy was kept is left out of an outsider's list until the next start
// learns the privacy of all such channels from one pass over Slack's channel list (a
// channel Slack no longer shows the bot counts as private); after that a list shows
// the public ones and asks Slack only which private channels the asker is in.
func TestListsLearnOlderIncidentsChannelPrivacyOnce(t *testing.T) {
	w := startIncidents(t)
	w.command("declare sev3 Quiet public matter")
	w.command("declare sev3 Quiet private matter")
	w.command("declare sev3 Quiet vanished matter")
	open := w.Channel("inc-open", "alice")
	closed := w.Slack.AddChannel("inc-closed", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.alice.ID, w.Slack.BotUserID()))
	for id, channel := range map[int64]string{1: open.ID, 2: closed.ID, 3: "C0GONE404"} {
		if _, err := w.App().DB.Incidents().UpdateIncident(context.Background(), id, func(inc *runbook.Incident) error {
			inc.Channel, inc.ChannelPrivacy = channel, runbook.ChannelPrivacyUnknown
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	carol := w.Person("carol")
	info := w.Slack.Calls("conversations.info")
	got := w.Ask(carol.ID, w.general.ID, "list")
	for _, hidden := range []string{"Quiet public matter", "Quiet private matter", "Quiet vanished matter"} {
		if strings.Contains(got, hidden) {
			t.Errorf("before its privacy is learned, an outsider's list shows %q: %q", hidden, got)
		}
	}
	if n := w.Slack.Calls("conversations.info") - info; n != 0 {
		t.Errorf("a list asked conversations.info %d time(s); it should wait for the start-up pass", n)
	}
	if got := w.Ask(w.alice.ID, w.general.ID, "list"); !strings.Contains(got, "Quiet private matter") {
		t.Errorf("the declarer's list lost her incident: %q", got)
	}

	// The next start learns them all from one pass over Slack's channel list, in
	// batches, after which a list asks Slack nothing about them.
	for i := range 1200 { // resolved ones from long ago, in channels since deleted
		old := &runbook.Incident{Title: "long ago", Severity: "sev3", Status: "resolved", CreatedBy: w.alice.ID,
			Channel: fmt.Sprintf("C0OLD%05d", i), ResolvedAt: time.Now()}
		if err := w.App().DB.Incidents().CreateIncident(context.Background(), old); err != nil {
			t.Fatal(err)
		}
	}
	lists := w.Slack.Calls("conversations.list")
	w.Restart()
	want := map[int64]runbook.ChannelPrivacy{1: runbook.ChannelPublic, 2: runbook.ChannelPrivate, 3: runbook.ChannelPrivate, 1203: runbook.ChannelPrivate}
	w.WaitFor("the privacy of the older incidents' channels", func() bool {
		if left, err := w.App().DB.Incidents().UnknownChannelPrivacy(context.Background(), 1); err != nil || len(left) > 0 {
			return false
		}
		for id, privacy := range want {
			if inc, err := w.App().DB.Incidents().Incident(context.Background(), id); err != nil || inc.ChannelPrivacy != privacy {
				return false
			}
		}
		return true
	})
	if n := w.Slack.Calls("conversations.list") - lists; n > 2 { // a start may read the directory once for #names too
		t.Errorf("learning 1,203 channels' privacy took %d conversations.list calls, want one pass", n)
	}
	info, members, shared := w.Slack.Calls("conversations.info"), w.Slack.Calls("conversations.members"), w.Slack.Calls("users.conversations")
	got = w.Ask(carol.ID, w.general.ID, "list")
	if !strings.Contains(got, "Quiet public matter") || strings.Contains(got, "Quiet private matter") || strings.Contains(got, "Quiet vanished matter") {
		t.Errorf("after learning, an outsider's list is %q", got)
	}
	if n := w.Slack.Calls("conversations.info") - info; n != 0 {
		t.Errorf("a list asked conversations.info %d time(s) about channels whose privacy is known", n)
	}
	if n := w.Slack.Calls("conversations.members") - members; n != 0 {
		t.Errorf("a list asked conversations.members %d time(s), want none", n)
	}
	if n := w.Slack.Calls("users.conversations") - shared; n != 1 {
		t.Errorf("a list asked users.conversations %d time(s), want one for both private channels", n)
	}
}

// echoTitle posts what an incident holds.
const echoTitle = `name: echo-title
steps:
  - action: slack.send_message
    with:
      channel: "#general"
      text: "About {{incident.title}}: {{incident.summary}}"
`

// TestOutsidersCannotReachIntoAPrivateIncident: someone outside a private incident's
// channel, who can guess its ids, can neither run a runbook on it (nor dry-run one,
// which renders what the incident holds), nor decide its approval request that names
// no approvers ("anyone" is anyone who may see it), nor find that request in the
// approval channel: it is asked in the incident's own channel instead.
func TestOutsidersCannotReachIntoAPrivateIncident(t *testing.T) {
	w := startWithRunbooks(t, map[string]string{"kickoff.yaml": openKickoff, "echo.yaml": echoTitle},
		func(c *config.Config) { c.Slack.ApprovalChannel = "#approvals" })
	approvalsRoom := w.Channel("approvals", "alice")
	w.command("declare sev1 Payroll export leaks salaries")
	run := w.WaitRun(w.App().DB, 1, runbook.RunWaitingApproval)
	inc, err := w.App().DB.Incidents().Incident(context.Background(), run.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range w.Slack.Messages(approvalsRoom.ID) {
		if strings.Contains(m.Text, "payroll") || strings.Contains(m.Text, "Payroll") {
			t.Errorf("a private incident's request was posted in the approval channel: %q", m.Text)
		}
	}
	asked := false
	for _, m := range w.botTopLevel(inc.Channel) {
		asked = asked || strings.Contains(m.Text, "APR-1")
	}
	if !asked {
		t.Errorf("the request is not in the incident's private channel")
	}

	carol := w.Person("carol")
	for text, want := range map[string]string{
		"run echo-title INC-1 --dry-run": "only its members may run runbooks on it",
		"run echo-title INC-1":           "only its members may run runbooks on it",
		"approve APR-1":                  "There is no approval APR-1.",
		"deny APR-1 no":                  "There is no approval APR-1.",
	} {
		if got := w.Ask(carol.ID, w.general.ID, text); !strings.Contains(got, want) || strings.Contains(got, "Payroll") {
			t.Errorf("an outsider's /runbook %s answered %q; want %q", text, got, want)
		}
	}
	if got := w.Ask(carol.ID, w.general.ID, "approvals"); strings.Contains(got, "APR-1") || strings.Contains(got, "payroll") {
		t.Errorf("an outsider's approvals list shows the private request: %q", got)
	}
	for _, m := range w.Slack.Messages(w.general.ID) {
		if strings.Contains(m.Text, "Payroll") {
			t.Errorf("a runbook posted the private incident's title in #general: %q", m.Text)
		}
	}
	if r, err := w.App().DB.Runs().Run(context.Background(), run.ID); err != nil || r.State != runbook.RunWaitingApproval {
		t.Fatalf("the outsider's decision moved the run: %+v, %v", r, err)
	}

	// A member of the channel is "anyone" for it.
	dave := w.Person("dave")
	w.Slack.JoinChannel(inc.Channel, dave.ID)
	if got := w.Ask(dave.ID, w.general.ID, "approvals"); !strings.Contains(got, "Rotate the payroll signing key") {
		t.Errorf("a member's approvals list lacks the request: %q", got)
	}
	w.Ask(dave.ID, w.general.ID, "approve APR-1")
	w.WaitRun(w.App().DB, run.ID, runbook.RunSucceeded)
	// Decided, it tells an outsider nothing either: not who decided, not that it exists.
	if got := w.Ask(carol.ID, w.general.ID, "approve APR-1"); !strings.Contains(got, "There is no approval APR-1.") {
		t.Errorf("an outsider's approve of a decided private request answered %q", got)
	}
}

const askAnyone = `name: ask-anyone
steps:
  - action: approval.request
    with:
      operation: "Rotate the payroll signing key"
`

const askInRoom = `name: ask-in-room
steps:
  - action: approval.request
    with:
      channel: "#sec-private"
      operation: "Disable the login of a suspected account"
`

// TestApprovalsNamingNobodyAreForThoseWhoSeeThem: "anyone" for a request with no
// approvers is anyone who may see where it was asked. A request asked in someone's
// direct message with the bot, or in a private channel a runbook names, is neither
// listed for nor decidable by anyone else, and is decidable by that channel's
// members.
func TestApprovalsNamingNobodyAreForThoseWhoSeeThem(t *testing.T) {
	w := startWithRunbooks(t, map[string]string{"anyone.yaml": askAnyone, "room.yaml": askInRoom})
	carol := w.Person("carol")
	dm, err := w.Slack.InstallDM("D0ALICE01", w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	room := w.Slack.AddChannel("sec-private", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.alice.ID, w.bob.ID, w.Slack.BotUserID()))
	w.Ask(w.alice.ID, dm.ID, "run ask-anyone")
	w.WaitRun(w.App().DB, 1, runbook.RunWaitingApproval)
	w.Ask(w.alice.ID, w.general.ID, "run ask-in-room")
	w.WaitRun(w.App().DB, 2, runbook.RunWaitingApproval)

	if got := w.Ask(carol.ID, w.general.ID, "approvals"); strings.Contains(got, "APR-") {
		t.Errorf("an outsider's approvals list shows requests asked in a DM and a private channel: %q", got)
	}
	for _, id := range []string{"APR-1", "APR-2"} {
		if got := w.Ask(carol.ID, w.general.ID, "approve "+id); !strings.Contains(got, "There is no approval "+id+".") {
			t.Errorf("an outsider's approve %s answered %q", id, got)
		}
	}
	// bob is in #sec-private: the request asked there is his to decide.
	if got := w.Ask(w.bob.ID, room.ID, "approvals"); !strings.Contains(got, "Disable the login") || strings.Contains(got, "APR-1") {
		t.Errorf("a member's approvals list = %q; want the request asked in his channel only", got)
	}
	w.Ask(w.bob.ID, room.ID, "approve APR-2")
	w.WaitRun(w.App().DB, 2, runbook.RunSucceeded)
}

// TestAChannelMadePrivateLaterCountsAsPrivateForDecisions: an incident whose channel
// was public when claimed and was made private since — the usual step when an
// incident turns out to be a security matter — has its request asked in that channel,
// not the approval channel, and decided only by those who may see it.
func TestAChannelMadePrivateLaterCountsAsPrivateForDecisions(t *testing.T) {
	w := startWithRunbooks(t, map[string]string{"anyone.yaml": askAnyone},
		func(c *config.Config) { c.Slack.ApprovalChannel = "#approvals" })
	approvalsRoom := w.Channel("approvals", "alice")
	w.command("declare sev2 Odd logins from one account")
	room := w.Slack.AddChannel("inc-1-logins", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.alice.ID, w.Slack.BotUserID()))
	if err := w.App().Incidents.ClaimChannel(context.Background(), 1, runbook.Conversation{ID: room.ID, Private: false}); err != nil {
		t.Fatal(err) // recorded public: it was public when claimed
	}
	w.Ask(w.alice.ID, room.ID, "run ask-anyone INC-1")
	w.WaitRun(w.App().DB, 1, runbook.RunWaitingApproval)
	for _, m := range w.Slack.Messages(approvalsRoom.ID) {
		if strings.Contains(m.Text, "Rotate") {
			t.Errorf("the request went to the approval channel: %q", m.Text)
		}
	}
	carol := w.Person("carol")
	if got := w.Ask(carol.ID, w.general.ID, "approve APR-1"); !strings.Contains(got, "There is no approval APR-1.") {
		t.Errorf("an outsider's approve answered %q", got)
	}
	if r, err := w.App().DB.Runs().Run(context.Background(), 1); err != nil || r.State != runbook.RunWaitingApproval {
		t.Errorf("the run moved: %+v, %v", r, err)
	}
}
