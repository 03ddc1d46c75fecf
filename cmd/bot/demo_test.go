package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/demo"
)

// runDemo runs `bot demo args…` with input as its stdin.
func runDemo(t *testing.T, input string, args ...string) (int, string, string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(input)
	t.Cleanup(func() { stdin = old })
	var out, errOut strings.Builder
	code := run(context.Background(), append([]string{"demo"}, args...), &out, &errOut, nil)
	return code, out.String(), errOut.String()
}

func TestDemoMatchesGolden(t *testing.T) {
	code, out, errOut := runDemo(t, "")
	if code != 0 {
		t.Fatalf("bot demo exited %d: %s", code, errOut)
	}
	want, err := os.ReadFile("../../demo/testdata/transcript.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got := demo.Normalize(out); got != string(want) {
		t.Errorf("bot demo differs from demo/testdata/transcript.golden (go test ./demo -update rewrites it):\n%s", got)
	}
	if errOut != "" {
		t.Errorf("bot demo wrote to stderr without --verbose:\n%s", errOut)
	}
}

func TestDemoStep(t *testing.T) {
	code, out, errOut := runDemo(t, "\n\n\n\n", "--step")
	if code != 0 {
		t.Fatalf("bot demo --step exited %d: %s", code, errOut)
	}
	if n := strings.Count(out, "(press Enter for the next act)"); n != 4 {
		t.Errorf("%d prompts between the 5 acts, want 4:\n%s", n, out)
	}
	if !strings.Contains(out, "#inc-1-checkout  Runbook archived the channel") {
		t.Errorf("bot demo --step did not play to the end:\n%s", out)
	}
}

func TestDemoInteractive(t *testing.T) {
	input := "/runbook declare sev1 checkout Checkout is failing\n/runbook run scale-up INC-1 service=checkout count=12\n" +
		"as bob\n/runbook status INC-1\nclick 1\nquit\n"
	code, out, errOut := runDemo(t, input, "--interactive")
	if code != 0 {
		t.Fatalf("bot demo --interactive exited %d: %s", code, errOut)
	}
	for _, want := range []string{
		"#general  Runbook (only visible to bob): 🟠 INC-1 Checkout is failing",
		"#ops  bob clicks [Approve]",
		"#ops  Runbook (only visible to bob): ✅ You approved APR-1.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the session lacks %q:\n%s", want, out)
		}
	}
}

func TestDemoVerbose(t *testing.T) {
	code, _, errOut := runDemo(t, "", "--verbose")
	if code != 0 || !strings.Contains(errOut, "runbooks loaded") {
		t.Fatalf("bot demo --verbose: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestDemoFailureIsOneLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut strings.Builder
	code := run(ctx, []string{"demo"}, &out, &errOut, nil)
	if code != 1 || !strings.HasPrefix(errOut.String(), "bot: demo failed: ") || strings.Count(errOut.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 1 and one line", code, errOut.String())
	}
}

func TestDemoFlags(t *testing.T) {
	if code, _, errOut := runDemo(t, "", "--frobnicate"); code != 2 || !strings.Contains(errOut, "frobnicate") {
		t.Errorf("unknown flag: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runDemo(t, "", "extra"); code != 2 || !strings.Contains(errOut, "no arguments") {
		t.Errorf("an argument: exit %d, %q", code, errOut)
	}
	if code, out := runBot(t, nil, "help"); code != 0 || !strings.Contains(out, "bot demo") {
		t.Errorf("help does not list demo: %q", out)
	}
}

func TestDemoPlaysYourRunbooks(t *testing.T) {
	dir := t.TempDir()
	mine := "name: mine\nsteps:\n  - action: slack.send_message\n    with: { channel: \"#general\", text: \"mine says hi\" }\n"
	if err := os.WriteFile(dir+"/mine.yaml", []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runDemo(t, "/runbook run mine\nquit\n", "--runbooks", dir)
	if code != 0 {
		t.Fatalf("bot demo --runbooks exited %d: %s", code, errOut)
	}
	if !strings.Contains(out, "#general  Runbook: mine says hi") || !strings.Contains(out, "Runbooks: mine.") {
		t.Errorf("bot demo --runbooks did not play mine:\n%s", out)
	}
	if code, _, errOut := runDemo(t, "", "--runbooks", dir, "--step"); code != 2 || !strings.Contains(errOut, "--step plays the script") {
		t.Errorf("--runbooks with --step exited %d: %s", code, errOut)
	}
	if code, _, errOut := runDemo(t, "", "--runbooks", dir+"/nowhere"); code != 1 || !strings.Contains(errOut, "nowhere") {
		t.Errorf("a missing runbooks directory exited %d: %s", code, errOut)
	}
}
