package slackapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackfake"
)

func newClient(t *testing.T, token string) (*slackapi.Client, *slackfake.Server) {
	t.Helper()
	srv := apptest.NewWorkspace(t, slackfake.Options{}).Slack
	if token == "" {
		token = srv.BotToken()
	}
	return slackapi.New(slack.New(token, slack.OptionAPIURL(srv.APIURL())), nil, nil), srv
}

func TestIdentify(t *testing.T) {
	c, srv := newClient(t, "")
	id, err := c.Identify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if id.BotUserID != srv.BotUserID() || id.TeamID != srv.TeamID() {
		t.Fatalf("identity = %+v", id)
	}
	// The app, the executor and the bot each ask at start; Slack is asked once.
	for range 2 {
		if again, err := c.Identify(context.Background()); err != nil || again != id {
			t.Fatalf("identity asked again = %+v, %v", again, err)
		}
	}
	if n := srv.Calls("auth.test"); n != 1 {
		t.Fatalf("auth.test called %d times, want 1", n)
	}
}

func TestIdentifyRejectedToken(t *testing.T) {
	c, _ := newClient(t, "xoxb-not-the-right-one")
	_, err := c.Identify(context.Background())
	if runbook.ErrorCode(err) != runbook.EFORBIDDEN || !strings.Contains(runbook.ErrorMessage(err), "invalid_auth") {
		t.Fatalf("err = %v; want EFORBIDDEN naming invalid_auth", err)
	}
	if strings.Contains(err.Error(), "not-the-right-one") {
		t.Fatal("the token is in the error")
	}
}

func TestPostMessageRidesOutRateLimits(t *testing.T) {
	c, srv := newClient(t, "")
	ch := srv.AddChannel("ops")
	srv.SetRateLimit("chat.postMessage", 60, 1) // one per second after the first
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, text := range []string{"one", "two"} {
		if _, err := c.PostMessage(ctx, runbook.Message{Channel: ch.ID, Text: text}); err != nil {
			t.Fatalf("post %q: %v", text, err)
		}
	}
	var got []string
	for _, m := range srv.Messages(ch.ID) {
		got = append(got, m.Text)
	}
	if strings.Join(got, ",") != "one,two" {
		t.Fatalf("channel holds %v; want each message once, in order", got)
	}
	if srv.Calls("chat.postMessage") < 3 {
		t.Fatalf("only %d calls: the rate limit was never hit", srv.Calls("chat.postMessage"))
	}
}

func TestSlackErrorCode(t *testing.T) {
	c, _ := newClient(t, "")
	_, err := c.PostMessage(context.Background(), runbook.Message{Channel: "C_NOPE", Text: "hi"})
	if runbook.SlackCode(err) != "channel_not_found" {
		t.Fatalf("Code(%v) = %q, want channel_not_found", err, runbook.SlackCode(err))
	}
}

func TestRespond(t *testing.T) {
	c, srv := newClient(t, "")
	u := srv.AddUser("alice")
	ch := srv.AddChannel("ops", slackfake.ChannelMembers(u.ID))
	d := srv.SlashCommand(u.ID, ch.ID, "/runbook", "help")
	err := c.Respond(context.Background(), d.ResponseURL, runbook.Reply{Text: "later answer"})
	if err != nil {
		t.Fatal(err)
	}
	eph := srv.Ephemerals(ch.ID, u.ID)
	if len(eph) != 1 || eph[0].Text != "later answer" {
		t.Fatalf("ephemerals = %+v", eph)
	}
}

