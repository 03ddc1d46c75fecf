package app_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// commsRunbook tells #incidents who leads communication, through incident.roles.comms.
const commsRunbook = `name: comms-note
description: Say who handles communication
steps:
  - action: slack.send_message
    with:
      channel: "#incidents"
      text: "Comms for {{incident.id}}: {{incident.roles.comms}}{{^incident.roles.comms}}nobody yet{{/incident.roles.comms}}"
`

// commsHeldRunbook runs on an update once someone holds comms, and on every update
// while nobody does.
const commsHeldRunbook = `name: comms-held
on:
  - event: incident.updated
    if: { roles: { comms: assigned } }
steps:
  - action: slack.send_message
    with:
      channel: "#incidents"
      text: "comms held on {{incident.id}}: {{incident.roles.comms}}"
`

// startRoles is the incident world with roles commander, comms and scribe configured,
// the example runbooks and comms-note.
func startRoles(t *testing.T, opts ...func(*config.Config)) *incidentWorld {
	t.Helper()
	dir := t.TempDir()
	if err := apptest.WriteRunbooks(dir, os.DirFS("../runbooks/examples"), map[string]string{"comms.yaml": commsRunbook, "held.yaml": commsHeldRunbook}); err != nil {
		t.Fatal(err)
	}
	return startIncidentsWith(t, append([]func(*config.Config){func(c *config.Config) {
		c.Incidents.Roles = []string{"commander", "comms", "scribe"}
		c.Runbooks.Dir = dir
	}}, opts...)...)
}

// declared declares a sev1 payments incident (the kickoff runbook makes its channel)
// and waits for the kickoff to finish.
func (w *incidentWorld) declared() {
	w.t.Helper()
	if answer := w.command("declare sev1 payments Card declines"); !strings.Contains(answer, "Declared *INC-1*") {
		w.t.Fatalf("declare answered %q", answer)
	}
	w.runsDone(1, 1)
	if w.incident(1).Channel == "" {
		w.t.Fatal("the kickoff runbook made no channel")
	}
}

func TestAssignRoleShowsEverywhere(t *testing.T) {
	w := startRoles(t)
	w.declared()
	bob := "<@" + w.bob.ID + ">"

	if answer := w.command("run comms-note INC-1"); !strings.Contains(answer, "comms-note") {
		t.Fatalf("run answered %q", answer)
	}
	w.WaitFor("the comms note before assignment", func() bool {
		return countContaining(texts(w.Slack.Messages(w.incidents.ID)), "Comms for INC-1: nobody yet") == 1
	})

	answer := w.command("assign INC-1 " + bob + " comms")
	if !strings.Contains(answer, bob+" is now comms of *INC-1*") {
		t.Fatalf("assign answered %q", answer)
	}
	inc := w.incident(1)
	if inc.Roles["comms"] != w.bob.ID {
		t.Fatalf("roles = %v", inc.Roles)
	}
	// The answer's blocks come as JSON, which escapes < and >.
	if status := w.command("status INC-1"); !strings.Contains(status, `*Comms*\n\u003c@`+w.bob.ID) {
		t.Errorf("status = %q; want the comms role", status)
	}
	ann, _ := w.Slack.Message(w.payments.ID, inc.AnnouncementTS)
	if !strings.Contains(string(ann.Blocks), `*Comms*\n`+bob) {
		t.Errorf("announcement = %s; want the comms role", ann.Blocks)
	}
	ch, _ := w.Slack.Channel(inc.Channel)
	if !strings.Contains(ch.Topic, "Comms: "+bob) {
		t.Errorf("topic = %q; want the comms role", ch.Topic)
	}
	if sum := w.command("summary INC-1"); !strings.Contains(sum, `*Comms:* \u003c@`+w.bob.ID) {
		t.Errorf("summary = %q; want the comms role", sum)
	}
	if tl := w.command("timeline INC-1"); !strings.Contains(tl, w.bob.ID) || !strings.Contains(tl, "is now comms") {
		t.Errorf("timeline = %q; want the assignment", tl)
	}
	w.command("run comms-note INC-1")
	w.WaitFor("the comms note after assignment", func() bool {
		return countContaining(texts(w.Slack.Messages(w.incidents.ID)), "Comms for INC-1: "+bob) == 1
	})

	// Handing the role on is recorded too: the change is seen against the role's
	// holder before it.
	w.command("assign INC-1 <@" + w.alice.ID + "> comms")
	if got := w.incident(1).Roles["comms"]; got != w.alice.ID {
		t.Errorf("comms after reassignment = %q, want alice", got)
	}
	if tl := w.command("timeline INC-1"); strings.Count(tl, "is now comms") != 2 || !strings.Contains(tl, w.alice.ID) {
		t.Errorf("timeline = %q; want both assignments", tl)
	}

	// The commander role is the incident's commander, whichever way it is set.
	w.command("assign INC-1 " + bob + " commander")
	if got := w.incident(1).Commander; got != w.bob.ID {
		t.Errorf("commander after assign = %q, want bob", got)
	}
	w.command("update INC-1 commander=<@" + w.alice.ID + ">")
	if got := w.incident(1).Role("commander"); got != w.alice.ID {
		t.Errorf("commander role after update = %q, want alice", got)
	}
}

