package slackfake

import (
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
)

func TestAuth(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)

	res, err := api.AuthTest()
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != srv.BotUserID() || res.TeamID != srv.TeamID() || res.BotID != srv.BotID() || res.User != BotName {
		t.Errorf("auth.test = %+v", res)
	}

	_, err = slack.New("", slack.OptionAPIURL(srv.APIURL())).AuthTest()
	wantSlackErr(t, err, "not_authed")
	_, err = slack.New("xoxb-1-2-wrong", slack.OptionAPIURL(srv.APIURL())).AuthTest()
	wantSlackErr(t, err, "invalid_auth")
	_, err = slack.New(srv.AppToken(), slack.OptionAPIURL(srv.APIURL())).AuthTest()
	wantSlackErr(t, err, "not_allowed_token_type")

	// apps.connections.open wants the app-level token.
	wrong := slack.New(srv.BotToken(), slack.OptionAppLevelToken(srv.BotToken()), slack.OptionAPIURL(srv.APIURL()))
	_, _, err = wrong.StartSocketModeContext(t.Context())
	wantSlackErr(t, err, "not_allowed_token_type")
	_, wsURL, err := api.StartSocketModeContext(t.Context())
	if err != nil || !strings.HasPrefix(wsURL, "ws://127.0.0.1:") || !strings.Contains(wsURL, "ticket=") {
		t.Errorf("apps.connections.open = %q, %v", wsURL, err)
	}

	// The token is accepted in the form body and as a Bearer header (GET).
	if _, err := api.GetPermalink(&slack.PermalinkParameters{Channel: "C404", Ts: "1.2"}); err == nil {
		t.Error("getPermalink of an unknown channel succeeded")
	} else {
		wantSlackErr(t, err, "channel_not_found")
	}

	status, body := rawCall(t, srv, "foo.bar", url.Values{"token": {srv.BotToken()}})
	if status != 200 || body["ok"] != false || body["error"] != "unknown_method" {
		t.Errorf("unknown method: %d %v", status, body)
	}
}

func TestPostMessage(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	ops := srv.AddChannel("ops")

	ch, ts, err := api.PostMessage("#ops", slack.MsgOptionText("hello", false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "incident", EventPayload: map[string]any{"id": "42"}}))
	if err != nil || ch != ops.ID {
		t.Fatalf("post = %q %q %v", ch, ts, err)
	}
	_, reply, err := api.PostMessage(ops.ID, slack.MsgOptionText("in thread", false), slack.MsgOptionTS(ts))
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages("ops")
	if len(msgs) != 2 || msgs[0].Text != "hello" || msgs[0].BotID != srv.BotID() || msgs[0].User != srv.BotUserID() ||
		msgs[1].ThreadTS != ts || msgs[0].ThreadTS != ts || msgs[1].TS != reply {
		t.Fatalf("messages = %+v", msgs)
	}
	if !strings.Contains(string(msgs[0].Metadata), `"event_type":"incident"`) {
		t.Errorf("metadata = %s", msgs[0].Metadata)
	}
	if !(msgs[0].TS < msgs[1].TS) {
		t.Errorf("ts not increasing: %s %s", msgs[0].TS, msgs[1].TS)
	}

	// History is newest first, without replies, metadata only on request.
	for i := range 3 {
		if _, _, err := api.PostMessage(ops.ID, slack.MsgOptionText("n"+string(rune('0'+i)), false)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ops.ID, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 2 || h.Messages[0].Text != "n2" || !h.HasMore || h.ResponseMetaData.NextCursor == "" {
		t.Fatalf("history page 1 = %+v", h)
	}
	h2, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ops.ID, Limit: 2,
		Cursor: h.ResponseMetaData.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(h2.Messages) != 2 || h2.Messages[1].Text != "hello" || h2.HasMore {
		t.Fatalf("history page 2 = %+v", h2.Messages)
	}
	if h2.Messages[1].Metadata.EventType != "" || h2.Messages[1].ReplyCount != 1 {
		t.Errorf("parent = %+v", h2.Messages[1].Msg)
	}
	hm, _ := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ops.ID, IncludeAllMetadata: true})
	if got := hm.Messages[len(hm.Messages)-1].Metadata; got.EventType != "incident" || got.EventPayload["id"] != "42" {
		t.Errorf("metadata = %+v", got)
	}
	replies, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: ops.ID, Timestamp: ts})
	if err != nil || len(replies) != 2 || replies[1].Text != "in thread" || replies[1].ParentUserId != srv.BotUserID() {
		t.Fatalf("replies = %+v %v", replies, err)
	}

	// Update, permalink, pin, delete.
	if _, _, _, err := api.UpdateMessage(ops.ID, ts, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.Message(ops.ID, ts); m.Text != "edited" || !m.Edited {
		t.Errorf("updated = %+v", m)
	}
	link, err := api.GetPermalink(&slack.PermalinkParameters{Channel: ops.ID, Ts: reply})
	if err != nil || !strings.Contains(link, "/archives/"+ops.ID+"/p") || !strings.Contains(link, "thread_ts="+ts) {
		t.Errorf("permalink = %q %v", link, err)
	}
	if err := api.AddPin(ops.ID, slack.NewRefToMessage(ops.ID, ts)); err != nil {
		t.Fatal(err)
	}
	wantSlackErr(t, api.AddPin(ops.ID, slack.NewRefToMessage(ops.ID, ts)), "already_pinned")
	if m, _ := srv.Message(ops.ID, ts); !m.Pinned {
		t.Error("not pinned")
	}
	if _, _, err := api.DeleteMessage(ops.ID, reply); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Message(ops.ID, reply); ok {
		t.Error("deleted message still there")
	}

	// Posting to a user ID posts to the DM.
	alice := srv.AddUser("alice")
	dm, _, err := api.PostMessage(alice.ID, slack.MsgOptionText("psst", false))
	if err != nil || !strings.HasPrefix(dm, "D") || len(srv.Messages(dm)) != 1 {
		t.Errorf("DM post = %q %v", dm, err)
	}
}

