package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"strings"
	"testing"
	"time"
)

// Incidents declared at once each get their channel with every message in it, and
// Slack is asked for nothing a kickoff does not need: one conversations.create,
// setTopic and invite per channel and one chat.postMessage per message — no
// chat.getPermalink, no look-back, no 429 answered and tried again. There are more
// incidents than conversations.create's burst, so the tier's pace is crossed.
func TestKickoffMakesOneCallPerChannelAndMessage(t *testing.T) {
	const incidents, messages = 8, 3
	k := kickoff{incidents: incidents, messages: messages, speed: 10, wait: 2 * time.Minute, logLevel: "warn"}
	rep, err := k.run(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Declared != incidents || rep.Finished != incidents {
		t.Fatalf("%d declared and %d kickoffs succeeded (runs: %v); want %d of each", rep.Declared, rep.Finished, rep.Runs, incidents)
	}
	if len(rep.ChannelMessages) != incidents {
		t.Fatalf("%d channels created: %v; want %d", len(rep.ChannelMessages), rep.ChannelMessages, incidents)
	}
	for name, n := range rep.ChannelMessages {
		if n != messages {
			t.Errorf("#%s has %d of the bot's messages; want %d", name, n, messages)
		}
	}
	want := map[string]int{
		"conversations.create":   incidents,
		"conversations.setTopic": incidents,
		"conversations.invite":   incidents,
		"chat.postMessage":       incidents * messages,
	}
	if !maps.Equal(rep.Calls, want) {
		t.Errorf("Web API calls = %v (429s: %v); want exactly %v", rep.Calls, rep.Limited, want)
	}
	// The emulator held the bot to tier 2: the last channel cannot have come sooner.
	if bound := kickoffBound(incidents, messages, tier2Burst, channelBurst); rep.LastCreate < bound {
		t.Errorf("the last channel was created %.1f s after the declarations; Slack's tier 2 allows no sooner than %.1f s", rep.LastCreate, bound)
	}
}

// The bound is conversations.create's pace after its burst, then the last channel's
// messages beyond the per-channel burst.
func TestKickoffBound(t *testing.T) {
	for _, c := range []struct {
		n, m, b2, bc int
		want         float64
	}{
		{100, 3, 5, 3, 285}, // 95 creates at 3 s, the 3 messages in one burst
		{100, 3, 1, 1, 299}, // no burst: 99 creates at 3 s, then 2 messages at 1 s
		{3, 5, 5, 3, 2},
	} {
		if got := kickoffBound(c.n, c.m, c.b2, c.bc); got != c.want {
			t.Errorf("kickoffBound(%d, %d, %d, %d) = %v; want %v", c.n, c.m, c.b2, c.bc, got, c.want)
		}
	}
}

// Flags out of range end in one sentence naming the flag and exit code 2, before
// anything starts: a huge --incidents or a zero --speed would otherwise run for hours.
func TestKickoffRefusesFlagsOutOfRange(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--incidents", "0"}, "--incidents must be between 1 and 1000"},
		{[]string{"--incidents", "1000000"}, "--incidents must be between 1 and 1000"},
		{[]string{"--messages", "-1"}, "--messages must be between 1 and 50"},
		{[]string{"--speed", "0"}, "--speed must be between 1 and 600"},
		{[]string{"--speed", "NaN"}, "--speed must be between 1 and 600"},
		{[]string{"--speed", "+Inf"}, "--speed must be between 1 and 600"},
		{[]string{"--wait", "-1s"}, "--wait must be between 0 and 2h"},
		{[]string{"now"}, `unexpected argument "now"`},
	} {
		var out, errs bytes.Buffer
		code := run(context.Background(), append([]string{"kickoff"}, c.args...), &out, &errs)
		if code != 2 || !strings.Contains(errs.String(), "loadgen kickoff: "+c.want) || out.Len() > 0 {
			t.Errorf("kickoff %v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs.String(), c.want)
		}
	}
}
