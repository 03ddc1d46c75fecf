package store_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/runbookhq/runbook"
)

// BenchmarkInboxClaimComplete is the store's share of every envelope: recorded when it
// arrives, marked done with its reply when handled (two write transactions).
func BenchmarkInboxClaimComplete(b *testing.B) {
	db := MustOpen(b)
	inbox := db.Inbox()
	ctx := context.Background()
	payload := []byte(`{"team_id":"T1","channel_id":"C1","user_id":"U1","command":"/runbook","text":"status INC-1"}`)
	reply := []byte(`{"response_type":"ephemeral","text":"INC-1 checkout errors"}`)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("env-%d", i)
		prior, err := inbox.Claim(ctx, runbook.Envelope{ID: id, Type: "slash_commands", Payload: payload})
		if err != nil || prior != nil {
			b.Fatalf("claim: %v %v", prior, err)
		}
		if err := inbox.Complete(ctx, id, reply, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInboxClaimCompleteParallel is the same from 8 goroutines at once, as the
// bot's workers write under a burst: their writes share transactions (group commit).
func BenchmarkInboxClaimCompleteParallel(b *testing.B) {
	db := MustOpen(b)
	inbox := db.Inbox()
	ctx := context.Background()
	payload := []byte(`{"team_id":"T1","channel_id":"C1","user_id":"U1","command":"/runbook","text":"status INC-1"}`)
	reply := []byte(`{"response_type":"ephemeral","text":"INC-1 checkout errors"}`)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8 / max(runtime.GOMAXPROCS(0), 1))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("env-%d", next.Add(1))
			prior, err := inbox.Claim(ctx, runbook.Envelope{ID: id, Type: "slash_commands", Payload: payload})
			if err != nil || prior != nil {
				b.Errorf("claim: %v %v", prior, err)
				return
			}
			if err := inbox.Complete(ctx, id, reply, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkInboxClaimRedelivery is a redelivery: the claim finds the envelope handled.
func BenchmarkInboxClaimRedelivery(b *testing.B) {
	db := MustOpen(b)
	inbox := db.Inbox()
	ctx := context.Background()
	env := runbook.Envelope{ID: "env-1", Type: "events_api", Payload: []byte(`{}`)}
	if _, err := inbox.Claim(ctx, env); err != nil {
		b.Fatal(err)
	}
	if err := inbox.Complete(ctx, env.ID, nil, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		prior, err := inbox.Claim(ctx, env)
		if err != nil || prior == nil || !prior.Done {
			b.Fatalf("claim of a handled envelope: %v %v", prior, err)
		}
	}
}

func BenchmarkCreateIncident(b *testing.B) {
	db := MustOpen(b)
	incidents := db.Incidents()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		inc := &runbook.Incident{Title: "Checkout errors after the deploy", Severity: "sev2", Status: "detected",
			Service: "payments", CreatedBy: "U1"}
		if err := incidents.CreateIncident(ctx, inc); err != nil {
			b.Fatal(err)
		}
	}
}
