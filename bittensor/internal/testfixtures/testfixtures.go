// Package testfixtures finds the recorded chain and wallet fixtures that the
// bittensor packages' tests use.
package testfixtures

import (
	"os"
	"path/filepath"
	"testing"
)

// Env overrides where the fixtures are.
const Env = "VIGIL_FIXTURES"

// Dir returns the fixtures directory: $VIGIL_FIXTURES, else shared/fixtures
// beside the repository root. When it is missing the test is skipped, or
// failed under CI=true, where the fixtures must be present.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(Env); d != "" {
		return mustExist(t, d)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return mustExist(t, filepath.Join(dir, "..", "shared", "fixtures"))
		}
		if filepath.Dir(dir) == dir {
			return mustExist(t, "")
		}
	}
}

// Path joins elements onto Dir.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}

func mustExist(t testing.TB, d string) string {
	t.Helper()
	if d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	msg := "fixtures not found (set " + Env + " or keep shared/fixtures beside the repository)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
