package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/slackfake"
)

// On an org-wide install on Enterprise Grid, people have W ids and interaction
// payloads carry "team": null: a W-id member declares and runs a runbook by slash
// command, another, named an approver by @handle, approves it with the button, the run
// goes on, and a mention is answered.
func TestEnterpriseGridMembersDeclareAndApprove(t *testing.T) {
	var wanda, walt slackfake.User
	var ops slackfake.Channel
	h := startWith(t, func(h *harness) {
		h.Slack.SetOrgWideInstall("E0ORG0001")
		wanda = h.Slack.AddUser("wanda", slackfake.UserEnterprise())
		walt = h.Slack.AddUser("walt", slackfake.UserEnterprise())
		h.Channel("incidents")
		ops = h.Channel("ops", "alice")
	}, func(c *config.Config) {
		c.Slack.DefaultChannel = "#incidents"
		c.Slack.ApprovalChannel = "#ops"
		c.Approvals.Approvers = []string{"@walt"}
	})
	if !strings.HasPrefix(wanda.ID, "W") || !strings.HasPrefix(walt.ID, "W") {
		t.Fatalf("Grid members %s and %s should have W ids", wanda.ID, walt.ID)
	}

	if answer := h.Ask(wanda.ID, h.general.ID, "declare sev3 slow checkout commander=<@"+walt.ID+">"); !strings.Contains(answer, "INC-1") {
		t.Fatalf("wanda's declare answered %q", answer)
	}
	inc, err := h.App().DB.Incidents().Incident(context.Background(), 1)
	if err != nil || inc.Commander != walt.ID {
		t.Fatalf("INC-1 = %+v, %v; want commander %s", inc, err, walt.ID)
	}
	if answer := h.Ask(wanda.ID, h.general.ID, "run scale-up INC-1 service=checkout count=8"); !strings.Contains(answer, "Started") {
		t.Fatalf("wanda's run answered %q", answer)
	}
	var approval *runbook.Approval
	h.WaitFor("the approval request", func() bool {
		a, err := h.App().DB.Approvals().ApprovalForStep(context.Background(), 1, 0)
		approval = a
		return err == nil && a.MessageTS != ""
	})

	d, err := h.Slack.ClickButton(walt.ID, ops.ID, approval.MessageTS, "approval.approve")
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		Team                *struct{}           `json:"team"`
		Enterprise          struct{ ID string } `json:"enterprise"`
		IsEnterpriseInstall bool                `json:"is_enterprise_install"`
	}
	if err := json.Unmarshal(d.Payload, &payload); err != nil || payload.Team != nil || payload.Enterprise.ID != "E0ORG0001" || !payload.IsEnterpriseInstall {
		t.Fatalf("the click's payload is not an org-wide install's (team null, the enterprise): %s", d.Payload)
	}
	if req, err := bot.DecodeInteraction(d.Payload); err != nil || req.TeamID != h.Slack.TeamID() || req.UserID != walt.ID {
		t.Fatalf("decoded click = %+v, %v; want team %s from user.team_id, user %s", req, err, h.Slack.TeamID(), walt.ID)
	}
	if _, err := d.WaitAck(h.Context()); err != nil {
		t.Fatal(err)
	}
	h.WaitFor("the run to finish", func() bool {
		r, err := h.App().DB.Runs().Run(context.Background(), 1)
		return err == nil && r.State == runbook.RunSucceeded
	})
	if m, _ := h.Slack.Message(ops.ID, approval.MessageTS); !strings.Contains(string(m.Blocks), "Approved by <@"+walt.ID+">") {
		t.Fatalf("request message after walt's approval = %s", m.Blocks)
	}

	// A mention's event is authorized for the org (team_id null in authorizations).
	m := h.Slack.Mention(wanda.ID, h.general.ID, "status INC-1", "")
	h.WaitFor("the answer to wanda's mention", func() bool { return len(h.BotReplies(h.general.ID, m.TS)) > 0 })
	if reply := h.BotReplies(h.general.ID, m.TS)[0]; !strings.Contains(reply.Text, "INC-1") {
		t.Fatalf("wanda's mention answered %q", reply.Text)
	}
}
