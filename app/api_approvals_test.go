package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
	"github.com/slack-go/slack"
)

// pipelineWorld is a bot with the API on and approvals asked for in #ops, where bob
// and carol may approve.
type pipelineWorld struct {
	*harness
	bob, carol slackfake.User
	ops        slackfake.Channel
}

func startPipelineWorld(t *testing.T, opts ...func(*config.Config)) *pipelineWorld {
	t.Helper()
	w := &pipelineWorld{}
	w.harness = startWith(t, func(h *harness) {
		w.bob, w.carol = h.Person("bob"), h.Person("carol")
		w.ops = h.Channel("ops", "alice", "bob", "carol")
	}, append([]func(*config.Config){apptest.WithAPI, func(c *config.Config) {
		c.Slack.ApprovalChannel = "#ops"
	}}, opts...)...)
	return w
}

// call makes one API request with token.
func (w *pipelineWorld) call(method, path, token, body string, header ...string) apiAnswer {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.Context(), method, w.APIURL()+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		w.t.Fatalf("%s %s: the answer is not JSON: %v", method, path, err)
	}
	return apiAnswer{status: resp.StatusCode, body: out}
}

func (w *pipelineWorld) ask(body string, header ...string) apiAnswer {
	w.t.Helper()
	return w.call("POST", "/api/v1/approvals", apptest.APITokenApprovals, body, header...)
}

