package compute

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

const challengeHelp = `
Computes and checks the compute subnet's matrix challenges as workers and
validators do, bit for bit with the reference's.

  cpu            compute a CPU challenge as a worker: its size (from the seed,
                 or --size), C = A·B iterated, the Merkle root, row hashes
  gpu            the cells of a GPU challenge a validator expects of one GPU
  fp16-row-hash  the FNV-1a-64 hash over binary16 of a JSON array of numbers
                 read on stdin, as the validator hashes a GPU row
  bench          the hot paths' figures on this machine

Each takes --json for one JSON object on stdout.`

// ChallengeTool is 'vigil challenge'.
func ChallengeTool() command.Tool {
	return command.Tool{Name: "challenge", Summary: "compute and check matrix challenges as workers and validators do", Run: runChallenge}
}

func runChallenge(env command.Env, args []string) int {
	sub, rest, code, ok := command.Subcommand(env, "challenge", challengeHelp, args, "cpu", "gpu", "fp16-row-hash", "bench")
	if !ok {
		return code
	}
	switch sub {
	case "cpu":
		return runChallengeCPU(env, rest)
	case "gpu":
		return runChallengeGPU(env, rest)
	case "fp16-row-hash":
		return runFP16RowHash(env, rest)
	default:
		return runChallengeBench(env, rest)
	}
}

func usageError(env command.Env, name string, err error) int {
	fmt.Fprintf(env.Stderr, "vigil challenge %s: %v\n", name, err)
	return command.ExitUsage
}

func failure(env command.Env, name string, err error) int {
	fmt.Fprintf(env.Stderr, "vigil challenge %s: %v\n", name, err)
	return command.ExitFailure
}

// parseSeed takes the seed as hex; the GPU challenge hashes the text as
// given, so it is kept too.
func parseSeed(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("--seed is required")
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 4 || len(b) > 64 {
		return nil, fmt.Errorf("--seed %q: want 8-128 hex digits", s)
	}
	return b, nil
}

func writeJSON(w io.Writer, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return command.ExitFailure
	}
	fmt.Fprintf(w, "%s\n", b)
	return command.ExitOK
}

type cpuOutput struct {
	ChallengeType string            `json:"challenge_type"`
	Seed          string            `json:"seed"`
	MatrixSize    int               `json:"matrix_size"`
	Iterations    int               `json:"iterations"`
	MerkleRoot    string            `json:"merkle_root"`
	RowHashes     map[string]string `json:"row_hashes"`
	ComputeMS     float64           `json:"compute_ms"`
}

func runChallengeCPU(env command.Env, args []string) int {
	fs := command.NewFlagSet(env, "challenge cpu", "challenge cpu --seed HEX [--size N | --base 2000 --variance 0.1] [--iterations K] [--rows 0,50,99] [--json]",
		"Computes a CPU challenge as a worker does: the size from the seed (RandomState over\n--base and --variance) unless --size gives it, A and B from the seed, C = A·B\n(then C·B for each further iteration) in int64, the row hashes and the Merkle root.\nrow_hashes holds the --rows asked for, every row without --rows.")
	seedHex := fs.String("seed", "", "the challenge's seed, hex (the reference's are 32 digits)")
	size := fs.Int("size", 0, "the matrix size; 0 derives it from the seed")
	base := fs.Int("base", 2000, "the size's base, when it derives from the seed")
	variance := fs.Float64("variance", 0.1, "the size's variance, when it derives from the seed")
	iterations := fs.Int("iterations", 1, "the iterations")
	rowList := fs.String("rows", "", "comma-separated rows to print the hashes of (default: all)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := command.Parse(env, fs, args); !ok {
		return code
	}
	seed, err := parseSeed(*seedHex)
	if err != nil {
		return usageError(env, "cpu", err)
	}
	n := *size
	if n == 0 {
		if n, err = challenge.CPUSize(seed, *base, *variance); err != nil {
			return usageError(env, "cpu", err)
		}
	}
	if n < 1 || n > challenge.MaxSize {
		return usageError(env, "cpu", fmt.Errorf("--size %d: want 1-%d", n, challenge.MaxSize))
	}
	if *iterations < 1 || *iterations > challenge.MaxIterations {
		return usageError(env, "cpu", fmt.Errorf("--iterations %d: want 1-%d", *iterations, challenge.MaxIterations))
	}
	rows, err := parseInts(*rowList, n)
	if err != nil {
		return usageError(env, "cpu", fmt.Errorf("--rows: %v", err))
	}
	res, err := ComputeCPU(seed, n, *iterations)
	if err != nil {
		return failure(env, "cpu", err)
	}
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
	}
	out := cpuOutput{ChallengeType: computeproto.ChallengeCPUMatrix, Seed: *seedHex, MatrixSize: n, Iterations: *iterations,
		MerkleRoot: res.Root(), RowHashes: map[string]string{}, ComputeMS: float64(res.Elapsed.Microseconds()) / 1000}
	for _, r := range rows {
		out.RowHashes[strconv.Itoa(r)] = res.RowHashes[r]
	}
	if *asJSON {
		return writeJSON(env.Stdout, out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "challenge\tcpu_matrix, seed %s, size %d, %d iteration(s)\n", out.Seed, n, out.Iterations)
	fmt.Fprintf(tw, "merkle root\t%s\n", out.MerkleRoot)
	fmt.Fprintf(tw, "computed in\t%.1f ms\n", out.ComputeMS)
	for _, r := range rows {
		fmt.Fprintf(tw, "row %d\t%s\n", r, res.RowHashes[r])
	}
	_ = tw.Flush()
	return command.ExitOK
}

