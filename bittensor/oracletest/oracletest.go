// Package oracletest runs the Node.js oracle scripts of tools/oracle from Go
// tests. The scripts answer with implementations vigil did not write
// (@polkadot, the tle timelock crate compiled to wasm), pinned by
// tools/oracle/package-lock.json and installed by scripts/npm-deps.sh.
package oracletest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DirEnv names the oracle directory; scripts/test-deps.sh sets it.
const DirEnv = "VIGIL_ORACLE_DIR"

// Script returns the path of tools/oracle/<name>. When Node.js or the npm
// package module (e.g. "@polkadot/api") is missing the test is skipped, or
// failed under CI=true, where the cross-checks are required.
func Script(t testing.TB, name, module string) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) + "; run scripts/npm-deps.sh (make test does)"
		if os.Getenv("CI") == "true" {
			t.Fatal("oracle required under CI=true: " + msg)
		}
		t.Skip("oracle unavailable: " + msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node not found in PATH")
	}
	dir := os.Getenv(DirEnv)
	if dir == "" {
		dir = findDir()
	}
	if dir == "" {
		unavailable("tools/oracle not found above %s", mustGetwd())
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(module), "package.json")); err != nil {
		unavailable("npm package %s not installed in %s", module, dir)
	}
	script := filepath.Join(dir, name)
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("oracle script: %v", err)
	}
	return script
}

// findDir looks for tools/oracle.
func findDir() string { return ToolsDir("oracle") }

// ToolsDir looks for tools/<name> in the working directory and its parents
// (go test runs in the package directory); "" when there is none.
func ToolsDir(name string) string {
	dir := mustGetwd()
	for {
		cand := filepath.Join(dir, "tools", name)
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// WorkDir is the working directory, for messages.
func WorkDir() string { return mustGetwd() }

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

// Run runs the Node.js script with in as JSON on stdin and decodes its
// stdout into out.
func Run(t testing.TB, script string, in, out any) { RunWith(t, "node", script, in, out) }

// RunWith runs script under interpreter, in its own directory, with in as
// JSON on stdin, and decodes its stdout into out; the script's stderr is
// shown only when it fails.
func RunWith(t testing.TB, interpreter, script string, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, interpreter, filepath.Base(script))
	cmd.Dir = filepath.Dir(script)
	cmd.Stdin = bytes.NewReader(b)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("oracle %s: %v\n%s", filepath.Base(script), err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("oracle %s output: %v\n%.2000s", filepath.Base(script), err, stdout.String())
	}
}

// Ask runs the script (which needs npm package module) once with reqs, a
// JSON array, and returns its answers, one per request in order.
func Ask[Resp any, Req any](t testing.TB, script, module string, reqs []Req) []Resp {
	t.Helper()
	var out []Resp
	Run(t, Script(t, script, module), reqs, &out)
	if len(out) != len(reqs) {
		t.Fatalf("oracle %s answered %d of %d requests", script, len(out), len(reqs))
	}
	return out
}

// Hex is 0x-prefixed hex, the form the oracle scripts use.
func Hex(b []byte) string { return "0x" + hex.EncodeToString(b) }

// Unhex decodes an oracle's 0x-prefixed hex.
func Unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("oracle hex %q: %v", s, err)
	}
	return b
}

// RandBytes returns n random bytes.
func RandBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
