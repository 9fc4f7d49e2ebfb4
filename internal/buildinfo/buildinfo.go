// Package buildinfo carries the version stamped into the binary at build time.
package buildinfo

import (
	"fmt"
	"runtime"
)

// Set through -ldflags "-X …" by the Makefile; the defaults mark a build
// made without it (go run, go test).
var (
	Version = "dev"
	Commit  = "unknown"
)

// String describes the build in one line.
func String() string {
	return fmt.Sprintf("vigil %s (commit %s, %s, %s/%s)", Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
