package slackfake

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// users.list and conversations.list page as Slack does: a limit capped at 1000, a
// cursor that ends empty, invalid_cursor for a cursor Slack did not give, users.list
// without a limit refused for a large workspace, and conversations.list pages cut
// before they are filtered, so a page may be short, even empty, with more to come.
func TestListsPageLikeSlack(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	srv.Populate(2500, 1200)

	if code, body := rawCall(t, srv, "users.list", url.Values{"token": {srv.BotToken()}}); code != 200 || body["error"] != "limit_required" {
		t.Fatalf("users.list without a limit in a workspace of 2,500 = %d %v; want limit_required", code, body)
	}
	p, err := api.GetUsersPaginated(slack.GetUsersOptionLimit(5000)).Next(testCtx(t))
	if err != nil || len(p.Users) != 1000 || p.Cursor == "" {
		t.Fatalf("users.list limit=5000 = %d users, cursor %q, %v; want 1000 and a cursor", len(p.Users), p.Cursor, err)
	}
	users, err := api.GetUsersContext(testCtx(t), slack.GetUsersOptionLimit(1000))
	if err != nil || len(users) != 2502 { // the bot and Slackbot too
		t.Fatalf("users.list, every page = %d users, %v", len(users), err)
	}
	w := 0
	for _, u := range users {
		if strings.HasPrefix(u.ID, "W") {
			w++
		}
	}
	if w != 250 {
		t.Errorf("%d W ids among 2,500 populated people, want every tenth", w)
	}

	_, _, err = api.GetConversations(&slack.GetConversationsParameters{Cursor: "bm90IGEgY3Vyc29y"})
	wantSlackErr(t, err, "invalid_cursor")
	_, _, err = api.GetConversations(&slack.GetConversationsParameters{Types: []string{"public"}})
	wantSlackErr(t, err, "invalid_types")

	// Every tenth populated channel is archived: excluded, pages come up short.
	var got, pages int
	short := false
	cursor := ""
	for {
		chs, next, err := api.GetConversations(&slack.GetConversationsParameters{Cursor: cursor, Limit: 100, ExcludeArchived: true})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got += len(chs)
		short = short || len(chs) < 100 && next != ""
		for _, c := range chs {
			if c.IsArchived {
				t.Fatalf("exclude_archived listed archived #%s", c.Name)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if got != 1080 || pages != 12 || !short {
		t.Fatalf("conversations.list limit=100 exclude_archived: %d channels in %d pages (short page: %v); want 1080 in 12, pages cut before filtering",
			got, pages, short)
	}
	if code, body := rawCall(t, srv, "conversations.list", url.Values{"token": {srv.BotToken()}, "limit": {"5000"}}); code != 200 || len(body["channels"].([]any)) != 1000 {
		t.Fatalf("conversations.list limit=5000 = %d, %d channels; want 1000", code, len(body["channels"].([]any)))
	}
}

// SlackRateLimits enforces Slack's published tiers on the emulator's clock: a tier-2
// method takes 5 calls at once, then 20 a minute of that clock; Retry-After is in its
// seconds.
func TestSlackRateLimitsOnAClock(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return now })
	srv.SlackRateLimits()
	for range Tier2 / 4 {
		if _, err := api.GetUsersPaginated(slack.GetUsersOptionLimit(10)).Next(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := api.GetUsersPaginated(slack.GetUsersOptionLimit(10)).Next(testCtx(t))
	wantRateLimited(t, err)
	now = now.Add(time.Minute / Tier2) // one call's worth of tier 2
	if _, err := api.GetUsersPaginated(slack.GetUsersOptionLimit(10)).Next(testCtx(t)); err != nil {
		t.Fatalf("after 3 s of the clock: %v", err)
	}
	if _, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C0"}); err == nil || strings.Contains(err.Error(), "rate limit") {
		t.Errorf("conversations.info has a budget of its own (tier 3): %v", err)
	}
}

// users.conversations lists a person's conversations as Slack does: their public
// channels, and private channels only where the bot is a member too; archived ones
// unless excluded; without is_member; a limit capped at 999.
func TestUsersConversationsShowsOnlySharedPrivateChannels(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	alice, bob := srv.AddUser("alice"), srv.AddUser("bob")
	public := srv.AddChannel("lobby", ChannelMembers(alice.ID))
	bot := srv.BotUserID()
	shared := srv.AddChannel("shared", ChannelPrivate(), ChannelMembers(alice.ID, bot))
	srv.AddChannel("without-bot", ChannelPrivate(), ChannelMembers(alice.ID))
	srv.AddChannel("bobs", ChannelPrivate(), ChannelMembers(bob.ID, bot))
	old := srv.AddChannel("old", ChannelPrivate(), ChannelArchived(), ChannelMembers(alice.ID, bot))

	ids := func(p *slack.GetConversationsForUserParameters) []string {
		t.Helper()
		chs, next, err := api.GetConversationsForUserContext(testCtx(t), p)
		if err != nil || next != "" {
			t.Fatalf("users.conversations %+v: %v, next %q", p, err, next)
		}
		var out []string
		for _, c := range chs {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(&slack.GetConversationsForUserParameters{UserID: alice.ID, Types: []string{"private_channel"}}); !slices.Equal(got, []string{shared.ID, old.ID}) {
		t.Errorf("alice's private channels = %v, want the two she shares with the bot %v", got, []string{shared.ID, old.ID})
	}
	if got := ids(&slack.GetConversationsForUserParameters{UserID: alice.ID, Types: []string{"private_channel"}, ExcludeArchived: true}); !slices.Equal(got, []string{shared.ID}) {
		t.Errorf("alice's private channels, archived excluded = %v", got)
	}
	if got := ids(&slack.GetConversationsForUserParameters{UserID: alice.ID}); !slices.Equal(got, []string{public.ID}) {
		t.Errorf("alice's channels by default (public only) = %v", got)
	}
	_, body := rawCall(t, srv, "users.conversations", url.Values{"token": {srv.BotToken()}, "user": {alice.ID}, "types": {"private_channel"}})
	for _, c := range body["channels"].([]any) {
		if _, ok := c.(map[string]any)["is_member"]; ok {
			t.Errorf("users.conversations gave is_member, which Slack omits: %v", c)
		}
	}
	_, _, err := api.GetConversationsForUserContext(testCtx(t), &slack.GetConversationsForUserParameters{UserID: "U0NOBODY"})
	wantSlackErr(t, err, "user_not_found")
	_, _, err = api.GetConversationsForUserContext(testCtx(t), &slack.GetConversationsForUserParameters{Types: []string{"private"}})
	wantSlackErr(t, err, "invalid_types")

	srv.Populate(0, 1200)
	_, body = rawCall(t, srv, "users.conversations", url.Values{"token": {srv.BotToken()}, "limit": {"5000"}})
	if chs := body["channels"].([]any); len(chs) == 0 || len(chs) > 999 || body["response_metadata"].(map[string]any)["next_cursor"] == "" {
		t.Errorf("users.conversations limit=5000 gave %d channels and cursor %v; want at most 999 and more to come",
			len(chs), body["response_metadata"])
	}
}
