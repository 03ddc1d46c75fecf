package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/handlers"
)

func slash(text string) *runbook.Request {
	return &runbook.Request{Kind: runbook.KindCommand, Command: "/runbook", Text: text, UserID: "U1", ChannelID: "C1"}
}

func mention(text string) *runbook.Request {
	return &runbook.Request{Kind: runbook.KindMention, Text: text, UserID: "U1", ChannelID: "C1", ThreadTS: "1.1"}
}

func TestCommands(t *testing.T) {
	h := handlers.New(handlers.Deps{})
	tests := []struct {
		name string
		req  *runbook.Request
		want []string // substrings of the reply text, in order of appearance not required
	}{
		{"HelpListsCommands", slash("help"), []string{"Runbook commands:", "help"}},
		{"EmptyIsHelp", slash(""), []string{"Runbook commands:"}},
		{"HelpForOneCommand", slash("help help"), []string{"`/runbook help [command | run &lt;runbook&gt;]`"}},
		{"HelpShowsDryRun", slash("help"), []string{"[INC-id] [key=value …] [--dry-run]`", "--dry-run shows what each step would do, doing nothing"}},
		{"HelpUnknownCommand", slash("help frobnicate"), []string{"I don't know the command `frobnicate`", "`/runbook help`"}},
		{"MentionUsesMentionPrefix", mention("hlep"), []string{"Did you mean `@Runbook help`?", "`@Runbook help`"}},
		{"UnknownWithSuggestion", slash("hepl"), []string{"Did you mean `/runbook help`?"}},
		{"UnknownIsEscaped", slash("<!channel>"), []string{"I don't know the command `@channel`"}},
		{"UnknownTextIsEscaped", slash("&lt;b&gt;"), []string{"`&lt;b&gt;`"}},
		{"CaseInsensitive", slash("HELP"), []string{"Runbook commands:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, err := h.Handle(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if reply == nil || reply.Visibility != runbook.Private {
				t.Fatalf("reply = %+v, want a private reply", reply)
			}
			text := reply.Text + "\n" + blocksText(t, reply)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("reply %q does not contain %q", text, w)
				}
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	h := handlers.New(handlers.Deps{})
	_, err := h.Handle(context.Background(), slash(`help "unclosed`))
	if runbook.ErrorCode(err) != runbook.EINVALID || !strings.Contains(runbook.ErrorMessage(err), "quote") {
		t.Fatalf("err = %v, want EINVALID about the quote", err)
	}
}

func TestStaleButton(t *testing.T) {
	h := handlers.New(handlers.Deps{})
	reply, err := h.Handle(context.Background(), &runbook.Request{Kind: runbook.KindAction, UserID: "U1",
		Action: &runbook.Action{ActionID: "nothing", Value: "x"}})
	if err != nil || reply == nil || !strings.Contains(reply.Text, "no longer in use") {
		t.Fatalf("reply = %+v, %v; want a sentence saying the button is stale", reply, err)
	}
}
