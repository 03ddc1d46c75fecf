package slackui_test

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a & b < c > d", "a &amp; b &lt; c &gt; d"},
		{"<!channel> <!here|here> <!everyone>", "&lt;!channel&gt; &lt;!here|here&gt; &lt;!everyone&gt;"},
		{"<!subteam^S123|@oncall>", "&lt;!subteam^S123|@oncall&gt;"},
		{"<https://evil.example|click me>", "&lt;https://evil.example|click me&gt;"},
		{"commander <@U123>", "commander <@U123>"},
		{"in <#C456|ops>", "in <#C456|ops>"},
		{"<@U123|bob> and <@W99>", "<@U123|bob> and <@W99>"},
		{"&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"},
	} {
		if got := slackui.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzEscape holds Escape to its promise for any text a person or a runbook can put in
// front of it: nothing escaped can mention a group or everyone, or become a link.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"<!channel>", "<@U1>", "<#C1|x>", "<!subteam^S1>", "<http://x|y>", "&lt;", "<@U1|<!here>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := slackui.Escape(s)
		for _, bad := range []string{"<!", "<http", "<mailto", "<tel"} {
			if strings.Contains(out, bad) {
				t.Fatalf("Escape(%q) = %q holds %q", s, out, bad)
			}
		}
		// Whatever is left between < and > is one person's or one channel's reference.
		for rest := out; ; {
			i := strings.IndexByte(rest, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '>')
			if j < 0 || !(strings.HasPrefix(rest[i+1:], "@") || strings.HasPrefix(rest[i+1:], "#")) {
				t.Fatalf("Escape(%q) = %q leaves %q", s, out, rest[i:])
			}
			rest = rest[i+j:]
		}
	})
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a bit too long", 10, "a bit too…"},
		{"ééééé", 3, "éé…"},
	} {
		got := slackui.Truncate(tc.in, tc.n)
		if got != tc.want || utf8.RuneCountInString(got) > tc.n {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestPeople(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"U1"}, "<@U1>"},
		{[]string{"U1", "U2"}, "<@U1> and <@U2>"},
		{[]string{"U1", "U2", "U3"}, "<@U1>, <@U2> and <@U3>"},
	} {
		if got := slackui.People(tc.in); got != tc.want {
			t.Errorf("People(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The incident channel's topic fits Slack's 250 characters however long the title.
func TestTopic(t *testing.T) {
	inc := &runbook.Incident{ID: 7, Severity: "sev1", Status: "investigating", Commander: "U1", Title: strings.Repeat("x", 400)}
	got := slackui.Topic(inc)
	if n := utf8.RuneCountInString(got); n != 250 || !strings.HasPrefix(got, "SEV1 | investigating | Commander: <@U1> | INC-7 x") || !strings.HasSuffix(got, "…") {
		t.Fatalf("topic (%d characters) = %q", n, got)
	}
}

// Custom fields follow the incident in the topic, each cut to 40 characters; one that
// would take the topic past 250 characters is left out whole.
func TestTopicFields(t *testing.T) {
	specs := []runbook.FieldSpec{{Name: "region", Type: runbook.FieldEnum, Values: []string{"eu"}},
		{Name: "lead", Type: runbook.FieldUser}, {Name: "customer", Type: runbook.FieldString}, {Name: "ticket", Type: runbook.FieldURL}}
	inc := &runbook.Incident{ID: 7, Severity: "sev1", Status: "investigating", Commander: "U1", Title: "Card declines",
		Fields: map[string]string{"region": "eu", "lead": "U2", "customer": "<!channel> " + strings.Repeat("c", 60)}}
	got := slackui.Topic(inc, specs...)
	want := "SEV1 | investigating | Commander: <@U1> | INC-7 Card declines | Region: eu | Lead: <@U2> | Customer: @channel " + strings.Repeat("c", 30) + "…"
	if got != want {
		t.Errorf("topic = %q\nwant    %q", got, want)
	}
	inc.Title = strings.Repeat("t", 150)
	got = slackui.Topic(inc, specs...)
	if n := utf8.RuneCountInString(got); n > 250 || !strings.HasSuffix(got, " | Lead: <@U2>") {
		t.Errorf("topic (%d characters) = %q; want the fields that fit, whole", n, got)
	}
}

// TestAnnouncement renders the announcement of an open and a resolved incident and
// compares them with the golden files under testdata/.
func TestAnnouncement(t *testing.T) {
	at := time.Date(2026, 3, 1, 14, 32, 0, 0, time.UTC)
	inc := &runbook.Incident{ID: 4, Title: "Checkout <!here> is down", Severity: "sev1", Status: "investigating",
		Service: "checkout", Commander: "UALICE", Channel: "CINC", CreatedBy: "UALICE", CreatedAt: at}
	msg := slackui.Announcement(inc)
	golden(t, "announcement_open.json", map[string]any{"text": msg.Text, "blocks": msg.Blocks})
	inc.Status, inc.ResolvedAt = "resolved", at.Add(time.Hour)
	msg = slackui.Announcement(inc)
	golden(t, "announcement_resolved.json", map[string]any{"text": msg.Text, "blocks": msg.Blocks})
}

// Text the bot posts for someone can never page a channel or a group, in any of the
// forms Slack accepts.
func TestNeutralize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"deploy paused <!here>", "deploy paused @here"},
		{"<!channel> <!everyone> <!group>", "@channel @everyone @group"},
		{"<!here|here> <!channel|channel> <!everyone|everyone>", "@here @channel @everyone"},
		{"ping <!subteam^S0123ABC>", "ping @group"},
		{"ping <!subteam^S0123ABC|@oncall>", "ping @oncall"},
		{"ping <!subteam^S0123ABC|oncall>", "ping @oncall"},
		{"ask <@U123> in <#C456|ops>, see <https://status.example|status>", "ask <@U123> in <#C456|ops>, see <https://status.example|status>"},
		{"at <!date^1700000000^{time}|12:00>", "at <!date^1700000000^{time}|12:00>"},
	} {
		if got := slackui.Neutralize(tc.in); got != tc.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// pager is the start of anything Slack reads as a mass or group mention.
var pager = regexp.MustCompile(`<!(here|channel|everyone|group)(\|[^>]*)?>|<!subteam\^[^>]*>`)

func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{"<!here>", "<!subteam^S1|@x>", "<!channel|<!here>>", "<<!here>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := slackui.Neutralize(s)
		if m := pager.FindString(out); m != "" {
			t.Fatalf("Neutralize(%q) = %q still pages with %q", s, out, m)
		}
	})
}

