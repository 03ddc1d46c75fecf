//go:build unix

package engine

import (
	"os/exec"
	"syscall"
)

// killGroup makes the command the leader of its own process group and has a cancel
// kill the whole group, so that what it started (a shell's children) dies with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
