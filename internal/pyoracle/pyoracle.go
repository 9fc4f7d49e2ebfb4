// Package pyoracle runs the Python cross-check scripts of tools/pyoracle from
// Go tests. The scripts answer with Python's own json module and the
// `cryptography` package (Debian's python3-cryptography), which
// scripts/python-deps.sh finds or installs.
package pyoracle

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

// PythonEnv names the interpreter; scripts/test-deps.sh sets it.
const PythonEnv = "VIGIL_PYTHON"

// Script returns a python3 that imports cryptography and the path of
// tools/pyoracle/<name>. When either is missing the test is skipped, or
// failed under CI=true, where the cross-checks are required.
func Script(t testing.TB, name string) (python, script string) {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) + "; run scripts/python-deps.sh (make test does)"
		if os.Getenv("CI") == "true" {
			t.Fatal("python oracle required under CI=true: " + msg)
		}
		t.Skip("python oracle unavailable: " + msg)
	}
	python, why := findPython()
	if python == "" {
		unavailable("%s", why)
	}
	dir := oracletest.ToolsDir("pyoracle")
	if dir == "" {
		unavailable("tools/pyoracle not found above %s", oracletest.WorkDir())
	}
	script = filepath.Join(dir, name)
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("python oracle script: %v", err)
	}
	return python, script
}

// findPython tries $VIGIL_PYTHON, /usr/bin/python3 (Debian's, where
// python3-cryptography installs), then python3 on PATH; it returns the first
// that imports cryptography, or "" and the reason.
func findPython() (string, string) {
	var cands []string
	if p := os.Getenv(PythonEnv); p != "" {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/python3")
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	tried := map[string]bool{}
	for _, c := range cands {
		if tried[c] {
			continue
		}
		tried[c] = true
		if hasCryptography(c) {
			return c, ""
		}
	}
	return "", fmt.Sprintf("no python3 that imports cryptography (tried %v)", cands)
}

func hasCryptography(python string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, python, "-c", "import cryptography.hazmat.primitives.ciphers.aead").Run() == nil
}

// Run runs script with in as JSON on stdin and decodes its stdout into out.
func Run(t testing.TB, python, script string, in, out any) {
	t.Helper()
	oracletest.RunWith(t, python, script, in, out)
}

// Ask runs tools/pyoracle/<name> once with reqs and returns its answers, one
// per request in order.
func Ask[Resp any, Req any](t testing.TB, name string, reqs []Req) []Resp {
	t.Helper()
	python, script := Script(t, name)
	var out []Resp
	Run(t, python, script, reqs, &out)
	if len(out) != len(reqs) {
		t.Fatalf("python oracle %s answered %d of %d requests", name, len(out), len(reqs))
	}
	return out
}
