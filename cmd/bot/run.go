package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
// printing each problem; teams run it in their own CI, where the secrets the config
// refers to are usually not set: those are noted as not checked, not failed.
//
//	bot validate [--config FILE] [DIR | FILE.yaml]   (flags and the path in any order)
func cmdValidate(args []string, stdout, stderr io.Writer, environ []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(paths) > 1 {
		fmt.Fprintf(stderr, "bot: validate takes one directory or runbook file, got %d: %s\n", len(paths), strings.Join(paths, " "))
		return 2
	}
	if *path == "" {
		*path = defaultConfigPath(environ)
	}
	notChecked := map[string]bool{}
	cfg, err := config.LoadWith(*path, environ, config.LoadOptions{Unset: func(key, name string) {
		if note := fmt.Sprintf("not checked: ${%s} is not set (%s)", name, key); !notChecked[note] {
			notChecked[note] = true
			fmt.Fprintln(stderr, "bot: "+note)
		}
	}})
	if err != nil {
		printError(stderr, err)
		return 1
	}
	if keys := cfg.IgnoredKeys(); len(keys) > 0 {
		fmt.Fprintln(stderr, "bot: ignored, RunbookAI's and of no use to Runbook: "+strings.Join(keys, ", "))
	}
	target := cfg.Runbooks.Dir
	if len(paths) == 1 {
		target = paths[0]
	}
	catalog, code := loadRunbooksToValidate(cfg, target, stderr)
	if catalog == nil {
		return code
	}
	problems := app.UndecidableApprovals(cfg, catalog)
	slackProblems, warnings, notes := app.CheckWithSlack(context.Background(), cfg, catalog)
	problems = append(problems, slackProblems...)
	for _, n := range notes {
		fmt.Fprintln(stderr, "bot: "+n)
	}
	// Warnings do not fail validation: runs skip what they name, and go on.
	for _, w := range warnings {
		fmt.Fprintln(stderr, "bot: warning: "+w)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "%d problem(s)\n", len(problems))
		return 1
	}
	fmt.Fprintf(stdout, "configuration is valid; %d runbook(s) in %s are valid: %s\n", len(catalog.Names()), target, strings.Join(catalog.Names(), ", "))
	return 0
}

// loadRunbooksToValidate loads a directory of runbooks, or one runbook file, printing
// every problem. It returns nil and the exit code when there is any.
func loadRunbooksToValidate(cfg *config.Config, target string, stderr io.Writer) (*runbooks.Catalog, int) {
	settings := app.RunbookSettings(cfg)
	var catalog *runbooks.Catalog
	var err error
	if fi, statErr := os.Stat(target); statErr == nil && !fi.IsDir() {
		var rb *runbooks.Runbook
		if rb, err = settings.LoadFile(target); err == nil {
			catalog = runbooks.NewCatalog(rb)
		}
	} else {
		catalog, err = settings.LoadDir(target)
	}
	if ps, ok := errors.AsType[*runbooks.Problems](err); ok {
		for _, p := range *ps {
			fmt.Fprintln(stderr, p.String())
		}
		fmt.Fprintf(stderr, "%d problem(s) in %s\n", len(*ps), target)
		return nil, 1
	}
	if err != nil {
		printError(stderr, err)
		return nil, 1
	}
	return catalog, 0
}

// parseInterspersed parses fs's flags wherever they are among args (the flag package
// stops at the first argument that is not a flag) and returns the other arguments,
// in order. Everything after "--" is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			return append(rest, left...), nil
		}
		rest, args = append(rest, left[0]), left[1:]
	}
}

// withPlaceholderTokens lets plan run where the tokens are not set: it never connects,
// so a config that refers to ${SLACK_BOT_TOKEN} need not fail.
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

// runbookAIConfigPath is where RunbookAI keeps its configuration, which the bot reads
// as written.
var runbookAIConfigPath = filepath.Join(".runbook", "config.yaml")

// defaultConfigPath is $RUNBOOK_CONFIG, else ./config.yaml if it exists, else
// .runbook/config.yaml if it exists, else none.
func defaultConfigPath(environ []string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "RUNBOOK_CONFIG="); ok && v != "" {
			return v
		}
	}
	for _, path := range []string{"config.yaml", runbookAIConfigPath} {
		if _, err := os.Stat(path); err == nil {
			return path
		}
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