// parseInts reads "a,b,c" as indices below n; "" is nil.
func parseInts(s string, n int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 || v >= n {
			return nil, fmt.Errorf("%q is not an index in 0-%d", f, n-1)
		}
		out = append(out, v)
	}
	return out, nil
}

type gpuCellOutput struct {
	Row   int     `json:"row"`
	Col   int     `json:"col"`
	Value float64 `json:"value"`
}

func runChallengeGPU(env command.Env, args []string) int {
	fs := command.NewFlagSet(env, "challenge gpu", "challenge gpu --seed HEX --gpu-uuid UUID --size N --cells R:C[,R:C...] [--iterations K] [--json]",
		"Prints what a validator expects of one GPU of a GPU challenge: the seed hash\n(from \"{seed}|{uuid}\", the seed as written) and the cells of C = A·B (times the\niterations), exact in float64.")
	seedHex := fs.String("seed", "", "the challenge's seed, hex, as the validator wrote it")
	uuid := fs.String("gpu-uuid", "", "the GPU's uuid")
	size := fs.Int("size", 0, "the matrix size")
	cellList := fs.String("cells", "", "comma-separated row:column cells")
	iterations := fs.Int("iterations", 1, "the iterations")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := command.Parse(env, fs, args); !ok {
		return code
	}
	if _, err := parseSeed(*seedHex); err != nil {
		return usageError(env, "gpu", err)
	}
	if *uuid == "" {
		return usageError(env, "gpu", errors.New("--gpu-uuid is required"))
	}
	if *size < 1 || *size > challenge.MaxGPUSize {
		return usageError(env, "gpu", fmt.Errorf("--size %d: want 1-%d", *size, challenge.MaxGPUSize))
	}
	if *iterations < 1 || *iterations > challenge.MaxIterations {
		return usageError(env, "gpu", fmt.Errorf("--iterations %d: want 1-%d", *iterations, challenge.MaxIterations))
	}
	var cells []gpuCellOutput
	for _, f := range strings.Split(*cellList, ",") {
		rc := strings.Split(strings.TrimSpace(f), ":")
		if len(rc) != 2 {
			return usageError(env, "gpu", fmt.Errorf("--cells: %q is not row:column", f))
		}
		r, err1 := strconv.Atoi(rc[0])
		c, err2 := strconv.Atoi(rc[1])
		if err1 != nil || err2 != nil || r < 0 || r >= *size || c < 0 || c >= *size {
			return usageError(env, "gpu", fmt.Errorf("--cells: %q is not a cell of a %d×%d matrix", f, *size, *size))
		}
		cells = append(cells, gpuCellOutput{Row: r, Col: c})
	}
	sh := challenge.SeedHash(*seedHex, *uuid)
	for i := range cells {
		v, err := challenge.GPUCell(sh, *size, cells[i].Row, cells[i].Col, *iterations)
		if err != nil {
			return failure(env, "gpu", err)
		}
		cells[i].Value = v
	}
	if *asJSON {
		return writeJSON(env.Stdout, map[string]any{"seed_hash": strconv.FormatUint(sh, 10), "cells": cells})
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "seed hash\t%d\n", sh)
	for _, c := range cells {
		fmt.Fprintf(tw, "C[%d][%d]\t%s\n", c.Row, c.Col, strconv.FormatFloat(c.Value, 'g', -1, 64))
	}
	_ = tw.Flush()
	return command.ExitOK
}

