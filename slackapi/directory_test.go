package slackapi_test

import (
	"context"
	"testing"

	"github.com/runbookhq/runbook"
)

// A name the channel directory missed a moment ago is still found when Slack says it
// exists: FindChannel (after name_taken, or a retry after a crash) pages again, while
// a #name look-up trusts the recent pass. A channel the bot creates is known at once.
func TestDirectoryMissesAndNewChannels(t *testing.T) {
	ctx := context.Background()
	c, srv := newClient(t, "")
	srv.AddChannel("ops")
	if _, err := c.ResolveChannel(ctx, "#inc-7"); runbook.SlackCode(err) != "channel_not_found" {
		t.Fatalf("#inc-7 before it exists: %v", err)
	}
	made := srv.AddChannel("inc-7")
	if _, err := c.ResolveChannel(ctx, "#inc-7"); runbook.SlackCode(err) != "channel_not_found" {
		t.Fatalf("#inc-7 within a minute of a pass that missed it: %v, want the pass trusted", err)
	}
	if n := srv.Calls("conversations.list"); n != 1 {
		t.Fatalf("conversations.list called %d times, want 1", n)
	}
	ch, err := c.FindChannel(ctx, "inc-7")
	if err != nil || ch.ID != made.ID {
		t.Fatalf("FindChannel(inc-7) = %+v, %v; want %s", ch, err, made.ID)
	}
	created, err := c.CreateChannel(ctx, "inc-8", false)
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Calls("conversations.list")
	if id, err := c.ResolveChannel(ctx, "#inc-8"); err != nil || id != created.ID {
		t.Fatalf("#inc-8 just created = %q, %v", id, err)
	}
	if n := srv.Calls("conversations.list"); n != before {
		t.Fatalf("a channel the bot created was looked up in conversations.list")
	}
}
