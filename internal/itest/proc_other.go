//go:build !unix

package itest

import "os/exec"

func ownProcessGroup(*exec.Cmd) {}

// interrupt kills go test; without process groups the test binary it
// started finishes on its own, bounded by the tests' request timeouts.
func interrupt(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func killGroup(*exec.Cmd) {}
