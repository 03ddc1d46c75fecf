package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
)

// A `wait 3s` interrupted by a restart ends at its original deadline, 3 s after it
// started, not 3 s after the restart. The runs' clock moves only when the test moves
// it: it reads start+1s while the bot restarts and never goes past start+3s, so a wait
// that started over at the restart (and would end at start+4s) never ends.
func TestWaitEndsAtItsDeadlineAfterARestart(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	clock := apptest.NewClock(start) // the runs' clock, moved only by the test
	k := apptest.New(t, apptest.Options{Runbooks: map[string]string{"pause.yaml": `name: pause
steps:
  - { action: wait, with: { duration: 3s } }
  - { action: slack.send_message, with: { channel: "#general", text: "after the wait" } }
`}})
	k.AppOptions.Now = clock.Now
	alice := k.Person("alice")
	general := k.Channel("general", "alice")
	k.Start()
	if answer := k.Ask(alice.ID, general.ID, "run pause"); !strings.Contains(answer, "Started *pause* (R-1)") {
		t.Fatalf("run answered %q", answer)
	}
	deadline := start.Add(3 * time.Second).Format(time.RFC3339)
	until := func() string {
		r, err := k.App().DB.Runs().Run(context.Background(), 1)
		if err != nil {
			return ""
		}
		s, _ := r.Steps[0].Outputs["until"].(string)
		return s
	}
	k.WaitFor("the wait to start", func() bool { return until() != "" })
	if end, err := time.Parse(time.RFC3339Nano, until()); err != nil || !end.Equal(start.Add(3*time.Second)) {
		t.Fatalf("the wait is to end at %q, want %s", until(), deadline)
	}

	k.Stop()
	clock.Set(start.Add(time.Second))
	k.Start()
	clock.Set(start.Add(3 * time.Second))
	run := k.WaitRun(k.App().DB, 1, runbook.RunSucceeded)
	if got := run.Steps[0].Outputs["until"]; got != deadline {
		t.Errorf("the wait ended at %v, want its original deadline %s", got, deadline)
	}
	if run.Steps[0].Attempts != 1 {
		t.Errorf("the wait was started %d times, want once", run.Steps[0].Attempts)
	}
	said := 0
	for _, m := range k.Slack.Messages(general.ID) {
		if m.BotID != "" && m.Text == "after the wait" {
			said++
		}
	}
	if said != 1 {
		t.Errorf("the step after the wait posted %d times, want once", said)
	}
}
