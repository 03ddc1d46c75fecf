package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseMix(t *testing.T) {
	m, err := parseMix("status=3, mention=1,click=0,declare=2")
	if err != nil {
		t.Fatal(err)
	}
	if m[kindStatus] != 3 || m[kindMention] != 1 || m[kindClick] != 0 || m[kindDeclare] != 2 {
		t.Fatalf("mix = %v", m)
	}
	for _, bad := range []string{"", "status=0", "stauts=1", "status", "status=-1", "status=x"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted it", bad)
		}
	}
}

func TestSequenceFollowsTheWeights(t *testing.T) {
	m, _ := parseMix("status=3,mention=1")
	s := newSequence(m)
	got := map[string]int{}
	var order []string
	for range 8 {
		k := s.next()
		got[k]++
		order = append(order, k)
	}
	if got[kindStatus] != 6 || got[kindMention] != 2 {
		t.Fatalf("8 picks = %v (%v), want 6 status and 2 mentions", got, order)
	}
	if n := newSequence(m).count(8, kindMention); n != 2 {
		t.Fatalf("count = %d, want 2", n)
	}
	// Spread out: never two mentions in a row.
	for i := 1; i < len(order); i++ {
		if order[i] == kindMention && order[i-1] == kindMention {
			t.Fatalf("mentions clumped: %v", order)
		}
	}
}

func TestFlagsAreBounded(t *testing.T) {
	for _, args := range [][]string{
		{"--rate", "10", "--burst", "10"},
		{"--rate", "-1"},
		{"--rate", "100000"},
		{"--burst", "1000000"},
		{"--runbook", "other"},
		{"--wait", "0s"},
		{"extra"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted it", args)
		}
	}
}

