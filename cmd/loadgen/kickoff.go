package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackfake"
)

// kickoff is `loadgen kickoff`: many incidents declared at once, each running a kickoff
// runbook that creates a channel and posts messages in it, with Slack's published rate
// limits enforced by the emulator. It reports how long Slack's limits let the whole
// kickoff take at best (the bound), how long it took, and the Web API calls it cost.
type kickoff struct {
	incidents int
	messages  int
	// speed is how much faster than the wall clock the rate limits' clock runs, in
	// the emulator and in the bot's adapter alike: Slack's per-minute budgets are
	// spent in seconds, and every figure is in that clock's time.
	speed    float64
	wait     time.Duration
	json     bool
	logLevel string
	botLog   string
}

func parseKickoff(args []string, stderr io.Writer) (kickoff, error) {
	fs := flag.NewFlagSet("loadgen kickoff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	k := kickoff{}
	fs.IntVar(&k.incidents, "incidents", 100, "incidents declared at once")
	fs.IntVar(&k.messages, "messages", 3, "messages each kickoff posts in its new channel")
	fs.Float64Var(&k.speed, "speed", 30, "run Slack's rate limits (the emulator's and the bot's) on a clock this many times faster than the wall clock; 1 is real time")
	fs.DurationVar(&k.wait, "wait", 10*time.Minute, "how long (wall clock) to wait for every kickoff to end")
	fs.BoolVar(&k.json, "json", false, "print the report as JSON")
	fs.StringVar(&k.logLevel, "log-level", "warn", "the bot's log.level")
	fs.StringVar(&k.botLog, "bot-log", "", "write the bot's log to this file (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return k, err
	}
	switch {
	case fs.NArg() > 0:
		return k, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case k.incidents < 1 || k.incidents > 1000:
		return k, errors.New("--incidents must be between 1 and 1000")
	case k.messages < 1 || k.messages > 50:
		return k, errors.New("--messages must be between 1 and 50")
	case !(k.speed >= 1 && k.speed <= 600):
		return k, errors.New("--speed must be between 1 and 600")
	case k.wait <= 0 || k.wait > 2*time.Hour:
		return k, errors.New("--wait must be between 0 and 2h")
	}
	return k, nil
}

func runKickoffCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	k, err := parseKickoff(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen kickoff:", err)
		return 2
	}
	rep, err := k.run(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen kickoff:", err)
		return 1
	}
	if err := printReport(stdout, k.json, rep); err != nil {
		fmt.Fprintln(stderr, "loadgen kickoff:", err)
		return 1
	}
	if rep.Finished < k.incidents {
		return 1
	}
	return 0
}

// kickoffRunbook is a kickoff shaped like runbooks/examples/sev1-kickoff.yaml: a
// channel with a topic and the commander invited, then the messages, the second and
// later ones in the first one's thread.
func kickoffRunbook(messages int) string {
	var b strings.Builder
	b.WriteString(`name: lg-kickoff
description: loadgen — every declared incident gets a channel and messages in it
on:
  - event: incident.declared
steps:
  - id: channel
    action: slack.create_channel
    with:
      name: "lg-inc-{{incident.number}}"
      topic: "{{incident.severity}} | {{incident.title}}"
      invite: [commander]
`)
	for i := 1; i <= messages; i++ {
		fmt.Fprintf(&b, "  - id: m%d\n    action: slack.send_message\n    with:\n      channel: \"{{steps.channel.id}}\"\n", i)
		if i > 1 {
			b.WriteString("      thread: m1\n")
		}
		fmt.Fprintf(&b, "      text: \"loadgen {{incident.id}}: message %d of %d\"\n", i, messages)
	}
	return b.String()
}

// scaledClock runs speed times faster than the wall clock from the moment it is made.
// A clock that jumps to each sleeper's end instead would add up concurrent waits: 100
// runs each waiting their turn for conversations.create would move it 100 times.
type scaledClock struct {
	start time.Time
	speed float64
}

