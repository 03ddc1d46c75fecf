package main

import (
	"bytes"
	"context"
	"encoding/json"
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