// TestShortRunInProcess drives the in-process bot with every kind of envelope and
// checks the report adds up.
func TestShortRunInProcess(t *testing.T) {
	var out, progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	args := []string{"--rate", "40", "--duration", "1s", "--mix", "status=1,mention=1,click=1,declare=1",
		"--idle", "100ms", "--wait", "20s", "--channels", "10", "--json"}
	if code := run(ctx, args, &out, &progress); code != 0 {
		t.Fatalf("exit code %d\n%s", code, progress.String())
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if r.Sent != 40 || r.Acked != 40 || r.NotAcked != 0 {
		t.Fatalf("sent %d, acked %d, not acked %d; want 40 acked\n%s", r.Sent, r.Acked, r.NotAcked, out.String())
	}
	for _, k := range []string{kindStatus, kindMention, kindClick, kindDeclare} {
		if r.Kinds[k] == nil || r.Kinds[k].Sent != 10 {
			t.Fatalf("kind %s: %+v, want 10 sent", k, r.Kinds[k])
		}
	}
	if r.Errors != 0 {
		t.Errorf("errors: %d %v", r.Errors, r.ErrorSamples)
	}
	if r.Ack == nil || r.Ack.N != 40 || r.Ack.P50 <= 0 || r.Ack.Max < r.Ack.P99 {
		t.Errorf("ack stats = %+v", r.Ack)
	}
	if r.Kinds[kindMention].E2E == nil || r.Kinds[kindClick].E2E == nil {
		t.Errorf("no end-to-end figures for mentions and clicks: %+v %+v", r.Kinds[kindMention], r.Kinds[kindClick])
	}
	if r.Runs["succeeded"] != 10 || r.AllRunsSucceeded <= 0 {
		t.Errorf("runs = %v, all succeeded after %v ms; want the 10 declared runs succeeded", r.Runs, r.AllRunsSucceeded)
	}
	if !strings.Contains(r.Memory.What, "in-process") || r.Memory.PeakMB <= 0 {
		t.Errorf("memory = %+v", r.Memory)
	}
}

func TestBurstFlags(t *testing.T) {
	bo, err := parseBurstFlags([]string{"--compare", "--rounds", "2", "--kind", "mention"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(bo.peers, ",") != "bare,bare-answer,runbook,bolt" || bo.rounds != 2 || bo.kind != kindMention {
		t.Fatalf("--compare --rounds 2 --kind mention = %+v", bo)
	}
	bo, err = parseBurstFlags([]string{"--peer", "runbook, bare,runbook"}, io.Discard)
	if err != nil || strings.Join(bo.peers, ",") != "runbook,bare" {
		t.Fatalf("--peer runbook, bare,runbook = %v, %v; want runbook,bare in that order", bo.peers, err)
	}
	for _, bad := range [][]string{
		{"--peer", "slack"}, {"--peer", ""}, {"--kind", "declare"}, {"--rounds", "0"}, {"--rounds", "21"},
		{"--n", "0"}, {"--n", "100001"}, {"--warmup", "-1"}, {"--burst-window", "-1"},
		{"--connections", "11"}, {"--wait", "0s"}, {"extra"},
	} {
		if _, err := parseBurstFlags(bad, io.Discard); err == nil {
			t.Errorf("parseBurstFlags(%q) accepted it", bad)
		}
	}
}

// The burst report's ratios are each peer's figure over the bare loop's in the same
// round, not over an average, so that a round the machine slowed compares like with
// like.
func TestBurstRatiosAreToTheSameRound(t *testing.T) {
	res := []burstResult{
		{Peer: peerBare, Round: 1, Ack: &stats{P50: 10, P99: 20}},
		{Peer: peerRunbook, Round: 1, Ack: &stats{P50: 15, P99: 30}},
		{Peer: peerBare, Round: 2, Ack: &stats{P50: 40, P99: 80}},
		{Peer: peerRunbook, Round: 2, Ack: &stats{P50: 40, P99: 100}},
	}
	r := newBurstReport(burstOptions{peers: []string{peerBare, peerRunbook}, rounds: 2}, res)
	got := r.Peers[peerRunbook]
	if fmt.Sprint(got.P99Ratio) != "[1.5 1.25]" || fmt.Sprint(got.P50Ratio) != "[1.5 1]" {
		t.Fatalf("ratios p50 %v p99 %v; want [1.5 1] and [1.5 1.25]", got.P50Ratio, got.P99Ratio)
	}
	var out bytes.Buffer
	if err := r.writeText(&out); err != nil || !strings.Contains(out.String(), "1.50, 1.25") {
		t.Fatalf("report:\n%s (%v)", out.String(), err)
	}
}

// TestBurstComparesPeersInOneRun sends a small burst to the bare loop, the bare loop
// that answers, and Runbook, all in this process, and checks that every envelope of
// each was acked, none of them answered busy, the answering loop acked with as many
// bytes as Runbook, and Runbook's figure is set against both loops'.
func TestBurstComparesPeersInOneRun(t *testing.T) {
	var out, progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	args := []string{"burst", "--peer", "bare,bare-answer,runbook", "--rounds", "1", "--n", "30", "--warmup", "5", "--json"}
	if code := run(ctx, args, &out, &progress); code != 0 {
		t.Fatalf("exit code %d\n%s", code, progress.String())
	}
	var r burstReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if len(r.Rounds) != 3 {
		t.Fatalf("%d results, want one per peer:\n%s", len(r.Rounds), out.String())
	}
	for _, res := range r.Rounds {
		if res.Sent != 30 || res.Acked != 30 || res.Warnings != 0 || res.Ack == nil {
			t.Errorf("%s: %+v; want 30 sent and acked, none busy", res.Peer, res)
		}
	}
	if s := r.Peers[peerRunbook]; s == nil || len(s.P99Ratio) != 1 || s.P99Ratio[0] <= 0 || len(s.P99OverAnswer) != 1 || s.P99OverAnswer[0] <= 0 {
		t.Errorf("Runbook's ratios to the bare loops: %+v", s)
	}
	bytes := map[string]int{}
	for _, res := range r.Rounds {
		bytes[res.Peer] = res.AckBytes
	}
	if bytes[peerBare] != 0 || bytes[peerRunbook] < 1000 || bytes[peerAnswer] != bytes[peerRunbook] {
		t.Errorf("ack bytes %v; want none from the bare loop and Runbook's answer from the answering one", bytes)
	}
}
