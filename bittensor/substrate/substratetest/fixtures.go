package substratetest

import (
	"os"
	"path/filepath"
	"testing"
)

// FixturesEnv overrides where the recorded fixtures are.
const FixturesEnv = "VIGIL_FIXTURES"

// FixturesDir returns the fixtures directory: $VIGIL_FIXTURES, else shared/fixtures
// beside the repository root. When it is missing the test is skipped, or
// failed under CI=true, where the fixtures must be present.
func FixturesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(FixturesEnv); d != "" {
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

// Fixture joins elements onto FixturesDir.
func Fixture(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{FixturesDir(t)}, elem...)...)
}

func mustExist(t testing.TB, d string) string {
	t.Helper()
	if d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	msg := "fixtures not found (set " + FixturesEnv + " or keep shared/fixtures beside the repository)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// RecordedNode serves the recorded mainnet traffic of the given seeds for the
// length of a test.
func RecordedNode(t testing.TB, seeds ...string) *Node {
	t.Helper()
	rec, err := LoadRecordings(Fixture(t, "chain", "mainnet_rpc_recordings.json"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := NewNode(rec, seeds...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	return node
}
