package challenge

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"slices"
)

// Sampling is how many targets a validator asks for once a worker has
// committed: a count plus or minus int(count·variance), uniformly. The
// defaults are the reference validator's.
type Sampling struct {
	CPURows               int     `yaml:"cpu_rows"`
	CPURowVariance        float64 `yaml:"cpu_row_variance"`
	GPUCoordinates        int     `yaml:"gpu_coordinates"`
	GPUCoordinateVariance float64 `yaml:"gpu_coordinate_variance"`
	GPURows               int     `yaml:"gpu_rows"`
	GPURowVariance        float64 `yaml:"gpu_row_variance"`
}

// DefaultSampling: 25..75 CPU rows, 20..30 GPU cells and 1..3 GPU rows.
func DefaultSampling() Sampling {
	return Sampling{CPURows: 50, CPURowVariance: 0.5, GPUCoordinates: 25, GPUCoordinateVariance: 0.2, GPURows: 2, GPURowVariance: 0.5}
}

// Validate holds the reference's bounds: CPU rows must be asked for, and
// a GPU proof needs rows (their hashes are what the root commits to).
func (s Sampling) Validate() error {
	for _, v := range []float64{s.CPURowVariance, s.GPUCoordinateVariance, s.GPURowVariance} {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("%w: sampling variance %v (0-1)", ErrBadChallenge, v)
		}
	}
	if s.CPURows < 1 || s.CPURows > MaxSize || s.GPURows < 1 || s.GPURows > 64 || s.GPUCoordinates < 0 || s.GPUCoordinates > 1024 {
		return fmt.Errorf("%w: sampling counts CPU rows %d (1-%d), GPU rows %d (1-64), GPU cells %d (0-1024)",
			ErrBadChallenge, s.CPURows, MaxSize, s.GPURows, s.GPUCoordinates)
	}
	return nil
}

// secure is math/rand/v2 over crypto/rand: every draw comes from the OS
// CSPRNG, as the reference's secrets.SystemRandom.
var secure = mrand.New(cryptoSource{})

type cryptoSource struct{}

func (cryptoSource) Uint64() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return binary.LittleEndian.Uint64(b[:])
}

// vary is count + U{-r..r} with r = int(count·variance).
func vary(count int, variance float64) int {
	r := int(float64(count) * variance)
	return count - r + secure.IntN(2*r+1)
}

// sampleSorted draws count distinct values of 0..n-1, sorted.
func sampleSorted(n, count int) []int {
	count = max(0, min(count, n))
	seen := make(map[int]bool, count)
	out := make([]int, 0, count)
	for len(out) < count {
		if v := secure.IntN(n); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// CPURowsToCheck draws the rows to request of a committed CPU challenge of
// size n: count clamped to 1..n, distinct, sorted.
func (s Sampling) CPURowsToCheck(n int) []int {
	return sampleSorted(n, max(1, vary(s.CPURows, s.CPURowVariance)))
}

// Cell is a (row, column) of a GPU challenge's C.
type Cell struct{ Row, Col int }

// GPUTargets draws the cells and rows to request of every committed GPU:
// distinct cells in draw order (at most 10·count attempts, as the
// reference), and distinct rows sorted.
func (s Sampling) GPUTargets(n int) (cells []Cell, rows []int) {
	count := max(0, vary(s.GPUCoordinates, s.GPUCoordinateVariance))
	seen := make(map[Cell]bool, count)
	for try := 0; try < 10*count && len(cells) < count; try++ {
		c := Cell{secure.IntN(n), secure.IntN(n)}
		if !seen[c] {
			seen[c] = true
			cells = append(cells, c)
		}
	}
	return cells, sampleSorted(n, max(0, vary(s.GPURows, s.GPURowVariance)))
}

// SecretColumns draws the columns a validator checks in each returned GPU
// row: max(1, int(n·rate)), distinct, chosen at verification time so the
// miner never learns them.
func SecretColumns(n int, rate float64) []int {
	return sampleSorted(n, max(1, int(float64(n)*rate)))
}
