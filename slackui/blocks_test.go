package slackui_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// A list reply of any length is a message Slack accepts: at most 50 blocks, no section
// over 3,000 characters, and it says what it left out.
func TestListStaysWithinSlackLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines int
		width int
	}{
		{"few", 3, 40}, {"60 long items", 60, 2500}, {"5000 short", 5000, 30}, {"one huge", 1, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := make([]string, tc.lines)
			for i := range lines {
				lines[i] = fmt.Sprintf("%d %s", i, strings.Repeat("x", tc.width))
			}
			reply := slackui.List("Heading", lines)
			if n := len(reply.Blocks); n > slackui.MaxBlocks {
				t.Fatalf("%d blocks", n)
			}
			raw, _ := json.Marshal(reply.Blocks)
			var blocks []struct {
				Text *struct{ Text string } `json:"text"`
			}
			if err := json.Unmarshal(raw, &blocks); err != nil {
				t.Fatal(err)
			}
			for _, b := range blocks {
				if b.Text != nil && len([]rune(b.Text.Text)) > slackui.MaxSectionText {
					t.Fatalf("a section of %d characters", len([]rune(b.Text.Text)))
				}
			}
			all := strings.Contains(string(raw), fmt.Sprintf("%d ", tc.lines-1))
			note := strings.Contains(string(raw), "more not shown")
			if all == note {
				t.Fatalf("last line shown: %v, note of what was left out: %v", all, note)
			}
		})
	}
}

// A runbook's blocks may not carry Runbook's own approval buttons, however nested.
func TestParseBlocksRefusesReservedActionIDs(t *testing.T) {
	for _, blocks := range []string{
		`[{"type":"actions","elements":[{"type":"button","action_id":"approval.approve","value":"7","text":{"type":"plain_text","text":"Ack"}}]}]`,
		`[{"type":"section","text":{"type":"mrkdwn","text":"hi"},"accessory":{"type":"button","action_id":"approval.deny","value":"7","text":{"type":"plain_text","text":"x"}}}]`,
		`[{"type":"actions","elements":[{"type":"button","action_id":"run.rollback","value":"R-1","text":{"type":"plain_text","text":"Undo"}}]}]`,
	} {
		_, err := slackui.ParseBlocks(blocks)
		if runbook.ErrorCode(err) != runbook.EINVALID || !strings.Contains(runbook.ErrorMessage(err), "Runbook's own") {
			t.Errorf("ParseBlocks(%s) = %v, want EINVALID naming the reserved id", blocks, err)
		}
	}
	ok := `[{"type":"actions","elements":[{"type":"button","action_id":"ack","value":"7","text":{"type":"plain_text","text":"Ack"}}]}]`
	if _, err := slackui.ParseBlocks(ok); err != nil {
		t.Errorf("an ordinary button was refused: %v", err)
	}
}
