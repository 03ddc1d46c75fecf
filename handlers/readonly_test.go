package handlers_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/handlers"
	"github.com/runbookhq/runbook/incidents"
)

// TestReadOnly: the commands the bot answers without recording are exactly those that
// only read, or that name no command; every command that changes something, in any
// spelling, is recorded; a mention reads as the same words after /runbook.
func TestReadOnly(t *testing.T) {
	h := handlers.New(handlers.Deps{})
	reads := []string{"", "help", "HELP declare", "help run sev1-kickoff", "status", "status INC-1", "list all",
		"timeline INC-1", "followups", "runbooks", "runs INC-2", "approvals", "audit", "frobnicate INC-1",
		`"unterminated`, "<@U1> declare sev1 x",
		"\u200bdeclare sev1 x"} // not the verb declare: answered "I don't know"
	for _, text := range reads {
		if !h.ReadOnly(slash(text)) {
			t.Errorf("/runbook %s is not taken for a read", text)
		}
	}
	changes := []string{"declare sev1 db down", "Declare", `"declare" sev1 x`, "update INC-1 status=mitigated",
		"resolve INC-1", "assign @bob comms", "unassign comms", "invite @bob", "note x", "summary", `followup "x"`,
		"done F-1", "run sev1-kickoff", "run sev1-kickoff --dry-run", "cancel R-1", "approve APR-1", "deny APR-1 no",
		"post to #general: hi", "show recent messages in #general"}
	for _, text := range changes {
		if h.ReadOnly(slash(text)) {
			t.Errorf("/runbook %s is taken for a read", text)
		}
	}
	if !h.ReadOnly(mention("status INC-1")) || h.ReadOnly(mention("declare sev1 x")) {
		t.Error("a mention is not read as the same command typed after /runbook")
	}
	if h.ReadOnly(&runbook.Request{Kind: runbook.KindAction, Text: "help"}) {
		t.Error("a click is taken for a read")
	}
}

// TestHelpNamesHowItWasAsked: the command list, kept once built, still quotes the
// form each person typed.
func TestHelpNamesHowItWasAsked(t *testing.T) {
	h := handlers.New(handlers.Deps{})
	for range 2 {
		for _, req := range []*runbook.Request{slash("help"), {Kind: runbook.KindCommand, Command: "/rb", Text: "help"}, mention("help")} {
			reply, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"/runbook": "`/runbook status", "/rb": "`/rb status", "": "`@Runbook status"}[req.Command]
			blocks, _ := json.Marshal(reply.Blocks)
			if got := string(blocks); !strings.Contains(got, want) {
				t.Errorf("help asked as %q lists %.200s; want %q", req.Command, got, want)
			}
		}
	}
}

// TestHelpEscapesPlaceholders: Slack reserves < and > for its markup (links, mentions),
// even inside code, so help and usage lines show <severity>, <INC-id> and the like
// escaped; the only < left is Slack's own markup.
func TestHelpEscapesPlaceholders(t *testing.T) {
	fields := []runbook.FieldSpec{{Name: "region", Type: "text", Description: "where it <hurts>"}}
	h := handlers.New(handlers.Deps{Incidents: incidents.New(nil, nil, nil, nil, incidents.Config{Fields: fields}, nil)})
	raw := regexp.MustCompile(`<[^@#!]`)
	asks := []string{"help", "help approve"}
	for _, name := range []string{"declare", "update", "resolve", "assign", "unassign", "timeline", "note", "done", "run", "help"} {
		asks = append(asks, "help "+name)
	}
	for _, text := range asks {
		reply, err := h.Handle(context.Background(), slash(text))
		if err != nil {
			// An answer that is an error is shown as its message.
			reply = &runbook.Reply{Text: runbook.ErrorMessage(err)}
		}
		blocks, _ := json.Marshal(reply.Blocks)
		for _, got := range []string{reply.Text, string(blocks)} {
			if m := raw.FindString(got); m != "" {
				t.Errorf("%q is answered with an unescaped %q in %.300s", text, m, got)
			}
		}
	}
}