func TestAssignRefusals(t *testing.T) {
	w := startRoles(t)
	w.declared()
	bob := "<@" + w.bob.ID + ">"
	robert := w.Slack.AddUser("robert", slackfake.UserRealName("Bob"))
	carol := w.Person("carol")

	for _, c := range []struct{ text, want string }{
		{"assign INC-1 " + bob + " coms", "“coms” is not a role (did you mean “comms”?); the roles are commander, comms, scribe."},
		{"assign INC-1 U0NOBODY1 comms", "U0NOBODY1 is not an active member of this workspace"},
		{"assign INC-1 @ghost comms", "I can't find a user @ghost"},
		// Display names are chosen by each member: "Bob" is robert's, and names nobody.
		{"assign INC-1 @Bob comms", "I can't find a user @Bob"},
		{"assign INC-1 " + bob + " <!channel>", "is not a role"},
		{"assign INC-1 " + bob + " *comms*", "is not a role"},
		{"assign INC-1 " + bob, "Say who and which role"},
	} {
		answer := w.command(c.text)
		if !strings.Contains(answer, c.want) {
			t.Errorf("%s answered %q; want %q", c.text, answer, c.want)
		}
		if strings.Contains(answer, "<!channel>") {
			t.Errorf("%s echoed a live <!channel>: %q", c.text, answer)
		}
	}
	if roles := w.incident(1).Roles; len(roles) != 0 {
		t.Fatalf("roles after refusals = %v (robert is %s)", roles, robert.ID)
	}
	// carol neither declared nor leads INC-1, is not in its channel and is no responder.
	answer := w.Ask(carol.ID, w.general.ID, "assign INC-1 "+bob+" comms")
	if !strings.Contains(answer, "Only whoever declared INC-1") {
		t.Errorf("assign by carol answered %q", answer)
	}
	if roles := w.incident(1).Roles; len(roles) != 0 {
		t.Fatalf("roles after carol's refusal = %v", roles)
	}
}

// TestUnassignTakesRoleBack: unassign leaves a role with nobody — in the incident, the
// topic, the timeline and templates — once however often its request is handled;
// commander cannot be left empty, and a role nobody holds is answered with the fix.
func TestUnassignTakesRoleBack(t *testing.T) {
	w := startRoles(t)
	w.declared()
	bob := "<@" + w.bob.ID + ">"
	w.command("assign INC-1 " + bob + " comms")

	for _, c := range []struct{ text, want string }{
		{"unassign INC-1 commander", "An incident always has a commander; hand the role on instead"},
		{"unassign INC-1 scribe", "Nobody is scribe of INC-1, so there is nothing to take away"},
		{"unassign INC-1 coms", "(did you mean “comms”?)"},
		{"unassign INC-1", "Say which role to take away"},
		{"unassign INC-1 " + bob + " comms", "Say which role to take away"},
	} {
		if answer := w.command(c.text); !strings.Contains(answer, c.want) {
			t.Errorf("%s answered %q; want %q", c.text, answer, c.want)
		}
	}
	if got := w.incident(1).Roles["comms"]; got != w.bob.ID {
		t.Fatalf("comms after refusals = %q, want bob", got)
	}

	answer := w.command("unassign INC-1 comms")
	if !strings.Contains(answer, bob+" is no longer comms of *INC-1*") {
		t.Fatalf("unassign answered %q", answer)
	}
	inc := w.incident(1)
	if _, held := inc.Roles["comms"]; held || inc.Commander != w.alice.ID {
		t.Errorf("after unassign roles = %v, commander %s", inc.Roles, inc.Commander)
	}
	ch, _ := w.Slack.Channel(inc.Channel)
	if strings.Contains(ch.Topic, "Comms:") {
		t.Errorf("topic = %q; want no comms", ch.Topic)
	}
	if got := w.entries(1, runbook.TimelineRole); len(got) != 2 || got[1].Text != bob+" is no longer comms" {
		t.Errorf("role entries = %+v; want the assignment and its removal", got)
	}
	// The timeline shows the removal as a mention (JSON escapes < as \u003c).
	if tl := w.command("timeline INC-1"); !strings.Contains(tl, `\u003c@`+w.bob.ID+`\u003e is no longer comms`) {
		t.Errorf("timeline = %q; want the removal with a mention", tl)
	}
	w.command("run comms-note INC-1")
	w.WaitFor("the comms note after unassign", func() bool {
		return countContaining(texts(w.Slack.Messages(w.incidents.ID)), "Comms for INC-1: nobody yet") == 1
	})

	// Redelivered, the same request takes nothing away twice.
	w.command("assign INC-1 " + bob + " scribe")
	// comms-held ran on the assignment only, never on the update that took it away
	// (a triggered run is stored before the command is answered).
	w.WaitFor("comms-held after the assignment", func() bool {
		return countContaining(texts(w.Slack.Messages(w.incidents.ID)), "comms held on INC-1: "+bob) == 1
	})
	held := 0
	for _, r := range w.runsOf(1) {
		if r.Runbook == "comms-held" {
			held++
		}
	}
	if held != 1 {
		t.Errorf("%d comms-held runs, want 1 (for the assignment)", held)
	}
	w.handleTwice(w.slashRequest("req-unassign", "unassign INC-1 scribe"), "scribe of *INC-1*")
	if got := w.entries(1, runbook.TimelineRole); len(got) != 4 || got[3].Text != bob+" is no longer scribe" {
		t.Errorf("role entries after a redelivered unassign = %+v", got)
	}
}

