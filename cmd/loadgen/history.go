package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/runbookhq/runbook/store"
)

// history is what `loadgen history` writes: a database as a busy workspace's bot would
// have after a year or so, to measure the bot on (`loadgen --db`).
type history struct {
	path      string
	incidents int // runs, approvals, timeline entries, follow-ups and audit rows are in proportion
	envelopes int
	audit     int
	// oldEnvelopes puts every envelope beyond the bot's 24 h memory, so that the bot's
	// first prune deletes them all; otherwise they are spread over the last 23 hours and
	// stay.
	oldEnvelopes bool
	// now is the time the history leads up to: every timestamp is derived from it and
	// from row numbers, so two runs with the same --now write the same rows.
	now time.Time
}

// Per incident: runs, timeline entries and follow-ups; per run: steps; one approval
// every approvalEvery runs.
const (
	runsPerIncident     = 2
	timelinePerIncident = 5
	stepsPerRun         = 3
	approvalEvery       = 4
	followUpEvery       = 2 // incidents
	openIncidents       = 50
)

func parseHistory(args []string, stderr io.Writer) (history, error) {
	fs := flag.NewFlagSet("loadgen history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	h := history{}
	var now string
	fs.StringVar(&h.path, "db", "", "write the history into a new database at `PATH` (must not exist)")
	fs.IntVar(&h.incidents, "incidents", 100_000, fmt.Sprintf("incidents (and %d runs, %d timeline entries each; an approval every %d runs, a follow-up every %d incidents)",
		runsPerIncident, timelinePerIncident, approvalEvery, followUpEvery))
	fs.IntVar(&h.audit, "audit", 1_000_000, "audit log rows")
	fs.IntVar(&h.envelopes, "envelopes", 1_000_000, "handled envelopes")
	fs.BoolVar(&h.oldEnvelopes, "old-envelopes", false, "make every envelope older than the bot's 24 h memory (25–48 h old), for measuring the prune")
	fs.StringVar(&now, "now", "", "the time the history leads up to, RFC 3339 (default: now, to the minute)")
	if err := fs.Parse(args); err != nil {
		return h, err
	}
	switch {
	case fs.NArg() > 0:
		return h, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case h.path == "":
		return h, errors.New("--db is required")
	case h.incidents < 1 || h.incidents > 10_000_000, h.audit < 0 || h.audit > 100_000_000, h.envelopes < 0 || h.envelopes > 100_000_000:
		return h, errors.New("--incidents is 1–10,000,000, --audit and --envelopes 0–100,000,000")
	}
	h.now = time.Now().Truncate(time.Minute)
	if now != "" {
		t, err := time.Parse(time.RFC3339, now)
		if err != nil {
			return h, fmt.Errorf("--now: %w", err)
		}
		h.now = t
	}
	return h, nil
}

// runHistory writes the history and says what it wrote.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	h, err := parseHistory(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen history:", err)
		return 2
	}
	start := time.Now()
	counts, err := h.write(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen history:", err)
		return 1
	}
	fi, err := os.Stat(h.path)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen history:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s in %s: %d MiB\n", h.path, time.Since(start).Round(100*time.Millisecond), fi.Size()>>20)
	for _, c := range counts {
		fmt.Fprintf(stdout, "  %-18s %10d\n", c.table, c.n)
	}
	return 0
}

type tableCount struct {
	table string
	n     int
}