func (w *pipelineWorld) approval(key string) *runbook.Approval {
	w.t.Helper()
	id, err := runbook.ParseApprovalKey(key)
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := w.App().DB.Approvals().Approval(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func (w *pipelineWorld) approversBody(op string) string {
	b, _ := json.Marshal(map[string]any{"operation": op, "approvers": []string{w.bob.ID, w.carol.ID}, "requester": w.alice.ID, "risk": "low"})
	return string(b)
}

func TestAPIApprovalRequestAndDecision(t *testing.T) {
	w := startPipelineWorld(t)
	if answer := w.Ask(w.alice.ID, w.general.ID, "declare sev3 checkout slow"); !strings.Contains(answer, "INC-1") {
		t.Fatalf("declare answered %q", answer)
	}
	body := strings.Replace(w.approversBody("deploy api v2"), "{", `{"incident":"INC-1",`, 1)
	a := w.ask(body, "Idempotency-Key", "build-41")
	if a.status != 201 || a.str("id") != "APR-1" || a.str("state") != "pending" || a.str("channel") != w.ops.ID || a.str("url") == "" || a.str("expires_at") == "" {
		t.Fatalf("POST answered %d %v", a.status, a.body)
	}
	again := w.ask(body, "Idempotency-Key", "build-41")
	if again.status != 200 || again.str("id") != "APR-1" {
		t.Fatalf("the retried POST answered %d %v; want 200 and APR-1 again", again.status, again.body)
	}
	if n := len(w.botTopLevel(w.ops.ID)); n != 1 {
		t.Fatalf("%d request messages in #ops after a retried POST, want 1", n)
	}
	// The key names that request only: a re-run asking for something else with it is
	// refused, not answered with APR-1's decision.
	other := strings.Replace(body, "deploy api v2", "deploy api v3 to production", 1)
	if got := w.ask(other, "Idempotency-Key", "build-41"); got.status != 409 || !strings.Contains(got.str("message"), "use a new key") {
		t.Fatalf("another request under the same key answered %d %v; want 409", got.status, got.body)
	}
	apr := w.approval("APR-1")
	msg, _ := w.Slack.Message(w.ops.ID, apr.MessageTS)
	if !strings.Contains(string(msg.Blocks), "<@"+w.alice.ID+"> via `ci` (API)") || !strings.Contains(string(msg.Blocks), "approval.approve") {
		t.Fatalf("request message = %s", msg.Blocks)
	}
	if got := w.call("GET", "/api/v1/approvals/APR-1", apptest.APITokenApprovals, ""); got.status != 200 || got.str("state") != "pending" {
		t.Fatalf("GET answered %d %v", got.status, got.body)
	}
	w.Press(w.carol.ID, w.ops.ID, apr.MessageTS, slackui.ActionDeny, slackui.ApprovalValue(apr))
	got := w.call("GET", "/api/v1/approvals/APR-1?wait=60s", apptest.APITokenApprovals, "")
	if got.status != 200 || got.str("state") != "denied" || got.str("decided_by") != w.carol.ID || got.str("decided_at") == "" {
		t.Fatalf("GET after a denial answered %d %v", got.status, got.body)
	}
	if got.str("incident") != "INC-1" {
		t.Errorf("the request is not linked to INC-1: %v", got.body)
	}
	entries, err := w.App().DB.Audit().Audit(context.Background(), 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for _, e := range entries {
		actors = append(actors, e.Actor+" "+e.Action)
	}
	if all := strings.Join(actors, ","); !strings.Contains(all, "api:ci "+runbook.AuditApprovalRequested) || !strings.Contains(all, w.carol.ID+" "+runbook.AuditApprovalDecided) {
		t.Fatalf("audit of APR-1: %v; want the request by api:ci", actors)
	}
}

// TestAPIApprovalSurvivesRestart: a pending request made through the API is decided
// after a restart, and a long-poll begun after it sees the decision.
func TestAPIApprovalSurvivesRestart(t *testing.T) {
	w := startPipelineWorld(t)
	if a := w.ask(w.approversBody("rotate keys")); a.status != 201 {
		t.Fatalf("POST answered %d %v", a.status, a.body)
	}
	w.Restart()
	apr := w.approval("APR-1")
	done := make(chan apiAnswer, 1)
	go func() { done <- w.call("GET", "/api/v1/approvals/APR-1?wait=120", apptest.APITokenApprovals, "") }()
	if got := w.Press(w.bob.ID, w.ops.ID, apr.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(apr)); !strings.Contains(got, "You approved APR-1") {
		t.Fatalf("bob's click answered %q", got)
	}
	if got := <-done; got.str("state") != "approved" || got.str("decided_by") != w.bob.ID {
		t.Fatalf("the long-poll answered %v", got.body)
	}
}

func TestAPIApprovalCancel(t *testing.T) {
	w := startPipelineWorld(t)
	w.ask(w.approversBody("migrate the orders table"))
	got := w.call("DELETE", "/api/v1/approvals/APR-1?reason=pipeline+aborted", apptest.APITokenApprovals, "")
	if got.status != 200 || got.str("state") != "cancelled" || got.str("decided_by") != "api:ci" {
		t.Fatalf("DELETE answered %d %v", got.status, got.body)
	}
	apr := w.approval("APR-1")
	w.WaitFor("the message to show the cancellation", func() bool {
		m, _ := w.Slack.Message(w.ops.ID, apr.MessageTS)
		return m.Edited && !strings.Contains(string(m.Blocks), "approval.approve")
	})
	if got := w.Press(w.bob.ID, w.ops.ID, apr.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(apr)); !strings.Contains(got, "was cancelled") {
		t.Fatalf("a click after the cancellation answered %q", got)
	}
}

// deployToken is a second token with the approvals scope.
const deployToken = "deploy-0123456789abcdef0123456789abcdef"

// TestAPIApprovalAttacks: what a token holder or a workspace member could try.
func TestAPIApprovalAttacks(t *testing.T) {
	w := startPipelineWorld(t, func(c *config.Config) {
		c.API.Tokens = append(c.API.Tokens, config.APIToken{Name: "deploy", Token: config.Secret(deployToken), Scopes: []string{config.ScopeApprovals}})
	})
	t.Run("TokenWithoutTheScope", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/v1/approvals", w.approversBody("x")}, {"GET", "/api/v1/approvals/APR-1", ""}, {"DELETE", "/api/v1/approvals/APR-1", ""},
		} {
			if got := w.call(c.method, c.path, apptest.APITokenNone, c.body); got.status != 403 || !strings.Contains(got.str("message"), "lacks the approvals scope") {
				t.Errorf("%s %s with the idle token: %d %v", c.method, c.path, got.status, got.body)
			}
		}
	})
	t.Run("ApproversOnlyIdsAndHandles", func(t *testing.T) {
		for _, bad := range []string{"<!everyone>", "<!channel>", "Bob Smith", "<@" + w.bob.ID + "|carol>x", "@nobody-here", "<!subteam^S1|@x> <!here>"} {
			b, _ := json.Marshal(map[string]any{"operation": "x", "approvers": []string{bad}})
			if got := w.ask(string(b)); got.status != 400 || got.str("message") == "" {
				t.Errorf("approvers %q: %d %v; want 400 with a sentence", bad, got.status, got.body)
			}
		}
	})
	t.Run("UnknownIncident", func(t *testing.T) {
		if got := w.ask(`{"operation":"x","incident":"INC-99"}`); got.status != 404 || got.str("message") != "There is no incident INC-99." {
			t.Fatalf("incident INC-99: %d %v", got.status, got.body)
		}
		if got := w.ask(`{"operation":"x","incident":"DROP TABLE"}`); got.status != 400 {
			t.Fatalf("a malformed incident: %d %v", got.status, got.body)
		}
	})
	t.Run("RequiredCannotBeLowered", func(t *testing.T) {
		b, _ := json.Marshal(map[string]any{"operation": "drop the old cluster", "risk": "critical", "required": 1,
			"approvers": []string{w.bob.ID, w.carol.ID}})
		got := w.ask(string(b))
		if got.status != 201 {
			t.Fatalf("POST: %d %v", got.status, got.body)
		}
		if apr := w.approval(got.str("id")); apr.Required != 2 {
			t.Errorf("a critical request asking for 1 approval needs %d; approvals.required.critical is 2", apr.Required)
		}
	})
	t.Run("HostileOperationIsEscaped", func(t *testing.T) {
		hostile := "<!channel> deploy <https://evil.example|the usual> & <@" + w.carol.ID + ">"
		b, _ := json.Marshal(map[string]any{"operation": hostile, "reason": "<!here>", "approvers": []string{w.bob.ID}})
		got := w.ask(string(b))
		if got.status != 201 {
			t.Fatalf("POST: %d %v", got.status, got.body)
		}
		apr := w.approval(got.str("id"))
		m, _ := w.Slack.Message(w.ops.ID, apr.MessageTS)
		shown := string(m.Blocks) + m.Text
		// What a machine sends pages no one: not even a mention of one person.
		for _, markup := range []string{"<!channel>", "<!here>", "<https://evil", "<@" + w.carol.ID + ">"} {
			if strings.Contains(shown, markup) {
				t.Errorf("the request message carries %q as markup: %s", markup, shown)
			}
		}
		if want := slackui.Inert(hostile); got.str("operation") != want {
			t.Errorf("the API shows the operation as %q, want it as shown in Slack, %q", got.str("operation"), want)
		}
	})
	t.Run("RequesterCannotApproveByButton", func(t *testing.T) {
		b, _ := json.Marshal(map[string]any{"operation": "x", "requester": w.bob.ID, "approvers": []string{w.bob.ID, w.carol.ID}})
		got := w.ask(string(b))
		apr := w.approval(got.str("id"))
		if ans := w.Press(w.bob.ID, w.ops.ID, apr.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(apr)); !strings.Contains(ans, "someone else must approve it") {
			t.Fatalf("the requester's click answered %q", ans)
		}
		if w.approval(apr.Key()).State != runbook.ApprovalPending {
			t.Fatal("the requester approved their own request")
		}
	})
	t.Run("UndecidableIsRefusedBeforeAsking", func(t *testing.T) {
		before := len(w.botTopLevel(w.ops.ID))
		b, _ := json.Marshal(map[string]any{"operation": "x", "requester": w.bob.ID, "approvers": []string{w.bob.ID}})
		if got := w.ask(string(b)); got.status != 400 || !strings.Contains(got.str("message"), "could never be given") {
			t.Fatalf("an undecidable request: %d %v", got.status, got.body)
		}
		if len(w.botTopLevel(w.ops.ID)) != before {
			t.Fatal("an undecidable request was posted")
		}
	})
	t.Run("ButtonFromAnotherRequest", func(t *testing.T) {
		one := w.approval(w.ask(w.approversBody("first")).str("id"))
		two := w.approval(w.ask(w.approversBody("second")).str("id"))
		// one's button value pressed on two's message, and two's value on one's.
		if ans := w.Press(w.bob.ID, w.ops.ID, two.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(one)); !strings.Contains(ans, "not on the request message") {
			t.Fatalf("a button carried to another request's message answered %q", ans)
		}
		forged := slackui.ApprovalValue(&runbook.Approval{ID: two.ID, Token: one.Token})
		if ans := w.Press(w.bob.ID, w.ops.ID, two.MessageTS, slackui.ActionApprove, forged); !strings.Contains(ans, "not on the request message") {
			t.Fatalf("another request's token answered %q", ans)
		}
		if w.approval(one.Key()).State != runbook.ApprovalPending || w.approval(two.Key()).State != runbook.ApprovalPending {
			t.Fatal("a foreign button decided a request")
		}
	})
	t.Run("OnlyTheAskingTokenCancels", func(t *testing.T) {
		id := w.ask(w.approversBody("drop the old index")).str("id")
		got := w.call("DELETE", "/api/v1/approvals/"+id, deployToken, "")
		if got.status != 403 || !strings.Contains(got.str("message"), "only that token may cancel it") {
			t.Fatalf("another token's DELETE: %d %v", got.status, got.body)
		}
		if w.approval(id).State != runbook.ApprovalPending {
			t.Fatal("another token cancelled the request")
		}
		// Reading is open to any approvals token (documented).
		if got := w.call("GET", "/api/v1/approvals/"+id, deployToken, ""); got.status != 200 || got.str("requested_via") != "api:ci" {
			t.Fatalf("another token's GET: %d %v", got.status, got.body)
		}
	})
	t.Run("BadReads", func(t *testing.T) {
		if got := w.call("GET", "/api/v1/approvals/APR-999", apptest.APITokenApprovals, ""); got.status != 404 {
			t.Errorf("unknown id: %d %v", got.status, got.body)
		}
		if got := w.call("GET", "/api/v1/approvals/APR-1?wait=forever", apptest.APITokenApprovals, ""); got.status != 400 || !strings.Contains(got.str("message"), "not a duration") {
			t.Errorf("bad wait: %d %v", got.status, got.body)
		}
	})
}

func TestAPIApprovalNeedsAChannel(t *testing.T) {
	w := startPipelineWorld(t, func(c *config.Config) { c.Slack.ApprovalChannel, c.Slack.DefaultChannel = "", "" })
	if got := w.ask(w.approversBody("x")); got.status != 400 || !strings.Contains(got.str("message"), "There is no channel to ask in") {
		t.Fatalf("no channel anywhere: %d %v", got.status, got.body)
	}
}

// TestAPIApprovalStoredButNotPosted: a process that died between storing a request
// and posting its message leaves it unposted; the next start posts it, and a click on
// it decides it for the pipeline polling.
func TestAPIApprovalStoredButNotPosted(t *testing.T) {
	w := startPipelineWorld(t)
	a := w.storedWhileStopped("build-7")
	w.Start()
	var posted *runbook.Approval
	w.WaitFor("the request message", func() bool { posted = w.approval(a.Key()); return posted.MessageTS != "" })
	if n := len(w.botTopLevel(w.ops.ID)); n != 1 {
		t.Fatalf("%d request messages, want 1", n)
	}
	w.Press(w.bob.ID, w.ops.ID, posted.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(posted))
	if got := w.call("GET", "/api/v1/approvals/"+a.Key(), apptest.APITokenApprovals, ""); got.str("state") != "approved" {
		t.Fatalf("GET after the click: %v", got.body)
	}
}

// TestAPIApprovalPostedButNotRecorded: a process died after Slack took the request's
// message and before it recorded where the message is. The next start finds the message
// by its tag and adopts it: one message, and its buttons decide the request.
func TestAPIApprovalPostedButNotRecorded(t *testing.T) {
	w := startPipelineWorld(t)
	a := w.storedWhileStopped("build-8")
	// What the dead process posted, through the same client and the same drawing.
	client := slackapi.New(slack.New(w.Slack.BotToken(), slack.OptionAPIURL(w.Config.Slack.APIURL)), http.DefaultClient, nil)
	msg := slackui.ApprovalRequest(a, nil)
	tag := slackui.ApprovalTag(a)
	msg.Channel, msg.Metadata = w.ops.ID, &tag
	first, err := client.PostMessage(w.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}

	w.Start()
	var adopted *runbook.Approval
	w.WaitFor("the request to find its message", func() bool { adopted = w.approval(a.Key()); return adopted.MessageTS != "" })
	if adopted.MessageTS != first.TS {
		t.Errorf("the request's message is %s, want the one posted before the restart, %s", adopted.MessageTS, first.TS)
	}
	if n := len(w.botTopLevel(w.ops.ID)); n != 1 {
		t.Fatalf("%d request messages, want the 1 posted before the restart", n)
	}
	w.Press(w.bob.ID, w.ops.ID, first.TS, slackui.ActionApprove, slackui.ApprovalValue(adopted))
	if got := w.call("GET", "/api/v1/approvals/"+a.Key(), apptest.APITokenApprovals, ""); got.str("state") != "approved" {
		t.Fatalf("GET after the click: %v", got.body)
	}
}

// TestAPIApprovalOfAPrivateIncidentStaysInItsChannel: a request about an incident whose
// channel is private names the incident and its title, so it is asked in that channel
// — by default instead of slack.approvalChannel — and a caller naming another channel
// is refused without anything posted.
func TestAPIApprovalOfAPrivateIncidentStaysInItsChannel(t *testing.T) {
	w := startPipelineWorld(t)
	if answer := w.Ask(w.alice.ID, w.general.ID, "declare sev2 payroll data exposed"); !strings.Contains(answer, "INC-1") {
		t.Fatalf("declare answered %q", answer)
	}
	secret := w.Slack.AddChannel("inc-1-payroll", slackfake.ChannelPrivate(), slackfake.ChannelMembers(w.Slack.BotUserID(), w.alice.ID, w.bob.ID, w.carol.ID))
	if err := w.App().Incidents.ClaimChannel(context.Background(), 1, runbook.Conversation{ID: secret.ID, Private: true}); err != nil {
		t.Fatal(err)
	}
	before := len(w.botTopLevel(w.ops.ID))
	elsewhere := strings.Replace(w.approversBody("rotate the payroll keys"), "{", `{"incident":"INC-1","channel":"#ops",`, 1)
	if got := w.ask(elsewhere); got.status != 403 || !strings.Contains(got.str("message"), "private") {
		t.Fatalf("asking in #ops about a private incident: %d %v", got.status, got.body)
	}
	if n := len(w.botTopLevel(w.ops.ID)); n != before {
		t.Errorf("%d messages posted in #ops about a private incident", n-before)
	}
	got := w.ask(strings.Replace(w.approversBody("rotate the payroll keys"), "{", `{"incident":"INC-1",`, 1))
	if got.status != 201 || got.str("channel") != secret.ID {
		t.Fatalf("asking about a private incident without a channel: %d %v; want it in %s", got.status, got.body, secret.ID)
	}
}

// storedWhileStopped stops the bot and stores, as a process that died before it posted
// would have left it, a request made an hour ago under key; the bot stays stopped.
func (w *pipelineWorld) storedWhileStopped(key string) *runbook.Approval {
	w.t.Helper()
	w.Stop()
	db := apptest.OpenStore(w.t, w.Config.Store.Path)
	db.Now = func() time.Time { return time.Now().Add(-time.Hour) } // asked an hour ago
	a := &runbook.Approval{Operation: "deploy", Risk: runbook.RiskLow, RequestedVia: "api:ci", Approvers: []string{w.bob.ID},
		Required: 1, Channel: w.ops.ID, ExpiresAt: time.Now().Add(time.Hour)}
	if _, err := db.Approvals().CreateAPIApproval(context.Background(), a, key); err != nil {
		w.t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		w.t.Fatal(err)
	}
	return a
}
