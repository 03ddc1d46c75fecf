// Package demo runs Runbook against the built-in Slack emulator and plays a scripted
// incident, printing the conversation as a transcript: `bot demo`.
//
// The bot is the real one (app.New and App.Run, unmodified), connected to a
// slackfake.Server on 127.0.0.1 with a temporary database and the example runbooks.
// Each act is delivered through the emulator exactly as Slack would deliver it, and
// the transcript is built from what the emulator saw (its messages and its Web API
// call log), never from the bot's internals.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/runbookhq/runbook/internal/apptest"
)

// Options say how the demo runs.
type Options struct {
	// Out receives the transcript.
	Out io.Writer
	// In is read by Step (Enter between acts) and Interactive (lines typed).
	In io.Reader
	// Log receives the bot's logs when Verbose is set; Out when nil.
	Log io.Writer
	// Step waits for Enter on In between acts.
	Step bool
	// Interactive lets a person type as a user instead of playing the script.
	Interactive bool
	// Verbose shows the bot's logs; otherwise they are discarded.
	Verbose bool
	// RunbooksDir, when set, is a directory of your runbooks, loaded instead of the
	// bundled ones. It implies Interactive: the script tells the story of the bundled
	// runbooks, so with yours you play it yourself.
	RunbooksDir string
	// ConfigPath, when set, is your configuration file: its severities, statuses,
	// services, channels, approvers, permissions, actions limits and secret names are
	// used (never its tokens, store or secret values), and its runbooks.dir unless
	// RunbooksDir is set. It implies Interactive.
	ConfigPath string
}

// Run sets up the emulator and the bot, plays the script (or the interactive
// session), prints what the database holds, and cleans up. The error is one line.
func Run(ctx context.Context, opts Options) error {
	return oneLine(run(ctx, opts, nil))
}

// run is Run; inspect, when set, sees the world once the demo has played, before it
// is stopped (the tests read what the stand-in deploy API received).
func run(ctx context.Context, opts Options, inspect func(*world)) (err error) {
	out := &syncWriter{SyncWriter: apptest.SyncWriter{W: opts.Out}}
	if opts.Out == nil {
		out.W = io.Discard
	}
	logs := io.Discard
	if opts.Verbose {
		logs = out
		if opts.Log != nil {
			logs = &apptest.SyncWriter{W: opts.Log}
		}
	}
	var y *yours
	if opts.RunbooksDir != "" || opts.ConfigPath != "" {
		if y, err = loadYours(opts.RunbooksDir, opts.ConfigPath); err != nil {
			return err
		}
		opts.Interactive = true
	}
	w, err := startWorld(ctx, logs, y)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, w.stop()) }()
	d := &director{w: w, out: out, in: newInput(orEmpty(opts.In)), step: opts.Step, echo: !isTerminal(opts.In)}
	if opts.Interactive {
		err = d.interactive(ctx)
	} else {
		err = d.script(ctx)
	}
	if err == nil {
		err = printSummary(ctx, w, out)
	}
	if inspect != nil {
		inspect(w)
	}
	return err
}

// oneLine keeps an error to the single line the command prints.
func oneLine(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	return errors.New(msg)
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}

// syncWriter lets the transcript and the bot's logs share one writer.
type syncWriter struct{ apptest.SyncWriter }

func (s *syncWriter) printf(format string, args ...any) {
	fmt.Fprintf(s, format, args...)
}
