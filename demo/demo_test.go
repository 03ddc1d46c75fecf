package demo_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook/demo"
)

var update = flag.Bool("update", false, "rewrite testdata/transcript.golden")

const golden = "testdata/transcript.golden"

// play runs the demo and returns its normalised output.
func play(t *testing.T, opts demo.Options) string {
	t.Helper()
	var out bytes.Buffer
	opts.Out = &out
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := demo.Run(ctx, opts); err != nil {
		t.Fatalf("demo failed: %v\noutput:\n%s", err, out.String())
	}
	return demo.Normalize(out.String())
}

func TestScriptMatchesGolden(t *testing.T) {
	got := play(t, demo.Options{})
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./demo -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the transcript differs from %s (go test ./demo -update rewrites it):\n%s", golden, diff(string(want), got))
	}
}

// TestGoldenShowsEveryAct guards the golden file itself: rewriting it cannot
// silently drop a part of the story.
func TestGoldenShowsEveryAct(t *testing.T) {
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#general  alice: /runbook declare sev1 checkout Checkout is failing",
		"#incidents  Runbook: 🟠 INC-1 Checkout is failing",
		"#inc-1-checkout  Runbook created the channel",
		"#inc-1-checkout  Runbook set the channel topic: sev1 | detected | Checkout is failing",
		"#inc-1-checkout  bob joined the channel",
		"#inc-1-checkout  Runbook pinned a message",
		"      ↳ Runbook: Runbook R-1 set this channel up.",
		"Deploy API: a stand-in on http://127.0.0.1:PORT",
		"#inc-1-checkout  alice: /runbook run scale-up INC-1 service=checkout count=12 deploy_api=http://127.0.0.1:PORT",
		"#ops  Runbook: == Approval needed: APR-1 ==",
		"    Operation: Scale checkout to 12 tasks",
		"    [Approve] [Deny]",
		"#ops  carol clicks [Approve]",
		"#ops  Runbook (only visible to carol): 🚫 You are not an approver for APR-1.",
		"#ops  bob clicks [Approve]",
		"#ops  Runbook (only visible to bob): ✅ You approved APR-1.",
		"#ops  Runbook edited a message:",
		"    ✅ Approved by @bob at HH:MM UTC",
		"deploy API  received: POST http://127.0.0.1:PORT/services/checkout/scale",
		"    Authorization: Bearer [secret:deploy_token]",
		"    Idempotency-Key: R-2-2-KEY",
		`    {"desired_count":12,`,
		`deploy API  answered: 200 {"service":"checkout","desired_count":12,"previous_count":4,"status":"scaling"}`,
		"#inc-1-checkout  Runbook: ✅ Scaled checkout from 4 to 12 tasks, approved by @bob.",
		"#inc-1-checkout  alice: /runbook resolve INC-1 rolled back the bad deploy",
		"#incidents  Runbook: ✅ INC-1 Checkout is failing is resolved",
		"#inc-1-checkout  Runbook archived the channel",
		"runbook R-2  status    status detected → mitigating",
		"step 2  scale     http.request        succeeded",
		"APR-1  approved by bob",
		"carol  approval.refused",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q", golden, want)
		}
	}
}

// TestStepWaitsForEnter feeds Enter one press at a time and checks that no act starts
// before its press, and that the story is the same as without --step.
func TestStepWaitsForEnter(t *testing.T) {
	in, press := io.Pipe()
	defer press.Close()
	out := &notifyBuffer{changed: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- demo.Run(context.Background(), demo.Options{Out: out, In: in, Step: true}) }()
	const prompt = "(press Enter for the next act)"
	for act := 2; act <= 5; act++ {
		out.waitFor(t, func(s string) bool { return strings.Count(s, prompt) == act-1 })
		if strings.Contains(out.String(), fmt.Sprintf("=== Act %d", act)) {
			t.Fatalf("act %d started before Enter was pressed", act)
		}
		press.Write([]byte("\n"))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(golden)
	got := demo.Normalize(strings.ReplaceAll(out.String(), "\n"+prompt+"\n", ""))
	if got != string(want) {
		t.Errorf("with --step the transcript differs:\n%s", diff(string(want), got))
	}
}

func TestInteractive(t *testing.T) {
	lines := []string{
		"/runbook declare sev1 checkout Checkout is failing",
		"/runbook run scale-up INC-1 service=checkout count=12",
		"as bob",
		"/runbook status INC-1",
		"in #ops",
		"@Runbook approvals",
		"click 1",
		"click 1",
		"quit",
		"/runbook never reached",
	}
	got := play(t, demo.Options{Interactive: true, In: strings.NewReader(strings.Join(lines, "\n") + "\n")})
	for _, want := range []string{
		"alice in #general> /runbook declare sev1 checkout Checkout is failing\n#general  alice: /runbook declare",
		"#ops  Runbook: == Approval needed: APR-1 ==",
		"    (click 1 = [Approve], click 2 = [Deny])",
		"(You are bob now.)",
		"#general  Runbook (only visible to bob): 🟠 INC-1 Checkout is failing",
		"(You are in #ops now.)",
		"#ops  bob: @Runbook approvals",
		"#ops      ↳ Runbook: ",
		"#ops  bob clicks [Approve]",
		"#ops  Runbook (only visible to bob): ✅ You approved APR-1.",
		"([Approve] is no longer on its message)",
		"bob in #ops> quit",
		"APR-1  approved by bob",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the session lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "never reached") {
		t.Error("a line after quit was acted on")
	}
}

func TestInteractiveEndsAtEndOfInput(t *testing.T) {
	got := play(t, demo.Options{Interactive: true, In: strings.NewReader("as carol")})
	if !strings.Contains(got, "(You are carol now.)") || !strings.Contains(got, "=== What the database holds ===") {
		t.Fatalf("output:\n%s", got)
	}
}

func TestVerboseShowsTheBotsLogs(t *testing.T) {
	var logs bytes.Buffer
	play(t, demo.Options{Verbose: true, Log: &logs})
	if !strings.Contains(logs.String(), "runbooks loaded") {
		t.Errorf("--verbose did not show the bot's logs:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "xoxb-") || strings.Contains(logs.String(), "xapp-") {
		t.Error("a token appeared in the logs")
	}
	logs.Reset()
	play(t, demo.Options{Log: &logs})
	if logs.Len() != 0 {
		t.Errorf("without --verbose the logs are shown:\n%s", logs.String())
	}
}

func TestLeavesNothingBehind(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	play(t, demo.Options{})
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Fatalf("the demo left %v behind", left)
	}
}

func TestFailureIsOneLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := demo.Run(ctx, demo.Options{Out: io.Discard})
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error = %q; want one line", err)
	}
}

// notifyBuffer is an output that says when it is written to.
type notifyBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *notifyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *notifyBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *notifyBuffer) waitFor(t *testing.T, cond func(string) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond(b.String()) {
		select {
		case <-b.changed:
		case <-deadline:
			t.Fatalf("timed out; output so far:\n%s", b.String())
		}
	}
}

// diff shows the first line where two transcripts differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		wl, gl := line(w, i), line(g, i)
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, wl, gl)
		}
	}
	return "(no difference)"
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}
