package demo_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook/demo"
)

// writeFiles writes files (name → content) into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestYourRunbooksArePlayed(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"mine.yaml":  "name: mine\ndescription: say hello\nsteps:\n  - action: slack.send_message\n    with: { channel: \"#team-room\", text: \"Hello from mine, {{user.name}}\" }\n",
		"broken.yml": "name: broken\nsteps:\n  - action: slack.nope\n",
	})
	lines := "/runbook runbooks\n/runbook run mine\nquit\n"
	got := play(t, demo.Options{RunbooksDir: dir, In: strings.NewReader(lines)})
	for _, want := range []string{
		"with your runbooks from " + dir,
		"Runbooks: mine.",
		"left out: ",
		"    mine — say hello",
		"alice in #general> /runbook run mine",
		"#team-room  Runbook: Hello from mine, @alice",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the session lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "sev1-kickoff") {
		t.Errorf("the bundled runbooks were loaded beside yours:\n%s", got)
	}
}

// An approval that expires while the person is at the prompt is printed when it
// expires: no other line is typed until the transcript shows it.
func TestExpiryIsPrintedWhenItHappens(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"risky.yaml": "name: risky\nsteps:\n  - action: approval.request\n    with: { operation: \"Drop the cache\", approvers: [\"@sre\"], timeout: 1s }\n" +
			"  - action: slack.send_message\n    with: { channel: \"#general\", text: \"dropped\" }\n",
	})
	config := filepath.Join(writeFiles(t, map[string]string{"config.yaml": "" +
		"slack:\n  approvalChannel: \"#approvals\"\n" +
		"incidents:\n  severities: [p1, p2]\n" +
		"approvals:\n  approvers: [\"@sre\"]\n" +
		"secrets:\n  deploy_key: ${DEPLOY_KEY_NOT_SET_ANYWHERE}\n"}), "config.yaml")
	in, typing := io.Pipe()
	defer typing.Close()
	out := &notifyBuffer{changed: make(chan struct{}, 1)}
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { done <- demo.Run(ctx, demo.Options{Out: out, In: in, RunbooksDir: dir, ConfigPath: config}) }()

	out.waitFor(t, func(s string) bool { return strings.HasSuffix(s, "alice in #general> ") })
	if _, err := typing.Write([]byte("/runbook run risky\n")); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, func(s string) bool { return strings.Contains(s, "#approvals  Runbook: == Approval needed: APR-1 ==") })
	out.waitFor(t, func(s string) bool { return strings.Contains(s, "stopped, approval expired") })
	typing.Close()
	if err := <-done; err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	got := demo.Normalize(out.String())
	for _, want := range []string{"Groups standing for the people you named: @sre", "severities (p1, p2)", "Expired", "Acting steps stay on this machine"} {
		if !strings.Contains(got, want) {
			t.Errorf("the session lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "dropped") {
		t.Errorf("the step after an expired approval ran:\n%s", got)
	}
}
