package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/runbooks"
)

func cmdRun(ctx context.Context, args []string, stderr io.Writer, environ []string) int {
	cfg, code := loadConfig("run", args, stderr, environ)
	if cfg == nil {
		return code
	}
	logger := newLogger(stderr, cfg.Log)
	a, err := app.New(ctx, cfg, app.Options{Logger: logger})
	if err != nil {
		printError(stderr, err)
		return 1
	}
	defer a.Close()
	if err := a.Run(ctx); err != nil {
		printError(stderr, err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// cmdValidate checks the configuration and every runbook without connecting to Slack,
// printing each problem; teams run it in their own CI.
func cmdValidate(args []string, stdout, stderr io.Writer, environ []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "bot: validate takes at most one directory of runbooks")
		return 2
	}
	if *path == "" {
		*path = defaultConfigPath(environ)
	}
	cfg, err := config.Load(*path, withPlaceholderTokens(environ))
	if err != nil {
		printError(stderr, err)
		return 1
	}
	dir := cfg.Runbooks.Dir
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	catalog, err := app.RunbookSettings(cfg).LoadDir(dir)
	if err != nil {
		if ps, ok := errors.AsType[*runbooks.Problems](err); ok {
			for _, p := range *ps {
				fmt.Fprintln(stderr, p.String())
			}
			fmt.Fprintf(stderr, "%d problem(s) in %s\n", len(*ps), dir)
			return 1
		}
		printError(stderr, err)
		return 1
	}
	problems := app.UndecidableApprovals(cfg, catalog)
	slackProblems, note := app.CheckApproversWithSlack(context.Background(), cfg)
	problems = append(problems, slackProblems...)
	if note != "" {
		fmt.Fprintln(stderr, "bot: "+note)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "%d problem(s)\n", len(problems))
		return 1
	}
	fmt.Fprintf(stdout, "configuration is valid; %d runbook(s) in %s are valid: %s\n", len(catalog.Names()), dir, strings.Join(catalog.Names(), ", "))
	return 0
}

// withPlaceholderTokens lets validate run where the tokens are not set (a team's CI):
// it never connects, so a config that refers to ${SLACK_BOT_TOKEN} need not fail.
func withPlaceholderTokens(environ []string) []string {
	out := slices.Clone(environ)
	for name, placeholder := range map[string]string{"SLACK_BOT_TOKEN": "xoxb-validate", "SLACK_APP_TOKEN": "xapp-validate"} {
		if !slices.ContainsFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, name+"=") }) {
			out = append(out, name+"="+placeholder)
		}
	}
	return out
}

// loadConfig parses the subcommand's flags and loads the configuration. It returns nil
// and the exit code when it cannot.
func loadConfig(name string, args []string, stderr io.Writer, environ []string) (*config.Config, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return nil, 2
	}
	if *path == "" {
		*path = defaultConfigPath(environ)
	}
	cfg, err := config.Load(*path, environ)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		printError(stderr, err)
		return nil, 1
	}
	return cfg, 0
}

// defaultConfigPath is $RUNBOOK_CONFIG, else ./config.yaml if it exists, else none.
func defaultConfigPath(environ []string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "RUNBOOK_CONFIG="); ok && v != "" {
			return v
		}
	}
	if _, err := os.Stat("config.yaml"); err == nil {
		return "config.yaml"
	}
	return ""
}

// printError prints one line per problem, never a stack trace; a coded error prints
// its user-facing message.
func printError(w io.Writer, err error) {
	if e, ok := errors.AsType[*runbook.Error](err); ok {
		fmt.Fprintln(w, "bot:", e.Message)
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line != "" {
			fmt.Fprintln(w, "bot:", strings.TrimPrefix(line, "config: "))
		}
	}
}

func newLogger(w io.Writer, cfg config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
