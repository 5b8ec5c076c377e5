//go:build unix

package itest

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts go test and the test binary it starts in a process
// group of their own, so that cancelling can reach both.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interrupt sends SIGINT to the whole group, as Ctrl-C in a terminal would:
// the test binary stops and go test reports what ran so far.
func interrupt(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
}

// killGroup kills what is left of the group after an interrupted run: a
// process that ignored SIGINT, or one the command started and left behind.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH: the group is gone already
}