func TestChatErrors(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops", ChannelMembers(alice.ID))
	secret := srv.AddChannel("secret", ChannelPrivate())
	public := srv.AddChannel("public", ChannelWithoutBot())
	old := srv.AddChannel("old", ChannelArchived())
	text := slack.MsgOptionText("hi", false)

	_, _, err := api.PostMessage("C404", text)
	wantSlackErr(t, err, "channel_not_found")
	_, _, err = api.PostMessage(secret.ID, text) // invisible to the bot
	wantSlackErr(t, err, "channel_not_found")
	if _, _, err := api.PostMessage(public.ID, text); err != nil { // chat:write.public
		t.Errorf("post to a public channel without the bot: %v", err)
	}
	_, _, err = api.PostMessage(old.ID, text)
	wantSlackErr(t, err, "is_archived")
	_, _, err = api.PostMessage(ops.ID)
	wantSlackErr(t, err, "no_text")
	_, _, err = api.PostMessage(ops.ID, slack.MsgOptionText(strings.Repeat("x", 40001), false))
	wantSlackErr(t, err, "msg_too_long")
	if _, _, err := api.PostMessage(ops.ID, slack.MsgOptionText(strings.Repeat("é", 40000), false)); err != nil {
		t.Errorf("40,000 characters: %v", err)
	}

	many := make([]slack.Block, 51)
	for i := range many {
		many[i] = slack.NewDividerBlock()
	}
	_, _, err = api.PostMessage(ops.ID, slack.MsgOptionBlocks(many...))
	wantSlackErr(t, err, "invalid_blocks")
	long := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3001), false, false), nil, nil)
	_, _, err = api.PostMessage(ops.ID, slack.MsgOptionBlocks(long))
	wantSlackErr(t, err, "invalid_blocks")
	_, body := rawCall(t, srv, "chat.postMessage", url.Values{"token": {srv.BotToken()}, "channel": {ops.ID}, "blocks": {"{nope"}})
	if body["error"] != "invalid_blocks_format" {
		t.Errorf("malformed blocks: %v", body)
	}
	if _, _, err := api.PostMessage(ops.ID, slack.MsgOptionBlocks(many[:50]...)); err != nil {
		t.Errorf("50 blocks: %v", err)
	}

	_, _, _, err = api.UpdateMessage(ops.ID, "1.000001", text)
	wantSlackErr(t, err, "message_not_found")
	_, _, err = api.DeleteMessage(ops.ID, "1.000001")
	wantSlackErr(t, err, "message_not_found")

	_, err = api.PostEphemeral(public.ID, alice.ID, text)
	wantSlackErr(t, err, "user_not_in_channel")
	_, err = api.PostEphemeral(ops.ID, "U404", text)
	wantSlackErr(t, err, "user_not_found")
	if _, err := api.PostEphemeral(ops.ID, alice.ID, text); err != nil {
		t.Fatal(err)
	}
	if e := srv.Ephemerals(ops.ID, alice.ID); len(e) != 1 || e[0].Text != "hi" || !e[0].Ephemeral {
		t.Errorf("ephemerals = %+v", e)
	}
}

