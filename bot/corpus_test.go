package bot

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// corpusDir holds Socket Mode envelopes captured by Slack's SDKs and documentation
// (testdata/real/README.md says how they were gathered).
const corpusDir = "../testdata/real"

// corpusFiles lists the corpus and checks that each file names its source.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	sources := corpusSources(tb)
	for _, f := range files {
		if sources[filepath.Base(f)] == "" {
			tb.Errorf("%s has no line in %s/SOURCES", filepath.Base(f), corpusDir)
		}
	}
	return files
}

func corpusSources(tb testing.TB) map[string]string {
	tb.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "SOURCES"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, src, ok := strings.Cut(sc.Text(), ": "); ok && strings.TrimSpace(src) != "" {
			out[name] = src
		}
	}
	return out
}

func readCorpusEnvelope(tb testing.TB, path string) envelope {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return env
}

// editedOverlay is what Slack adds to an app_mention it re-sends for an edited
// message (slack-go PR #1256): an "edited" stamp, and a new event id.
func editedOverlay(tb testing.TB, env envelope) envelope {
	tb.Helper()
	var p map[string]any
	if err := json.Unmarshal(env.Payload, &p); err != nil {
		tb.Fatal(err)
	}
	ev := p["event"].(map[string]any)
	ev["edited"] = map[string]any{"user": ev["user"], "ts": "1706785427.000000"}
	p["event_id"] = "EvEdited"
	b, _ := json.Marshal(p)
	env.Payload = b
	env.EnvelopeID += "-edited"
	return env
}

// corpusCase is what the decoder must read from one corpus file. bot is the bot's
// user id in the payload's workspace, as auth.test would have told the bot.
type corpusCase struct {
	file   string
	bot    string
	edited bool // decode the file with editedOverlay applied
	// pushpin decodes the file with pushpinOverlay applied; ignored says the decoder
	// must drop it (errIgnored) rather than read a request.
	pushpin, ignored bool
	want             runbook.Request
}

// pushpinOverlay is a reaction_added as Slack sends it for a 📌 rather than the
// reaction the capture shows.
func pushpinOverlay(tb testing.TB, env envelope) envelope {
	tb.Helper()
	var p map[string]any
	if err := json.Unmarshal(env.Payload, &p); err != nil {
		tb.Fatal(err)
	}
	p["event"].(map[string]any)["reaction"] = PinReaction
	b, _ := json.Marshal(p)
	env.Payload = b
	return env
}

