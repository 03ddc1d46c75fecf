package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// The corpus of payloads captured by Slack's SDKs and documentation
// (testdata/real/README.md), each sent to the real bot over Socket Mode.
const realDir = "../testdata/real"

// realEnvelope reads a corpus file: a Socket Mode envelope.
func realEnvelope(t *testing.T, file string) (typ string, payload json.RawMessage) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(realDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return env.Type, env.Payload
}

// realEdited is the payload as Slack re-sends it after the message was edited
// (slack-go PR #1256): the same message, an "edited" stamp, a new event id.
func realEdited(t *testing.T, payload json.RawMessage) json.RawMessage {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	ev := p["event"].(map[string]any)
	ev["edited"] = map[string]any{"user": ev["user"], "ts": "1706785427.000000"}
	p["event_id"] = "EvEdited"
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// realWorkspace is the part of a payload's workspace the bot meets: the bot's own
// user id, the people, and the conversations.
type realWorkspace struct {
	bot      string
	people   [][2]string // id, handle
	channels [][2]string // id, name; a "G…" id is private, a "D…" id is the DM with people[0]
}

// install teaches the emulator the payload's ids, so that the payload is delivered
// exactly as captured and the bot's answers land where a test can look.
func (w realWorkspace) install(t *testing.T, slack *slackfake.Server) {
	t.Helper()
	if w.bot != "" {
		if err := slack.AdoptBotUserID(w.bot); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, p := range w.people {
		if _, err := slack.InstallUser(p[0], p[1]); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p[0])
	}
	for _, c := range w.channels {
		var err error
		switch {
		case strings.HasPrefix(c[0], "D"):
			_, err = slack.InstallDM(c[0], ids[0])
		case strings.HasPrefix(c[0], "G"):
			_, err = slack.InstallChannel(c[0], c[1], slackfake.ChannelPrivate(),
				slackfake.ChannelMembers(append([]string{slack.BotUserID()}, ids...)...))
		default:
			_, err = slack.InstallChannel(c[0], c[1], slackfake.ChannelMembers(ids...))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// startReal starts a bot in the payload's workspace.
func startReal(t *testing.T, w realWorkspace) *apptest.Kit {
	t.Helper()
	k := apptest.New(t, apptest.Options{Emulator: slackfake.Options{AckTimeout: time.Second}})
	k.Config.Runbooks.Dir = "../runbooks/examples"
	w.install(t, k.Slack)
	k.Start()
	return k
}

func deliver(t *testing.T, k *apptest.Kit, typ string, payload json.RawMessage) *slackfake.Delivery {
	t.Helper()
	d, err := k.Slack.Deliver(typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ackText waits for a slash command's ack and returns the text and blocks it answers.
func ackText(t *testing.T, k *apptest.Kit, d *slackfake.Delivery) string {
	t.Helper()
	ack, err := d.WaitAck(k.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, text := ackMessage(t, ack)
	return text
}

// threadReply waits for the n-th answer in the thread of ts and returns its text and blocks.
func threadReply(t *testing.T, k *apptest.Kit, channel, ts string, n int) string {
	t.Helper()
	k.WaitFor("the bot's answer in the mention's thread", func() bool { return len(k.BotReplies(channel, ts)) >= n })
	m := k.BotReplies(channel, ts)[n-1]
	return m.Text + string(m.Blocks)
}

// privateAnswer waits for an answer only user sees in channel.
func privateAnswer(t *testing.T, k *apptest.Kit, channel, user string) string {
	t.Helper()
	k.WaitFor("the private answer", func() bool { return len(k.Slack.Ephemerals(channel, user)) > 0 })
	m := k.Slack.Ephemerals(channel, user)[0]
	return m.Text + string(m.Blocks)
}

const refusedClick = "That button is no longer in use; nothing was changed."

func TestRealPayloadsEndToEnd(t *testing.T) {
	t.Run("SlashCommandEmptyTextAnswersHelp", func(t *testing.T) {
		k := startReal(t, realWorkspace{people: [][2]string{{"U111", "testxyz"}}, channels: [][2]string{{"C111", "random"}}})
		typ, p := realEnvelope(t, "slash_command_empty_text.json")
		if text := ackText(t, k, deliver(t, k, typ, p)); !strings.Contains(text, "Runbook commands") {
			t.Fatalf("answer = %q; want the help text", text)
		}
	})
	t.Run("SlashCommandInAPrivateChannelAnswersHelp", func(t *testing.T) {
		k := startReal(t, realWorkspace{people: [][2]string{{"U2CERLKJA", "roadrunner"}}, channels: [][2]string{{"G8PSS9T3V", "foobar"}}})
		typ, p := realEnvelope(t, "slash_command_private_channel.json")
		if text := ackText(t, k, deliver(t, k, typ, p)); !strings.Contains(text, "Runbook commands") {
			t.Fatalf("answer = %q; want the help text", text)
		}
	})
	for _, c := range []struct{ name, file, user, channel, chName, verb string }{
		{"SlashCommandEnterpriseGrid", "slash_command_enterprise_grid.json", "W111", "C111", "random", "Hi"},
		{"SlashCommandOrgInstall", "slash_command_org_install.json", "W111", "C111", "dev", "test"},
		{"SlashCommandDocsExample", "slash_command_docs_example.json", "U2147483697", "C2147483705", "test", "94070"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := startReal(t, realWorkspace{people: [][2]string{{c.user, "someone"}}, channels: [][2]string{{c.channel, c.chName}}})
			typ, p := realEnvelope(t, c.file)
			want := "I don't know the command `" + c.verb + "`"
			if text := ackText(t, k, deliver(t, k, typ, p)); !strings.Contains(text, want) {
				t.Fatalf("answer = %q; want %q", text, want)
			}
		})
	}
	for _, c := range []struct {
		name, file string
		ws         realWorkspace
		channel    string
		want       string
	}{
		{"MentionBareAnswersHelp", "app_mention_bare.json", realWorkspace{bot: "U111",
			people: [][2]string{{"U222", "someone"}}, channels: [][2]string{{"C111", "general"}}}, "C111", "Runbook commands"},
		// The capturer redacted the user and the channel to the same id; only the
		// channel is installed, or the answer would go to a DM with "redacted".
		{"MentionRichText", "app_mention_rich_text.json", realWorkspace{bot: "U01JKSB8T7Y",
			channels: [][2]string{{"redacted", "redacted"}}}, "redacted",
			"I don't know the command `test`"},
		{"MentionSocketMode", "app_mention_socket_mode.json", realWorkspace{bot: "U111",
			people: [][2]string{{"U222", "someone"}}, channels: [][2]string{{"C111", "general"}}}, "C111",
			"I don't know the command `hey`"},
		{"MentionEnterpriseGrid", "app_mention_enterprise_grid.json", realWorkspace{bot: "W111",
			people: [][2]string{{"W222", "someone"}}, channels: [][2]string{{"C111", "general"}}}, "C111",
			"I don't know the command `Hi`"},
		{"MentionOrgInstall", "app_mention_org_install.json", realWorkspace{bot: "W111",
			people: [][2]string{{"W222", "someone"}}, channels: [][2]string{{"C111", "general"}}}, "C111",
			"I don't know the command `Hi`"},
		{"MentionDocsExample", "app_mention_docs_example.json", realWorkspace{bot: "U0LAN0Z89",
			people: [][2]string{{"U061F7AUR", "someone"}}, channels: [][2]string{{"C123ABC456", "general"}}}, "C123ABC456",
			"I don't know the command `is`"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := startReal(t, c.ws)
			typ, p := realEnvelope(t, c.file)
			d := deliver(t, k, typ, p)
			if text := threadReply(t, k, c.channel, d.TS, 1); !strings.Contains(text, c.want) {
				t.Fatalf("answer in the thread = %q; want %q", text, c.want)
			}
		})
	}
	t.Run("MentionInThreadAnswersThereAndItsEditDoesNotRunAgain", func(t *testing.T) {
		k := startReal(t, realWorkspace{bot: "U0LAN0Z89", people: [][2]string{{"U061F7AUR", "someone"}},
			channels: [][2]string{{"C0LAN2Q65", "general"}}})
		typ, p := realEnvelope(t, "app_mention_in_thread.json")
		d := deliver(t, k, typ, p)
		if d.TS != "1515449522.000016" {
			t.Fatalf("the mention was stored at %q", d.TS)
		}
		if text := threadReply(t, k, "C0LAN2Q65", "1515449522.000016", 1); !strings.Contains(text, "I don't know the command `is`") {
			t.Fatalf("answer in the thread = %q", text)
		}
		edit := deliver(t, k, typ, realEdited(t, p))
		if text := threadReply(t, k, "C0LAN2Q65", "1515449522.000016", 2); !strings.Contains(text, "editing it does not run it again") {
			t.Fatalf("answer to the edit = %q; want that an edit does not run the command", text)
		}
		if _, err := edit.WaitAck(k.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(k.BotReplies("C0LAN2Q65", "1515449522.000016")); n != 2 {
			t.Fatalf("%d answers in the thread, want 2: the mention's and the edit's", n)
		}
	})
	for _, c := range []struct {
		name, file    string
		ws            realWorkspace
		channel, user string
	}{
		{"ClickOnAMessage", "block_actions_message.json", realWorkspace{people: [][2]string{{"U111", "someone"}},
			channels: [][2]string{{"C111", "general"}}}, "C111", "U111"},
		{"ClickOnAnEphemeralMessage", "block_actions_ephemeral.json", realWorkspace{people: [][2]string{{"W111", "primary-owner"}},
			channels: [][2]string{{"C111", "test-channel"}}}, "C111", "W111"},
		{"ClickOnAnEphemeralMessageInAThread", "block_actions_ephemeral_in_thread.json", realWorkspace{people: [][2]string{{"U111", "seratch"}},
			channels: [][2]string{{"C111", "random"}}}, "C111", "U111"},
		{"ClickInADirectMessage", "block_actions_dm.json", realWorkspace{people: [][2]string{{"U01AZ88AQQ4", "phoebe.ngsyd"}},
			channels: [][2]string{{"D01ACC2E8S3", ""}}}, "D01ACC2E8S3", "U01AZ88AQQ4"},
	} {
		t.Run(c.name+"IsRefused", func(t *testing.T) {
			k := startReal(t, c.ws)
			typ, p := realEnvelope(t, c.file)
			deliver(t, k, typ, p)
			if text := privateAnswer(t, k, c.channel, c.user); !strings.Contains(text, refusedClick) {
				t.Fatalf("answer = %q; want %q", text, refusedClick)
			}
		})
	}
	for _, c := range []struct{ name, file, user string }{
		{"ViewSubmission", "view_submission.json", "W111"},
		{"ViewSubmissionFromADirectMessage", "view_submission_dm_modal.json", "U01AZ88AQQ4"},
	} {
		t.Run(c.name+"OfAnotherFormClosesIt", func(t *testing.T) {
			k := startReal(t, realWorkspace{people: [][2]string{{c.user, "someone"}}})
			typ, p := realEnvelope(t, c.file)
			ack, err := deliver(t, k, typ, p).WaitAck(k.Context())
			if err != nil {
				t.Fatal(err)
			}
			// No response_action: Slack closes the modal, and the bot changed nothing.
			if ack.Payload != nil {
				t.Fatalf("ack payload %s; a form that is not the bot's is closed without an answer", ack.Payload)
			}
		})
	}
	// A reaction is acked and answered with nothing: a 👍 is dropped as it is decoded,
	// and a 📌 in a channel that is no incident's reads nothing and adds nothing.
	t.Run("ReactionOutsideAnIncidentIsSilent", func(t *testing.T) {
		k := startReal(t, realWorkspace{people: [][2]string{{"U123ABC456", "someone"}, {"U222222222", "author"}},
			channels: [][2]string{{"C123ABC456", "general"}}})
		typ, p := realEnvelope(t, "reaction_added_docs_example.json")
		var pin map[string]any
		if err := json.Unmarshal(p, &pin); err != nil {
			t.Fatal(err)
		}
		pin["event"].(map[string]any)["reaction"] = "pushpin"
		pin["event_id"] = "EvPushpin"
		pinned, err := json.Marshal(pin)
		if err != nil {
			t.Fatal(err)
		}
		for _, payload := range []json.RawMessage{p, pinned} {
			if _, err := deliver(t, k, typ, payload).WaitAck(k.Context()); err != nil {
				t.Fatal(err)
			}
		}
		k.WaitFor("both reactions handled", func() bool {
			open, err := k.App().DB.Inbox().Unfinished(k.Context())
			return err == nil && len(open) == 0
		})
		if n := k.Slack.Calls("conversations.history") + k.Slack.Calls("chat.postMessage") + k.Slack.Calls("chat.postEphemeral"); n != 0 {
			t.Fatalf("%d reads or posts for reactions outside an incident, want none", n)
		}
	})
	// A select in a modal comes with neither a response_url nor a channel. The click is
	// acked, so Slack shows no error, and the person is told in a DM, the one place left
	// to answer them, and nowhere else.
	t.Run("SelectInAModalIsAnsweredInADM", func(t *testing.T) {
		k := startReal(t, realWorkspace{people: [][2]string{{"U12345678", "testxyz"}}})
		typ, p := realEnvelope(t, "block_actions_modal.json")
		d := deliver(t, k, typ, p)
		if _, err := d.WaitAck(k.Context()); err != nil {
			t.Fatal(err)
		}
		var dm slackfake.Channel
		k.WaitFor("the answer in a DM", func() bool {
			for _, c := range k.Slack.Channels() {
				if c.IM && c.User == "U12345678" && len(k.Slack.Messages(c.ID)) > 0 {
					dm = c
					return true
				}
			}
			return false
		})
		if msgs := k.Slack.Messages(dm.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Text, refusedClick) {
			t.Fatalf("DM = %+v; want one message saying %q", msgs, refusedClick)
		}
		if n := k.Slack.Calls("chat.postEphemeral"); n != 0 {
			t.Fatalf("%d ephemeral messages for a click with no channel", n)
		}
	})
}

// TestRealPayloadsAreAllDelivered keeps TestRealPayloadsEndToEnd in step with the
// corpus: a payload added to testdata/real is sent to the bot too.
func TestRealPayloadsAreAllDelivered(t *testing.T) {
	src, err := os.ReadFile("realpayloads_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(realDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", realDir, err)
	}
	for _, f := range files {
		if !strings.Contains(string(src), `"`+filepath.Base(f)+`"`) {
			t.Errorf("%s is not sent to the bot in TestRealPayloadsEndToEnd", filepath.Base(f))
		}
	}
}
