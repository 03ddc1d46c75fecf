package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
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

func cmdValidate(args []string, stdout, stderr io.Writer, environ []string) int {
	cfg, code := loadConfig("validate", args, stderr, environ)
	if cfg == nil {
		return code
	}
	fmt.Fprintln(stdout, "configuration is valid")
	return 0
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
