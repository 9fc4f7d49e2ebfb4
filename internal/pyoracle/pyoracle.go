// Package pyoracle runs the Python cross-check scripts of tools/pyoracle from
// Go tests. The scripts answer with Python's own json module and the
// `cryptography` package (Debian's python3-cryptography), which
// scripts/python-deps.sh finds or installs.
package pyoracle

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

// Script returns a python3 that imports cryptography and the path of
// tools/pyoracle/<name>. When either is missing the test is skipped, or
// failed under CI=true, where the cross-checks are required.
func Script(t testing.TB, name string) (python, script string) {
	t.Helper()
	python = oracletest.Python(t, "cryptography.hazmat.primitives.ciphers.aead")
	dir := oracletest.ToolsDir("pyoracle")
	if dir == "" {
		msg := "tools/pyoracle not found above " + oracletest.WorkDir()
		if os.Getenv("CI") == "true" {
			t.Fatal("python oracle required under CI=true: " + msg)
		}
		t.Skip("python oracle unavailable: " + msg)
	}
	script = filepath.Join(dir, name)
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("python oracle script: %v", err)
	}
	return python, script
}

// Ask runs tools/pyoracle/<name> once with reqs and returns its answers, one
// per request in order.
func Ask[Resp any, Req any](t testing.TB, name string, reqs []Req) []Resp {
	t.Helper()
	python, script := Script(t, name)
	var out []Resp
	oracletest.RunWith(t, python, script, reqs, &out)
	if len(out) != len(reqs) {
		t.Fatalf("python oracle %s answered %d of %d requests", name, len(out), len(reqs))
	}
	return out
}

// ComputeScoringAnswer is what tools/pyoracle/compute_scoring.py answers
// for one scenario: each miner's factors and weight, each worker's, and
// the u16 vector, as the transcription of the reference computes them.
type ComputeScoringAnswer struct {
	Miners map[string]struct {
		ChallengeNorm float64 `json:"challenge_norm"`
		Lease         float64 `json:"lease"`
		Score         float64 `json:"score"`
		Weight        float64 `json:"weight"`
	} `json:"miners"`
	Workers map[string]struct {
		Perf  float64 `json:"perf"`
		Avail float64 `json:"avail"`
	} `json:"workers"`
	UIDs []uint16 `json:"uids"`
	U16  []uint16 `json:"u16"`
}

// ComputeScoring has tools/pyoracle/compute_scoring.py score each of reqs
// with python and returns its answers, failing the test unless there is
// one per request.
func ComputeScoring[T any](t testing.TB, python string, reqs []T) []ComputeScoringAnswer {
	t.Helper()
	var out []ComputeScoringAnswer
	oracletest.RunWith(t, python, filepath.Join(oracletest.ToolsDir("pyoracle"), "compute_scoring.py"), reqs, &out)
	if len(out) != len(reqs) {
		t.Fatalf("the oracle answered %d of %d", len(out), len(reqs))
	}
	return out
}
