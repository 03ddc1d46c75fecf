package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

// MaxCommandOutput is the most of a command's stdout and of its stderr that is kept:
// the last bytes, where the outcome usually is.
const MaxCommandOutput = 16 << 10

// inheritedEnv are the only variables a command gets from the bot's environment: the
// bot's tokens and anything else in it stay out of the commands it runs.
var inheritedEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ"}

// CommandSettings configure command.run.
type CommandSettings struct {
	// Allowed are actions.command.allowed: the program names and absolute paths that
	// may run. Empty allows none.
	Allowed []string
	// Environ is the bot's environment (os.Environ when nil).
	Environ func() []string
}

// commandActions run programs.
type commandActions struct {
	e   *Executor
	cfg CommandSettings
}

// CommandActions lets runbooks run allowed programs.
func CommandActions(cfg CommandSettings) Family {
	if cfg.Environ == nil {
		cfg.Environ = os.Environ
	}
	return &commandActions{cfg: cfg}
}

func (f *commandActions) register(e *Executor) {
	f.e = e
	e.actions["command.run"] = action{do: f.run, plan: f.plan}
}

// invocation is a rendered command.run step.
type invocation struct {
	argv    []string
	env     []string // the step's own variables, NAME=value
	dir     string
	stdin   *string
	timeout time.Duration
}

// render fills in the step's inputs and checks the program against the allowlist.
func (f *commandActions) render(s *stepRun) (*invocation, error) {
	v, err := runbooks.RenderMachineValue(s.def.With, s.data)
	if err != nil {
		return nil, err
	}
	in := v.(map[string]any)
	inv := &invocation{}
	list, _ := in["command"].([]any)
	for _, a := range list {
		inv.argv = append(inv.argv, fmt.Sprint(a))
	}
	if len(inv.argv) == 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "command is empty")
	}
	if !runbooks.ProgramAllowed(f.cfg.Allowed, inv.argv[0]) {
		return nil, runbook.Errorf(runbook.EINVALID, "program %q is not in actions.command.allowed", inv.argv[0])
	}
	if env, ok := in["env"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(env)) {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				return nil, runbook.Errorf(runbook.EINVALID, "env: %q is not a variable name", k)
			}
			inv.env = append(inv.env, k+"="+fmt.Sprint(env[k]))
		}
	}
	r := &stepRun{def: s.def, in: in}
	inv.dir = r.str("dir")
	if _, ok := in["stdin"]; ok {
		text := fmt.Sprint(in["stdin"])
		inv.stdin = &text
	}
	if inv.timeout, err = time.ParseDuration(r.str("timeout")); err != nil || inv.timeout <= 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "timeout %q is not a duration like 5m", r.str("timeout"))
	}
	return inv, nil
}

// run runs a command.run step. A command that an earlier attempt started — the
// process died or stopped while it ran — is not run again unless the step says it is
// idempotent: whether it finished cannot be known.
func (f *commandActions) run(ctx context.Context, s *stepRun) (map[string]any, error) {
	if started, _ := s.progress["started"].(string); started != "" && !s.def.Idempotent {
		return nil, runbook.Errorf(runbook.EINVALID, "interrupted; may or may not have completed (it started at %s and Runbook stopped while it ran; mark the step idempotent: true to have it run again)", started)
	}
	inv, err := f.render(s)
	if err != nil {
		return nil, err
	}
	program, err := f.locate(inv.argv[0])
	if err != nil {
		return nil, err
	}
	// Stored before the process starts, so a restart knows it may have run.
	if err := s.saveProgress(ctx, map[string]any{"started": f.e.d.Now().UTC().Format(time.RFC3339)}); err != nil {
		return nil, err
	}
	start := f.e.d.Now()
	stdout, stderr, exitCode, err := f.exec(ctx, program, inv)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out := map[string]any{"exit_code": exitCode, "stdout": stdout, "stderr": stderr, "duration_ms": f.e.d.Now().Sub(start).Milliseconds()}
	switch {
	case err != nil:
		return nil, failedWith(err, out)
	case exitCode != 0:
		why := fmt.Sprintf("exit %d", exitCode)
		if t := strings.TrimSpace(stderr); t != "" {
			why += ": " + tail(t, 300)
		}
		return nil, failedWith(runbook.Errorf(runbook.EINVALID, "%s", why), out)
	}
	return out, nil
}

