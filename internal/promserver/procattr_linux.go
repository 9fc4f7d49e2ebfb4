package promserver

import "syscall"

// sysProcAttr makes the kernel kill the server if its parent dies without
// stopping it (a panic, SIGKILL), so no server outlives the test or demo
// that started it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
