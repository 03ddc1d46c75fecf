package demo

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/runbookhq/runbook"
)

// printSummary prints what the database holds: incidents, runs and their steps,
// approvals and their decisions, and the audit log, oldest first.
func printSummary(ctx context.Context, w *world, out io.Writer) error {
	fmt.Fprintf(out, "\n=== What the database holds ===\n")
	n := w.names()
	for _, section := range []struct {
		title string
		print func(context.Context, *world, *names, io.Writer) error
	}{
		{"Incidents", printIncidents},
		{"Runs", printRuns},
		{"Approvals", printApprovals},
		{"Audit log", printAudit},
	} {
		fmt.Fprintf(out, "\n%s\n", section.title)
		if err := section.print(ctx, w, n, out); err != nil {
			return fmt.Errorf("read the database: %w", err)
		}
	}
	return nil
}

// table lines up the columns of what print writes (cells separated by tabs).
func table(out io.Writer, print func(io.Writer) error) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	if err := print(tw); err != nil {
		return err
	}
	return tw.Flush()
}

func printIncidents(ctx context.Context, w *world, n *names, out io.Writer) error {
	incs, err := w.app.DB.Incidents().ListIncidents(ctx, runbook.IncidentFilter{})
	if err != nil {
		return err
	}
	slices.Reverse(incs)
	for _, inc := range incs {
		fmt.Fprintf(out, "  %s  %s  %s  %s  (service %s, commander %s, channel %s)\n", inc.Key(), inc.Severity, inc.Status,
			inc.Title, orDash(inc.Service), orDash(personOr(n, inc.Commander)), orDash(channelOr(n, inc.Channel)))
		if err := printTimeline(ctx, w, n, out, inc.ID); err != nil {
			return err
		}
	}
	return emptyOr(out, len(incs))
}

// printTimeline prints an incident's timeline, indented under it.
func printTimeline(ctx context.Context, w *world, n *names, out io.Writer, id int64) error {
	entries, err := w.app.DB.Incidents().Timeline(ctx, id)
	if err != nil {
		return err
	}
	return table(out, func(tw io.Writer) error {
		for _, e := range entries {
			fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\n", clock(e.At), personOr(n, e.Actor), e.Kind, n.mrkdwn(e.Text))
		}
		return nil
	})
}

func printRuns(ctx context.Context, w *world, n *names, out io.Writer) error {
	runs, err := w.app.DB.Runs().ListRuns(ctx, 0, 1000)
	if err != nil {
		return err
	}
	slices.Reverse(runs)
	for _, r := range runs {
		fmt.Fprintf(out, "  %s  %s  %s  %s  (started by %s)%s\n", r.Key(), r.Runbook, incidentOf(r.IncidentID), r.State,
			orDash(personOr(n, r.StartedBy)), errorSuffix(r.Error))
		err := table(out, func(tw io.Writer) error {
			for _, s := range r.Steps {
				fmt.Fprintf(tw, "      step %d\t%s\t%s\t%s%s\n", s.Index+1, orDash(s.StepID), s.Action, s.State, errorSuffix(s.Error))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return emptyOr(out, len(runs))
}

func printApprovals(ctx context.Context, w *world, n *names, out io.Writer) error {
	return table(out, func(tw io.Writer) error { return approvalRows(ctx, w, n, tw) })
}

func approvalRows(ctx context.Context, w *world, n *names, out io.Writer) error {
	count := 0
	for id := int64(1); ; id++ {
		a, err := w.app.DB.Approvals().Approval(ctx, id)
		if runbook.ErrorCode(err) == runbook.ENOTFOUND {
			break
		}
		if err != nil {
			return err
		}
		count++
		decision := string(a.State)
		if a.DecidedBy != "" {
			decision += " by " + n.user(a.DecidedBy)
		}
		if a.Note != "" {
			decision += ": " + a.Note
		}
		fmt.Fprintf(out, "  %s\t%s\t%s\t(risk %s, requested by %s for %s, needs %d of %s)\n", a.Key(), decision, a.Operation,
			orDash(string(a.Risk)), orDash(personOr(n, a.RequestedBy)), runbook.RunKey(a.RunID), max(a.Required, 1), strings.Join(a.Approvers, ", "))
	}
	return emptyOr(out, count)
}

func printAudit(ctx context.Context, w *world, n *names, out io.Writer) error {
	entries, err := w.app.DB.Audit().Audit(ctx, 0, 0)
	if err != nil {
		return err
	}
	slices.Reverse(entries)
	return table(out, func(tw io.Writer) error {
		for _, e := range entries {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", clock(e.At), personOr(n, e.Actor), e.Action, subject(e), n.mrkdwn(e.Detail))
		}
		return emptyOr(tw, len(entries))
	})
}

// clock shows when something happened, in UTC.
func clock(t time.Time) string { return t.UTC().Format("15:04:05") }

// subject says what an audit entry is about: "APR-1 (R-2, INC-1)".
func subject(e runbook.AuditEntry) string {
	var parts []string
	if e.RunID != 0 {
		parts = append(parts, runbook.RunKey(e.RunID))
	}
	if e.IncidentID != 0 {
		parts = append(parts, runbook.IncidentKey(e.IncidentID))
	}
	if e.ApprovalID == 0 {
		return orDash(strings.Join(parts, ", "))
	}
	s := runbook.ApprovalKey(e.ApprovalID)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// personOr names a user id; "runbook" (Runbook itself) and "" are kept.
func personOr(n *names, id string) string {
	if id == "" || id == runbook.ActorRunbook {
		return id
	}
	return n.user(id)
}

func channelOr(n *names, id string) string {
	if id == "" {
		return ""
	}
	return n.channel(id)
}

func incidentOf(id int64) string {
	if id == 0 {
		return "-"
	}
	return runbook.IncidentKey(id)
}

func errorSuffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func emptyOr(out io.Writer, n int) error {
	if n == 0 {
		fmt.Fprintln(out, "  (none)")
	}
	return nil
}
