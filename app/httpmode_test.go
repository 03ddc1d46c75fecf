package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// newSigningClock is the clock both the bot's signature check and the emulator's
// signer read in these tests: it moves only when a test moves it.
func newSigningClock() *apptest.Clock {
	return apptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
}

// startHTTP starts the incident world in HTTP mode on clock.
func startHTTP(t *testing.T, clock *apptest.Clock, opts ...func(*config.Config)) *incidentWorld {
	t.Helper()
	var w incidentWorld
	setup := func(h *harness) {
		h.AppOptions.SigningClock = clock.Now
		w.bob = h.Person("bob")
		h.Group("oncall", "bob")
		w.incidents = h.Channel("incidents")
	}
	w.harness = startWith(t, setup, append([]func(*config.Config){apptest.HTTPMode, func(c *config.Config) {
		c.Slack.DefaultChannel = "#incidents"
	}}, opts...)...)
	return &w
}

// TestHTTPModeSlashCommandAnsweredInResponse posts a slash command as Slack does —
// form-encoded, signed — and finds the answer in the HTTP response, as the ack's
// payload: Slack shows it to the person who typed it. No Socket Mode connection is
// opened, and /readyz is ready without one.
func TestHTTPModeSlashCommandAnsweredInResponse(t *testing.T) {
	clock := newSigningClock()
	w := startHTTP(t, clock)
	if answer := w.command("help"); !strings.Contains(answer, "declare") {
		t.Fatalf("help answered %q", answer)
	}
	d := w.Slack.SlashCommand(w.alice.ID, w.general.ID, "/runbook", "declare sev3 slow checkout")
	if _, err := d.WaitAck(w.Context()); err != nil {
		t.Fatal(err)
	}
	answers := w.Slack.HTTPResponses(d.EnvelopeID)
	if len(answers) != 1 || answers[0].Status != http.StatusOK {
		t.Fatalf("answers to the posted command: %+v", answers)
	}
	var body struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(answers[0].Body, &body); err != nil || !strings.Contains(body.Text, "INC-1") {
		t.Fatalf("response body %s (%v): want the declaration's answer", answers[0].Body, err)
	}
	if n := w.Slack.ConnectCount(); n != 0 {
		t.Errorf("%d Socket Mode connections opened in HTTP mode", n)
	}
	if code, text := httpGet(t, "http://"+w.App().HTTP.Addr()+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz answered %d %q in HTTP mode", code, text)
	}
}

// TestSameScenarioInBothModes runs one incident through both transports: declare, run
// a runbook whose step waits for an approval, click Approve, resolve. In HTTP mode each
// request is posted as Slack posts it — the command form-encoded, the click as payload=
// in a form, both signed — and the click, answered 200, decides the approval through
// the real app; no Socket Mode connection is opened.
func TestSameScenarioInBothModes(t *testing.T) {
	for _, mode := range []string{config.ModeSocket, config.ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			var opts []func(*config.Config)
			if mode == config.ModeHTTP {
				opts = append(opts, apptest.HTTPMode)
			}
			w := startApproval(t, opts...) // declares INC-1 and runs scale-up
			d, err := w.Slack.ClickButton(w.bob.ID, w.ops.ID, w.approval.MessageTS, "approval.approve")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.WaitAck(w.Context()); err != nil {
				t.Fatal(err)
			}
			w.WaitFor("the run to finish", func() bool { return w.runState() == runbook.RunSucceeded })
			if msg := w.requestMessage(); !strings.Contains(string(msg.Blocks), "Approved by <@"+w.bob.ID+">") {
				t.Fatalf("request message after approval = %s", msg.Blocks)
			}
			if answer := w.command("resolve INC-1 scaled up"); !strings.Contains(answer, "Resolved *INC-1*") {
				t.Fatalf("resolve answered %q", answer)
			}
			if st := w.incident(1).Status; st != "resolved" {
				t.Errorf("INC-1 is %s after resolve", st)
			}
			answers := w.Slack.HTTPResponses(d.EnvelopeID)
			if mode == config.ModeSocket {
				if len(answers) != 0 {
					t.Errorf("the click was posted over HTTP in Socket Mode: %+v", answers)
				}
				return
			}
			if len(answers) != 1 || answers[0].Status != http.StatusOK {
				t.Fatalf("answers to the posted click: %+v", answers)
			}
			if n := w.Slack.ConnectCount(); n != 0 {
				t.Errorf("%d Socket Mode connections opened in HTTP mode", n)
			}
		})
	}
}

