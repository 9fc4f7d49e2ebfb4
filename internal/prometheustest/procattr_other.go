//go:build !linux

package prometheustest

import "syscall"

// sysProcAttr has nothing to add outside Linux; Cleanup stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
