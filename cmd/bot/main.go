// Command bot runs Runbook, the Slack bot that runs incident runbooks from chat.
//
//	bot [run] [--config FILE]   connect to Slack and serve (the default)
//	bot validate [--config FILE] [DIR|FILE.yaml]  check the configuration and runbooks without connecting
//	bot plan NAME [key=value …]  show what a runbook would do, doing nothing
//	bot healthcheck             ask a running bot's /healthz (a container HEALTHCHECK)
//	bot approval request …      ask a running bot for an approval, from a pipeline
//	bot version                 print the version, commit and Go release
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second signal while shutting down forces the exit.
	go func() {
		<-ctx.Done()
		stop()
		forced := make(chan os.Signal, 1)
		signal.Notify(forced, os.Interrupt, syscall.SIGTERM)
		<-forced
		fmt.Fprintln(os.Stderr, "bot: second signal, exiting now")
		os.Exit(130)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
}

const usage = `Runbook runs incident runbooks from Slack.

Usage:
  bot [run] [--config FILE]        connect to Slack and serve (the default)
  bot validate [--config FILE] [DIR|FILE.yaml]
                                   check the configuration and runbooks without connecting
  bot plan NAME [key=value …]      show what a runbook would do, doing nothing (bot plan -h)
  bot demo [--step|--interactive]  play an incident against a built-in Slack emulator
  bot demo --runbooks DIR [--config FILE]
                                   try your runbooks there, interactively
  bot healthcheck [--url URL]      ask a running bot's /healthz; exit 0 if healthy
  bot approval request --url URL --operation TEXT [--wait] [flags]
                                   ask a running bot for an approval (token in
                                   $RUNBOOK_API_TOKEN); with --wait exit 0 approved,
                                   1 denied or cancelled, 2 expired, 3 error
  bot version, bot --version       print the version, commit and Go release
  bot help                         show this help

The configuration file defaults to $RUNBOOK_CONFIG, else config.yaml if it exists,
else .runbook/config.yaml (RunbookAI's, read as written) if it exists.
Environment variables override it: SLACK_BOT_TOKEN, SLACK_APP_TOKEN, and
RUNBOOK_<SECTION>__<KEY> (for example RUNBOOK_STORE__PATH). RUNBOOK_DEFAULT__<KEY>
sets a key only where neither the file nor RUNBOOK_<KEY> does (the container image's
paths and listener).
`

// run is the whole program, minus the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	name := "run"
	if len(args) > 0 && (len(args[0]) > 0 && args[0][0] != '-' || args[0] == "--version" || args[0] == "-version") {
		name, args = args[0], args[1:]
	}
	environ = withDefaults(args, environ)
	switch name {
	case "run":
		return cmdRun(ctx, args, stderr, environ)
	case "validate":
		return cmdValidate(args, stdout, stderr, environ)
	case "plan":
		return cmdPlan(ctx, args, stdout, stderr, environ)
	case "demo":
		return cmdDemo(ctx, args, stdout, stderr, environ)
	case "healthcheck":
		return cmdHealthcheck(ctx, args, stdout, stderr, environ)
	case "approval":
		return cmdApproval(ctx, args, stdout, stderr, environ)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "bot: unknown command %q\n\n%s", name, usage)
	return 2
}
