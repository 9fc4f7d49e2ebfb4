//go:build !linux

package promserver

import "syscall"

// sysProcAttr has nothing to add outside Linux; Stop ends the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