// maxRowInput bounds what fp16-row-hash reads: a row of the largest GPU
// challenge written with room to spare.
const maxRowInput = 32 * challenge.MaxGPUSize

func runFP16RowHash(env command.Env, args []string) int {
	fs := command.NewFlagSet(env, "challenge fp16-row-hash", "challenge fp16-row-hash [--json] < row.json",
		"Reads a JSON array of numbers on stdin and prints its GPU row hash: FNV-1a-64\nover each value's IEEE binary16 bits (rounded half to even, as Python's\nstruct '<e'), 16 hex digits.")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := command.Parse(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(env, "fp16-row-hash", fmt.Errorf("unexpected argument %q: the row comes on stdin", fs.Arg(0)))
	}
	in := env.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	raw, err := io.ReadAll(io.LimitReader(in, maxRowInput+1))
	if err != nil {
		return failure(env, "fp16-row-hash", err)
	}
	if len(raw) > maxRowInput {
		return usageError(env, "fp16-row-hash", fmt.Errorf("more than %d bytes on stdin", maxRowInput))
	}
	// Numbers as a Python peer reads them ("-0" is the int 0).
	var values []computeproto.PyFloat
	if err := json.Unmarshal(raw, &values); err != nil {
		return usageError(env, "fp16-row-hash", fmt.Errorf("stdin is not a JSON array of finite numbers: %v", err))
	}
	if len(values) > challenge.MaxGPUSize {
		return usageError(env, "fp16-row-hash", fmt.Errorf("%d values (at most %d)", len(values), challenge.MaxGPUSize))
	}
	row := make([]float64, len(values))
	for i, v := range values {
		row[i] = float64(v)
	}
	h, err := challenge.FP16RowHash(row)
	if err != nil {
		return failure(env, "fp16-row-hash", err)
	}
	if *asJSON {
		return writeJSON(env.Stdout, map[string]any{"row_hash": h, "values": len(row)})
	}
	fmt.Fprintln(env.Stdout, h)
	return command.ExitOK
}

func runChallengeBench(env command.Env, args []string) int {
	fs := command.NewFlagSet(env, "challenge bench", "challenge bench [--json]",
		"Measures the compute subnet's hot paths on this machine, each the median of\nseveral runs: a validator checking 50 rows of an n = 2000 CPU challenge, a worker\ncomputing one, a validator checking one n = 32768 GPU proof (one core), and the\nMerkle root over 32768 row hashes.")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := command.Parse(env, fs, args); !ok {
		return code
	}
	r, err := Bench()
	if err != nil {
		return failure(env, "bench", err)
	}
	if *asJSON {
		return writeJSON(env.Stdout, r)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CPU verification, n = %d, %d rows\t%.1f ms\n", BenchCPUSize, BenchCPURows, r.CPUVerifyMS)
	fmt.Fprintf(tw, "CPU challenge computed, n = %d\t%.1f ms\n", BenchCPUSize, r.CPUComputeMS)
	fmt.Fprintf(tw, "GPU proof verified, n = %d, one core\t%.2f ms\n", BenchGPUSize, r.GPUVerifyMS)
	fmt.Fprintf(tw, "Merkle root, %d leaves\t%.2f ms\n", BenchGPUSize, r.MerkleMS)
	_ = tw.Flush()
	return command.ExitOK
}
