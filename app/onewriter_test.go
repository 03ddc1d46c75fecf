package app_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/runbooks"
)

// closeOut is a runbook that resolves its incident from a step.
const closeOut = `name: close-out
description: Resolve the incident once the fix is confirmed
steps:
  - action: incident.update
    with:
      status: resolved
      note: fix confirmed by the close-out runbook
`

// A runbook step that resolves an incident changes it by the same rules as
// /runbook resolve: it leaves every view showing the incident resolved, the
// announcement edited, and a second resolve is refused.
func TestRunbookStepResolvesLikeACommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "close-out.yaml"), []byte(closeOut), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startIncidentsWith(t, func(c *config.Config) { c.Runbooks.Dir = dir })
	if answer := w.command("declare sev2 checkout Checkout is slow"); !strings.Contains(answer, "Declared *INC-1*") {
		t.Fatalf("declare answered %q", answer)
	}
	if list := w.command("list"); !strings.Contains(list, "INC-1") {
		t.Fatalf("list before the run lacks INC-1: %q", list)
	}
	if answer := w.command("run close-out INC-1"); !strings.Contains(answer, "close-out") {
		t.Fatalf("run answered %q", answer)
	}
	w.runsDone(1, 1)

	inc := w.incident(1)
	if inc.ResolvedAt.IsZero() || inc.Status != "resolved" {
		t.Fatalf("after the run the incident is %s, resolved at %v", inc.Status, inc.ResolvedAt)
	}
	if list := w.command("list"); strings.Contains(list, "INC-1") {
		t.Errorf("list still shows INC-1 as open: %q", list)
	}
	if answer := w.command("resolve INC-1"); !strings.Contains(answer, "INC-1 is already resolved.") {
		t.Errorf("a second resolve answered %q", answer)
	}
	ann, ok := w.Slack.Message(w.incidents.ID, inc.AnnouncementTS)
	if !ok || !ann.Edited || !strings.Contains(string(ann.Blocks), "resolved") {
		t.Errorf("announcement not edited to show the resolution: %+v", ann)
	}
	timeline := w.command("timeline INC-1")
	for _, want := range []string{"runbook R-1", "status detected → resolved", "fix confirmed by the close-out runbook"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
}

// Every action the runbook format declares is implemented by the engine the app
// assembles, and the engine implements nothing the format does not declare, so
// `bot validate` and a running bot agree on what a runbook may do.
func TestEveryDeclaredActionIsImplemented(t *testing.T) {
	h := start(t)
	got, want := h.App().Executor.ActionNames(), runbooks.ActionNames()
	if !slices.Equal(got, want) {
		t.Fatalf("engine implements %v; the format declares %v", got, want)
	}
}

// The configured approvers are checked as the bot starts: an entry that names nobody
// in the workspace stops it with a sentence naming the entry, rather than leaving every
// request undecidable.
func TestUnknownApproverStopsTheStart(t *testing.T) {
	k := apptest.New(t, apptest.Options{})
	k.Person("alice")
	k.Config.Approvals.Approvers = []string{"alice", "@nobody"}
	a := k.NewApp()
	err := a.Run(k.Context())
	if err == nil || !strings.Contains(err.Error(), "approvals.approvers: @nobody is neither a user nor a user group in this workspace") {
		t.Fatalf("Run = %v", err)
	}
}
