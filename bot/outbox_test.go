package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/bot"
	"github.com/runbookhq/runbook/slackfake"
)

// threadReplies are the bot's replies in a mention's thread.
func (r *rig) threadReplies(ts string) []slackfake.Message { return r.ws.BotReplies(r.channel.ID, ts) }

// A channel full of mentions is answered about once a second, as Slack allows; while
// those replies wait their turn, the one worker must be free to answer someone else at
// once — in the ack, before the channel's last reply is posted — and every mention
// still gets its reply, in order.
func TestBusyChannelDoesNotHoldTheWorkers(t *testing.T) {
	r := newRig(t, echo, bot.Options{Workers: 1})
	var mentions []*slackfake.Delivery
	for i := range 7 {
		mentions = append(mentions, r.slack.Mention(r.user.ID, r.channel.ID, fmt.Sprintf("m%d", i), ""))
	}
	r.wait("the first mention's reply", func() bool { return len(r.threadReplies(mentions[0].TS)) == 1 })

	other := r.ws.Channel("support", "alice")
	d := r.slack.SlashCommand(r.user.ID, other.ID, "/runbook", "quick")
	ack := r.ack(d)
	if got := ackText(t, ack); got != "you said quick" {
		t.Fatalf("while a channel's replies queue, a command elsewhere was answered %q", got)
	}
	if n := len(r.threadReplies(mentions[len(mentions)-1].TS)); n != 0 {
		t.Fatalf("a command elsewhere was answered only after the busy channel's last reply: the worker waited on its pacing")
	}

	r.wait("a reply to every mention", func() bool { return len(r.threadReplies(mentions[len(mentions)-1].TS)) == 1 })
	var order []string
	for _, m := range r.slack.Messages(r.channel.ID) {
		if m.BotID != "" {
			order = append(order, strings.TrimPrefix(m.Text, "you said "))
		}
	}
	if got := strings.Join(order, " "); got != "m0 m1 m2 m3 m4 m5 m6" {
		t.Fatalf("replies posted in the order %q", got)
	}
	for i, m := range mentions {
		if n := len(r.threadReplies(m.TS)); n != 1 {
			t.Errorf("mention %d has %d replies, want 1", i, n)
		}
	}
}

// A reply Slack would not take before the bot stopped is kept, and the next process
// posts it, once.
func TestReplyOwedAtStopIsSentByTheNextProcess(t *testing.T) {
	r := newRig(t, echo, bot.Options{ShutdownTimeout: 200 * time.Millisecond})
	r.slack.FailNext("chat.postMessage", 1000, http.StatusServiceUnavailable)
	d := r.slack.Mention(r.user.ID, r.channel.ID, "are you there", "")
	r.ack(d)
	r.wait("a try at the reply", func() bool { return r.slack.Calls("chat.postMessage") > 0 })
	r.stop()
	if n := len(r.threadReplies(d.TS)); n != 0 {
		t.Fatalf("%d replies while Slack refused them", n)
	}
	owed, err := r.db.Inbox().Undelivered(context.Background())
	if err != nil || len(owed) != 1 {
		t.Fatalf("owed replies after the stop = %d, %v; want the one", len(owed), err)
	}

	r.slack.FailNext("chat.postMessage", 0, 0)
	r.start(echo, bot.Options{})
	r.wait("the owed reply", func() bool { return len(r.threadReplies(d.TS)) > 0 })
	r.stop()
	if got := r.threadReplies(d.TS); len(got) != 1 || got[0].Text != "you said are you there" {
		t.Fatalf("thread after the restart = %+v; want the one reply", got)
	}
	if owed, _ := r.db.Inbox().Undelivered(context.Background()); len(owed) != 0 {
		t.Fatalf("%d replies still owed after delivery", len(owed))
	}
}

// A process that posted a reply and died before recording so leaves it owed: the next
// process finds it in the thread and does not post it again.
func TestOwedReplyAlreadyInTheThreadIsNotPostedTwice(t *testing.T) {
	r := newRig(t, echo, bot.Options{})
	d := r.slack.Mention(r.user.ID, r.channel.ID, "once", "")
	r.wait("the reply", func() bool { return len(r.threadReplies(d.TS)) == 1 })
	r.stop()

	// As the dead process would have left it: handled, with the reply still owed.
	ctx := context.Background()
	id := eventID(t, d)
	prior, err := r.db.Inbox().Claim(ctx, runbook.Envelope{ID: id, Type: "events_api", Payload: []byte("{}")})
	if err != nil || prior == nil {
		t.Fatalf("the mention is not in the inbox as %s: %v", id, err)
	}
	owed := fmt.Appendf(nil, `{"kind":"mention","channel":%q,"thread_ts":%q,"text":"you said once"}`, r.channel.ID, d.TS)
	if err := r.db.Inbox().Complete(ctx, id, nil, owed); err != nil {
		t.Fatal(err)
	}

	r.start(echo, bot.Options{})
	r.wait("the owed reply to be settled", func() bool {
		left, _ := r.db.Inbox().Undelivered(ctx)
		return len(left) == 0
	})
	if n := len(r.threadReplies(d.TS)); n != 1 {
		t.Fatalf("%d replies in the thread, want 1", n)
	}
}

