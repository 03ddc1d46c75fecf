package engine_test

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackfake"
)

// TestKickoffOnFreeWorkspaceSkipsGroup: on Slack's Free plan (usergroups.* answer
// plan_upgrade_required) the shipped kickoff invites the commander, skips @oncall with
// a warning, and goes on to announce; the starter is told what was skipped.
func TestKickoffOnFreeWorkspaceSkipsGroup(t *testing.T) {
	w := newWorldWith(t, slackfake.Options{FreePlan: true})
	run := w.waitRun(w.run("sev1-kickoff", nil).ID, runbook.RunSucceeded, runbook.RunFailed)
	if run.State != runbook.RunSucceeded {
		t.Fatalf("the kickoff %s: %+v", run.State, run.Steps)
	}
	ch := w.channelNamed("inc-1-checkout")
	if !strings.Contains(strings.Join(ch.Members, ","), w.alice.ID) {
		t.Errorf("the commander was not invited: %v", ch.Members)
	}
	if msgs := w.botMessages(ch.ID); len(msgs) != 2 {
		t.Errorf("the steps after the channel posted %d messages, want 2", len(msgs))
	}
	skipped, _ := run.Steps[0].Outputs["skipped"].(string)
	if !strings.Contains(skipped, "@oncall") || !strings.Contains(skipped, "Slack plan has no user groups") {
		t.Errorf("channel outputs = %v; want @oncall skipped", run.Steps[0].Outputs)
	}
	w.waitWarning("skipped a user group that cannot be used here: @oncall")
}

const inviteGroups = `
name: room
steps:
  - id: ch
    action: slack.create_channel
    with: { name: war-room, invite: ["@alice", "@oncall"] }
  - action: slack.invite
    with: { channel: "{{steps.ch.id}}", users: ["@oncall", "@carol"] }
  - action: slack.send_message
    with: { channel: "{{steps.ch.id}}", text: "ready" }
`

// TestDisabledGroupIsNotInvited: a user group disabled in Slack is no group. Its
// members are not invited by its handle, both invitation steps skip it with a warning
// that says it is disabled, the people named beside it get in, and the run goes on.
func TestDisabledGroupIsNotInvited(t *testing.T) {
	w := newWorldWith(t, slackfake.Options{}, inviteGroups)
	carol := w.Person("carol")
	if !w.Slack.DisableUserGroup("oncall") {
		t.Fatal("no @oncall to disable")
	}
	run := w.waitRun(w.run("room", nil).ID, runbook.RunSucceeded, runbook.RunFailed)
	if run.State != runbook.RunSucceeded {
		t.Fatalf("the run %s: %+v", run.State, run.Steps)
	}
	ch := w.channelNamed("war-room")
	members := strings.Join(ch.Members, ",")
	if !strings.Contains(members, w.alice.ID) || !strings.Contains(members, carol.ID) {
		t.Errorf("alice and carol were not both invited: %v", ch.Members)
	}
	if strings.Contains(members, w.bob.ID) {
		t.Errorf("bob got in through the disabled @oncall: %v", ch.Members)
	}
	for _, i := range []int{0, 1} {
		if s, _ := run.Steps[i].Outputs["skipped"].(string); !strings.Contains(s, "@oncall is a disabled user group") {
			t.Errorf("step %d outputs = %v; want @oncall skipped as disabled", i+1, run.Steps[i].Outputs)
		}
	}
	if len(w.botMessages(ch.ID)) != 1 {
		t.Errorf("the step after the invitations did not post")
	}
	w.waitWarning("@oncall is a disabled user group")
}

// waitWarning waits for the run's end message in #ops to carry a warning.
func (w *world) waitWarning(want string) {
	w.t.Helper()
	w.WaitFor("a warning in #ops with "+want, func() bool {
		for _, m := range w.botMessages(w.ops.ID) {
			if strings.Contains(m.Text, "finished, but") && strings.Contains(m.Text, want) {
				return true
			}
		}
		return false
	})
}