func TestConversations(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	alice, bob := srv.AddUser("alice"), srv.AddUser("bob", UserRealName("Bob B"))
	srv.AddChannel("public", ChannelWithoutBot())
	srv.AddChannel("archived", ChannelArchived())

	c, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-42", IsPrivate: true})
	if err != nil || !c.IsPrivate || !c.IsMember || c.Name != "inc-42" || !strings.HasPrefix(c.ID, "C") {
		t.Fatalf("create = %+v %v", c, err)
	}
	for name, code := range map[string]string{
		"inc-42": "name_taken", "archived": "name_taken", "Inc": "invalid_name_specials",
		"a b": "invalid_name_specials", strings.Repeat("a", 81): "invalid_name_maxlength",
		"-_-": "invalid_name_punctuation", "": "invalid_name_required",
	} {
		_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: name})
		wantSlackErr(t, err, code)
	}

	if _, err := api.InviteUsersToConversation(c.ID, alice.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	_, err = api.InviteUsersToConversation(c.ID, alice.ID)
	wantSlackErr(t, err, "already_in_channel")
	_, err = api.InviteUsersToConversation(c.ID, srv.BotUserID())
	wantSlackErr(t, err, "cant_invite_self")
	_, err = api.InviteUsersToConversation(c.ID, "U404")
	wantSlackErr(t, err, "user_not_found")
	members, _, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: c.ID})
	if err != nil || len(members) != 3 {
		t.Errorf("members = %v %v", members, err)
	}

	if ch, err := api.SetTopicOfConversation(c.ID, "Sev1: db down"); err != nil || ch.Topic.Value != "Sev1: db down" {
		t.Errorf("setTopic = %+v %v", ch, err)
	}
	if _, err := api.SetPurposeOfConversation(c.ID, "incident 42"); err != nil {
		t.Error(err)
	}
	info, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: c.ID, IncludeNumMembers: true})
	if err != nil || info.Purpose.Value != "incident 42" || info.NumMembers != 3 || info.Creator != srv.BotUserID() {
		t.Errorf("info = %+v %v", info, err)
	}
	var subtypes []string
	for _, m := range srv.Messages(c.ID) {
		subtypes = append(subtypes, m.SubType)
	}
	if strings.Join(subtypes, ",") != "channel_join,channel_join,channel_join,channel_topic,channel_purpose" {
		t.Errorf("system messages = %v", subtypes)
	}

	pub, _ := srv.Channel("public")
	_, err = api.SetTopicOfConversation(pub.ID, "x")
	wantSlackErr(t, err, "not_in_channel")
	_, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: pub.ID})
	wantSlackErr(t, err, "not_in_channel")
	if _, _, _, err := api.JoinConversation(pub.ID); err != nil {
		t.Fatal(err)
	}
	if ch, _ := srv.Channel(pub.ID); !contains(strings.Join(ch.Members, ","), srv.BotUserID()) {
		t.Errorf("join: members = %v", ch.Members)
	}

	if err := api.ArchiveConversation(c.ID); err != nil {
		t.Fatal(err)
	}
	wantSlackErr(t, api.ArchiveConversation(c.ID), "already_archived")
	_, _, err = api.PostMessage(c.ID, slack.MsgOptionText("x", false))
	wantSlackErr(t, err, "is_archived")
	_, err = api.InviteUsersToConversation(c.ID, srv.AddUser("carol").ID)
	wantSlackErr(t, err, "is_archived")
	_, err = api.SetTopicOfConversation(c.ID, "x")
	wantSlackErr(t, err, "is_archived")
	// Slack's documentation: bot tokens cannot currently unarchive; Slack answers them
	// not_in_channel. LetBotsUnarchive lifts that, and the bot is then a member.
	wantSlackErr(t, api.UnArchiveConversation(c.ID), "not_in_channel")
	srv.LetBotsUnarchive(true)
	if err := api.UnArchiveConversation(c.ID); err != nil {
		t.Error(err)
	}
	wantSlackErr(t, api.UnArchiveConversation(c.ID), "not_archived")
	if ch, _ := srv.Channel(c.ID); ch.Archived || !contains(strings.Join(ch.Members, ","), srv.BotUserID()) {
		t.Errorf("after unarchive: archived %v, members %v", ch.Archived, ch.Members)
	}

	all, err := api.GetAllConversations(slack.GetConversationsOptionTypes([]string{"public_channel", "private_channel"}),
		slack.GetConversationsOptionLimit(1))
	if err != nil || len(all) != 3 {
		t.Errorf("list = %d channels, %v", len(all), err)
	}
	dm, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{alice.ID}})
	if err != nil || !strings.HasPrefix(dm.ID, "D") {
		t.Errorf("open = %+v %v", dm, err)
	}
	dm2, noop, _, _ := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{alice.ID}})
	if dm2.ID != dm.ID || !noop {
		t.Errorf("reopen = %s %v", dm2.ID, noop)
	}
	_, err = api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C404"})
	wantSlackErr(t, err, "channel_not_found")
}