func (c scaledClock) Now() time.Time { return c.at(time.Now()) }

// at is the clock's time at a wall-clock time.
func (c scaledClock) at(wall time.Time) time.Time {
	return c.start.Add(c.scale(wall.Sub(c.start)))
}

func (c scaledClock) scale(wall time.Duration) time.Duration {
	return time.Duration(float64(wall) * c.speed)
}

func (c scaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return runbook.Sleep(ctx, time.Duration(float64(d)/c.speed))
}

// kickoffReport is what a kickoff run measured; durations are in the rate limits'
// clock (scaled back from the wall clock), in seconds.
type kickoffReport struct {
	Incidents int     `json:"incidents"`
	Messages  int     `json:"messages_per_kickoff"`
	Speed     float64 `json:"speed"`
	Declared  int     `json:"declared"` // declarations Slack got an ack for naming an incident
	Finished  int     `json:"finished"` // kickoff runs that succeeded
	// Runs counts the kickoff runs by state.
	Runs map[string]int `json:"runs"`
	// Elapsed is from the first declaration sent to the last kickoff run's end.
	Elapsed float64 `json:"elapsed_s"`
	// Bound is the least time Slack's published limits allow (kickoffBound).
	Bound float64 `json:"bound_s"`
	// BoundNoBurst is the bound if Slack allowed no burst at all.
	BoundNoBurst float64 `json:"bound_no_burst_s"`
	Ratio        float64 `json:"ratio"` // Elapsed / Bound
	// FirstCreate and LastCreate are when the first and last conversations.create
	// were answered, after the first declaration.
	FirstCreate float64 `json:"first_create_s"`
	LastCreate  float64 `json:"last_create_s"`
	// Calls counts the Web API calls made during the load, by method.
	Calls map[string]int `json:"calls"`
	// Limited counts the calls Slack answered 429, by method, and LimitedAt says
	// when they were made.
	Limited   map[string]int `json:"limited"`
	LimitedAt []float64      `json:"limited_at_s,omitempty"`
	// ChannelMessages counts the bot's messages in each channel the kickoffs
	// created (thread replies included), as a person in it sees them.
	ChannelMessages map[string]int `json:"channel_messages"`
	Wall            float64        `json:"wall_s"`
}

// kickoffBound is the least time, in seconds, Slack's published limits allow for n
// kickoffs of m messages each: conversations.create is tier 2 (20 a minute), so after
// a burst of b2 the last channel is created (n-b2)·3 s after the first declaration;
// its m messages then go at one a second per channel after a burst of bc. Every other
// call (setTopic, invite) has its own bucket, trails its channel's create, and costs
// no more; the messages of different channels do not share a limit.
func kickoffBound(n, m int, b2, bc int) float64 {
	perCreate := 60.0 / slackfake.Tier2
	creates := float64(max(n-b2, 0)) * perCreate
	messages := float64(max(m-bc, 0)) * 1.0
	return creates + messages
}

// Bursts the emulator allows (slackfake.SlackRateLimits): a quarter of a minute's
// tier-2 calls, and 3 messages per channel. Slack publishes no burst size.
const (
	tier2Burst   = slackfake.Tier2 / 4
	channelBurst = 3
)

