package faults

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// A second bot binary on the same database exits at once with a sentence naming the
// first one's pid; after the first is killed with SIGKILL (no clean exit, no chance to
// unlock), the next start is not refused: the kernel released the lock with the process.
func TestOneBinaryPerDatabase(t *testing.T) {
	w := newWorld(t, slackfake.Options{}, nil)
	first := w.StartBinary(botBinary)

	out := apptest.NewLogBuffer()
	second, err := apptest.StartProcess(botBinary, filepath.Join(w.Dir, "config.yaml"), w.Workspace, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Kill)
	w.WaitFor("the second bot to exit", second.Exited)
	want := "bot: another Runbook (pid " + strconv.Itoa(first.Pid()) + ") is running on " + w.dbPath() +
		"; run exactly one per database and Slack app"
	if second.ExitCode() != 1 || !strings.Contains(out.String(), want) {
		t.Fatalf("second bot exited %d with:\n%s\nwant exit 1 and %q", second.ExitCode(), out.String(), want)
	}
	if first.Exited() {
		t.Fatalf("the first bot stopped: %v", first.Err())
	}

	first.Kill()
	w.StartBinary(botBinary) // fails the test if it does not connect
}
