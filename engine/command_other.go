//go:build !unix

package engine

import "os/exec"

// killGroup kills only the command itself where process groups are not available.
func killGroup(*exec.Cmd) {}
