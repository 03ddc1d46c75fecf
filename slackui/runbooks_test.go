package slackui_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/slackui"
)

var scaleUp = slackui.RunbookInfo{Name: "scale-up", Description: "Scale a service <up>", Params: []slackui.Param{
	{Name: "service", Type: "string", Required: true, Description: "the service to scale"},
	{Name: "count", Type: "integer", Required: true},
	{Name: "region", Type: "enum", Values: []string{"eu", "us"}, Default: "eu", Description: "where it runs"},
	{Name: "ratio", Type: "number"},
	{Name: "force", Type: "boolean", Default: false},
}}

func TestRunbookList(t *testing.T) {
	reply := slackui.RunbookList([]slackui.RunbookInfo{scaleUp, {Name: "wrap-up", Description: "Archive the channel"}}, "/runbook")
	golden(t, "runbook_list.json", map[string]any{"text": reply.Text, "blocks": reply.Blocks})
	if got := slackui.RunbookList(nil, "/runbook").Text; !strings.Contains(got, "No runbooks are loaded") {
		t.Errorf("no runbooks: %q", got)
	}
}

func TestRunbookHelp(t *testing.T) {
	reply := slackui.RunbookHelp(scaleUp, "@Runbook")
	golden(t, "runbook_help.json", map[string]any{"text": reply.Text, "blocks": reply.Blocks})
	if got := slackui.RunbookHelp(slackui.RunbookInfo{Name: "wrap-up"}, "/runbook").Text; !strings.Contains(got, "takes no params") {
		t.Errorf("no params: %q", got)
	}
}

// However many runbooks and params, with however long descriptions, the answers are
// messages Slack takes.
func TestRunbookListStaysWithinSlackLimits(t *testing.T) {
	var many []slackui.RunbookInfo
	big := slackui.RunbookInfo{Name: "big", Description: strings.Repeat("d", 5000)}
	for i := range 200 {
		big.Params = append(big.Params, slackui.Param{Name: fmt.Sprintf("p%d", i), Type: "enum",
			Values: []string{strings.Repeat("v", 300)}, Description: strings.Repeat("x", 2000)})
	}
	for range 30 {
		many = append(many, big)
	}
	for _, reply := range []any{slackui.RunbookList(many, "/runbook").Blocks, slackui.RunbookHelp(big, "/runbook").Blocks} {
		raw, _ := json.Marshal(reply)
		var blocks []struct {
			Text struct{ Text string } `json:"text"`
		}
		if err := json.Unmarshal(raw, &blocks); err != nil {
			t.Fatal(err)
		}
		if len(blocks) > slackui.MaxBlocks {
			t.Fatalf("%d blocks", len(blocks))
		}
		for _, b := range blocks {
			if n := len([]rune(b.Text.Text)); n > slackui.MaxSectionText {
				t.Fatalf("a block of %d characters", n)
			}
		}
	}
}