// locate finds the program: an absolute path as it is, a name on PATH.
func (f *commandActions) locate(name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", runbook.Errorf(runbook.EINVALID, "program %q is not installed where Runbook runs (not found on PATH)", name)
	}
	return path, nil
}

// exec runs the program and waits for it, killing it (and what it started) at the
// timeout or when ctx ends.
func (f *commandActions) exec(ctx context.Context, program string, inv *invocation) (stdout, stderr string, exitCode int, err error) {
	ctx, cancel := context.WithTimeout(ctx, inv.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, inv.argv[1:]...)
	cmd.Args[0] = inv.argv[0]
	cmd.Dir = inv.dir
	cmd.Env = append(f.baseEnv(), inv.env...)
	if inv.stdin != nil {
		cmd.Stdin = strings.NewReader(*inv.stdin)
	}
	// Secrets are masked before the output is cut, so that none is kept in part.
	margin := f.e.secrets.margin()
	out, errOut := &tailBuffer{keep: MaxCommandOutput + margin}, &tailBuffer{keep: MaxCommandOutput + margin}
	cmd.Stdout, cmd.Stderr = out, errOut
	killGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	stdout, stderr = out.text(f.e.secrets), errOut.text(f.e.secrets)
	if ee, ok := errors.AsType[*exec.ExitError](runErr); ok && ctx.Err() == nil {
		return stdout, stderr, ee.ExitCode(), nil
	}
	switch {
	case runErr == nil:
		return stdout, stderr, 0, nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return stdout, stderr, -1, runbook.Errorf(runbook.EINVALID, "killed after %s (the step's timeout)", inv.timeout)
	case ctx.Err() != nil:
		return stdout, stderr, -1, ctx.Err()
	}
	return stdout, stderr, -1, runbook.Errorf(runbook.EINVALID, "could not start %s: %v", inv.argv[0], unwrapPathError(runErr))
}

func unwrapPathError(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

// baseEnv is the part of the bot's environment a command inherits.
func (f *commandActions) baseEnv() []string {
	var env []string
	for _, kv := range f.cfg.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(inheritedEnv, name) {
			env = append(env, kv)
		}
	}
	return env
}

// plan says what the step would run.
func (f *commandActions) plan(_ context.Context, s *stepRun) (string, error) {
	inv, err := f.render(s)
	if err != nil {
		return "", err
	}
	quoted := make([]string, len(inv.argv))
	for i, a := range inv.argv {
		quoted[i] = shellQuote(a)
	}
	text := strings.Join(quoted, " ")
	if len(inv.env) > 0 {
		text = strings.Join(inv.env, " ") + " " + text
	}
	if inv.dir != "" {
		text += "\n(in " + inv.dir + ")"
	}
	return text, nil
}

// shellQuote shows an argument the way a person would type it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}();&|<>!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tailBuffer keeps the last keep bytes written to it.
type tailBuffer struct {
	keep int
	buf  []byte
	cut  bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.keep; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

// text is the last MaxCommandOutput bytes, with secrets masked. A secret the cut went
// through is in the first bytes of what was kept, which are dropped after masking.
func (t *tailBuffer) text(s *secrets) string {
	text := s.mask(string(t.buf))
	if t.cut {
		text = text[min(s.margin(), len(text)):]
	}
	if len(text) > MaxCommandOutput {
		text, t.cut = text[len(text)-MaxCommandOutput:], true
	}
	text = strings.ToValidUTF8(text, "")
	if t.cut {
		return "…" + strings.TrimLeftFunc(text, func(r rune) bool { return r == utf8.RuneError })
	}
	return text
}
