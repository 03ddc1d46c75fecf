package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
)

// Every statement the store runs, on a request path or inside the writer, must find its
// rows through an index: the tables grow with history (a year of a busy workspace is
// ~100,000 incidents, 1,000,000 audit rows, 1,000,000 envelopes a day), and a scan
// that takes microseconds on an empty file takes tens of milliseconds there — inside
// the one writer, every ack behind it waits. This test calls every exported method of
// the stores (planScenario; a method added without an entry there fails the test),
// records each statement they prepare, and asks SQLite how it would run it.
//
// The plans come from an empty, migrated database without ANALYZE statistics, as a new
// bot's are: with sqlite_stat1 the planner may choose otherwise, so the schema and the
// queries are written for the plan to be right without it (no statistics are ever
// gathered by the bot).
func TestNoStatementScansATable(t *testing.T) {
	rec := &recorder{args: map[string]int{}}
	db, err := openWrapped(context.Background(), filepath.Join(t.TempDir(), "runbook.db"),
		checkpointConfig{walLimit: walLimit, busy: time.Second}, watchConfig{}, rec.wrap)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec.start() // the migrations are not on any request path

	covered := map[string]bool{}
	for _, step := range planScenario(db) {
		if err := step.run(context.Background()); err != nil {
			t.Fatalf("%s: %v", step.method, err)
		}
		covered[step.method] = true
	}
	for _, v := range []any{db.Incidents(), db.Runs(), db.Approvals(), db.Audit(), db.Inbox(), db.Timers()} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumMethod() {
			name := typ.Elem().Name() + "." + typ.Method(i).Name
			if !covered[name] {
				t.Errorf("%s is not in planScenario: add a call to it, so that its statements' plans are checked", name)
			}
		}
	}

	statements := rec.statements()
	partial, err := partialIndexes(db)
	if err != nil {
		t.Fatal(err)
	}
	for name := range boundedIndexes {
		if !partial[name] {
			t.Errorf("boundedIndexes names %s, which is not a partial index of the schema", name)
		}
	}
	if len(statements) < 40 {
		t.Fatalf("recorded %d statements; the recorder missed some", len(statements))
	}
	for _, q := range statements {
		plan, err := explain(db, q, rec.args[q])
		if err != nil {
			t.Errorf("explain %s: %v", oneLine(q), err)
			continue
		}
		t.Logf("%s\n\t%s", oneLine(q), strings.Join(plan, "; ")) // with -v: every plan, for review
		if why := scans(q, plan, partial); why != "" {
			t.Errorf("%s\n\tscans: %s\n\tplan:\n\t\t%s", oneLine(q), why, strings.Join(plan, "\n\t\t"))
		}
	}
}

// The counts the metrics read (run_state_counts, approval_state_counts, kept by
// triggers) are the counts of the rows, after runs and requests are created, move
// between states, and are deleted.
func TestStateCountsMatchTheRows(t *testing.T) {
	db, err := open(context.Background(), filepath.Join(t.TempDir(), "runbook.db"),
		checkpointConfig{walLimit: walLimit, busy: time.Second}, watchConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, step := range planScenario(db) {
		if err := step.run(ctx); err != nil {
			t.Fatalf("%s: %v", step.method, err)
		}
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			table string
			kept  func(context.Context) (map[string]int, error)
		}{{"runs", db.Runs().StateCounts}, {"approvals", db.Approvals().StateCounts}} {
			kept, err := c.kept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			counted, err := countBy(ctx, db, "SELECT state, COUNT(*) FROM "+c.table+" GROUP BY state")
			if err != nil {
				t.Fatal(err)
			}
			maps.DeleteFunc(kept, func(_ string, n int) bool { return n == 0 })
			if !maps.Equal(kept, counted) || len(counted) == 0 && when != "deleted" {
				t.Errorf("%s, %s: kept %v, counted %v", when, c.table, kept, counted)
			}
		}
	}
	check("after the scenario")
	if _, err := db.write.Exec("DELETE FROM runs"); err != nil {
		t.Fatal(err)
	}
	check("deleted")
}

