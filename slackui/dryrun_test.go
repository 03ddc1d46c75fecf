package slackui_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

func TestDryRun(t *testing.T) {
	inc := &runbook.Incident{ID: 4, Title: "Checkout is down"}
	steps := []slackui.DryRunStep{
		{Number: 1, ID: "scale", Action: "http.request",
			Shows: "POST https://deploy.example.com/scale\nAuthorization: Bearer [secret:DEPLOY_TOKEN]\n{\"count\":12,\"service\":\"x\\\"} <!channel>\"}"},
		{Number: 2, ID: "restart", Action: "command.run", Shows: "/usr/bin/systemctl restart 'checkout <@U123>'"},
		{Number: 3, Action: "slack.send_message", Shows: "channel: #ops\ntext: <!here> scaled ``` x & y"},
		{Number: 4, ID: "page", Action: "slack.dm", Skipped: `when renders "<!channel>"`},
		{Number: 5, ID: "notify", Action: "slack.send_message", Problem: `missing variable "incident.title"`},
	}
	reply := slackui.DryRun("scale-up", inc, steps)
	if reply.Visibility != runbook.Private || reply.Text != "Dry run of scale-up for INC-4 — nothing was done" {
		t.Fatalf("reply = %q (%v)", reply.Text, reply.Visibility)
	}
	golden(t, "dry_run.json", map[string]any{"text": reply.Text, "blocks": reply.Blocks})
	if got := slackui.DryRun("cleanup", nil, nil).Text; got != "Dry run of cleanup — nothing was done" {
		t.Errorf("without an incident: %q", got)
	}
}

// Whatever the steps show — many steps, long payloads full of what Slack would read
// as markup — the reply is one message Slack takes, and nothing in it mentions, links
// or leaves a code block open.
func TestDryRunStaysValid(t *testing.T) {
	hostile := strings.Repeat("<!channel> ``` & <@U1> ", 400)
	var steps []slackui.DryRunStep
	for i := range 80 {
		shows := hostile
		if i%2 == 1 {
			shows = "`" + hostile[:40] + "``" // backticks against the fences
		}
		steps = append(steps, slackui.DryRunStep{Number: i + 1, ID: "s", Action: "http.request", Shows: shows, Skipped: hostile, Problem: hostile})
	}
	for _, n := range []int{1, 3, 80} {
		reply := slackui.DryRun("big", nil, steps[:n])
		if len(reply.Blocks) > slackui.MaxBlocks {
			t.Fatalf("%d steps: %d blocks", n, len(reply.Blocks))
		}
		raw, err := json.Marshal(reply.Blocks)
		if err != nil {
			t.Fatal(err)
		}
		var blocks []struct {
			Text     *struct{ Text string }  `json:"text"`
			Elements []struct{ Text string } `json:"elements"`
		}
		if err := json.Unmarshal(raw, &blocks); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, b := range blocks {
			texts := []string{}
			if b.Text != nil {
				texts = append(texts, b.Text.Text)
			}
			for _, e := range b.Elements {
				texts = append(texts, e.Text)
			}
			for _, text := range texts {
				total += len([]rune(text))
				if len([]rune(text)) > slackui.MaxSectionText {
					t.Errorf("%d steps: a text of %d characters", n, len([]rune(text)))
				}
				if strings.Contains(text, "<!") || strings.Contains(text, "<@") {
					t.Errorf("%d steps: a mention got through: %.200q", n, text)
				}
				if strings.Count(text, "```")%2 != 0 || strings.Contains(text, "````") {
					t.Errorf("%d steps: a code block is left open: %.200q", n, text)
				}
			}
		}
		if total > 40000 {
			t.Errorf("%d steps: %d characters in one message", n, total)
		}
		if n == 80 && !strings.Contains(string(raw), "more steps not shown") {
			t.Errorf("80 steps: the steps left out are not counted")
		}
	}
}
