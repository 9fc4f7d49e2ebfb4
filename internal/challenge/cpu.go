package challenge

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// The CPU challenge's bounds (the reference's cpu_matrix_challenge.py).
const (
	MinSize     = 100
	MaxSize     = 10000
	MaxVariance = 0.5
	// Elements are drawn from [ElementLow, ElementHigh).
	ElementLow  = -500
	ElementHigh = 501
	// MaxIterations bounds C = C·B repetitions a challenge may ask.
	MaxIterations = 16
)

// ErrBadChallenge is wrapped by errors about challenge parameters.
var ErrBadChallenge = errors.New("bad challenge")

// SeedInt is the 32 bits of a seed the matrices depend on: the first four
// bytes, big-endian.
func SeedInt(seed []byte) (uint32, error) {
	if len(seed) < 4 {
		return 0, fmt.Errorf("%w: a seed of %d bytes (at least 4)", ErrBadChallenge, len(seed))
	}
	return binary.BigEndian.Uint32(seed), nil
}

// CPUSize is the reference's matrix size for a seed: RandomState(seed
// int).randint(lo, hi+1) with lo = max(100, int(base·(1−v))) and hi =
// min(10000, int(base·(1+v))), or base when lo ≥ hi.
func CPUSize(seed []byte, base int, variance float64) (int, error) {
	s, err := SeedInt(seed)
	if err != nil {
		return 0, err
	}
	if !(variance >= 0 && variance <= MaxVariance) || base < MinSize || base > MaxSize {
		return 0, fmt.Errorf("%w: base %d and variance %v (base %d-%d, variance 0-%v)", ErrBadChallenge, base, variance, MinSize, MaxSize, MaxVariance)
	}
	lo := max(MinSize, int(float64(base)*(1-variance)))
	hi := min(MaxSize, int(float64(base)*(1+variance)))
	if lo >= hi {
		return base, nil
	}
	return int(newMT19937(s).randint(int64(lo), int64(hi)+1)), nil
}

func checkSize(n int) error {
	if n < 1 || n > MaxSize {
		return fmt.Errorf("%w: matrix size %d (1-%d)", ErrBadChallenge, n, MaxSize)
	}
	return nil
}

// CPUMatrices are A and B of a CPU challenge, n×n, row-major, drawn from
// one RandomState(SeedInt(seed)) stream: A first, then B.
func CPUMatrices(seed []byte, n int) (a, b []int64, err error) {
	s, err := SeedInt(seed)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSize(n); err != nil {
		return nil, nil, err
	}
	rng := newMT19937(s)
	a, b = make([]int64, n*n), make([]int64, n*n)
	for i := range a {
		a[i] = rng.randint(ElementLow, ElementHigh)
	}
	for i := range b {
		b[i] = rng.randint(ElementLow, ElementHigh)
	}
	return a, b, nil
}

// CPUProduct is C = A·B, then C = C·B for each further iteration, in int64
// with wrap-around, on every core.
func CPUProduct(a, b []int64, n, iterations int) ([]int64, error) {
	if err := checkSize(n); err != nil {
		return nil, err
	}
	if len(a) != n*n || len(b) != n*n {
		return nil, fmt.Errorf("%w: matrices of %d and %d elements for size %d", ErrBadChallenge, len(a), len(b), n)
	}
	if iterations < 1 || iterations > MaxIterations {
		return nil, fmt.Errorf("%w: %d iterations (1-%d)", ErrBadChallenge, iterations, MaxIterations)
	}
	bn := narrow(b)
	src := a
	var c []int64
	for range iterations {
		c = make([]int64, n*n)
		mulRows(rowsOf(c, n), rowsOf(src, n), bn, n)
		src = c
	}
	return c, nil
}

// rowsOf views a row-major n×n matrix as its rows.
func rowsOf(m []int64, n int) [][]int64 {
	out := make([][]int64, n)
	for i := range out {
		out[i] = m[i*n : i*n+n : i*n+n]
	}
	return out
}

// parallelRows runs fn for rows 0..n-1 over the machine's cores.
func parallelRows(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// CPURows computes only the given rows of the challenge's product: each is
// row i of A times B, iterated; O(len(rows)·n²) per iteration, without A or
// C in full. It is what a validator needs to check sampled rows.
func CPURows(seed []byte, n, iterations int, rows []int) (map[int][]int64, error) {
	s, err := SeedInt(seed)
	if err != nil {
		return nil, err
	}
	if err := checkSize(n); err != nil {
		return nil, err
	}
	if iterations < 1 || iterations > MaxIterations {
		return nil, fmt.Errorf("%w: %d iterations (1-%d)", ErrBadChallenge, iterations, MaxIterations)
	}
	want := make(map[int]bool, len(rows))
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("%w: row %d of a %d-row matrix", ErrBadChallenge, r, n)
		}
		want[r] = true
	}
	// One pass over the stream keeps A's sampled rows and all of B.
	rng := newMT19937(s)
	arows := make(map[int][]int64, len(want))
	for i := range n {
		if !want[i] {
			for range n {
				rng.randint(ElementLow, ElementHigh)
			}
			continue
		}
		row := make([]int64, n)
		for j := range row {
			row[j] = rng.randint(ElementLow, ElementHigh)
		}
		arows[i] = row
	}
	b := make([]int32, n*n)
	for i := range b {
		b[i] = int32(rng.randint(ElementLow, ElementHigh))
	}
	// All sampled rows in one pass of the kernel per iteration.
	order := make([]int, 0, len(arows))
	in := make([][]int64, 0, len(arows))
	for i, row := range arows {
		order = append(order, i)
		in = append(in, row)
	}
	for range iterations {
		out := make([][]int64, len(in))
		for r := range out {
			out[r] = make([]int64, n)
		}
		mulRows(out, in, b, n)
		in = out
	}
	res := make(map[int][]int64, len(order))
	for r, i := range order {
		res[i] = in[r]
	}
	return res, nil
}

// RowHash is the reference's hash of a row of C: the first 16 lowercase hex
// characters of SHA-256 over the row as little-endian int64.
func RowHash(row []int64) string {
	buf := make([]byte, 8*len(row))
	for i, v := range row {
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(v))
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:8])
}

// RowHashes hashes each row of an n×n matrix.
func RowHashes(c []int64, n int) []string {
	out := make([]string, n)
	parallelRows(n, func(i int) { out[i] = RowHash(c[i*n : i*n+n]) })
	return out
}
