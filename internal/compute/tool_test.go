package compute

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/internal/command"
)

func runTool(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := command.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	code := ChallengeTool().Run(env, args)
	return code, out.String(), errb.String()
}

// oracle asks tools/pyoracle/challenge.py (NumPy and the reference's rules).
func oracle[Resp any](t *testing.T, reqs []map[string]any) []Resp {
	t.Helper()
	python := oracletest.Python(t, "numpy", "cryptography.hazmat.primitives.asymmetric.ec")
	var out []Resp
	oracletest.RunWith(t, python, oracletest.ToolsDir("pyoracle")+"/challenge.py", reqs, &out)
	if len(out) != len(reqs) {
		t.Fatalf("the oracle answered %d of %d requests", len(out), len(reqs))
	}
	return out
}

// TestChallengeCPUCommandMatchesNumPy: 'vigil challenge cpu --json' gives
// NumPy's size, row hashes and the reference rules' Merkle root, for sizes
// derived from the seed and given, across iterations.
func TestChallengeCPUCommandMatchesNumPy(t *testing.T) {
	type run struct {
		seed       string
		iterations int
		size       int // 0: derived from base 150, variance 0.2
		rows       string
	}
	runs := []run{
		{"0badf00d0badf00d0badf00d0badf00d", 1, 0, "0,5,17"},
		{"ffffffff", 2, 0, ""},
		{"0123456789abcdef0123456789abcdef", 3, 0, "1"},
		{"deadbeef00000000", 1, 1, ""},
		{"cafebabecafebabe", 3, 33, "0,32"},
	}
	var sizeReqs []map[string]any
	for _, r := range runs {
		sizeReqs = append(sizeReqs, map[string]any{"op": "size", "seed": r.seed, "base": 150, "variance": 0.2})
	}
	sizes := oracle[struct {
		Size int `json:"size"`
	}](t, sizeReqs)
	var cpuReqs []map[string]any
	for i, r := range runs {
		n := r.size
		if n == 0 {
			n = sizes[i].Size
		}
		cpuReqs = append(cpuReqs, map[string]any{"op": "cpu", "seed": r.seed, "size": n, "iterations": r.iterations})
	}
	want := oracle[struct {
		RowHashes  []string `json:"row_hashes"`
		MerkleRoot string   `json:"merkle_root"`
	}](t, cpuReqs)
	for i, r := range runs {
		args := []string{"cpu", "--seed", r.seed, "--iterations", strconv.Itoa(r.iterations), "--json"}
		if r.size != 0 {
			args = append(args, "--size", strconv.Itoa(r.size))
		} else {
			args = append(args, "--base", "150", "--variance", "0.2")
		}
		if r.rows != "" {
			args = append(args, "--rows", r.rows)
		}
		code, stdout, stderr := runTool(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var got cpuOutput
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		n := len(want[i].RowHashes)
		if got.ChallengeType != "cpu_matrix" || got.Seed != r.seed || got.MatrixSize != n || got.Iterations != r.iterations || got.MerkleRoot != want[i].MerkleRoot {
			t.Fatalf("%v: %+v; NumPy size %d, root %s", args, got, n, want[i].MerkleRoot)
		}
		rows := r.rows
		if rows == "" {
			if len(got.RowHashes) != n {
				t.Fatalf("%v: %d row hashes without --rows, want all %d", args, len(got.RowHashes), n)
			}
		} else if len(got.RowHashes) != len(strings.Split(rows, ",")) {
			t.Fatalf("%v: row hashes %v", args, got.RowHashes)
		}
		for k, h := range got.RowHashes {
			row, _ := strconv.Atoi(k)
			if h != want[i].RowHashes[row] {
				t.Fatalf("%v: row %d hash %s, NumPy's %s", args, row, h, want[i].RowHashes[row])
			}
		}
	}
}

// TestChallengeGPUAndFP16CommandsMatchNumPy: the cells and seed hash of
// 'vigil challenge gpu', and 'fp16-row-hash', against NumPy's float64 dot,
// Python integers and struct '<e'.
func TestChallengeGPUAndFP16CommandsMatchNumPy(t *testing.T) {
	const seed, uuid, n = "00112233445566778899aabbccddeeff", "GPU-5f6a7b8c-0000-1111-2222-333344445555", 700
	cells := [][2]int{{0, 0}, {699, 699}, {3, 512}, {511, 4}}
	// As written on the wire: "-0" is Python's int 0, "-0.0" a negative
	// zero; ties round to even; subnormals; the largest finite binary16.
	row := json.RawMessage(`[0, -0, -0.0, 1, -1, 0.1, 65504, -65504, 65519.99, 5.960464477539063e-08, 2.9802322387695312e-08, 1.00146484375, 1234.5678, 3]`)
	got := oracle[struct {
		SeedHash string    `json:"seed_hash"`
		Cells    []float64 `json:"cells"`
		Hash     string    `json:"hash"`
	}](t, []map[string]any{
		{"op": "gpu", "seed": seed, "uuid": uuid, "size": n, "iterations": 2, "cells": cells},
		{"op": "fp16", "values": row},
	})
	var spec []string
	for _, c := range cells {
		spec = append(spec, fmt.Sprintf("%d:%d", c[0], c[1]))
	}
	code, stdout, stderr := runTool(t, "", "gpu", "--seed", seed, "--gpu-uuid", uuid, "--size", strconv.Itoa(n), "--iterations", "2", "--cells", strings.Join(spec, ","), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		SeedHash string          `json:"seed_hash"`
		Cells    []gpuCellOutput `json:"cells"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.SeedHash != got[0].SeedHash || len(out.Cells) != len(cells) {
		t.Fatalf("seed hash %s, Python %s; %d cells", out.SeedHash, got[0].SeedHash, len(out.Cells))
	}
	for i, c := range out.Cells {
		if c.Row != cells[i][0] || c.Col != cells[i][1] || c.Value != got[0].Cells[i] {
			t.Fatalf("cell %d: %+v, NumPy %v", i, c, got[0].Cells[i])
		}
	}
	code, stdout, stderr = runTool(t, string(row), "fp16-row-hash")
	if code != 0 || strings.TrimSpace(stdout) != got[1].Hash {
		t.Fatalf("fp16-row-hash: exit %d, %q (%s), Python %s", code, stdout, stderr, got[1].Hash)
	}
}

func TestChallengeCommandErrors(t *testing.T) {
	for _, c := range []struct {
		stdin string
		args  []string
		code  int
		say   string
	}{
		{"", []string{"cpu"}, command.ExitUsage, "--seed is required"},
		{"", []string{"cpu", "--seed", "xyz"}, command.ExitUsage, "hex digits"},
		{"", []string{"cpu", "--seed", "00112233", "--size", "10001"}, command.ExitUsage, "want 1-10000"},
		{"", []string{"cpu", "--seed", "00112233", "--size", "4", "--rows", "4"}, command.ExitUsage, "not an index"},
		{"", []string{"cpu", "--seed", "00112233", "--base", "50"}, command.ExitUsage, "bad challenge"},
		{"", []string{"gpu", "--seed", "00112233", "--gpu-uuid", "g", "--size", "4", "--cells", "1:4"}, command.ExitUsage, "not a cell"},
		{"", []string{"gpu", "--seed", "00112233", "--size", "4", "--cells", "1:1"}, command.ExitUsage, "--gpu-uuid"},
		{"[1, 70000]", []string{"fp16-row-hash"}, command.ExitFailure, "binary16"},
		{"{\"a\":1}", []string{"fp16-row-hash"}, command.ExitUsage, "JSON array"},
		{"", []string{"nope"}, command.ExitUsage, "unknown command"},
	} {
		code, _, stderr := runTool(t, c.stdin, c.args...)
		if code != c.code || !strings.Contains(stderr, c.say) {
			t.Errorf("%v: exit %d, %q; want %d saying %q", c.args, code, stderr, c.code, c.say)
		}
	}
	if code, stdout, _ := runTool(t, "", "cpu", "--help"); code != 0 || !strings.Contains(stdout, "row_hashes") {
		t.Errorf("cpu --help: %d %q", code, stdout)
	}
}

// TestChallengeBenchCommand: the four figures come out, positive.
func TestChallengeBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a few seconds")
	}
	code, stdout, stderr := runTool(t, "", "bench", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r BenchResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if !(r.CPUVerifyMS > 0 && r.CPUComputeMS > 0 && r.GPUVerifyMS > 0 && r.MerkleMS > 0) {
		t.Fatalf("%+v", r)
	}
}
