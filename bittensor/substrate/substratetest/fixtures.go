package substratetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FixturesEnv overrides where the recorded fixtures are.
const FixturesEnv = "VIGIL_FIXTURES"

// Dir returns the recorded fixtures directory: $VIGIL_FIXTURES when set, else
// testdata/ at the repository root (the directory holding go.mod, found by
// walking up from the working directory). It does not check that it exists.
func Dir() (string, error) {
	if d := os.Getenv(FixturesEnv); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("no go.mod above " + wd)
		}
	}
}

// FixturesDir returns Dir and fails the test when it is missing: the
// fixtures are part of the repository, so their absence is a broken checkout
// (or a wrong $VIGIL_FIXTURES), never a reason to test less.
func FixturesDir(t testing.TB) string {
	t.Helper()
	d, err := Dir()
	if err != nil {
		t.Fatalf("recorded fixtures: %v", err)
	}
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		t.Fatalf("recorded fixtures not found at %s (they live in the repository's testdata/; %s overrides the path)", d, FixturesEnv)
	}
	return d
}

// Fixture joins elements onto FixturesDir and fails the test when the file
// is missing.
func Fixture(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{FixturesDir(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("recorded fixture: %v", err)
	}
	return p
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
