package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

func newAPI(srv *Server) *slack.Client {
	return slack.New(srv.BotToken(), slack.OptionAppLevelToken(srv.AppToken()), slack.OptionAPIURL(srv.APIURL()))
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantSlackErr checks that err is a Slack error answer with the given code.
func wantSlackErr(t *testing.T, err error, code string) {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != code {
		t.Errorf("error = %v, want Slack error %q", err, code)
	}
}

// rawCall posts a form to a Web API method and decodes the answer.
func rawCall(t *testing.T, srv *Server, method string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.APIURL()+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return resp.StatusCode, body
}

// bot is a socketmode client run against the server; handle is called for
// every event, from one goroutine.
type bot struct {
	api    *slack.Client
	client *socketmode.Client
}

func startBot(t *testing.T, srv *Server, handle func(b *bot, evt socketmode.Event), opts ...socketmode.Option) *bot {
	t.Helper()
	api := newAPI(srv)
	b := &bot{api: api, client: socketmode.New(api, opts...)}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(runDone)
		_ = b.client.RunContext(ctx)
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case evt := <-b.client.Events:
				if handle != nil {
					handle(b, evt)
				}
			case <-runDone:
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return b
}

// ack acknowledges a request with a deadline, as a bot should.
func (b *bot) ack(evt socketmode.Event, payload any) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.client.AckCtx(ctx, evt.Request.EnvelopeID, payload)
}

// acking is a handler that acks every request without a payload.
func acking(b *bot, evt socketmode.Event) {
	if evt.Request != nil && evt.Request.EnvelopeID != "" {
		b.ack(evt, nil)
	}
}

func buttonBlocks(actionID, value, text string) []slack.Block {
	btn := slack.NewButtonBlockElement(actionID, value, slack.NewTextBlockObject(slack.PlainTextType, text, false, false))
	btn.Style = slack.StylePrimary
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Deploy?*", false, false), nil, nil),
		slack.NewActionBlock("decide", btn),
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
