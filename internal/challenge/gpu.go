package challenge

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The GPU challenge as the reference verifier defines it
// (neurons/validator/services/async_challenge_verifier.py): each GPU's A and
// B come from a hash of (seed, GPU uuid) and the element's position, so any
// cell of C = A·B can be checked from one row of A and one column of B.

// MaxGPUSize bounds a GPU challenge's matrix (the reference's sizes are
// 31129..34406 by default).
const MaxGPUSize = 1 << 17

// SeedHash is uint64_le(SHA-256("{seed_hex}|{gpu_uuid}")[0:8]).
func SeedHash(seedHex, gpuUUID string) uint64 {
	sum := sha256.Sum256([]byte(seedHex + "|" + gpuUUID))
	return binary.LittleEndian.Uint64(sum[:8])
}

// gpuElement is the generator: which is 0 for A(i, j), 1 for B(i, j);
// values are multiples of 2^-15 in [-1, 1).
func gpuElement(seedHash uint64, i, j int, which uint64) float64 {
	e := seedHash ^ uint64(i)<<32 ^ uint64(j)<<16 ^ which
	h := uint32(e ^ e>>32)
	h = h*0x9E3779B9 + 0x85EBCA6B
	h ^= h >> 16
	h *= 0x85EBCA6B
	return float64(h&0xFFFF)/32768 - 1
}

// GPUElementA and GPUElementB are A(r, k) and B(k, c).
func GPUElementA(seedHash uint64, r, k int) float64 { return gpuElement(seedHash, r, k, 0) }
func GPUElementB(seedHash uint64, k, c int) float64 { return gpuElement(seedHash, k, c, 1) }

func checkGPUSize(n int) error {
	if n < 1 || n > MaxGPUSize {
		return fmt.Errorf("%w: matrix size %d (1-%d)", ErrBadChallenge, n, MaxGPUSize)
	}
	return nil
}

// GPUCell is the expected C[r][c] = Σ_k A(r,k)·B(k,c), times iterations as
// the verifier scales it. Every term is a multiple of 2^-30 and the sum is
// below 2^17 in magnitude, so float64 holds it exactly in any summation
// order: NumPy's dot and this loop agree to the bit.
func GPUCell(seedHash uint64, n, r, c, iterations int) (float64, error) {
	if err := checkGPUSize(n); err != nil {
		return 0, err
	}
	if r < 0 || r >= n || c < 0 || c >= n || iterations < 1 || iterations > MaxIterations {
		return 0, fmt.Errorf("%w: cell (%d, %d) of size %d, %d iterations", ErrBadChallenge, r, c, n, iterations)
	}
	return newGPUGen(seedHash, n, float64(iterations)).cell(r, c), nil
}

// ErrFP16Range is returned for a value too large for IEEE binary16, which
// the reference's struct.pack('<e') refuses.
var ErrFP16Range = errors.New("value out of binary16 range")

// FP16Bits is the IEEE binary16 bit pattern of x, rounded half to even as
// Python's struct '<e' packs it.
func FP16Bits(x float64) (uint16, error) {
	bits := math.Float64bits(x)
	sign := uint16(bits>>48) & 0x8000
	switch {
	case math.IsNaN(x):
		return sign | 0x7e00, nil
	case math.IsInf(x, 0):
		return sign | 0x7c00, nil
	}
	a := math.Abs(x)
	if a == 0 {
		return sign, nil
	}
	// The value in units of the smallest subnormal, 2^-24, rounded half to
	// even, carries exponent and mantissa alike once normalised.
	frac, exp := math.Frexp(a) // a = frac·2^exp, frac in [0.5, 1)
	if exp < -13 {             // below the normal range: subnormal units
		m := math.RoundToEven(a * (1 << 24))
		return sign | uint16(m), nil // m = 1024 rounds up into the first normal
	}
	m := math.RoundToEven(frac * 2048) // 11 significant bits
	if m == 2048 {
		m, exp = 1024, exp+1
	}
	e := exp + 14 // biased exponent of 1.xxx·2^(exp-1)
	if e >= 31 {
		return 0, fmt.Errorf("%w: %v", ErrFP16Range, x)
	}
	return sign | uint16(e)<<10 | (uint16(m) - 1024), nil
}

// FP16Value is the number an IEEE binary16 bit pattern holds.
func FP16Value(bits uint16) float64 {
	sign := 1.0
	if bits&0x8000 != 0 {
		sign = -1
	}
	e, m := int(bits>>10&0x1f), float64(bits&0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(m, -24)
	case 0x1f:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+m, e-25)
}

// FP16RowHash is the reference's GPU row hash: FNV-1a-64 over the values'
// binary16 bit patterns, XORed in per 16-bit element, as 16 lowercase hex.
func FP16RowHash(row []float64) (string, error) {
	h := fnvOffset
	for _, v := range row {
		b, err := FP16Bits(v)
		if err != nil {
			return "", err
		}
		h = fnvStep(h, b)
	}
	return fmt.Sprintf("%016x", h), nil
}

// FP16BitsRowHash is FP16RowHash of a row already held as binary16.
func FP16BitsRowHash(row []uint16) string {
	h := fnvOffset
	for _, b := range row {
		h = fnvStep(h, b)
	}
	return fmt.Sprintf("%016x", h)
}

const fnvOffset = uint64(0xCBF29CE484222325)

func fnvStep(h uint64, b uint16) uint64 { return (h ^ uint64(b)) * 0x100000001B3 }

// GPURowUnits sets dst to row r of a GPU challenge's A and GPUColUnits to
// column c of B, in units of 2^-15 (element = units / 32768); DotUnits is
// their exact product in units of 2^-30 and UnitsValue the cell it gives.
// Together they compute any part of C exactly, for workers without a GPU.
func GPURowUnits(seedHash uint64, r int, dst []int32) {
	genElements(dst, newGPUGen(seedHash, len(dst), 1).rowKey(r), true)
}

// GPUColUnits: see GPURowUnits.
func GPUColUnits(seedHash uint64, c int, dst []int32) {
	genElements(dst, newGPUGen(seedHash, len(dst), 1).colKey(c), false)
}

// DotUnits: see GPURowUnits.
func DotUnits(a, b []int32) int64 { return dotElements(a, b[:len(a)]) }

// UnitsValue: see GPURowUnits.
func UnitsValue(units int64, iterations int) float64 {
	return newGPUGen(0, 0, float64(iterations)).value(units)
}
