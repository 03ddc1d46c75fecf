package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackui"
)

// newSecret is a random secret with characters JSON escapes, so that its JSON-escaped
// form differs from it as written, and its random part, which any form of it that is
// not encoded holds — also a log line, which quotes and escapes it.
func newSecret() (secret, random string) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	random = hex.EncodeToString(b)
	return "dt-" + random + `"q\z`, random
}

// echo answers with the bearer token it was sent, as written, JSON-escaped and in
// base64 — what a careless API does in its answers and errors.
func echo(_ int, r apptest.APIRequest) apptest.APIAnswer {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	quoted, _ := json.Marshal(token)
	return apptest.APIAnswer{Body: fmt.Sprintf("raw=%s json={\"token\":%s} b64=%s",
		token, quoted, base64.StdEncoding.EncodeToString([]byte(token)))}
}

// jsonText is s JSON-escaped, without its quotes, by an encoder escaping for HTML (as
// Go's json.Marshal does) or not (as JavaScript, Python and many APIs do).
func jsonText(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s)
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(b.String()), `"`), `"`)
}

const secretEchoRunbook = `name: secret-echo
steps:
  - action: approval.request
    with: { operation: "Call the deploy API", risk: low, channel: "#ops" }
  - id: call
    action: http.request
    with:
      url: "$API/echo"
      headers: { Authorization: "Bearer {{secrets.deploy_token}}" }
  - action: slack.send_message
    with: { channel: "#ops", text: "the API said: {{steps.call.body}}" }
  - id: again
    action: http.request
    with:
      url: "$API/echo"
      headers: { Authorization: "Bearer {{secrets.deploy_token}}" }
      expect: 201
`

// A secret reaches the API, and when the API echoes it back — as written,
// JSON-escaped, in base64 — it is [secret:deploy_token] in what a later step posts, in
// the failure people read in Slack and in /runbook runs, and nowhere in clear: not in
// Slack, the bot's log, the audit log, nor in the bytes of the database on disk.
func TestSecretsStayOutOfEverythingKept(t *testing.T) {
	secret, random := newSecret()
	w := startSecret(t, secret, echo, secretEchoRunbook)
	id := w.run("secret-echo")
	w.approve(id, 0) // for the audit log to have entries about the run
	w.waitQuiet("the run to fail", func() bool { return w.runIs(id, runbook.RunFailed) })
	if entries, _ := w.App().DB.Audit().Audit(context.Background(), 0, 0); len(entries) == 0 {
		t.Error("the audit log is empty: nothing to look in")
	}

	reqs := w.api.Requests()
	if len(reqs) != 2 || reqs[0].Header.Get("Authorization") != "Bearer "+secret {
		t.Fatalf("the API received %d requests, the first without the secret in its header", len(reqs))
	}
	var posted, report string
	for _, m := range w.Slack.Messages(w.ops.ID) {
		if m.BotID != "" && strings.HasPrefix(m.Text, "the API said:") {
			posted = m.Text
		}
	}
	if n := strings.Count(posted, masked); n != 3 {
		t.Errorf("the message of the step after the call shows %s %d times, want 3 (as written, JSON-escaped, base64)", masked, n)
	}
	w.waitQuiet("the failure report", func() bool {
		for _, m := range w.Slack.Messages(w.general.ID) {
			if m.BotID != "" && strings.Contains(m.Text, "HTTP 200") {
				report = m.Text
			}
		}
		return report != ""
	})
	if !strings.Contains(report, "raw="+masked) || !strings.Contains(report, "b64="+masked) {
		t.Errorf("the failure report does not show %s where the secret was", masked)
	}
	runs := w.askQuiet("runs")
	if !strings.Contains(runs, "raw="+masked) {
		t.Errorf("runs does not show %s where the secret was", masked)
	}
	w.noLeaks(map[string]string{"as written": secret, "JSON-escaped": jsonText(secret, true),
		"in base64": base64.StdEncoding.EncodeToString([]byte(secret)), "its random part": random}, runs)
}

// A secret echoed as JSON by an encoder that does not escape <, > and & for HTML — as
// JavaScript, Python and a Go json.Encoder with SetEscapeHTML(false) write it — is
// still JSON-escaped, and hidden as such.
func TestSecretInJSONWithoutHTMLEscapesIsHidden(t *testing.T) {
	secret, _ := newSecret()
	secret += "<&"
	w := startSecret(t, secret, func(_ int, r apptest.APIRequest) apptest.APIAnswer {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		return apptest.APIAnswer{Status: 400, Body: `{"token":"` + jsonText(token, false) + `"}`}
	}, secretCallRunbook)
	id := w.run("secret-call")
	w.waitQuiet("the run to fail", func() bool { return w.runIs(id, runbook.RunFailed) })
	w.noLeaks(map[string]string{"JSON-escaped without HTML escapes": jsonText(secret, false)})
}

