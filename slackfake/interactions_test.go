package slackfake

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func TestClickButton(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops", ChannelMembers(alice.ID))

	got := make(chan slack.InteractionCallback, 1)
	b := startBot(t, srv, func(b *bot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeInteractive {
			b.ack(evt, nil)
			got <- evt.Data.(slack.InteractionCallback)
		}
	})
	_, ts, err := b.api.PostMessage(ops.ID, slack.MsgOptionText("Deploy?", false),
		slack.MsgOptionBlocks(buttonBlocks("approve", "deploy-7", "Approve")...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.ClickButton(alice.ID, ops.ID, ts, "nope"); err == nil {
		t.Error("clicking a missing button succeeded")
	}
	d, err := srv.ClickButton(alice.ID, ops.ID, ts, "approve")
	if err != nil {
		t.Fatal(err)
	}
	cb := <-got
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != alice.ID || cb.User.Name != "alice" ||
		cb.Channel.ID != ops.ID || cb.Channel.Name != "ops" || cb.Team.ID != srv.TeamID() ||
		cb.Container.MessageTs != ts || cb.Container.ChannelID != ops.ID || cb.Container.IsEphemeral ||
		cb.TriggerID == "" || cb.ResponseURL != d.ResponseURL || cb.APIAppID != srv.AppID() {
		t.Errorf("callback = %+v", cb)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("actions = %+v", cb.ActionCallback)
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "approve" || a.BlockID != "decide" || a.Value != "deploy-7" || a.Text.Text != "Approve" ||
		a.Type != "button" || a.ActionTs == "" {
		t.Errorf("action = %+v", a)
	}
	if cb.Message.Timestamp != ts || cb.Message.BotID != srv.BotID() || len(cb.Message.Blocks.BlockSet) != 2 {
		t.Errorf("message = %+v", cb.Message.Msg)
	}
	if !strings.Contains(string(d.Payload), `"style":"primary"`) {
		t.Errorf("payload lacks the button style: %s", d.Payload)
	}

	// Replace the original message through the response_url.
	_, _, err = b.api.PostMessageContext(ctx, "", slack.MsgOptionText("Approved by <@"+alice.ID+">", false),
		slack.MsgOptionReplaceOriginal(cb.ResponseURL))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.Message(ops.ID, ts); m.Text != "Approved by <@"+alice.ID+">" || len(m.Blocks) != 0 {
		t.Errorf("replaced message = %+v", m)
	}
}

func TestResponseURL(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops", ChannelMembers(alice.ID))
	api := newAPI(srv)
	d := srv.SlashCommand(alice.ID, "#ops", "runbook", "list")

	_, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionText("only you", false),
		slack.MsgOptionResponseURL(d.ResponseURL, slack.ResponseTypeEphemeral))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = api.PostMessageContext(ctx, "", slack.MsgOptionText("everyone", false),
		slack.MsgOptionResponseURL(d.ResponseURL, slack.ResponseTypeInChannel))
	if err != nil {
		t.Fatal(err)
	}
	if e := srv.Ephemerals(ops.ID, alice.ID); len(e) != 1 || e[0].Text != "only you" || e[0].To != alice.ID {
		t.Errorf("ephemerals = %+v", e)
	}
	if m := srv.Messages(ops.ID); len(m) != 1 || m[0].Text != "everyone" || m[0].BotID != srv.BotID() {
		t.Errorf("messages = %+v", m)
	}
	calls := srv.APICalls()
	if last := calls[len(calls)-1]; last.Method != "response_url" || last.Channel != ops.ID || last.Text != "everyone" {
		t.Errorf("call log = %+v", last)
	}

	post := func(body string) int {
		resp, err := http.Post(d.ResponseURL, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(`{"text":""}`); st != http.StatusBadRequest {
		t.Errorf("empty message: status %d", st)
	}
	for range 2 {
		post(`{"text":"again"}`)
	}
	if st := post(`{"text":"sixth"}`); st != http.StatusNotFound {
		t.Errorf("sixth use: status %d, want 404", st)
	}
	resp, err := http.Post(srv.APIURL()[:len(srv.APIURL())-4]+"response/nope", "application/json",
		bytes.NewBufferString(`{"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown response_url: status %d", resp.StatusCode)
	}
}

func TestModal(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{})
	alice := srv.AddUser("alice")
	ops := srv.AddChannel("ops", ChannelMembers(alice.ID))

	modal := slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      slack.NewTextBlockObject(slack.PlainTextType, "New incident", false, false),
		Submit:     slack.NewTextBlockObject(slack.PlainTextType, "Open", false, false),
		CallbackID: "incident",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("title", slack.NewTextBlockObject(slack.PlainTextType, "Title", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "title_input")),
			slack.NewInputBlock("sev", slack.NewTextBlockObject(slack.PlainTextType, "Severity", false, false), nil,
				slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "sev_select",
					slack.NewOptionBlockObject("1", slack.NewTextBlockObject(slack.PlainTextType, "Sev 1", false, false), nil),
					slack.NewOptionBlockObject("2", slack.NewTextBlockObject(slack.PlainTextType, "Sev 2", false, false), nil))),
		}},
	}
	subs := make(chan slack.InteractionCallback, 2)
	opened := make(chan error, 1)
	startBot(t, srv, func(b *bot, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			b.ack(evt, nil)
			_, err := b.api.OpenView(evt.Data.(slack.SlashCommand).TriggerID, modal)
			opened <- err
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			if cb.View.State.Values["title"]["title_input"].Value == "" {
				b.ack(evt, slack.NewErrorsViewSubmissionResponse(map[string]string{"title": "required"}))
			} else {
				b.ack(evt, nil)
			}
			subs <- cb
		}
	})
	d := srv.SlashCommand(alice.ID, ops.ID, "/incident", "")
	if _, err := d.WaitAck(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	v := srv.Views()[0]
	if v.UserID != alice.ID || v.CallbackID != "incident" || v.Title != "New incident" || !v.Open {
		t.Errorf("view = %+v", v)
	}

	// The trigger was used; it cannot open a second modal.
	_, err := newAPI(srv).OpenView(d.TriggerID, modal)
	wantSlackErr(t, err, "exchanged_trigger_id")
	_, err = newAPI(srv).OpenView("1.2.3", modal)
	wantSlackErr(t, err, "invalid_arguments")

	if _, err := srv.SubmitView(alice.ID, v.ID, map[string]map[string]string{"sev": {"sev_select": "1"}}); err == nil {
		t.Error("submitting without a required input succeeded")
	}
	if _, err := srv.SubmitView(alice.ID, v.ID, map[string]map[string]string{
		"title": {"title_input": "x"}, "sev": {"sev_select": "9"}}); err == nil {
		t.Error("submitting an unknown option succeeded")
	}

	// An empty title comes back with errors; the modal stays open.
	sub, err := srv.SubmitView(alice.ID, v.ID, map[string]map[string]string{
		"title": {"title_input": ""}, "sev": {"sev_select": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	cb := <-subs
	if _, err := sub.WaitAck(ctx); err != nil {
		t.Fatal(err)
	}
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.ID != v.ID || cb.View.CallbackID != "incident" ||
		cb.View.State.Values["sev"]["sev_select"].SelectedOption.Value != "1" || cb.User.ID != alice.ID {
		t.Errorf("view_submission = %+v", cb)
	}
	if v, _ := srv.View(v.ID); !v.Open || v.Errors["title"] != "required" {
		t.Errorf("after errors: %+v", v)
	}

	sub, err = srv.SubmitView(alice.ID, v.ID, map[string]map[string]string{
		"title": {"title_input": "DB down"}, "sev": {"sev_select": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	cb = <-subs
	if _, err := sub.WaitAck(ctx); err != nil {
		t.Fatal(err)
	}
	if got := cb.View.State.Values["title"]["title_input"].Value; got != "DB down" {
		t.Errorf("title = %q", got)
	}
	if v, _ := srv.View(v.ID); v.Open {
		t.Error("modal still open after a plain ack")
	}
	if _, err := srv.SubmitView(alice.ID, v.ID, nil); err == nil {
		t.Error("submitting a closed view succeeded")
	}
}

func TestViewsUpdateAndPush(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	alice := srv.AddUser("alice")
	modal := func(title string) slack.ModalViewRequest {
		return slack.ModalViewRequest{Type: slack.VTModal,
			Title: slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
			Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(
				slack.NewTextBlockObject(slack.MarkdownType, "hi", false, false), nil, nil)}}}
	}
	d := srv.SlashCommand(alice.ID, "C404", "/x", "")
	v, err := api.OpenView(d.TriggerID, modal("One"))
	if err != nil || v.ID == "" || v.RootViewID != v.ID || v.Hash == "" || v.AppID != srv.AppID() {
		t.Fatalf("open = %+v %v", v, err)
	}
	_, err = api.UpdateView(modal("Two"), "", "stale-hash", v.ID)
	wantSlackErr(t, err, "hash_conflict")
	u, err := api.UpdateView(modal("Two"), "", v.Hash, v.ID)
	if err != nil || u.Title.Text != "Two" || u.Hash == v.Hash {
		t.Fatalf("update = %+v %v", u, err)
	}
	_, err = api.UpdateView(modal("Two"), "", "", "V404")
	wantSlackErr(t, err, "not_found")
	_, err = api.OpenView(srv.SlashCommand(alice.ID, "C404", "/x", "").TriggerID, modal("A title that is far too long"))
	wantSlackErr(t, err, "invalid_arguments")

	p, err := api.PushView(srv.SlashCommand(alice.ID, "C404", "/x", "").TriggerID, modal("Pushed"))
	if err != nil || p.PreviousViewID != v.ID || p.RootViewID != v.ID {
		t.Fatalf("push = %+v %v", p, err)
	}
	if views := srv.Views(); len(views) != 2 || !views[0].Open || !views[1].Open || views[0].Title != "Two" {
		t.Errorf("views = %+v", views)
	}
}

func TestTriggerExpires(t *testing.T) {
	// Any call takes longer than a nanosecond.
	srv := newServer(t, Options{TriggerTTL: time.Nanosecond})
	d := srv.SlashCommand(srv.AddUser("alice").ID, "C404", "/x", "")
	_, err := newAPI(srv).OpenView(d.TriggerID, slack.ModalViewRequest{Type: slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "x", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}})
	wantSlackErr(t, err, "expired_trigger_id")
}

// TestResponseURLExpires checks that a response_url past its life answers as Slack
// does: 404 with "expired_url", seen by slack-go as a StatusCodeError.
func TestResponseURLExpires(t *testing.T) {
	ctx := testCtx(t)
	srv := newServer(t, Options{ResponseURLTTL: 50 * time.Millisecond})
	alice := srv.AddUser("alice")
	srv.AddChannel("ops", ChannelMembers(alice.ID))
	d := srv.SlashCommand(alice.ID, "#ops", "runbook", "list")
	msg := &slack.WebhookMessage{Text: "in time"}
	if err := slack.PostWebhookContext(ctx, d.ResponseURL, msg); err != nil {
		t.Fatalf("first use: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // the URL's life, not a wait for the server
	err := slack.PostWebhookContext(ctx, d.ResponseURL, &slack.WebhookMessage{Text: "late"})
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Fatalf("after expiry: %v, want a 404", err)
	}
	calls := srv.APICalls()
	if last := calls[len(calls)-1]; last.Error != "expired_url" {
		t.Errorf("logged %q, want expired_url", last.Error)
	}
	resp, err := http.Post(d.ResponseURL, "application/json", strings.NewReader(`{"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "expired_url" {
		t.Errorf("body %q, want expired_url", body)
	}
}