// tinyTables are tables whose size does not grow with history, so that reading all of
// them is as cheap as a look-up. run_state_counts and approval_state_counts hold one
// row per state (their CHECK constraints allow seven and five); schema_migrations one
// per migration.
var tinyTables = map[string]bool{"run_state_counts": true, "approval_state_counts": true, "schema_migrations": true}

// newestFirst matches a statement that walks a table from its newest row and stops at a
// limit: a SCAN in rowid order that reads as many rows as it returns (and, with a
// filter, as many as it skips — the open incidents for `list resolved`).
var newestFirst = regexp.MustCompile(`ORDER BY id DESC LIMIT \?\s*$`)

var scanLine = regexp.MustCompile(`^SCAN (\S+)(?: USING (?:COVERING )?INDEX (\S+))?`)

// boundedIndexes are the partial indexes that hold only rows in a passing state, whose
// number does not grow with history: reading all of one is as cheap as a look-up.
// Other partial indexes (envelopes_done: a day of envelopes; the request keys) grow, and
// a scan of one fails the test like a scan of its table.
var boundedIndexes = map[string]string{
	"envelopes_unfinished":              "envelopes acked and not yet handled: the work in flight",
	"envelopes_undelivered":             "answers not yet delivered: the reply outbox",
	"approvals_pending":                 "requests waiting for a decision",
	"approvals_unsettled":               "decisions whose follow-up a crash interrupted",
	"approvals_message_unsettled":       "decisions whose message a crash left unchanged",
	"runs_active":                       "runs running or waiting for an approval",
	"runs_running_by":                   "runs running, whose number admission bounds",
	"incidents_open":                    "open incidents",
	"incidents_channel_privacy_unknown": "incidents whose channel's privacy is still to be learned: emptied once at the first start after migration 0022, then only the incidents given a channel by id",
	"timer_firings_undone":              "timer firings claimed and not yet acted on",
}

// scans says why a plan reads a whole table, or "" if it does not.
func scans(query string, plan []string, partial map[string]bool) string {
	sorted := slices.ContainsFunc(plan, func(l string) bool { return strings.HasPrefix(l, "USE TEMP B-TREE") })
	for _, line := range plan {
		m := scanLine.FindStringSubmatch(line)
		if m == nil || m[1] == "CONSTANT" || tinyTables[m[1]] {
			continue
		}
		if m[2] != "" && partial[m[2]] && boundedIndexes[m[2]] != "" {
			continue
		}
		if m[2] == "" && !sorted && newestFirst.MatchString(query) {
			continue
		}
		return line
	}
	return ""
}

