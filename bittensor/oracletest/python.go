package oracletest

import (
	"os"
	"os/exec"
	"testing"
)

// Python returns the Python 3 interpreter tests compare against:
// $VIGIL_PYTHON (scripts/test-deps.sh sets it), else python3 on PATH. A
// test without one is skipped, or failed under CI=true, where the
// comparison is required.
func Python(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VIGIL_PYTHON"); p != "" {
		return p
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 required under CI=true for the comparison with Python")
		}
		t.Skip("python3 not found")
	}
	return p
}