func TestTimelineText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<@U123> is now comms", "<@U123> is now comms"},
		{"<@U123|the CEO> said so in <#C123|general>", "<@U123> said so in <#C123>"},
		{"<!channel> <!subteam^S1|@oncall> a < b & c", "@channel @oncall a &lt; b &amp; c"},
		{"<@U123|<!here>>", "<@U123>"},
		{"<http://evil|click>", "&lt;http://evil|click&gt;"},
	} {
		if got := slackui.TimelineText(tc.in); got != tc.want {
			t.Errorf("TimelineText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestInertLeavesNoMention: nothing in machine text pages anyone, however the mentions
// nest — taking the brackets off one must not leave another whole.
func TestInertLeavesNoMention(t *testing.T) {
	for in, want := range map[string]string{
		"<@U123>":             "@U123",
		"<@U999|<@U123>>":     "@U999",
		"<@U999|x<#C123>>":    "@U999",
		"<<@U12>@U34>":        "<@U12@U34>",
		"ping <#C12|ops> now": "ping #C12 now",
		"<!channel>":          "<!channel>", // Escape's to take care of
	} {
		got := slackui.Inert(in)
		if got != want {
			t.Errorf("Inert(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(slackui.Escape(got), "<@") || strings.Contains(slackui.Escape(got), "<#") {
			t.Errorf("Escape(Inert(%q)) = %q still mentions", in, slackui.Escape(got))
		}
	}
}

// TestConfiguredChannel: a channel as the config names it is shown as Slack's link
// when it is an id, and as its escaped name otherwise, so that a name cannot become
// markup (a mention of everyone, a link).
func TestConfiguredChannel(t *testing.T) {
	for in, want := range map[string]string{
		"C0123ABC":           "<#C0123ABC>",
		"<#C0123ABC|ops>":    "<#C0123ABC>",
		"#incidents":         "#incidents",
		"incidents":          "#incidents",
		" #ops ":             "#ops",
		"":                   "",
		"#x<!channel>":       "#x&lt;!channel&gt;",
		"<https://evil|ops>": "#&lt;https://evil|ops&gt;",
	} {
		if got := slackui.ConfiguredChannel(in); got != want {
			t.Errorf("ConfiguredChannel(%q) = %q, want %q", in, got, want)
		}
	}
}