// TestStaysUnderSlackLimits posts a burst to one channel whose Slack limit is about one
// message a second: the client paces itself, so Slack never answers 429.
func TestStaysUnderSlackLimits(t *testing.T) {
	c, srv := newClient(t, "")
	ch := srv.AddChannel("ops")
	srv.SetChannelRateLimit(1, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var want []string
	for i := range 6 {
		text := fmt.Sprintf("update %d", i)
		want = append(want, text)
		if _, err := c.PostMessage(ctx, runbook.Message{Channel: ch.ID, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	for _, call := range srv.APICalls() {
		if call.Status == 429 {
			t.Fatalf("Slack answered 429 to %s: the client did not pace itself", call.Method)
		}
	}
	var got []string
	for _, m := range srv.Messages(ch.ID) {
		got = append(got, m.Text)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("messages = %v, want %v", got, want)
	}
}

// TestLookupsAreRemembered: finding #ops twice asks conversations.list (a tier-2
// method) once.
func TestLookupsAreRemembered(t *testing.T) {
	c, srv := newClient(t, "")
	ch := srv.AddChannel("ops")
	for range 3 {
		id, err := c.ResolveChannel(context.Background(), "#ops")
		if err != nil || id != ch.ID {
			t.Fatalf("ResolveChannel = %q, %v", id, err)
		}
	}
	if n := srv.Calls("conversations.list"); n != 1 {
		t.Fatalf("conversations.list called %d times, want 1", n)
	}
	srv.AddUser("alice")
	for range 3 {
		if _, err := c.ResolveUser(context.Background(), "@nobody"); runbook.SlackCode(err) != "user_not_found" {
			t.Fatalf("ResolveUser(@nobody) = %v", err)
		}
	}
	if n := srv.Calls("users.list"); n != 1 {
		t.Fatalf("users.list called %d times, want 1", n)
	}
}

// TestEveryPacedMethodHasScopes: a method the adapter paces is one it calls, so the
// manifest must ask for its scopes.
func TestEveryPacedMethodHasScopes(t *testing.T) {
	for _, method := range slackapi.PacedMethods() {
		if _, ok := slackapi.MethodScopes[method]; !ok {
			t.Errorf("%s is called but has no entry in MethodScopes", method)
		}
	}
}

// TestPermalinkIsBuiltAsSlackBuildsIt: once the bot knows its workspace's address, a
// message's link is built without a chat.getPermalink call, and is the link Slack
// gives, for a message and for a reply in a thread.
func TestPermalinkIsBuiltAsSlackBuildsIt(t *testing.T) {
	ctx := context.Background()
	c, srv := newClient(t, "")
	ch := srv.AddChannel("ops")
	root, err := c.PostMessage(ctx, runbook.Message{Channel: ch.ID, Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := c.PostMessage(ctx, runbook.Message{Channel: ch.ID, Text: "reply", ThreadTS: root.TS})
	if err != nil {
		t.Fatal(err)
	}
	// Before Identify the address is unknown: Slack is asked.
	asked := map[string]string{}
	for _, m := range []runbook.PostedMessage{root, reply} {
		thread := ""
		if m == reply {
			thread = root.TS
		}
		link, err := c.Permalink(ctx, ch.ID, m.TS, thread)
		if err != nil {
			t.Fatal(err)
		}
		asked[m.TS] = link
	}
	if n := srv.Calls("chat.getPermalink"); n != 2 {
		t.Fatalf("chat.getPermalink called %d times before Identify, want 2", n)
	}
	if _, err := c.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range []runbook.PostedMessage{root, reply} {
		thread := ""
		if m == reply {
			thread = root.TS
		}
		built, err := c.Permalink(ctx, ch.ID, m.TS, thread)
		if err != nil || built != asked[m.TS] {
			t.Errorf("built link %q (%v); Slack's is %q", built, err, asked[m.TS])
		}
	}
	if n := srv.Calls("chat.getPermalink"); n != 2 {
		t.Errorf("chat.getPermalink called %d times in all, want only the 2 before Identify", n)
	}
}

// PrivateChannelsOf reads the private channels a person shares with the bot, every
// page of them, and a burst of asks about one person costs one call.
func TestPrivateChannelsOfIsOneCallPerBurst(t *testing.T) {
	c, srv := newClient(t, "")
	alice, bob := srv.AddUser("alice"), srv.AddUser("bob")
	var want []string
	for i := range 1500 { // two pages of users.conversations
		ch := srv.AddChannel(fmt.Sprintf("private-%d", i), slackfake.ChannelPrivate(), slackfake.ChannelMembers(alice.ID, srv.BotUserID()))
		want = append(want, ch.ID)
	}
	srv.AddChannel("bobs", slackfake.ChannelPrivate(), slackfake.ChannelMembers(bob.ID, srv.BotUserID()))
	srv.AddChannel("without-bot", slackfake.ChannelPrivate(), slackfake.ChannelMembers(alice.ID))
	for range 3 {
		in, err := c.PrivateChannelsOf(context.Background(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(in) != len(want) || !in[want[0]] || !in[want[len(want)-1]] {
			t.Fatalf("alice's private channels: %d, want the %d she shares with the bot", len(in), len(want))
		}
	}
	if n := srv.Calls("users.conversations"); n != 2 {
		t.Errorf("three asks about alice made %d users.conversations calls, want one pass of 2 pages", n)
	}
}