// write creates the database with the store (so that it has every migration), then
// fills it with plain INSERTs in large transactions, without a journal: it is a new
// file nobody else uses, and a generator that dies is run again.
func (h history) write(ctx context.Context, progress io.Writer) ([]tableCount, error) {
	if _, err := os.Stat(h.path); err == nil {
		return nil, fmt.Errorf("%s exists; the history goes into a new file", h.path)
	}
	s, err := store.Open(ctx, h.path)
	if err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", "file:"+h.path+"?_journal_mode=OFF&_synchronous=OFF")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil { // 256 MiB: the indexes stay in memory
		return nil, err
	}

	runs := h.incidents * runsPerIncident
	approvals := runs / approvalEvery
	tables := []struct {
		table string
		n     int
		query string
		row   func(i int) []any
	}{
		{"incidents", h.incidents, `INSERT INTO incidents (id, title, severity, status, service, commander, channel,
			announcement_channel, announcement_ts, updates_ts, fields, created_by, created_at, updated_at, resolved_at,
			request_key, summary, channel_privacy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'public')`, h.incident},
		{"incident_timeline", h.incidents * timelinePerIncident, `INSERT INTO incident_timeline (incident_id, at, actor, kind, text)
			VALUES (?, ?, ?, ?, ?)`, h.timeline},
		{"followups", h.incidents / followUpEvery, `INSERT INTO followups (incident_id, text, owner, created_by, created_at,
			request_key, done_by, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, h.followUp},
		{"runs", runs, `INSERT INTO runs (id, runbook, incident_id, params, state, started_by, channel, thread_ts, error,
			created_at, updated_at, request_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.run},
		{"run_steps", runs * stepsPerRun, `INSERT INTO run_steps (run_id, idx, step_id, action, state, outputs, attempts,
			started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`, h.step},
		{"approvals", approvals, `INSERT INTO approvals (id, run_id, step_index, incident_id, operation, risk, requested_by,
			approvers, channel, message_ts, state, decided_by, decided_at, expires_at, created_at, settled_at,
			message_settled_at, token) VALUES (?, ?, 0, ?, ?, 'high', ?, '["U0BOB"]', 'C0OPS', ?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.approval},
		{"approval_votes", approvals, `INSERT INTO approval_votes (approval_id, user, approve, at) VALUES (?, 'U0BOB', ?, ?)`, h.vote},
		{"audit_log", h.audit, `INSERT INTO audit_log (at, actor, action, incident_id, run_id, approval_id, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, h.auditRow},
		{"envelopes", h.envelopes, `INSERT INTO envelopes (id, type, payload, acked, done, reply, received_at, done_at)
			VALUES (?, 'slash_commands', ?, 1, 1, ?, ?, ?)`, h.envelope},
	}
	var out []tableCount
	for _, t := range tables {
		began := time.Now()
		if err := insertAll(ctx, db, t.query, t.n, t.row); err != nil {
			return nil, fmt.Errorf("%s: %w", t.table, err)
		}
		fmt.Fprintf(progress, "loadgen history: %s: %d rows in %s\n", t.table, t.n, time.Since(began).Round(10*time.Millisecond))
		out = append(out, tableCount{t.table, t.n})
	}
	// The store opens its files in WAL mode; the generator wrote without a journal.
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return nil, err
	}
	return out, nil
}

