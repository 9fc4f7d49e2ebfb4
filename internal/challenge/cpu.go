package challenge

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/vigil-validator/vigil/internal/gemm"
)

// The CPU challenge's bounds (the reference's cpu_matrix_challenge.py).
const (
	MinSize     = 100
	MaxSize     = 10000
	MaxVariance = 0.5
	// Elements are drawn from [ElementLow, ElementHigh).
	ElementLow  = -500
	ElementHigh = 501
	// MaxIterations bounds the iterations a challenge may ask (the wire
	// models' bound too).
	MaxIterations = 64
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

// GPUSize is the reference's GPU matrix size for a seed:
// RandomState(seed int).randint(max(1, int(base·(1−v))), int(base·(1+v))+1),
// with no other bound (32768 ± 5 % by default).
func GPUSize(seed []byte, base int, variance float64) (int, error) {
	s, err := SeedInt(seed)
	if err != nil {
		return 0, err
	}
	if !(variance >= 0 && variance <= 1) || base < 1 || base > MaxGPUSize {
		return 0, fmt.Errorf("%w: base %d and variance %v (base 1-%d, variance 0-1)", ErrBadChallenge, base, variance, MaxGPUSize)
	}
	lo := max(1, int(float64(base)*(1-variance)))
	hi := int(float64(base) * (1 + variance))
	if hi > MaxGPUSize {
		return 0, fmt.Errorf("%w: sizes up to %d for base %d and variance %v (at most %d)", ErrBadChallenge, hi, base, variance, MaxGPUSize)
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
// one RandomState(SeedInt(seed)) stream: A first, then B. Their elements
// lie in [-500, 500], so they are held as int16.
func CPUMatrices(seed []byte, n int) (a, b []int16, err error) {
	s, err := SeedInt(seed)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSize(n); err != nil {
		return nil, nil, err
	}
	rng := newElementStream(s)
	a, b = make([]int16, n*n), make([]int16, n*n)
	rng.fill(a)
	rng.fill(b)
	return a, b, nil
}

func checkIterations(iterations int) error {
	if iterations < 1 || iterations > MaxIterations {
		return fmt.Errorf("%w: %d iterations (1-%d)", ErrBadChallenge, iterations, MaxIterations)
	}
	return nil
}

// CPUProduct is C = A·B, then C = C·B for each further iteration, in int64
// with wrap-around as NumPy's int64 dot, on every core. C is row-major.
func CPUProduct(a, b []int16, n, iterations int) ([]int64, error) {
	if err := checkSize(n); err != nil {
		return nil, err
	}
	if len(a) != n*n || len(b) != n*n {
		return nil, fmt.Errorf("%w: matrices of %d and %d elements for size %d", ErrBadChallenge, len(a), len(b), n)
	}
	if err := checkIterations(iterations); err != nil {
		return nil, err
	}
	packed := gemm.NewPacked(n)
	for k := range n {
		packed.SetRow(k, b[k*n:k*n+n])
	}
	c := make([]int64, n*n)
	gemm.MulSmall(rowsOf(c, n), rowsOf(a, n), packed)
	if iterations > 1 {
		c = iterate(c, wide(b), n, iterations-1)
	}
	return c, nil
}

// iterate runs C = C·B times more, in int64 with wrap-around.
func iterate(c []int64, b []int32, n, times int) []int64 {
	next := make([]int64, len(c))
	for range times {
		gemm.MulWide(rowsOf(next, n), rowsOf(c, n), b, n)
		c, next = next, c
	}
	return c
}

func wide(b []int16) []int32 {
	out := make([]int32, len(b))
	for i, v := range b {
		out[i] = int32(v)
	}
	return out
}

// rowsOf views a row-major matrix of n columns as its rows.
func rowsOf[T any](m []T, n int) [][]T {
	out := make([][]T, len(m)/n)
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
// row i of A times B, iterated; O(len(rows)·n²) per iteration. It holds B
// and the sampled rows of A, never A or C in full: what a validator needs
// to check sampled rows. Rows may repeat; the answer has each once.
func CPURows(seed []byte, n, iterations int, rows []int) (map[int][]int64, error) {
	s, err := SeedInt(seed)
	if err != nil {
		return nil, err
	}
	if err := checkSize(n); err != nil {
		return nil, err
	}
	if err := checkIterations(iterations); err != nil {
		return nil, err
	}
	want := make([]bool, n)
	var order []int
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("%w: row %d of a %d-row matrix", ErrBadChallenge, r, n)
		}
		if !want[r] {
			want[r] = true
			order = append(order, r)
		}
	}
	slices.Sort(order)
	// One pass over the stream keeps A's sampled rows and all of B.
	rng := newElementStream(s)
	arows := make([][]int16, len(order))
	next := 0
	for i, r := range order {
		rng.skip((r - next) * n)
		arows[i] = make([]int16, n)
		rng.fill(arows[i])
		next = r + 1
	}
	rng.skip((n - next) * n)
	packed := gemm.NewPacked(n)
	var b []int16
	if iterations > 1 {
		b = make([]int16, n*n)
	}
	row := make([]int16, n)
	for k := range n {
		if b != nil {
			row = b[k*n : k*n+n]
		}
		rng.fill(row)
		packed.SetRow(k, row)
	}
	c := make([]int64, len(order)*n)
	gemm.MulSmall(rowsOf(c, n), arows, packed)
	if iterations > 1 {
		c = iterate(c, wide(b), n, iterations-1)
	}
	res := make(map[int][]int64, len(order))
	for i, r := range order {
		res[r] = c[i*n : i*n+n : i*n+n]
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
