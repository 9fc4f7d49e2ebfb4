package oracletest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Python returns the Python 3 interpreter tests compare against, the first
// that imports every module named: $VIGIL_PYTHON (scripts/test-deps.sh
// sets it), /usr/bin/python3 (where Debian's python3-* packages install),
// then python3 on PATH. Without one the test is skipped, or failed under
// CI=true, where the comparison is required.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	var cands []string
	if p := os.Getenv("VIGIL_PYTHON"); p != "" {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/python3")
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	tried := map[string]bool{}
	for _, c := range cands {
		if !tried[c] && imports(c, modules) {
			return c
		}
		tried[c] = true
	}
	msg := fmt.Sprintf("no python3 that imports %v (tried %v); run scripts/python-deps.sh (make test does)", modules, cands)
	if os.Getenv("CI") == "true" {
		t.Fatal("python required under CI=true: " + msg)
	}
	t.Skip(msg)
	return ""
}

func imports(python string, modules []string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := "pass"
	if len(modules) > 0 {
		code = "import " + strings.Join(modules, ", ")
	}
	return exec.CommandContext(ctx, python, "-c", code).Run() == nil
}
