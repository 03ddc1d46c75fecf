package slackui

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runbookhq/runbook"
)

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// personalRef matches, once escaped, a mention of one user or a channel reference
// (<@U123>, <@U123|name>, <#C123|name>): the values incident.commander and
// incident.channel hold.
var personalRef = regexp.MustCompile(`&lt;([@#][UWC][A-Z0-9]{2,}(?:\|[^&<>|]*)?)&gt;`)

// Escape escapes text for Slack mrkdwn: only &, < and > (Slack shows any other entity,
// such as &#34;, literally). Escaped text can never become a mass mention like
// <!channel>, a group mention or a link; a mention of one user or a channel reference
// is kept, so that {{incident.commander}} notifies the commander.
func Escape(text string) string {
	escaped := mrkdwnEscaper.Replace(text)
	if !strings.Contains(escaped, "&lt;") {
		return escaped
	}
	return personalRef.ReplaceAllString(escaped, "<$1>")
}

var mrkdwnUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// Unescape turns text escaped for mrkdwn (Escape, or Slack's own encoding of what a
// person typed) back into the text it says.
func Unescape(text string) string {
	if !strings.Contains(text, "&") {
		return text
	}
	return mrkdwnUnescaper.Replace(text)
}

// Mention is Slack's mention of a user id ("<@U1>"), or "" for none. An API token
// acting (runbook.APIActor) is named as itself: "`ci` (API)".
func Mention(user string) string {
	if user == "" {
		return ""
	}
	if token, ok := runbook.APIActorName(user); ok {
		return "`" + Escape(token) + "` (API)"
	}
	return "<@" + user + ">"
}

// ChannelRef is Slack's link to a channel id ("<#C1>"), or "" for none.
func ChannelRef(channel string) string {
	if channel == "" {
		return ""
	}
	return "<#" + channel + ">"
}

// ConfiguredChannel shows a channel as the config names it: Slack's link for an id
// ("C1", "<#C1|ops>"), "#name" for a name, which only Slack can turn into an id.
func ConfiguredChannel(ref string) string {
	ref = strings.TrimSpace(ref)
	if inner, ok := strings.CutPrefix(ref, "<#"); ok {
		id, _, _ := strings.Cut(strings.TrimSuffix(inner, ">"), "|")
		ref = id
	}
	if runbook.LooksLikeID(ref, "CGD") {
		return ChannelRef(ref)
	}
	if ref == "" {
		return ""
	}
	return "#" + Escape(strings.TrimPrefix(ref, "#"))
}

// GroupMention is Slack's mention of a user group id ("<!subteam^S1>").
func GroupMention(group string) string { return "<!subteam^" + group + ">" }

// People lists users as mentions: "<@A>", "<@A> and <@B>", "<@A>, <@B> and <@C>".
func People(users []string) string {
	m := make([]string, len(users))
	for i, u := range users {
		m[i] = Mention(u)
	}
	switch len(m) {
	case 0:
		return ""
	case 1:
		return m[0]
	}
	return strings.Join(m[:len(m)-1], ", ") + " and " + m[len(m)-1]
}

// Truncate cuts s to at most n characters, the last of them "…" when it was cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Clock shows a time as people in several time zones read it: "15:02 UTC".
func Clock(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }

// Or returns s, or none when s is empty.
func Or(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// massMention matches every form of a mention that pages more than one person:
// <!here>, <!channel>, <!everyone> and user groups (<!subteam^S123>), each with or
// without a |label.
var massMention = regexp.MustCompile(`<!(here|channel|everyone|group)(?:\|[^>]*)?>|<!subteam\^[^|>]*(?:\|([^>]*))?>`)

// Neutralize turns the mass and group mentions in text someone asked the bot to post
// into plain words ("@here", "@oncall"), so that the bot never becomes a way to page a
// channel or a team; mentions of one person, channel links and links stay.
func Neutralize(text string) string {
	// A label may hide another mention (<!channel|<!here>>): replace until none is left.
	for massMention.MatchString(text) {
		text = massMention.ReplaceAllStringFunc(text, neutralWord)
	}
	return text
}

// neutralWord is the plain word for one mass or group mention.
func neutralWord(m string) string {
	sub := massMention.FindStringSubmatch(m)
	switch {
	case sub[1] != "":
		return "@" + sub[1]
	case strings.HasPrefix(sub[2], "@"):
		return sub[2]
	case sub[2] != "":
		return "@" + sub[2]
	}
	return "@group"
}

// Count says how many of something there are: "1 approval", "2 approvals".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// personalMention is a mention of one user or a channel link as Slack reads it
// (<@U123>, <#C123|name>): what Escape leaves working for people's text.
var personalMention = regexp.MustCompile(`<([@#][UWC][A-Z0-9]{2,})(?:\|[^<>]*)?>`)

// Inert takes the brackets off the mentions in text a machine sent — an API caller, an
// alert — so that it can page no one: "<@U123>" is shown as "@U123". It repeats until
// none is left, as taking one off can leave another: "<@U9|<@U1>>" is "<@U9|@U1>" after
// one pass. Mass mentions and links are escaped by Escape wherever text reaches Slack.
func Inert(text string) string {
	for {
		next := personalMention.ReplaceAllString(text, "$1")
		if next == text {
			return text
		}
		text = next
	}
}