func TestInvitePeopleAndGroups(t *testing.T) {
	w := startRoles(t)
	w.declared()
	carol, dave, erin := w.Person("carol"), w.Person("dave"), w.Person("erin")
	db := w.Group("db", "dave", "erin")
	w.Group("retired", "carol")
	w.Slack.DisableUserGroup("retired")

	answer := w.command(fmt.Sprintf("invite INC-1 <@%s> <!subteam^%s|@db> @retired @nobody", carol.ID, db.ID))
	for _, want := range []string{"Invited", "Skipped:", "@retired", "disabled user group", "@nobody", "neither a user nor a user group"} {
		if !strings.Contains(answer, want) {
			t.Errorf("invite answered %q; want %q", answer, want)
		}
	}
	ch, _ := w.Slack.Channel(w.incident(1).Channel)
	for _, u := range []slackfake.User{carol, dave, erin} {
		if !slices.Contains(ch.Members, u.ID) {
			t.Errorf("%s is not in the incident channel: %v", u.Name, ch.Members)
		}
	}

	// An incident without a channel has nowhere to invite to.
	w.command("declare sev3 payments Slow receipts")
	if answer := w.command("invite INC-2 <@" + carol.ID + ">"); !strings.Contains(answer, "INC-2 has no channel of its own yet") {
		t.Errorf("invite without a channel answered %q", answer)
	}
}

func TestInviteIntoPrivateChannelNeedsMembership(t *testing.T) {
	// bob is a responder, so he may change any incident, but is not in its private channel.
	w := startRoles(t, func(c *config.Config) { c.Permissions.Responders = []string{"bob"} })
	w.command("declare sev3 payments Quiet one")
	priv := w.Slack.AddChannel("inc-private", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.alice.ID, w.Slack.BotUserID()))
	if err := w.App().Incidents.ClaimChannel(context.Background(), 1, runbook.Conversation{ID: priv.ID, Private: true}); err != nil {
		t.Fatal(err)
	}
	carol := w.Person("carol")
	answer := w.Ask(w.bob.ID, w.general.ID, "invite INC-1 <@"+carol.ID+">")
	if !strings.Contains(answer, "The channel of INC-1 is private: only its members may invite people into it.") {
		t.Errorf("invite by a non-member answered %q", answer)
	}
	if ch, _ := w.Slack.Channel(priv.ID); slices.Contains(ch.Members, carol.ID) {
		t.Fatal("carol was invited into the private channel by a non-member")
	}
	if answer := w.command("invite INC-1 <@" + carol.ID + ">"); !strings.Contains(answer, "Invited") {
		t.Errorf("invite by a member answered %q", answer)
	}
}

func TestInviteOfAHugeGroupIsRefusedWhole(t *testing.T) {
	w := startRoles(t)
	w.declared()
	var people []string
	for i := range 150 {
		people = append(people, fmt.Sprintf("eng%d", i))
	}
	w.Group("everyone-eng", people...)
	before, _ := w.Slack.Channel(w.incident(1).Channel)
	answer := w.command("invite INC-1 @everyone-eng")
	if !strings.Contains(answer, "That names 150 people; invite at most 100 at once") {
		t.Fatalf("mass invite answered %q", answer)
	}
	if after, _ := w.Slack.Channel(w.incident(1).Channel); len(after.Members) != len(before.Members) {
		t.Fatalf("members went from %d to %d", len(before.Members), len(after.Members))
	}
}

