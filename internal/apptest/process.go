package apptest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is the bot binary, run as a subprocess against a workspace.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's, once done is closed
}

// StartProcess runs `binary run --config configPath` in the configuration file's
// directory, with the workspace's tokens in its environment and no other RUNBOOK_ or
// SLACK_ variable that could override the file; its output goes to out. It does not
// wait for the connection (Workspace.WaitConnected does).
func StartProcess(binary, configPath string, ws *Workspace, out io.Writer) (*Process, error) {
	cmd := exec.Command(binary, "run", "--config", configPath)
	cmd.Env = Environ(ws)
	cmd.Dir = filepath.Dir(configPath)
	cmd.Stdout, cmd.Stderr = out, out
	// Wait returns even if something the bot started holds its output open.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Environ is the bot binary's environment: this process's, without RUNBOOK_ and SLACK_
// variables, with the workspace's tokens and the signing secret of HTTP mode.
func Environ(ws *Workspace) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RUNBOOK_") && !strings.HasPrefix(kv, "SLACK_") {
			env = append(env, kv)
		}
	}
	return append(env, "SLACK_BOT_TOKEN="+ws.Slack.BotToken(), "SLACK_APP_TOKEN="+ws.Slack.AppToken(),
		"SLACK_SIGNING_SECRET="+SigningSecret,
		// A race-enabled binary otherwise sleeps a second at exit, which is not the bot's
		// shutdown time.
		"GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool { return closed(p.done) }

// Done is closed once the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (exec.Cmd.Wait's error); nil while it runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// ExitCode is the process's exit code, or -1 while it runs or if a signal ended it.
func (p *Process) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Terminate sends SIGTERM and waits for the process to exit; if it outlives timeout, it
// is killed and Terminate says so. Otherwise it returns how the process ended.
func (p *Process) Terminate(timeout time.Duration) error {
	if p.Exited() {
		return p.err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-t.C:
		p.Kill()
		return fmt.Errorf("the bot did not exit within %s of SIGTERM; killed", timeout)
	}
}