func (k kickoff) run(ctx context.Context, progress io.Writer) (*kickoffReport, error) {
	dir, err := os.MkdirTemp("", "loadgen-kickoff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ws, err := apptest.StartWorkspace(slackfake.Options{})
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	srv := ws.Slack
	alice := ws.Person("alice")
	general := ws.Channel("general", "alice")

	cfg := apptest.Config(ws, dir)
	cfg.Log.Level = k.logLevel
	cfg.Bot.ShutdownTimeout = 10 * time.Second
	if err := apptest.WriteRunbooks(cfg.Runbooks.Dir, nil, map[string]string{"lg-kickoff.yaml": kickoffRunbook(k.messages)}); err != nil {
		return nil, err
	}
	logOut, closeLog, err := openBotLog(k.botLog)
	if err != nil {
		return nil, err
	}
	defer closeLog()
	clock := scaledClock{start: time.Now(), speed: k.speed}
	srv.SetClock(clock.Now)
	srv.SlackRateLimits()
	bot, err := apptest.StartConnected(ctx, ws, cfg, app.Options{Logger: apptest.Logger(logOut, cfg.Log.SlogLevel())})
	if err != nil {
		return nil, err
	}
	defer func() { _ = bot.Stop(context.WithoutCancel(ctx)) }()
	bot.App.Slack.SetClock(slackapi.Clock{Now: clock.Now, Sleep: clock.Sleep})

	db, err := sql.Open("sqlite3", "file:"+cfg.Store.Path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var runsAt sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MAX(id) FROM runs").Scan(&runsAt); err != nil {
		return nil, fmt.Errorf("read the bot's runs: %w", err)
	}
	callsAt := len(srv.APICalls())

	fmt.Fprintf(progress, "loadgen kickoff: declaring %d incidents at once (rate limits at %g× the wall clock)\n", k.incidents, k.speed)
	began := time.Now()
	sent := make([]*slackfake.Delivery, k.incidents)
	for i := range sent {
		sent[i] = srv.SlashCommand(alice.ID, general.ID, "/runbook", fmt.Sprintf("declare sev1 kickoff load %d", i+1))
	}
	wctx, cancel := context.WithTimeout(ctx, k.wait)
	defer cancel()
	rep := &kickoffReport{Incidents: k.incidents, Messages: k.messages, Speed: k.speed}
	ended := func() int {
		var n int
		_ = db.QueryRowContext(wctx, "SELECT COUNT(*) FROM runs WHERE runbook = 'lg-kickoff' AND id > ? AND state NOT IN ('running', 'waiting_approval')", runsAt.Int64).Scan(&n)
		return n
	}
	waitErr := apptest.Wait(wctx, srv, func() bool { return acked(srv, sent) && ended() >= k.incidents })
	if waitErr != nil && ctx.Err() == nil {
		fmt.Fprintf(progress, "loadgen kickoff: not every kickoff ended within --wait %s\n", k.wait)
	}
	rep.Wall = time.Since(began).Seconds()
	for _, d := range sent {
		if acks := srv.Acks(d.EnvelopeID); len(acks) > 0 && declaredRe.MatchString(ackText(acks[0])) {
			rep.Declared++
		}
	}
	if err := rep.readRuns(ctx, db, runsAt.Int64, clock, began); err != nil {
		return nil, err
	}
	rep.readCalls(srv, srv.APICalls()[callsAt:], clock, began)
	rep.Bound = kickoffBound(k.incidents, k.messages, tier2Burst, channelBurst)
	rep.BoundNoBurst = kickoffBound(k.incidents, k.messages, 1, 1)
	if rep.Bound > 0 {
		rep.Ratio = rep.Elapsed / rep.Bound
	}
	return rep, ctx.Err()
}

// acked reports whether every delivery has been acked.
func acked(srv *slackfake.Server, sent []*slackfake.Delivery) bool {
	for _, d := range sent {
		if len(srv.Acks(d.EnvelopeID)) == 0 {
			return false
		}
	}
	return true
}

// readRuns counts the kickoff runs by state and finds when the last one ended. The
// bot's clock is the wall clock; its times are scaled into the rate limits' clock.
func (r *kickoffReport) readRuns(ctx context.Context, db *sql.DB, after int64, clock scaledClock, began time.Time) error {
	rows, err := db.QueryContext(ctx, "SELECT state, COUNT(*), MAX(updated_at) FROM runs WHERE runbook = 'lg-kickoff' AND id > ? GROUP BY state", after)
	if err != nil {
		return fmt.Errorf("read the kickoff runs: %w", err)
	}
	defer rows.Close()
	r.Runs = map[string]int{}
	var last int64
	for rows.Next() {
		var state string
		var n int
		var at int64
		if err := rows.Scan(&state, &n, &at); err != nil {
			return fmt.Errorf("read the kickoff runs: %w", err)
		}
		r.Runs[state] = n
		last = max(last, at)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the kickoff runs: %w", err)
	}
	r.Finished = r.Runs[string(runbook.RunSucceeded)]
	if last > 0 {
		r.Elapsed = clock.at(time.UnixMilli(last)).Sub(clock.at(began)).Seconds()
	}
	return nil
}

// readCalls counts the load's Web API calls by method and the bot's messages in
// each channel a kickoff created.
func (r *kickoffReport) readCalls(srv *slackfake.Server, calls []slackfake.APICall, clock scaledClock, began time.Time) {
	r.Calls, r.Limited, r.ChannelMessages = map[string]int{}, map[string]int{}, map[string]int{}
	first := true
	for _, c := range calls {
		r.Calls[c.Method]++
		if c.Status == 429 {
			r.Limited[c.Method]++
			r.LimitedAt = append(r.LimitedAt, clock.at(c.At).Sub(clock.at(began)).Seconds())
		}
		if c.Method == "conversations.create" && c.Error == "" && c.Status == 200 {
			at := clock.at(c.At).Sub(clock.at(began)).Seconds()
			if first {
				r.FirstCreate, first = at, false
			}
			r.LastCreate = max(r.LastCreate, at)
		}
	}
	for _, ch := range srv.Channels() {
		if !strings.HasPrefix(ch.Name, "lg-inc-") {
			continue
		}
		n := 0
		for _, m := range srv.Messages(ch.ID) {
			if m.BotID != "" {
				n++
			}
		}
		r.ChannelMessages[ch.Name] = n
	}
}

func (r *kickoffReport) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "kickoffs\t%d incidents declared at once, each: a channel and %d messages in it\n", r.Incidents, r.Messages)
	fmt.Fprintf(tw, "declared\t%d acked with an incident\n", r.Declared)
	fmt.Fprintf(tw, "runs\t%s\n", counts(r.Runs))
	fmt.Fprintf(tw, "elapsed\t%.1f s (Slack's clock, run at %g×; %.1f s of wall clock)\n", r.Elapsed, r.Speed, r.Wall)
	fmt.Fprintf(tw, "bound\t%.1f s from Slack's published limits (%.1f s with no burst at all)\n", r.Bound, r.BoundNoBurst)
	if r.Bound > 0 {
		fmt.Fprintf(tw, "measured/bound\t%.3f\n", r.Ratio)
	}
	fmt.Fprintf(tw, "conversations.create\tfirst answered at %.1f s, last at %.1f s\n", r.FirstCreate, r.LastCreate)
	fmt.Fprintf(tw, "web API calls\t%s\n", counts(r.Calls))
	fmt.Fprintf(tw, "answered 429\t%s\n", counts(r.Limited))
	if len(r.LimitedAt) > 0 {
		fmt.Fprintf(tw, "429s at\t%s s\n", seconds(r.LimitedAt))
	}
	per := map[int]int{}
	for _, n := range r.ChannelMessages {
		per[n]++
	}
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(per)) {
		parts = append(parts, fmt.Sprintf("%d channels with %d", per[n], n))
	}
	fmt.Fprintf(tw, "bot messages per new channel\t%s\n", cmp.Or(strings.Join(parts, ", "), "no channel created"))
	return tw.Flush()
}

func seconds(at []float64) string {
	parts := make([]string, len(at))
	for i, s := range at {
		parts[i] = fmt.Sprintf("%.1f", s)
	}
	return strings.Join(parts, ", ")
}

// counts prints a count per name, sorted by name, or "none".
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return cmp.Or(strings.Join(parts, ", "), "none")
}
