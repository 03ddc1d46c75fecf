package demo

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

func testNames(t *testing.T) (*names, slackfake.User, slackfake.Channel) {
	t.Helper()
	srv := apptest.NewWorkspace(t, slackfake.Options{}).Slack
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops")
	g := srv.AddUserGroup("oncall")
	n := &names{srv: srv, users: map[string]string{srv.BotUserID(): botName, alice.ID: "alice"},
		ids: []string{alice.ID}, groups: map[string]string{g.ID: "oncall"}}
	return n, alice, ops
}

func TestMrkdwn(t *testing.T) {
	n, alice, ops := testNames(t)
	var oncall string
	for id := range n.groups {
		oncall = id
	}
	for in, want := range map[string]string{
		"<@" + alice.ID + "> and <@" + alice.ID + "|al>":              "@alice and @alice",
		"in <#" + ops.ID + "> or <#" + ops.ID + "|ops>":               "in #ops or #ops",
		"<!subteam^" + oncall + "|@oncall> <!subteam^" + oncall + ">": "@oncall @oncall",
		"<!here> <!channel>":                               "@here @channel",
		"<!date^1772377320^{time}|15:02 UTC>":              "15:02 UTC",
		"<https://example.com|docs> <https://example.com>": "docs (https://example.com) https://example.com",
		"*Declared* *INC-1* ~gone~":                        "Declared INC-1 ~gone~",
		"```aws ecs update-service```":                     "`aws ecs update-service`",
		":rotating_light: :no_such_emoji:":                 "🚨 :no_such_emoji:",
		"a &lt;!channel&gt; &amp; b":                       "a <!channel> & b",
	} {
		if got := n.mrkdwn(in); got != want {
			t.Errorf("mrkdwn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBlocks(t *testing.T) {
	n, alice, _ := testNames(t)
	raw := `[
	  {"type":"header","text":{"type":"plain_text","text":"Approval needed: APR-1"}},
	  {"type":"section","fields":[{"type":"mrkdwn","text":"*Risk*\n:red_circle: high"},{"type":"mrkdwn","text":"no label"}]},
	  {"type":"section","text":{"type":"mrkdwn","text":"*Rollback*\n` + "```undo```" + `"}},
	  {"type":"section","text":{"type":"mrkdwn","text":"line one\nline two\nline three"}},
	  {"type":"context","elements":[{"type":"mrkdwn","text":"by <@` + alice.ID + `>"},{"type":"image","alt_text":"logo"}]},
	  {"type":"divider"},
	  {"type":"actions","elements":[{"type":"button","action_id":"a.ok","text":{"type":"plain_text","text":"Approve"}},
	    {"type":"button","action_id":"a.no","text":{"type":"plain_text","text":"Deny"}},{"type":"static_select"}]},
	  {"type":"video"}
	]`
	lines, buttons, ok := n.blocks([]byte(raw))
	want := []string{
		"== Approval needed: APR-1 ==",
		"Risk: 🔴 high",
		"no label",
		"Rollback: `undo`",
		"line one", "line two", "line three",
		"› by @alice  [image: logo]",
		"────────",
		"[Approve] [Deny] [static_select]",
		"[video block]",
	}
	if !ok || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("blocks =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if len(buttons) != 2 || buttons[0].ActionID != "a.ok" || buttons[1].Label != "Deny" {
		t.Errorf("buttons = %+v", buttons)
	}
	if _, _, ok := n.blocks([]byte(`{"not":"a list"}`)); ok {
		t.Error("blocks accepted something that is not a list of blocks")
	}
}

func TestNormalize(t *testing.T) {
	in := "at 2026-03-01 14:32 UTC, 14:32:05, ts 1772377320.123456, user U0000000A"
	want := "at YYYY-MM-DD HH:MM UTC, HH:MM:SS, ts TS, user ID"
	if got := Normalize(in); got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
}