// insertAll inserts n rows, 50,000 to a transaction.
func insertAll(ctx context.Context, db *sql.DB, query string, n int, row func(i int) []any) error {
	const perTx = 50_000
	for from := 0; from < n; from += perTx {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, query)
		if err != nil {
			tx.Rollback()
			return err
		}
		for i := from; i < min(from+perTx, n); i++ {
			if _, err := st.ExecContext(ctx, row(i)...); err != nil {
				tx.Rollback()
				return fmt.Errorf("row %d: %w", i, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

var (
	services   = []string{"checkout", "payments", "search", "login", "api-gateway", "billing", "notifications", "inventory"}
	severities = []string{"sev1", "sev2", "sev3", "sev3", "sev4"}
	people     = []string{"U0ALICE", "U0BOB", "U0CAROL", "U0DAN", "U0ERIN", "U0FRANK"}
	runbooks   = []string{"restart-service", "scale-up", "flush-cache", "kickoff", "rollback-deploy"}
	actions    = []string{"approval.click", "approval.approved", "approval.refused", "incident.update", "run.start", "run.finished"}
)

// step is how far apart incidents are: the history spans a year before now.
func (h history) at(incident int) int64 {
	span := 365 * 24 * time.Hour
	return h.now.Add(-span + spread(span, incident, h.incidents)).UnixMilli()
}

func (h history) incident(i int) []any {
	id := i + 1
	created := h.at(i)
	status, resolved := "resolved", any(created+int64(2*time.Hour/time.Millisecond))
	if i >= h.incidents-openIncidents {
		status, resolved = "investigating", nil
	}
	service := services[i%len(services)]
	return []any{id, fmt.Sprintf("%s errors above threshold (%d)", service, id), severities[i%len(severities)], status, service,
		people[i%len(people)], fmt.Sprintf("CH%08d", id), "C0INCIDENTS", fmt.Sprintf("%d.%06d", created/1000, id%1_000_000),
		"", "{}", people[(i+1)%len(people)], created, created, resolved, fmt.Sprintf("hist-inc-%d", id),
		fmt.Sprintf("%s: elevated 5xx after deploy %d; rolled back", service, id)}
}

var timelineKinds = []string{"declared", "status", "note", "run", "status"}

func (h history) timeline(i int) []any {
	inc := i / timelinePerIncident
	k := i % timelinePerIncident
	return []any{inc + 1, h.at(inc) + int64(k)*60_000, people[i%len(people)], timelineKinds[k],
		fmt.Sprintf("timeline entry %d of INC-%d: what was seen and done", k+1, inc+1)}
}

func (h history) followUp(i int) []any {
	inc := i * followUpEvery
	created := h.at(inc) + 3_600_000
	doneBy, doneAt := "", any(nil)
	if i%3 != 0 {
		doneBy, doneAt = people[i%len(people)], created+86_400_000
	}
	return []any{inc + 1, fmt.Sprintf("add an alert for %s saturation", services[inc%len(services)]), people[i%len(people)],
		people[(i+2)%len(people)], created, fmt.Sprintf("hist-fu-%d", i+1), doneBy, doneAt}
}

func (h history) run(i int) []any {
	inc := i / runsPerIncident
	created := h.at(inc) + int64(i%runsPerIncident+1)*120_000
	state, errText := "succeeded", ""
	if i%20 == 7 {
		state, errText = "failed", "step 2: HTTP 503 from the deploy API"
	}
	return []any{i + 1, runbooks[i%len(runbooks)], inc + 1, `{"service":"` + services[inc%len(services)] + `"}`, state,
		people[i%len(people)], fmt.Sprintf("CH%08d", inc+1), "", errText, created, created + 90_000, fmt.Sprintf("hist-run-%d", i+1)}
}

var stepActions = []string{"approval.request", "http.request", "slack.send_message"}

func (h history) step(i int) []any {
	run := i / stepsPerRun
	k := i % stepsPerRun
	started := h.at(run/runsPerIncident) + int64(k)*10_000
	return []any{run + 1, k, fmt.Sprintf("s%d", k+1), stepActions[k], "succeeded", `{"ok":true}`, started, started + 5_000}
}

var approvalStates = []string{"approved", "approved", "denied", "expired"}

func (h history) approval(i int) []any {
	run := i * approvalEvery
	inc := run / runsPerIncident
	created := h.at(inc) + 130_000
	decided := created + 60_000
	state := approvalStates[i%len(approvalStates)]
	return []any{i + 1, run + 1, inc + 1, fmt.Sprintf("%s on %s", runbooks[run%len(runbooks)], services[inc%len(services)]),
		people[i%len(people)], fmt.Sprintf("%d.%06d", created/1000, i%1_000_000), state, "U0BOB", decided,
		created + 3_600_000, created, decided, decided, fmt.Sprintf("tok%013d", i)}
}

func (h history) vote(i int) []any {
	approve := 1
	if approvalStates[i%len(approvalStates)] == "denied" {
		approve = 0
	}
	return []any{i + 1, approve, h.at(i*approvalEvery/runsPerIncident) + 190_000}
}

func (h history) auditRow(i int) []any {
	inc := int(int64(i) * int64(h.incidents) / int64(max(h.audit, 1)))
	run := inc*runsPerIncident + i%runsPerIncident
	var approval any
	if run%approvalEvery == 0 {
		approval = run/approvalEvery + 1
	}
	return []any{h.at(inc) + int64(i%60)*1000, people[i%len(people)], actions[i%len(actions)], inc + 1, run + 1, approval,
		fmt.Sprintf("audit %d: clicked from the request message", i+1)}
}

// spread is how far into span the i-th of n evenly spread rows falls. The step is
// taken first: i×span overflows a Duration for a year and 100,000 incidents, or a day
// and 1,000,000 envelopes, and scattered them over centuries and ahead of now.
func spread(span time.Duration, i, n int) time.Duration {
	return span / time.Duration(max(n, 1)) * time.Duration(i)
}

// envelope is a handled slash command with its answer, as the inbox keeps them.
func (h history) envelope(i int) []any {
	// Spread over the last 23 hours, or over 25–48 hours ago.
	span, end := 23*time.Hour, h.now
	if h.oldEnvelopes {
		span, end = 23*time.Hour, h.now.Add(-25*time.Hour)
	}
	received := end.Add(-span + spread(span, i, h.envelopes)).UnixMilli()
	payload := fmt.Sprintf(`{"token":"","team_id":"T0HISTORY","team_domain":"history","channel_id":"C%08d","channel_name":"general",`+
		`"user_id":"%s","user_name":"someone","command":"/runbook","text":"status INC-%d","api_app_id":"A0RUNBOOK",`+
		`"response_url":"https://hooks.slack.com/commands/T0HISTORY/%d/abcdefghijklmnopqrstuvwx","trigger_id":"%d.%d.0123456789abcdef0123456789abcdef"}`,
		i%5000, people[i%len(people)], i%h.incidents+1, i, i, i)
	reply := fmt.Sprintf(`{"response_type":"ephemeral","text":"INC-%d — checkout errors above threshold: resolved"}`, i%h.incidents+1)
	return []any{fmt.Sprintf("hist-%010d", i), []byte(payload), []byte(reply), received, received + 3}
}
