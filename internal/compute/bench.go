package compute

import (
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
)

// BenchResult holds the four figures of the compute subnet's hot paths on
// this machine, each the median of several runs, in milliseconds.
type BenchResult struct {
	// A validator checking 50 rows of an n = 2000 CPU challenge.
	CPUVerifyMS float64 `json:"cpu_verify_ms"`
	// A worker computing an n = 2000 CPU challenge: A, B, C = A·B, the row
	// hashes and the tree.
	CPUComputeMS float64 `json:"cpu_compute_ms"`
	// A validator checking one GPU proof of n = 32768 (25 cells, 2 rows,
	// 33 secret columns), on one core.
	GPUVerifyMS float64 `json:"gpu_verify_ms"`
	// The Merkle root over 32768 row hashes.
	MerkleMS float64 `json:"merkle_ms"`
}

// Bench sizes: the reference's defaults.
const (
	BenchCPUSize = 2000
	BenchCPURows = 50
	BenchGPUSize = 32768
)

// Bench measures the four figures.
func Bench() (BenchResult, error) {
	var r BenchResult
	seed := make([]byte, 16)
	if _, err := rand.Read(seed); err != nil {
		return r, err
	}
	rows := make([]int, BenchCPURows)
	for i := range rows {
		rows[i] = i * (BenchCPUSize / BenchCPURows)
	}
	var err error
	if r.CPUVerifyMS, err = median(7, func() error {
		_, err := challenge.CPURows(seed, BenchCPUSize, 1, rows)
		return err
	}); err != nil {
		return r, err
	}
	if r.CPUComputeMS, err = median(3, func() error {
		_, err := ComputeCPU(seed, BenchCPUSize, 1)
		return err
	}); err != nil {
		return r, err
	}
	check, proof, err := challenge.GPUBenchCase(BenchGPUSize)
	if err != nil {
		return r, err
	}
	if r.GPUVerifyMS, err = median(21, func() error {
		if v := challenge.VerifyGPU(check, challenge.DefaultTolerance(), proof); !v.Passed {
			return v
		}
		return nil
	}); err != nil {
		return r, err
	}
	leaves := make([]string, BenchGPUSize)
	for i := range leaves {
		leaves[i] = fmt.Sprintf("%016x", uint64(i)*0x9E3779B97F4A7C15)
	}
	r.MerkleMS, err = median(21, func() error {
		_, err := challenge.NewTree(leaves)
		return err
	})
	return r, err
}

// median runs fn once to warm up, then runs times, and returns the median
// wall time in milliseconds.
func median(runs int, fn func() error) (float64, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	ms := make([]float64, runs)
	for i := range ms {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ms[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	slices.Sort(ms)
	return ms[runs/2], nil
}
