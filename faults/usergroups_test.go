package faults

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// inviteOncall is a kickoff that invites a user group beside a person.
const inviteOncall = `
name: room
steps:
  - id: ch
    action: slack.create_channel
    with: { name: war-room, invite: ["@alice", "@oncall"] }
`

// Hole: a disabled user group as a way to approve. @oncall is a configured approver
// group, mallory is in it, and an admin disabled it: Slack no longer answers for it,
// so it is no group. The bot still starts (bob names someone), says at start that
// @oncall is disabled — for the approvers and for the invitation list naming it — and
// mallory's click, by handle or by the group's id, is refused with that sentence;
// bob's approves.
func TestAttackDisabledApproverGroup(t *testing.T) {
	for _, byID := range []bool{false, true} {
		name := map[bool]string{false: "ByHandle", true: "ByID"}[byID]
		t.Run(name, func(t *testing.T) {
			w := &attackWorld{world: newWorld(t, slackfake.Options{}, map[string]string{"group-gate": groupGate, "room": inviteOncall})}
			w.mallory = w.Person("mallory")
			w.oncall = w.Group("oncall", "mallory")
			w.ops = w.Channel("ops", "alice", "bob", "mallory")
			entry := "@oncall"
			if byID {
				entry = w.oncall.ID
			}
			w.Config.Approvals.Approvers = []string{entry, "bob"}
			w.Config.Slack.ApprovalChannel = "#ops"
			if !w.Slack.DisableUserGroup("oncall") {
				t.Fatal("no @oncall to disable")
			}
			w.Start()
			logs := w.Logs.String()
			if !strings.Contains(logs, "approvals.approvers: "+entry+" is a disabled user group") {
				t.Errorf("no warning naming the disabled %s approver in the log:\n%s", entry, logs)
			}
			if !strings.Contains(logs, "room.yaml:4: step 1 (slack.create_channel) invite: @oncall is a disabled user group") {
				t.Errorf("no warning naming the invitation of the disabled @oncall in the log:\n%s", logs)
			}
			a := w.request("group-gate")
			answer := w.clickRaw(w.mallory, a.MessageTS, slackui.ApprovalValue(a))
			if !strings.Contains(answer, "You are not an approver for "+a.Key()) || !strings.Contains(answer, entry+" is a disabled user group") ||
				strings.Contains(answer, "try again") {
				t.Errorf("mallory's click answered %q", answer)
			}
			if answer := w.clickRaw(w.bob, a.MessageTS, slackui.ApprovalValue(a)); !strings.Contains(answer, "approved") {
				t.Errorf("bob's click answered %q", answer)
			}
		})
	}
}

// On Slack's Free plan the bot says at start that the workspace has no user groups,
// and names the invitation list that names one: runs will skip it.
func TestStartSaysFreeWorkspaceSkipsGroups(t *testing.T) {
	w := newWorld(t, slackfake.Options{FreePlan: true}, map[string]string{"room": inviteOncall})
	w.Start()
	logs := w.Logs.String()
	for _, want := range []string{
		"this Slack workspace has no user groups (Slack's Free plan)",
		"room.yaml:4: step 1 (slack.create_channel) invite: @oncall is no member's username, and this workspace's Slack plan has no user groups; runs skip it",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