// A slash command that arrives as the bot stops is still handled: Slack never sends a
// slash command again, so leaving it unacked would show the person dispatch_failed.
func TestCommandQueuedAtShutdownIsAnswered(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	seen := &counter{envelopes: make(chan struct{}, 2)}
	r := newRig(t, func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		if req.Text == "hold" {
			entered <- struct{}{}
			<-release
		}
		return echo(ctx, req)
	}, bot.Options{Workers: 1, ShutdownTimeout: 10 * time.Second, Observer: seen})
	first := r.slash("hold")
	r.await("the first command to be taken", entered)
	queued := r.slash("queued")
	r.await("the bot to take the first command", seen.envelopes)
	r.await("the bot to take the second command", seen.envelopes)
	r.cancel()
	r.cancel = nil
	close(release)
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	for _, d := range []*slackfake.Delivery{first, queued} {
		ack := r.ack(d)
		if got := ackText(t, ack); !strings.HasPrefix(got, "you said") {
			t.Errorf("a command taken before the stop was answered %q", got)
		}
	}
}

// eventID is the event id of a delivered event, the id the bot records it under.
func eventID(t *testing.T, d *slackfake.Delivery) string {
	t.Helper()
	var p struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil || p.EventID == "" {
		t.Fatalf("no event id in %s: %v", d.Payload, err)
	}
	return p.EventID
}

// counter is an Observer that signals each envelope the bot takes, and keeps the
// reasons of undelivered replies.
type counter struct {
	envelopes   chan struct{}
	mu          sync.Mutex
	undelivered []string
}

func (c *counter) ReplyUndelivered(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.undelivered = append(c.undelivered, reason)
}

func (c *counter) HTTPRefused(string) {}

func (c *counter) reasons() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.undelivered)
}

func (c *counter) Envelope(string) {
	select {
	case c.envelopes <- struct{}{}:
	default: // more than the test waits for
	}
}
func (c *counter) Acked(time.Duration) {}
func (c *counter) HandlerError(string) {}
func (c *counter) Reconnected()        {}

// slowEcho answers like echo once release is closed, so that the answer misses the
// ack and goes through the outbox.
func slowEcho(release <-chan struct{}) runbook.HandlerFunc {
	return func(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
		<-release
		return echo(ctx, req)
	}
}

// texts are the texts of messages.
func texts(msgs []slackfake.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

// A slow answer whose response_url has expired reaches the person as an ephemeral
// message in the channel, once.
func TestAnswerAfterTheResponseURLExpiredIsSentPrivately(t *testing.T) {
	release := make(chan struct{})
	r := newRigOn(t, slackfake.Options{AckTimeout: time.Second, ResponseURLTTL: time.Millisecond},
		slowEcho(release), bot.Options{AckBudget: 20 * time.Millisecond})
	d := r.slash("late")
	r.ack(d)
	time.Sleep(5 * time.Millisecond) // the URL's whole life in this emulator
	close(release)
	r.wait("the answer", func() bool {
		return slices.Contains(texts(r.slack.Ephemerals(r.channel.ID, r.user.ID)), "you said late")
	})
	r.stop()
	if got := texts(r.slack.Ephemerals(r.channel.ID, r.user.ID)); len(got) != 1 {
		t.Fatalf("ephemerals %q, want the answer once", got)
	}
	var tried bool
	for _, c := range r.slack.APICalls() {
		tried = tried || c.Method == "response_url" && c.Error == "expired_url"
	}
	if !tried {
		t.Fatalf("the response_url was not tried: the test tests nothing")
	}
}

// When the response_url's five uses are spent and Slack will not show an ephemeral
// message in the channel, the answer comes as a DM.
func TestAnswerThroughASpentResponseURLComesAsADM(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, slowEcho(release), bot.Options{AckBudget: 20 * time.Millisecond})
	// The person asks from a channel they are not in, so an ephemeral message there
	// cannot reach them.
	elsewhere := r.ws.Channel("elsewhere")
	d := r.slack.SlashCommand(r.user.ID, elsewhere.ID, "/runbook", "spent")
	r.ack(d)
	for i := range 5 { // someone else used the URL up
		resp, err := http.Post(d.ResponseURL, "application/json", strings.NewReader(fmt.Sprintf(`{"text":"use %d"}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	close(release)
	dm := func() []string {
		for _, c := range r.slack.Channels() {
			if c.IM {
				return texts(r.slack.Messages(c.ID))
			}
		}
		return nil
	}
	r.wait("the answer in a DM", func() bool { return slices.Contains(dm(), "you said spent") })
	r.stop()
	if got := dm(); len(got) != 1 {
		t.Fatalf("DM holds %q, want the answer once", got)
	}
}

// A reply Slack refuses for good (the channel was archived) is counted once with its
// reason, logged, and not tried again.
func TestRefusedReplyIsCountedOnce(t *testing.T) {
	release := make(chan struct{})
	seen := &counter{envelopes: make(chan struct{}, 10)}
	r := newRig(t, slowEcho(release), bot.Options{Observer: seen})
	d := r.slack.Mention(r.user.ID, r.channel.ID, "archived", "")
	r.ack(d)
	api := slack.New(r.slack.BotToken(), slack.OptionAPIURL(r.slack.APIURL()))
	if err := api.ArchiveConversation(r.channel.ID); err != nil {
		t.Fatal(err)
	}
	close(release)
	r.wait("the reply to be given up", func() bool {
		left, _ := r.db.Inbox().Undelivered(context.Background())
		return len(seen.reasons()) > 0 && len(left) == 0
	})
	r.stop()
	if got := seen.reasons(); !slices.Equal(got, []string{"is_archived"}) {
		t.Fatalf("undelivered reasons %q, want [is_archived]", got)
	}
}