// TestHTTPModeEvents posts Events API JSON: the url_verification challenge Slack sends
// when the request URL is saved is echoed; an app_mention is answered in its thread;
// and Slack's retry of that event — X-Slack-Retry-Num, the same event id, a new
// timestamp and so a new signature — is accepted (200) and handled once, through the
// same inbox as Socket Mode.
func TestHTTPModeEvents(t *testing.T) {
	clock := newSigningClock()
	w := startHTTP(t, clock)

	challenge := slackfake.SlackRequest{Path: slackfake.PathEvents, ContentType: "application/json",
		Body: []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)}
	got := w.Slack.PostToApp(w.Context(), challenge, apptest.SigningSecret, clock.Now())
	var echoed struct{ Challenge string }
	if got.Err != nil || got.Status != http.StatusOK || json.Unmarshal(got.Body, &echoed) != nil ||
		echoed.Challenge != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification answered %d %s (%v)", got.Status, got.Body, got.Err)
	}

	d := w.Slack.Mention(w.alice.ID, w.general.ID, "help", "")
	if _, err := d.WaitAck(w.Context()); err != nil {
		t.Fatal(err)
	}
	w.WaitFor("the answer to the mention", func() bool { return len(w.BotReplies(w.general.ID, d.TS)) > 0 })

	// Slack retries an event it did not see answered in time, a minute later.
	clock.Advance(time.Minute)
	if err := w.Slack.Redeliver(d.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	w.WaitFor("the retry's answer", func() bool { return len(w.Slack.HTTPResponses(d.EnvelopeID)) == 2 })
	answers := w.Slack.HTTPResponses(d.EnvelopeID)
	if retry := answers[1]; retry.Status != http.StatusOK || retry.RetryNum != 1 {
		t.Fatalf("the retry was answered %+v, want 200 with X-Slack-Retry-Num 1", retry)
	}
	// The retry is recognised by its event id: it changes nothing, so the thread has
	// one answer when the next request (a command) has been answered.
	w.command("help")
	if n := len(w.BotReplies(w.general.ID, d.TS)); n != 1 {
		t.Fatalf("the mention was answered %d times, want once", n)
	}
}

