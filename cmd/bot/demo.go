package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/runbookhq/runbook/demo"
)

// stdin is what `bot demo --step` and `--interactive` read; tests replace it.
var stdin io.Reader = os.Stdin

// cmdDemo runs the real bot against the built-in Slack emulator and plays a scripted
// incident (or lets a person type), printing the conversation.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, _ []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	step := fs.Bool("step", false, "wait for Enter between acts")
	interactive := fs.Bool("interactive", false, "type as a person instead of playing the script")
	verbose := fs.Bool("verbose", false, "show the bot's logs (on stderr)")
	runbooksDir := fs.String("runbooks", "", "try your runbooks from this directory (implies --interactive)")
	configPath := fs.String("config", "", "use your config's severities, statuses, services, channels, approvers, permissions and actions limits (implies --interactive)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bot: demo takes no arguments, got %q\n", fs.Arg(0))
		return 2
	}
	if *step && (*runbooksDir != "" || *configPath != "") {
		fmt.Fprintln(stderr, "bot: demo --step plays the script of the bundled runbooks; with --runbooks or --config you type (interactive)")
		return 2
	}
	err := demo.Run(ctx, demo.Options{Out: stdout, In: stdin, Log: stderr,
		Step: *step, Interactive: *interactive, Verbose: *verbose, RunbooksDir: *runbooksDir, ConfigPath: *configPath})
	if err != nil {
		fmt.Fprintln(stderr, "bot: demo failed:", err)
		return 1
	}
	return 0
}
