package pyoracle

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

func TestFindDir(t *testing.T) {
	dir := oracletest.ToolsDir("pyoracle")
	if dir == "" {
		t.Fatal("tools/pyoracle not found from the package directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "session.py")); err != nil {
		t.Fatalf("session.py missing in %s: %v", dir, err)
	}
}

// The oracle's json.dumps answer proves the interpreter, the script and the
// JSON plumbing work together; the expected text is Python's documented
// default formatting.
func TestRunDumps(t *testing.T) {
	type req struct {
		Op     string `json:"op"`
		JSON   string `json:"json"`
		Record bool   `json:"record"`
	}
	type resp struct {
		Text string `json:"text"`
	}
	out := Ask[resp](t, "session.py", []req{
		{Op: "dumps", JSON: `{"b":[1,2.5],"a":"é"}`, Record: true},
		{Op: "dumps", JSON: `{"b":[1,2.5],"a":"é"}`, Record: false},
	})
	if want := `{"a": "é", "b": [1, 2.5]}`; out[0].Text != want {
		t.Errorf("record form = %q, want %q", out[0].Text, want)
	}
	if want := `{"b": [1, 2.5], "a": "\u00e9"}`; out[1].Text != want {
		t.Errorf("default form = %q, want %q", out[1].Text, want)
	}
}

func TestRunReportsScriptFailure(t *testing.T) {
	python, script := Script(t, "session.py")
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var out any
		oracletest.RunWith(ft, python, script, []map[string]string{{"op": "no-such-op"}}, &out)
	}()
	<-done
	if !ft.failed {
		t.Fatal("Run did not fail on a script error")
	}
}

// fakeTB records Fatal calls; Fatalf must stop the goroutine as FailNow does.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

func (f *fakeTB) Fatal(...any) {
	f.failed = true
	runtime.Goexit()
}