func TestInviteSkipsGroupsOnFreePlan(t *testing.T) {
	h := &harness{Kit: apptest.New(t, apptest.Options{Emulator: slackfake.Options{AckTimeout: time.Second, FreePlan: true}}), t: t}
	h.Config.Runbooks.Dir = "../runbooks/examples"
	h.Config.Slack.DefaultChannel = "#incidents"
	h.alice = h.Person("alice")
	h.general = h.Channel("general", "alice")
	h.Channel("incidents")
	carol := h.Person("carol")
	h.Start()
	w := &incidentWorld{harness: h}
	w.command("declare sev1 Card declines")
	w.runsDone(1, 1)
	answer := w.command("invite INC-1 <@" + carol.ID + "> @oncall")
	if !strings.Contains(answer, "Invited <@"+carol.ID+">") || !strings.Contains(answer, "Slack plan has no user groups") {
		t.Fatalf("invite on the Free plan answered %q", answer)
	}
}

func TestAssignAndInviteRedeliveredApplyOnce(t *testing.T) {
	w := startRoles(t)
	w.declared()
	carol := w.Person("carol")
	w.handleTwice(w.slashRequest("req-assign", "assign INC-1 <@"+w.bob.ID+"> scribe"), "is now scribe")
	w.handleTwice(w.slashRequest("req-invite", "invite INC-1 <@"+carol.ID+">"), "<@"+carol.ID+">")
	tl := w.command("timeline INC-1")
	if n := strings.Count(tl, "is now scribe"); n != 1 {
		t.Errorf("%d assignments on the timeline, want 1: %q", n, tl)
	}
	if n := strings.Count(tl, "invited "); n != 1 {
		t.Errorf("%d invitations on the timeline, want 1: %q", n, tl)
	}
}

func TestReopenUnarchivesTheChannel(t *testing.T) {
	w := startRoles(t)
	w.declared()
	w.command("resolve INC-1 fixed")
	w.runsDone(1, 2)
	channel := w.incident(1).Channel
	if ch, _ := w.Slack.Channel(channel); !ch.Archived {
		t.Fatal("the wrap-up runbook did not archive the channel")
	}
	w.Slack.LetBotsUnarchive(true)
	answer := w.command("update INC-1 status=investigating")
	if !strings.Contains(answer, "Reopened *INC-1*") || strings.Contains(answer, "stays archived") {
		t.Fatalf("reopen answered %q", answer)
	}
	inc := w.incident(1)
	if !inc.ResolvedAt.IsZero() || inc.ReopenedAt.IsZero() {
		t.Fatalf("after reopen: resolved %v, reopened %v", inc.ResolvedAt, inc.ReopenedAt)
	}
	ch, _ := w.Slack.Channel(channel)
	if ch.Archived || !strings.Contains(ch.Topic, "investigating") {
		t.Errorf("channel after reopen: archived %v, topic %q", ch.Archived, ch.Topic)
	}
	if tl := w.command("timeline INC-1"); !strings.Contains(tl, "reopened: status resolved → investigating") {
		t.Errorf("timeline = %q", tl)
	}
	ann, _ := w.Slack.Message(w.payments.ID, inc.AnnouncementTS)
	if !strings.Contains(string(ann.Blocks), "reopened") || strings.Contains(string(ann.Blocks), "~Card declines~") {
		t.Errorf("announcement after reopen = %s", ann.Blocks)
	}
	if open := w.command("list"); !strings.Contains(open, "INC-1") {
		t.Errorf("list of open incidents = %q", open)
	}
}

func TestReopenWhereSlackKeepsTheChannelArchived(t *testing.T) {
	w := startRoles(t)
	w.declared()
	w.command("resolve INC-1 fixed")
	w.runsDone(1, 2)
	old := w.incident(1).Channel
	// Slack refuses bot tokens, as its documentation warns.
	answer := w.command("update INC-1 status=investigating")
	for _, want := range []string{"Reopened *INC-1*", "<#" + old + "> stays archived", "Unarchive it from the channel's settings", "`/runbook run sev1-kickoff INC-1`"} {
		if !strings.Contains(answer, want) {
			t.Errorf("reopen answered %q; want %q", answer, want)
		}
	}
	if tl := w.command("timeline INC-1"); !strings.Contains(tl, "stays archived") {
		t.Errorf("timeline = %q", tl)
	}
	// The offered command gives the incident a new channel.
	w.command("run sev1-kickoff INC-1")
	w.runsDone(1, 3)
	if now := w.incident(1).Channel; now == old || now == "" {
		t.Fatalf("channel after the offered run = %q (was %q)", now, old)
	}
}