// TestHTTPModeRefusesUnverifiedRequests attacks the request URLs of the real app:
// unsigned, signed with another secret, stale (the bot's clock injected), a replay of
// a request it took, an oversized body and a wrong content type. Each is refused with
// the right status, counted in runbook_http_requests_refused_total by reason, and never
// reaches the handlers; the signing secret appears in no answer or log line.
func TestHTTPModeRefusesUnverifiedRequests(t *testing.T) {
	clock := newSigningClock()
	w := startHTTP(t, clock)
	ctx := w.Context()
	command := func(text string) slackfake.SlackRequest {
		r, err := slackfake.RequestFor(slackfake.EnvelopeSlashCommands, mustJSON(t, map[string]string{
			"team_id": w.Slack.TeamID(), "channel_id": w.general.ID, "user_id": w.alice.ID, "user_name": "alice",
			"command": "/runbook", "text": text, "trigger_id": "1.2.3",
		}), 0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	const secret = apptest.SigningSecret
	type attack struct {
		name   string
		post   func() slackfake.HTTPResponse
		status int
		reason string
	}
	taken := command("declare sev2 taken once")
	attacks := []attack{
		{"unsigned", func() slackfake.HTTPResponse {
			return w.Slack.PostToApp(ctx, command("declare sev1 unsigned"), "", clock.Now())
		}, http.StatusUnauthorized, bot.RefusedUnsigned},
		{"another secret", func() slackfake.HTTPResponse {
			return w.Slack.PostToApp(ctx, command("declare sev1 forged"), "0123456789abcdef0123456789abcdef", clock.Now())
		}, http.StatusUnauthorized, bot.RefusedSignature},
		{"stale", func() slackfake.HTTPResponse {
			return w.Slack.PostToApp(ctx, command("declare sev1 stale"), secret, clock.Now().Add(-bot.SignatureWindow-time.Second))
		}, http.StatusUnauthorized, bot.RefusedStale},
		{"replay", func() slackfake.HTTPResponse {
			if first := w.Slack.PostToApp(ctx, taken, secret, clock.Now()); first.Status != http.StatusOK {
				t.Fatalf("the request to replay was answered %d %s", first.Status, first.Body)
			}
			return w.Slack.PostToApp(ctx, taken, secret, clock.Now())
		}, http.StatusUnauthorized, bot.RefusedReplay},
		{"oversized", func() slackfake.HTTPResponse {
			r := command("declare sev1 " + strings.Repeat("x", 2<<20))
			return w.Slack.PostToApp(ctx, r, secret, clock.Now())
		}, http.StatusRequestEntityTooLarge, bot.RefusedTooLarge},
		{"wrong content type", func() slackfake.HTTPResponse {
			r := command("declare sev1 json")
			r.ContentType = "application/json"
			return w.Slack.PostToApp(ctx, r, secret, clock.Now())
		}, http.StatusBadRequest, bot.RefusedContentType},
	}
	for _, a := range attacks {
		got := a.post()
		if got.Err != nil || got.Status != a.status {
			t.Errorf("%s: answered %d %s (%v), want %d", a.name, got.Status, got.Body, got.Err, a.status)
		}
		if bytes.Contains(got.Body, []byte(secret)) {
			t.Errorf("%s: the answer holds the signing secret", a.name)
		}
	}
	_, metrics := httpGet(t, "http://"+w.App().HTTP.Addr()+"/metrics")
	for _, a := range attacks {
		if got := counter(metrics, `runbook_http_requests_refused_total{reason="`+a.reason+`"}`); got != 1 {
			t.Errorf("refused_total{reason=%q} = %v, want 1", a.reason, got)
		}
	}
	// Only the one signed, fresh request reached the pipeline: one slash command.
	if got := counter(metrics, `runbook_envelopes_total{type="slash_commands"}`); got != 1 {
		t.Errorf("envelopes_total{slash_commands} = %v, want 1 (only the request that was replayed)", got)
	}
	incs, err := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 || incs[0].Title != "taken once" {
		t.Errorf("incidents after the attacks: %+v, want only the one taken once", incs)
	}
	if strings.Contains(w.Logs.String(), secret) {
		t.Error("the signing secret appears in the bot's log")
	}
}

var sampleLine = regexp.MustCompile(`(?m)^(\S+) (\S+)$`)

// counter is a sample's value in Prometheus text, or -1 when it is missing.
func counter(metrics, series string) float64 {
	for _, m := range sampleLine.FindAllStringSubmatch(metrics, -1) {
		if m[1] == series {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return -1
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(fmt.Errorf("marshal: %w", err))
	}
	return b
}

// TestHTTPModeViewSubmission submits the declare form over HTTP: a submission with an
// empty title is answered, in the HTTP response, with response_action errors (the form
// stays open with the problem beside it); a good one with an empty 200, and the
// incident is declared.
func TestHTTPModeViewSubmission(t *testing.T) {
	w := startHTTP(t, newSigningClock())
	viewID := w.openDeclareForm(t).ID
	sub, err := w.Slack.SubmitView(w.alice.ID, viewID, map[string]map[string]string{"title": {"title": " "}, "severity": {"severity": "sev1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.WaitAck(w.Context()); err != nil {
		t.Fatal(err)
	}
	answers := w.Slack.HTTPResponses(sub.EnvelopeID)
	if len(answers) != 1 || answers[0].Status != http.StatusOK || !strings.Contains(string(answers[0].Body), `"response_action":"errors"`) ||
		!strings.Contains(string(answers[0].Body), "Give the incident a title") {
		t.Fatalf("answers to the submission without a title: %+v", answers)
	}
	sub, err = w.Slack.SubmitView(w.alice.ID, viewID, map[string]map[string]string{"title": {"title": "Login is slow"}, "severity": {"severity": "sev2"}, "service": {"service": ""}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.WaitAck(w.Context()); err != nil {
		t.Fatal(err)
	}
	if answers := w.Slack.HTTPResponses(sub.EnvelopeID); len(answers) != 1 || answers[0].Status != http.StatusOK || len(answers[0].Body) != 0 {
		t.Fatalf("answers to the good submission: %+v, want an empty 200", answers)
	}
	w.WaitFor("the incident", func() bool {
		inc, err := w.App().DB.Incidents().Incident(context.Background(), 1)
		return err == nil && inc.Title == "Login is slow" && inc.Severity == "sev2"
	})
}

// TestHTTPModeReplayAfterRestartChangesNothing: the requests the signature check has
// seen are kept in memory, so a request captured and replayed after a restart, within
// the five minutes its signature is good for, passes the check. The inbox still knows
// it — its key comes from its signature — and it declares nothing a second time: it is
// answered as it was the first time.
func TestHTTPModeReplayAfterRestartChangesNothing(t *testing.T) {
	clock := newSigningClock()
	w := startHTTP(t, clock)
	ctx := w.Context()
	r, err := slackfake.RequestFor(slackfake.EnvelopeSlashCommands, mustJSON(t, map[string]string{
		"team_id": w.Slack.TeamID(), "channel_id": w.general.ID, "user_id": w.alice.ID, "user_name": "alice",
		"command": "/runbook", "text": "declare sev2 replayed later", "trigger_id": "4.5.6",
	}), 0)
	if err != nil {
		t.Fatal(err)
	}
	signedAt := clock.Now()
	first := w.Slack.PostToApp(ctx, r, apptest.SigningSecret, signedAt)
	if first.Err != nil || first.Status != http.StatusOK || !bytes.Contains(first.Body, []byte("INC-1")) {
		t.Fatalf("the first request was answered %d %s (%v)", first.Status, first.Body, first.Err)
	}
	w.Restart()
	clock.Advance(2 * time.Minute)
	again := w.Slack.PostToApp(ctx, r, apptest.SigningSecret, signedAt)
	if again.Err != nil || again.Status != http.StatusOK {
		t.Fatalf("the replay after the restart was answered %d %s (%v)", again.Status, again.Body, again.Err)
	}
	if !bytes.Equal(again.Body, first.Body) {
		t.Errorf("the replay was answered %s; want the first answer again %s", again.Body, first.Body)
	}
	incs, err := w.App().DB.Incidents().ListIncidents(context.Background(), runbook.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 {
		t.Errorf("%d incidents after the replay, want the one declared", len(incs))
	}
}