func explain(db *DB, query string, nargs int) ([]string, error) {
	args := make([]any, nargs)
	rows, err := db.write.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

func partialIndexes(db *DB) (map[string]bool, error) {
	rows, err := db.read.Query(`SELECT il.name FROM sqlite_schema s, pragma_index_list(s.name) il
		WHERE s.type = 'table' AND il.partial = 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[name] = true
	}
	return out, rows.Err()
}

func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }

type planStep struct {
	method string
	run    func(context.Context) error
}

// planScenario calls every exported method of the stores once or more, on rows that
// make each go down its longest path (an existing key, a decided request, a due timer).
// A new method of a store needs an entry here.
func planScenario(db *DB) []planStep {
	inc, runs, apr, audit, inbox, tm := db.Incidents(), db.Runs(), db.Approvals(), db.Audit(), db.Inbox(), db.Timers()
	var (
		incident = &runbook.Incident{Title: "Checkout errors", Severity: "sev1", Status: "investigating", Channel: "C1",
			RequestKey: "req-1", Roles: map[string]string{"comms": "U2"}, CreatedBy: "U1"}
		run      = &runbook.Run{Runbook: "restart", StartedBy: "U1", RequestKey: "run-1", Steps: []runbook.StepRun{{StepID: "a", Action: "approval.request"}}}
		rollback = &runbook.Run{Runbook: "restart", StartedBy: "U1", Steps: []runbook.StepRun{{StepID: "a", Action: "approval.request", Undoes: 0}}}
		approval = &runbook.Approval{Operation: "scale", Risk: "high", RequestedBy: "U1", Required: 1}
		follow   = &runbook.FollowUp{Text: "add an alert", CreatedBy: "U1", RequestKey: "fu-1"}
		timer    *runbook.Timer
		now      = time.Now()
		open     = true
		resolved = false
		setOpen  = func(i *runbook.Incident) error { i.Status = "mitigated"; return nil }
		env      = runbook.Envelope{ID: "env-1", Type: "slash_commands", Payload: []byte(`{}`)}
	)
	step := func(method string, run func(context.Context) error) planStep { return planStep{method, run} }
	return []planStep{
		step("Incidents.CreateIncident", func(ctx context.Context) error {
			if err := inc.CreateIncident(ctx, incident); err != nil {
				return err
			}
			again := *incident // the request key found
			if err := inc.CreateIncident(ctx, &again); err != nil {
				return err
			}
			for _, key := range []string{"req-d1", "req-d2"} { // the second finds the dedup key held
				if err := inc.CreateIncident(ctx, &runbook.Incident{Title: "alert", Severity: "sev1", Status: "investigating",
					RequestKey: key, DedupKey: "alerts:g1"}); err != nil {
					return err
				}
			}
			return nil
		}),
		step("Incidents.Incident", func(ctx context.Context) error { _, err := inc.Incident(ctx, incident.ID); return err }),
		step("Incidents.IncidentByRequestKey", func(ctx context.Context) error { _, err := inc.IncidentByRequestKey(ctx, "req-1"); return err }),
		step("Incidents.OpenIncidentByDedupKey", func(ctx context.Context) error {
			_, err := inc.OpenIncidentByDedupKey(ctx, "alerts:g1")
			return err
		}),
		step("Incidents.IncidentByChannel", func(ctx context.Context) error { _, err := inc.IncidentByChannel(ctx, "C1"); return err }),
		step("Incidents.UnknownChannelPrivacy", func(ctx context.Context) error { _, err := inc.UnknownChannelPrivacy(ctx, 500); return err }),
		step("Incidents.SetChannelPrivacy", func(ctx context.Context) error {
			return inc.SetChannelPrivacy(ctx, []runbook.IncidentChannel{{IncidentID: incident.ID, Channel: "C1", Privacy: runbook.ChannelPublic}})
		}),
		step("Incidents.UpdateIncident", func(ctx context.Context) error {
			if _, err := inc.UpdateIncident(ctx, incident.ID, setOpen); err != nil {
				return err
			}
			// Reopening an incident whose dedup key a newer open one holds.
			first, err := inc.IncidentByRequestKey(ctx, "req-d1")
			if err != nil {
				return err
			}
			if _, err := inc.UpdateIncident(ctx, first.ID, func(i *runbook.Incident) error { i.ResolvedAt = now; return nil }); err != nil {
				return err
			}
			if err := inc.CreateIncident(ctx, &runbook.Incident{Title: "alert", Severity: "sev1", Status: "investigating",
				RequestKey: "req-d3", DedupKey: "alerts:g1"}); err != nil {
				return err
			}
			_, err = inc.UpdateIncident(ctx, first.ID, func(i *runbook.Incident) error { i.ResolvedAt = time.Time{}; return nil })
			return err
		}),
		step("Incidents.UpdateIncidentOnce", func(ctx context.Context) error {
			for range 2 { // the second finds the key applied
				if _, _, err := inc.UpdateIncidentOnce(ctx, incident.ID, "chg-1", setOpen); err != nil {
					return err
				}
			}
			return nil
		}),
		step("Incidents.ListIncidents", func(ctx context.Context) error {
			for _, f := range []runbook.IncidentFilter{{Limit: 10}, {Open: &open, Limit: 10}, {Open: &resolved, Limit: 10}, {Open: &open}} {
				if _, err := inc.ListIncidents(ctx, f); err != nil {
					return err
				}
			}
			return nil
		}),
		step("Incidents.AddTimeline", func(ctx context.Context) error {
			return inc.AddTimeline(ctx, runbook.TimelineEntry{IncidentID: incident.ID, Kind: runbook.TimelineNote, Text: "x"})
		}),
		step("Incidents.AddTimelineOnce", func(ctx context.Context) error {
			for range 2 {
				if _, err := inc.AddTimelineOnce(ctx, runbook.TimelineEntry{IncidentID: incident.ID, Kind: runbook.TimelineNote, Text: "x"}, "note-1"); err != nil {
					return err
				}
			}
			return nil
		}),
		step("Incidents.Timeline", func(ctx context.Context) error { _, err := inc.Timeline(ctx, incident.ID); return err }),
		step("Incidents.AddFollowUp", func(ctx context.Context) error {
			follow.IncidentID = incident.ID
			if err := inc.AddFollowUp(ctx, follow); err != nil {
				return err
			}
			again := *follow
			return inc.AddFollowUp(ctx, &again)
		}),
		step("Incidents.FollowUp", func(ctx context.Context) error { _, err := inc.FollowUp(ctx, follow.ID); return err }),
		step("Incidents.FollowUps", func(ctx context.Context) error { _, err := inc.FollowUps(ctx, incident.ID); return err }),
		step("Incidents.CompleteFollowUp", func(ctx context.Context) error {
			for range 2 {
				if _, _, err := inc.CompleteFollowUp(ctx, follow.ID, "U1", "done-1"); err != nil {
					return err
				}
			}
			return nil
		}),

		step("Runs.CreateRun", func(ctx context.Context) error {
			run.IncidentID = incident.ID
			if err := runs.CreateRun(ctx, run); err != nil {
				return err
			}
			again := *run
			again.Steps = slices.Clone(run.Steps)
			if err := runs.CreateRun(ctx, &again); err != nil {
				return err
			}
			rollback.RollbackOf = run.ID
			return runs.CreateRun(ctx, rollback)
		}),
		step("Runs.RunByRequestKey", func(ctx context.Context) error { _, err := runs.RunByRequestKey(ctx, "run-1"); return err }),
		step("Runs.Run", func(ctx context.Context) error { _, err := runs.Run(ctx, run.ID); return err }),
		step("Runs.ActiveRuns", func(ctx context.Context) error { _, err := runs.ActiveRuns(ctx); return err }),
		step("Runs.ActiveRunIDs", func(ctx context.Context) error { _, err := runs.ActiveRunIDs(ctx, 0, 64); return err }),
		step("Runs.RunsUnderWay", func(ctx context.Context) error {
			if _, err := runs.RunsUnderWay(ctx, "", 100); err != nil {
				return err
			}
			_, err := runs.RunsUnderWay(ctx, "U1", 100)
			return err
		}),
		step("Runs.ListRuns", func(ctx context.Context) error {
			if _, err := runs.ListRuns(ctx, 0, 15); err != nil {
				return err
			}
			_, err := runs.ListRuns(ctx, incident.ID, 15)
			return err
		}),
		step("Runs.StartStep", func(ctx context.Context) error { _, err := runs.StartStep(ctx, run.ID, 0); return err }),
		step("Runs.RecordProgress", func(ctx context.Context) error { return runs.RecordProgress(ctx, run.ID, 0, map[string]any{"n": 1}) }),
		step("Runs.FinishStep", func(ctx context.Context) error {
			return runs.FinishStep(ctx, run.ID, 0, runbook.StepSucceeded, map[string]any{"ok": true}, "")
		}),
		step("Runs.SetRunResult", func(ctx context.Context) error { return runs.SetRunResult(ctx, run.ID, "C1", "1.2") }),
		step("Runs.RollbackOf", func(ctx context.Context) error { _, err := runs.RollbackOf(ctx, run.ID); return err }),
		step("Runs.StateCounts", func(ctx context.Context) error { _, err := runs.StateCounts(ctx); return err }),

		step("Approvals.CreateApproval", func(ctx context.Context) error {
			approval.RunID, approval.IncidentID, approval.ExpiresAt = run.ID, incident.ID, now.Add(time.Hour)
			_, err := apr.CreateApproval(ctx, approval)
			return err
		}),
		step("Approvals.CreateAPIApproval", func(ctx context.Context) error {
			for range 2 { // the second finds the idempotency key used
				a := &runbook.Approval{Operation: "deploy", Risk: "high", RequestedVia: "api:ci", ExpiresAt: now.Add(time.Hour)}
				if _, err := apr.CreateAPIApproval(ctx, a, "key-1"); err != nil {
					return err
				}
			}
			return nil
		}),
		step("Approvals.Approval", func(ctx context.Context) error { _, err := apr.Approval(ctx, approval.ID); return err }),
		step("Approvals.ApprovalForStep", func(ctx context.Context) error { _, err := apr.ApprovalForStep(ctx, run.ID, 0); return err }),
		step("Approvals.SetApprovalMessage", func(ctx context.Context) error { return apr.SetApprovalMessage(ctx, approval.ID, "C1", "1.1") }),
		step("Approvals.PendingApprovals", func(ctx context.Context) error { _, err := apr.PendingApprovals(ctx); return err }),
		step("Approvals.CastVote", func(ctx context.Context) error {
			_, err := apr.CastVote(ctx, approval.ID, "U2", true, "go")
			return err
		}),
		step("Approvals.ApprovedBy", func(ctx context.Context) error { _, err := apr.ApprovedBy(ctx, approval.ID); return err }),
		step("Approvals.DecideApproval", func(ctx context.Context) error {
			_, err := apr.DecideApproval(ctx, approval.ID, runbook.ApprovalDenied, "U2", "")
			return err
		}),
		step("Approvals.UnsettledApprovals", func(ctx context.Context) error { _, err := apr.UnsettledApprovals(ctx, now.Add(time.Hour)); return err }),
		step("Approvals.SettleApproval", func(ctx context.Context) error {
			_, err := apr.SettleApproval(ctx, approval.ID, runbook.AuditEntry{Actor: "U2", Action: "approval.approved"},
				&runbook.TimelineEntry{IncidentID: incident.ID, Kind: runbook.TimelineNote, Text: "approved"})
			return err
		}),
		step("Approvals.SettleApprovalMessage", func(ctx context.Context) error { return apr.SettleApprovalMessage(ctx, approval.ID, "1.1") }),
		step("Approvals.SetApprovalOutcome", func(ctx context.Context) error { return apr.SetApprovalOutcome(ctx, approval.ID, "done", true) }),
		step("Approvals.StateCounts", func(ctx context.Context) error { _, err := apr.StateCounts(ctx); return err }),
		step("Runs.SetRunState", func(ctx context.Context) error {
			_, err := runs.SetRunState(ctx, run.ID, []runbook.RunState{runbook.RunRunning, runbook.RunWaitingApproval}, runbook.RunSucceeded, "")
			return err
		}),

		step("AuditLog.Record", func(ctx context.Context) error {
			return audit.Record(ctx, runbook.AuditEntry{Actor: "U1", Action: "approval.click", IncidentID: incident.ID})
		}),
		step("AuditLog.Audit", func(ctx context.Context) error {
			if _, err := audit.Audit(ctx, 0, 30); err != nil {
				return err
			}
			_, err := audit.Audit(ctx, incident.ID, 30)
			return err
		}),

		step("Inbox.Claim", func(ctx context.Context) error {
			for range 2 { // the second finds it
				if _, err := inbox.Claim(ctx, env); err != nil {
					return err
				}
			}
			return nil
		}),
		step("Inbox.MarkAcked", func(ctx context.Context) error { return inbox.MarkAcked(ctx, env.ID, nil) }),
		step("Inbox.Unfinished", func(ctx context.Context) error { _, err := inbox.Unfinished(ctx); return err }),
		step("Inbox.Complete", func(ctx context.Context) error { return inbox.Complete(ctx, env.ID, []byte(`{}`), []byte(`{}`)) }),
		step("Inbox.Undelivered", func(ctx context.Context) error { _, err := inbox.Undelivered(ctx); return err }),
		step("Inbox.Delivered", func(ctx context.Context) error { return inbox.Delivered(ctx, env.ID) }),
		step("Inbox.Prune", func(ctx context.Context) error { _, err := inbox.Prune(ctx, now.Add(time.Hour)); return err }),

		step("Timers.SetTimer", func(ctx context.Context) error {
			return tm.SetTimer(ctx, runbook.TimerReminder, incident.ID, "", now.Add(-time.Minute))
		}),
		step("Timers.EnsureTimer", func(ctx context.Context) error {
			return tm.EnsureTimer(ctx, runbook.TimerEvery, incident.ID, "check@5m", now.Add(time.Hour))
		}),
		step("Timers.MoveTimer", func(ctx context.Context) error {
			_, err := tm.MoveTimer(ctx, runbook.TimerEvery, incident.ID, "check@5m", now.Add(2*time.Hour))
			return err
		}),
		step("Timers.IncidentTimers", func(ctx context.Context) error {
			ts, err := tm.IncidentTimers(ctx, incident.ID)
			if err == nil && len(ts) == 0 {
				err = errors.New("no timers")
			}
			if err == nil {
				timer = ts[0]
			}
			return err
		}),
		step("Timers.DueTimers", func(ctx context.Context) error { _, err := tm.DueTimers(ctx, now); return err }),
		step("Timers.NextDue", func(ctx context.Context) error { _, _, err := tm.NextDue(ctx); return err }),
		step("Timers.ClaimTimer", func(ctx context.Context) error {
			_, claimed, err := tm.ClaimTimer(ctx, timer.ID, timer.Seq, now, now.Add(time.Hour))
			if err == nil && !claimed {
				err = fmt.Errorf("timer %d not claimed", timer.ID)
			}
			return err
		}),
		step("Timers.UndoneFirings", func(ctx context.Context) error { _, err := tm.UndoneFirings(ctx); return err }),
		step("Timers.FiringDone", func(ctx context.Context) error { return tm.FiringDone(ctx, timer.ID, timer.Seq+1, "C1", "1.3") }),
		step("Timers.Firing", func(ctx context.Context) error { _, err := tm.Firing(ctx, timer.ID, timer.Seq+1); return err }),
		step("Timers.DeleteTimer", func(ctx context.Context) error { return tm.DeleteTimer(ctx, timer.ID) }),
		step("Timers.DeleteIncidentTimers", func(ctx context.Context) error { return tm.DeleteIncidentTimers(ctx, incident.ID) }),
	}
}

// recorder wraps the store's connections and records every statement they prepare or
// run once started, with the number of arguments it was given.
type recorder struct {
	mu   sync.Mutex
	on   bool
	args map[string]int
}

func (r *recorder) start() { r.mu.Lock(); r.on = true; r.mu.Unlock() }

func (r *recorder) record(query string, nargs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.args[query] = nargs
	}
}

func (r *recorder) statements() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for q := range r.args {
		if !strings.HasPrefix(strings.TrimSpace(q), "PRAGMA") {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out
}

func (r *recorder) wrap(c driver.Connector) driver.Connector { return recConnector{c, r} }

type recConnector struct {
	driver.Connector
	r *recorder
}

func (c recConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &recConn{conn.(sqliteConn), c.r}, nil
}

// sqliteConn is what go-sqlite3's connection implements and the recorder passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
}

type recConn struct {
	sqliteConn
	r *recorder
}

func (c *recConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err == nil {
		c.r.record(query, st.NumInput())
	}
	return st, err
}

func (c *recConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.r.record(query, len(args))
	return c.sqliteConn.ExecContext(ctx, query, args)
}

func (c *recConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.r.record(query, len(args))
	return c.sqliteConn.QueryContext(ctx, query, args)
}