// A secret the bot cuts in two — at the end of the 16 KiB body it keeps, or at the
// start of the 300 bytes of a response shown in an error — is not half shown: what is
// kept of it is hidden too.
func TestSecretCutInTwoIsNotHalfShown(t *testing.T) {
	secret, _ := newSecret()
	w := startSecret(t, secret, func(_ int, r apptest.APIRequest) apptest.APIAnswer {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if r.Path == "/head" { // cut by the body output, 16 KiB
			return apptest.APIAnswer{Body: strings.Repeat(".", 16<<10-10) + token}
		}
		return apptest.APIAnswer{Status: 400, Body: token + strings.Repeat(".", 290)} // cut by the error's 300 bytes
	}, `name: secret-call
steps:
  - id: head
    action: http.request
    with: { url: "$API/head", headers: { Authorization: "Bearer {{secrets.deploy_token}}" } }
  - id: tail
    action: http.request
    with: { url: "$API/tail", headers: { Authorization: "Bearer {{secrets.deploy_token}}" } }
`)
	id := w.run("secret-call")
	w.waitQuiet("the run to fail", func() bool { return w.runIs(id, runbook.RunFailed) })
	w.noLeaks(map[string]string{"its first 10 characters": secret[:10], "its last 10 characters": secret[len(secret)-10:]})
}

// masked is what a secret shows as.
const masked = "[secret:deploy_token]"

const secretCallRunbook = `name: secret-call
steps:
  - id: call
    action: http.request
    with: { url: "$API/call", headers: { Authorization: "Bearer {{secrets.deploy_token}}" } }
`

// startSecret starts the bot with the secret deploy_token, an API and a runbook.
func startSecret(t *testing.T, secret string, answer func(int, apptest.APIRequest) apptest.APIAnswer, yaml string) *actsWorld {
	t.Helper()
	name := strings.TrimPrefix(strings.SplitN(yaml, "\n", 2)[0], "name: ")
	return startActs(t, answer, map[string]string{name: yaml}, func(c *config.Config) {
		c.Secrets = map[string]config.Secret{"deploy_token": config.Secret(secret)}
	})
}

// noLeaks stops the bot and fails the test for every place that holds one of forms
// (name → text) — in Slack, the answers given, the bot's log, the audit log or the
// database files — naming the place and the form, never the text.
func (w *actsWorld) noLeaks(forms map[string]string, answers ...string) {
	w.t.Helper()
	for name, form := range forms {
		places := w.holding([]byte(form), answers)
		if escaped := slackui.Escape(form); escaped != form {
			places = append(places, w.holding([]byte(escaped), answers)...)
		}
		for _, place := range places {
			w.t.Errorf("the secret (%s) is in %s", name, place)
		}
	}
	entries, err := w.App().DB.Audit().Audit(context.Background(), 0, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	w.Stop()
	files, err := filepath.Glob(w.Config.Store.Path + "*")
	if err != nil || len(files) == 0 {
		w.t.Fatalf("no database files at %s: %v", w.Config.Store.Path, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			w.t.Fatal(err)
		}
		for name, form := range forms {
			if bytes.Contains(data, []byte(form)) {
				w.t.Errorf("the secret (%s) is in the bytes of %s", name, filepath.Base(f))
			}
		}
	}
	for _, e := range entries {
		for name, form := range forms {
			if strings.Contains(fmt.Sprint(e), form) {
				w.t.Errorf("the secret (%s) is in audit entry %s", name, e.Action)
			}
		}
	}
}

// holding names the places in Slack, the answers and the bot's log that hold b.
func (w *actsWorld) holding(b []byte, answers []string) []string {
	var where []string
	for _, c := range w.Slack.Channels() {
		for _, m := range w.Slack.Messages(c.ID) {
			if bytes.Contains([]byte(m.Text), b) || bytes.Contains(m.Blocks, b) || bytes.Contains(m.Metadata, b) {
				where = append(where, fmt.Sprintf("a message in %s (ts %s)", c.ID, m.TS))
			}
		}
		for _, p := range []string{w.alice.ID, w.bob.ID} {
			for _, m := range w.Slack.Ephemerals(c.ID, p) {
				if bytes.Contains([]byte(m.Text), b) || bytes.Contains(m.Blocks, b) {
					where = append(where, fmt.Sprintf("an ephemeral message in %s", c.ID))
				}
			}
		}
	}
	for _, call := range w.Slack.APICalls() {
		if bytes.Contains([]byte(call.Text), b) {
			where = append(where, "the text of a "+call.Method+" call")
		}
	}
	for i, a := range answers {
		if bytes.Contains([]byte(a), b) {
			where = append(where, fmt.Sprintf("answer %d", i+1))
		}
	}
	if bytes.Contains([]byte(w.Logs.String()), b) {
		where = append(where, "the bot's log")
	}
	return where
}

// askQuiet is Kit.Ask for tests that handle a secret: alice's command in #general,
// answered in its ack, and on failure nothing of the logs.
func (w *actsWorld) askQuiet(text string) string {
	w.t.Helper()
	ack, err := w.Slack.SlashCommand(w.alice.ID, w.general.ID, "/runbook", text).WaitAck(w.Context())
	var m struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err != nil || json.Unmarshal(ack.Payload, &m) != nil {
		w.t.Fatalf("/runbook %s was not answered in its ack: %v", text, err)
	}
	return m.Text + string(m.Blocks)
}