func TestUsersAndGroups(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	alice := srv.AddUser("alice", UserRealName("Alice A"), UserEmail("alice@example.com"))
	bob := srv.AddUser("bob", UserDeleted())
	g := srv.AddUserGroup("oncall", alice.ID, bob.ID)

	u, err := api.GetUserInfo(alice.ID)
	if err != nil || u.Name != "alice" || u.RealName != "Alice A" || u.Profile.Email != "alice@example.com" || u.TeamID != srv.TeamID() {
		t.Errorf("users.info = %+v %v", u, err)
	}
	bu, err := api.GetUserInfo(srv.BotUserID())
	if err != nil || !bu.IsBot || bu.Profile.BotID != srv.BotID() {
		t.Errorf("bot user = %+v %v", bu, err)
	}
	_, err = api.GetUserInfo("U404")
	wantSlackErr(t, err, "user_not_found")
	users, err := api.GetUsers(slack.GetUsersOptionLimit(2))
	if err != nil || len(users) != 4 || !users[3].Deleted {
		t.Errorf("users.list = %d users, %v", len(users), err)
	}
	if u, err := api.GetUserByEmail("ALICE@example.com"); err != nil || u.ID != alice.ID {
		t.Errorf("lookupByEmail = %+v %v", u, err)
	}
	_, err = api.GetUserByEmail("nobody@example.com")
	wantSlackErr(t, err, "users_not_found")

	groups, err := api.GetUserGroups(slack.GetUserGroupsOptionIncludeUsers(true))
	if err != nil || len(groups) != 1 || groups[0].Handle != "oncall" || len(groups[0].Users) != 2 {
		t.Errorf("usergroups.list = %+v %v", groups, err)
	}
	members, err := api.GetUserGroupMembers(g.ID)
	if err != nil || len(members) != 2 {
		t.Errorf("usergroups.users.list = %v %v", members, err)
	}
	_, err = api.GetUserGroupMembers("S404")
	wantSlackErr(t, err, "no_such_subteam")
}

func TestAPICallsLog(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []APICall
	)
	srv := newServer(t, Options{OnAPICall: func(c APICall) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, c)
	}})
	api := newAPI(srv)
	ops := srv.AddChannel("ops")
	if _, _, err := api.PostMessage("#ops", slack.MsgOptionText("hello", false)); err != nil {
		t.Fatal(err)
	}
	_, _, _ = api.PostMessage("C404", slack.MsgOptionText("x", false))
	calls := srv.APICalls()
	if len(calls) != 2 || calls[0].Method != "chat.postMessage" || calls[0].Channel != ops.ID ||
		calls[0].Text != "hello" || calls[1].Error != "channel_not_found" {
		t.Errorf("calls = %+v", calls)
	}
	mu.Lock()
	if len(seen) != 2 {
		t.Errorf("OnAPICall saw %d calls", len(seen))
	}
	mu.Unlock()
	if srv.Calls("chat.postMessage") != 2 {
		t.Errorf("Calls = %d", srv.Calls("chat.postMessage"))
	}
	raw, _ := json.Marshal(calls[0])
	if len(raw) == 0 {
		t.Error("APICall does not marshal")
	}
}
