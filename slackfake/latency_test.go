package slackfake

import (
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// TestLatencyHoldsTheAnswerNotTheEffect: with latency set, a post is in the channel at
// once while its answer is still on its way; closing the server lets it go.
func TestLatencyHoldsTheAnswerNotTheEffect(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := srv.AddChannel("slow")
	srv.SetLatency(time.Hour)
	answered := make(chan error, 1)
	go func() {
		_, _, err := newAPI(srv).PostMessage(ch.ID, slack.MsgOptionText("slow", false))
		answered <- err
	}()
	if err := srv.Wait(testCtx(t), func() bool { return len(srv.Messages(ch.ID)) == 1 }); err != nil {
		t.Fatalf("the post never reached the channel: %v", err)
	}
	// A call made after the latency is lifted comes back first: the held answer is
	// still on its way once this one is in.
	srv.SetLatency(0)
	if _, _, err := newAPI(srv).PostMessage(ch.ID, slack.MsgOptionText("fast", false)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-answered:
		t.Fatalf("the post was answered (%v) before the latency passed", err)
	default:
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	<-answered
}
