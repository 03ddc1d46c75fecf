package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/slackfake"
)

// TestSlackErrorsAreToldAsWhatTheyAre has Slack answer a slash command's post as it
// answers on a bad day or to a misconfigured app: Slack's own failures say "Slack had a
// problem — try again", configuration failures name the fix, and neither blames
// Runbook. A post is not repeated after a failure that may have posted it.
func TestSlackErrorsAreToldAsWhatTheyAre(t *testing.T) {
	h := start(t)
	ops := h.Channel("ops")
	for _, tt := range []struct {
		name  string
		fail  slackfake.Failure
		tries int // failures answered to chat.postMessage
		want  []string
	}{
		{"FatalError", slackfake.Failure{Code: "fatal_error"}, 1, []string{"Slack had a problem (fatal_error) — try again."}},
		{"InternalError", slackfake.Failure{Code: "internal_error"}, 1, []string{"Slack had a problem (internal_error) — try again."}},
		{"ServiceUnavailable", slackfake.Failure{Code: "service_unavailable"}, 1, []string{"Slack had a problem (service_unavailable) — try again."}},
		{"RequestTimeout", slackfake.Failure{Code: "request_timeout"}, 1, []string{"Slack had a problem (request_timeout) — try again."}},
		{"Persistent5xx", slackfake.Failure{Status: http.StatusServiceUnavailable}, 8, []string{"Slack had a problem (HTTP 503) — try again."}},
		{"MissingScope", slackfake.Failure{Code: "missing_scope", Needed: "chat:write", Provided: "commands,channels:read"}, 1,
			[]string{"lacks the chat:write scope", "reinstall the app"}},
		{"RestrictedAction", slackfake.Failure{Code: "restricted_action"}, 1, []string{"workspace's settings do not let Runbook do that (restricted_action)"}},
		{"NotInChannel", slackfake.Failure{Code: "not_in_channel"}, 1, []string{"Invite me with `/invite @Runbook`"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := calls(h, "chat.postMessage")
			h.Slack.FailNextWith("chat.postMessage", tt.tries, tt.fail)
			answer := h.Ask(h.alice.ID, h.general.ID, "post to #ops: deploy paused")
			for _, want := range tt.want {
				if !strings.Contains(answer, want) {
					t.Errorf("answer %q; want %q", answer, want)
				}
			}
			if strings.Contains(answer, "Runbook's side") {
				t.Errorf("answer %q blames Runbook for Slack's answer", answer)
			}
			if n := calls(h, "chat.postMessage") - before; n != tt.tries {
				t.Errorf("chat.postMessage was called %d times, want %d", n, tt.tries)
			}
			for _, m := range h.Slack.Messages(ops.ID) {
				if strings.Contains(m.Text, "deploy paused") {
					t.Errorf("#ops has %q after the post failed", m.Text)
				}
			}
		})
	}
}

// TestInternalErrorIsRetried has Slack fail a read twice with internal_error, as it
// does in a brief outage: the bot tries again, and the person gets the answer.
func TestInternalErrorIsRetried(t *testing.T) {
	h := start(t)
	ops := h.Channel("ops", "alice")
	h.Slack.Mention(h.alice.ID, ops.ID, "help", "")
	before := calls(h, "conversations.history")
	h.Slack.FailNextWith("conversations.history", 2, slackfake.Failure{Code: "internal_error"})
	answer := h.Ask(h.alice.ID, h.general.ID, "show recent messages in #ops")
	if !strings.Contains(answer, "Latest messages in") {
		t.Fatalf("answer %q; want the channel's messages", answer)
	}
	if n := calls(h, "conversations.history") - before; n != 3 {
		t.Errorf("conversations.history was called %d times, want 3 (two failures, then the answer)", n)
	}
}

// calls counts the Web API calls of a method so far.
func calls(h *harness, method string) int {
	n := 0
	for _, c := range h.Slack.APICalls() {
		if c.Method == method {
			n++
		}
	}
	return n
}