func corpusCases() []corpusCase {
	return []corpusCase{
		{file: "slash_command_empty_text.json", want: runbook.Request{Kind: runbook.KindCommand,
			ID: "1d3c79ab-0ffb-41f3-a080-d19e85f53649", TeamID: "T111", UserID: "U111", UserName: "testxyz",
			ChannelID: "C111", ChannelName: "random", Command: "/hello-socket-mode", Text: "",
			ResponseURL: "https://hooks.slack.com/commands/T111/111/xxx", TriggerID: "111.222.xxx"}},
		{file: "slash_command_enterprise_grid.json", want: runbook.Request{Kind: runbook.KindCommand,
			ID: "corpus-slash_command_enterprise_grid", TeamID: "T111", UserID: "W111", UserName: "primary-owner",
			ChannelID: "C111", ChannelName: "random", Command: "/hello-world", Text: "Hi",
			ResponseURL: "https://hooks.slack.com/commands/T111/111/xxxxx", TriggerID: "111.111.xxx"}},
		{file: "slash_command_org_install.json", want: runbook.Request{Kind: runbook.KindCommand,
			ID: "corpus-slash_command_org_install", TeamID: "T111", UserID: "W111", UserName: "primary-owner",
			ChannelID: "C111", ChannelName: "dev", Command: "/org-level-command", Text: "test",
			ResponseURL: "https://hooks.slack.com/commands/T111/111/xxx", TriggerID: "111.222.xxx"}},
		// A private channel: a "G…" id, and the channel's own name.
		{file: "slash_command_private_channel.json", want: runbook.Request{Kind: runbook.KindCommand,
			ID: "corpus-slash_command_private_channel", TeamID: "T1DC2JH3J", UserID: "U2CERLKJA", UserName: "roadrunner",
			ChannelID: "G8PSS9T3V", ChannelName: "foobar", Command: "/webhook-collect", Text: "",
			ResponseURL: "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN",
			TriggerID:   "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"}},
		{file: "slash_command_docs_example.json", want: runbook.Request{Kind: runbook.KindCommand,
			ID: "corpus-slash_command_docs_example", TeamID: "T0001", UserID: "U2147483697", UserName: "Steve",
			ChannelID: "C2147483705", ChannelName: "test", Command: "/weather", Text: "94070",
			ResponseURL: "https://hooks.slack.com/commands/1234/5678", TriggerID: "13345224609.738474920.8088930838d88f008e0"}},
		{file: "app_mention_bare.json", bot: "U111", want: runbook.Request{Kind: runbook.KindMention,
			ID: "Ev111", TeamID: "T111", UserID: "U222", ChannelID: "C111", Text: "", ThreadTS: "1610241741.000200"}},
		{file: "app_mention_rich_text.json", bot: "U01JKSB8T7Y", want: runbook.Request{Kind: runbook.KindMention,
			ID: "Ev01JZ2T7S3U", TeamID: "redacted", UserID: "redacted", ChannelID: "redacted", Text: "test",
			ThreadTS: "1610927831.000200"}},
		{file: "app_mention_socket_mode.json", bot: "U111", want: runbook.Request{Kind: runbook.KindMention,
			ID: "Ev04SPP46R6J", TeamID: "T0G9PQBBK", UserID: "U222", ChannelID: "C111", Text: "hey",
			ThreadTS: "1678252212.229129"}},
		{file: "app_mention_enterprise_grid.json", bot: "W111", want: runbook.Request{Kind: runbook.KindMention,
			ID: "Ev111", TeamID: "T111", UserID: "W222", ChannelID: "C111", Text: "Hi there!",
			ThreadTS: "1595926230.009600"}},
		{file: "app_mention_org_install.json", bot: "W111", want: runbook.Request{Kind: runbook.KindMention,
			ID: "Ev111", TeamID: "T111", UserID: "W222", ChannelID: "C111", Text: "Hi there!",
			ThreadTS: "1595926230.009600"}},
		{file: "app_mention_docs_example.json", bot: "U0LAN0Z89", want: runbook.Request{Kind: runbook.KindMention,
			ID: "Ev123ABC456", TeamID: "T123ABC456", UserID: "U061F7AUR", ChannelID: "C123ABC456",
			Text: "is it everything a river should be?", ThreadTS: "1515449522.000016"}},
		// The answer goes to the thread the event names, not to a new one.
		{file: "app_mention_in_thread.json", bot: "U0LAN0Z89", want: runbook.Request{Kind: runbook.KindMention,
			ID: "EvCorpusThread", UserID: "U061F7AUR", ChannelID: "C0LAN2Q65",
			Text: "is it everything a river should be?", ThreadTS: "1515449522.000016"}},
		{file: "app_mention_in_thread.json", bot: "U0LAN0Z89", edited: true, want: runbook.Request{Kind: runbook.KindMention,
			ID: "EvEdited", UserID: "U061F7AUR", ChannelID: "C0LAN2Q65",
			Text: "is it everything a river should be?", ThreadTS: "1515449522.000016", Edited: true}},
		// Any reaction but 📌 is dropped; a 📌 is a request about the message reacted to.
		{file: "reaction_added_docs_example.json", bot: "U0LAN0Z89", ignored: true},
		{file: "reaction_added_docs_example.json", bot: "U0LAN0Z89", pushpin: true, want: runbook.Request{Kind: runbook.KindReaction,
			ID: "Ev123ABC456", TeamID: "T123ABC456", UserID: "U123ABC456", ChannelID: "C123ABC456",
			Reaction: &runbook.Reaction{Name: "pushpin", MessageTS: "1360782400.498405", ItemUser: "U222222222"}}},
		{file: "block_actions_message.json", want: runbook.Request{Kind: runbook.KindAction,
			ID: "corpus-block_actions_message", TeamID: "T0G9PQBBK", UserID: "U111", ChannelID: "C111",
			ResponseURL: "http://localhost:8888/webhook", TriggerID: "4916855695380.xxx.yyy",
			Action: &runbook.Action{ActionID: "button", BlockID: "8KR", Value: "clicked", MessageTS: "1678252213.679169"}}},
		{file: "block_actions_ephemeral.json", want: runbook.Request{Kind: runbook.KindAction,
			ID: "corpus-block_actions_ephemeral", TeamID: "T111", UserID: "W111", UserName: "primary-owner",
			ChannelID: "C111", ChannelName: "test-channel", ResponseURL: "https://hooks.slack.com/actions/T111/111/random-value",
			TriggerID: "111.222.valid", Action: &runbook.Action{ActionID: "a", BlockID: "b", Value: "click_me_123", MessageTS: "111.222"}}},
		{file: "block_actions_ephemeral_in_thread.json", want: runbook.Request{Kind: runbook.KindAction,
			ID: "corpus-block_actions_ephemeral_in_thread", TeamID: "T111", UserID: "U111", UserName: "seratch",
			ChannelID: "C111", ChannelName: "random", ResponseURL: "https://hooks.slack.com/actions/T111/111/xxx",
			TriggerID: "111.222.xxx", Action: &runbook.Action{ActionID: "save", BlockID: "block_1", Value: "1",
				MessageTS: "1693635296.000500"}}},
		{file: "block_actions_dm.json", want: runbook.Request{Kind: runbook.KindAction,
			ID: "corpus-block_actions_dm", TeamID: "T01B5M3VC1X", UserID: "U01AZ88AQQ4", UserName: "phoebe.ngsyd",
			ChannelID: "D01ACC2E8S3", ChannelName: "directmessage",
			ResponseURL: "https://hooks.slack.com/actions/T01B5M3VC1X/1394543744577/NIyyQSrf1FF0R7KPv7VbbjrC",
			TriggerID:   "1388105719492.1379717998065.9bc163894734c1f415a2c504e81dec91",
			Action: &runbook.Action{ActionID: "time_off_balance", BlockID: "request_timeoff", Value: "Check time off balance",
				MessageTS: "1600857119.015400"}}},
		// A select in a modal: no channel, no message, and no button value.
		{file: "block_actions_modal.json", want: runbook.Request{Kind: runbook.KindAction,
			ID: "dfb98ec6-45a8-4200-98af-7d05fb6fb44f", TeamID: "T12345678", UserID: "U12345678", UserName: "testxyz",
			TriggerID: "3701415066658.3485157640.72f11de3d52bb9593d6931af772a323e",
			Action:    &runbook.Action{ActionID: "a", BlockID: "block"}}},
		{file: "view_submission.json", want: runbook.Request{Kind: runbook.KindViewSubmission,
			ID: "corpus-view_submission", TeamID: "T111", UserID: "W111", UserName: "primary-owner", TriggerID: "111.222.valid",
			View: &runbook.ViewSubmission{ViewID: "V111", CallbackID: "view-id", PrivateMetadata: "This is for you!",
				Values: map[string]map[string]string{"hspI": {"maBWU": "test"}}}}},
		{file: "view_submission_dm_modal.json", want: runbook.Request{Kind: runbook.KindViewSubmission,
			ID: "corpus-view_submission_dm_modal", TeamID: "T01B5M3VC1X", UserID: "U01AZ88AQQ4", UserName: "phoebe.ngsyd",
			TriggerID: "1410876803872.1379717998065.6a115a24993a3a4faefd03f2d2a736c3",
			View: &runbook.ViewSubmission{ViewID: "V01BK6M75U4", CallbackID: "employee_id_modal",
				PrivateMetadata: `{"channel_id": "D01ACC2E8S3", "action_id": "time_off_policy"}`,
				Values:          map[string]map[string]string{"employee_id_modal_input": {"employee_id_value": "check callback"}}}}},
	}
}

