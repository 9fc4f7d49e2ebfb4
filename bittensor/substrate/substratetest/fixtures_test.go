package substratetest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fatalRecorder is a testing.TB whose Fatal and Skip end the calling
// goroutine and remember which of the two happened.
type fatalRecorder struct {
	testing.TB
	fatal, skipped string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = format
	runtime.Goexit()
}
func (r *fatalRecorder) Fatal(args ...any) { r.Fatalf("fatal"); runtime.Goexit() }
func (r *fatalRecorder) Skip(args ...any)  { r.skipped = "skip"; runtime.Goexit() }
func (r *fatalRecorder) Skipf(format string, args ...any) {
	r.skipped = format
	runtime.Goexit()
}
func (r *fatalRecorder) SkipNow() { r.skipped = "skip"; runtime.Goexit() }

func callFixture(t *testing.T, elem ...string) *fatalRecorder {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Fixture(r, elem...)
	}()
	<-done
	return r
}

func TestFixturesLiveInTheRepository(t *testing.T) {
	t.Setenv(FixturesEnv, "")
	d := FixturesDir(t)
	root := filepath.Dir(d)
	if filepath.Base(d) != "testdata" {
		t.Fatalf("fixtures dir %s, want the repository's testdata/", d)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not beside go.mod: %v", d, err)
	}
	// Every recorded file is described in testdata/README.md, so nobody
	// has to guess where a file came from or how to refresh it.
	readme, err := os.ReadFile(filepath.Join(d, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sub := range []string{"chain", "wallet"} {
		ents, err := os.ReadDir(filepath.Join(d, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			n++
			if !strings.Contains(string(readme), "`"+e.Name()+"`") {
				t.Errorf("testdata/%s/%s is not described in testdata/README.md", sub, e.Name())
			}
		}
	}
	if n < 8 {
		t.Errorf("%d recorded files, want the 8 the tests read", n)
	}
}

func TestMissingFixtureFails(t *testing.T) {
	t.Setenv("CI", "")
	if r := callFixture(t, "chain", "no-such-file.json"); r.fatal == "" || r.skipped != "" {
		t.Errorf("missing file: fatal %q, skipped %q; want a failure", r.fatal, r.skipped)
	}
	t.Setenv(FixturesEnv, filepath.Join(t.TempDir(), "absent"))
	if r := callFixture(t, "chain", "mainnet_metadata_v14.hex"); r.fatal == "" || r.skipped != "" {
		t.Errorf("missing %s dir: fatal %q, skipped %q; want a failure", FixturesEnv, r.fatal, r.skipped)
	}
}

func TestFixturesEnvOverrides(t *testing.T) {
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, "chain"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "chain", "x.hex"), []byte("0x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(FixturesEnv, other)
	if got := Fixture(t, "chain", "x.hex"); got != filepath.Join(other, "chain", "x.hex") {
		t.Errorf("Fixture = %s, want the override", got)
	}
}