// TestDecodeRealPayloads feeds every corpus file through the bot's decoder and checks
// the request handlers would see.
func TestDecodeRealPayloads(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	covered := map[string]bool{}
	for _, c := range corpusCases() {
		covered[c.file] = true
		name := strings.TrimSuffix(c.file, ".json")
		if c.edited {
			name += "/edited"
		}
		if c.pushpin {
			name += "/pushpin"
		}
		t.Run(name, func(t *testing.T) {
			env := readCorpusEnvelope(t, filepath.Join(corpusDir, c.file))
			if c.edited {
				env = editedOverlay(t, env)
			}
			if c.pushpin {
				env = pushpinOverlay(t, env)
			}
			got, err := decodeRequest(env, c.bot, now)
			if c.ignored {
				if !errors.Is(err, errIgnored) {
					t.Fatalf("decoded %+v, %v; want it dropped", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.ReceivedAt = now
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
	for _, f := range corpusFiles(t) {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s is in the corpus but not in corpusCases", filepath.Base(f))
		}
	}
}

// TestRealPayloadsNameTheirSource keeps SOURCES and the corpus in step: a line for
// every file, and no line for a file that is gone.
func TestRealPayloadsNameTheirSource(t *testing.T) {
	files := corpusFiles(t)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	for name := range corpusSources(t) {
		if !slices.Contains(names, name) {
			t.Errorf("SOURCES names %s, which is not in the corpus", name)
		}
	}
}
