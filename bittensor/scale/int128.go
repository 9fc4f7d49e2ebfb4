package scale

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// Uint128 is a u128 as two 64-bit halves, so that decoding one needs no
// allocation; Big converts it when arithmetic is needed.
type Uint128 struct{ Hi, Lo uint64 }

// Int128 is an i128 in two's complement: Hi carries the sign.
type Int128 struct {
	Hi int64
	Lo uint64
}

// Big returns v as a new big.Int.
func (v Uint128) Big() *big.Int {
	b := new(big.Int).SetUint64(v.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(v.Lo))
}

// String returns v in decimal.
func (v Uint128) String() string {
	if v.Hi == 0 {
		return strconv.FormatUint(v.Lo, 10)
	}
	return v.Big().String()
}

// Uint128FromBig converts b, failing with ErrRange if b is negative or does
// not fit in 128 bits.
func Uint128FromBig(b *big.Int) (Uint128, error) {
	if b.Sign() < 0 || b.BitLen() > 128 {
		return Uint128{}, fmt.Errorf("%w: %v does not fit in u128", ErrRange, b)
	}
	var buf [16]byte
	b.FillBytes(buf[:])
	return Uint128{Hi: binary.BigEndian.Uint64(buf[:8]), Lo: binary.BigEndian.Uint64(buf[8:])}, nil
}

// Int128FromInt64 sign-extends v.
func Int128FromInt64(v int64) Int128 {
	return Int128{Hi: v >> 63, Lo: uint64(v)}
}

// Int128FromBig converts b, failing with ErrRange outside [-2^127, 2^127-1].
func Int128FromBig(b *big.Int) (Int128, error) {
	if b.Sign() >= 0 {
		u, err := Uint128FromBig(b)
		if err != nil || u.Hi>>63 != 0 {
			return Int128{}, fmt.Errorf("%w: %v does not fit in i128", ErrRange, b)
		}
		return Int128{Hi: int64(u.Hi), Lo: u.Lo}, nil
	}
	mag, err := Uint128FromBig(new(big.Int).Neg(b))
	if err != nil || mag.Hi>>63 != 0 && (mag.Hi != 1<<63 || mag.Lo != 0) {
		return Int128{}, fmt.Errorf("%w: %v does not fit in i128", ErrRange, b)
	}
	hi, lo := neg128(mag.Hi, mag.Lo)
	return Int128{Hi: int64(hi), Lo: lo}, nil
}

// Big returns v as a new big.Int.
func (v Int128) Big() *big.Int {
	if v.Hi >= 0 {
		return Uint128{Hi: uint64(v.Hi), Lo: v.Lo}.Big()
	}
	hi, lo := neg128(uint64(v.Hi), v.Lo)
	b := Uint128{Hi: hi, Lo: lo}.Big()
	return b.Neg(b)
}

// String returns v in decimal.
func (v Int128) String() string { return v.Big().String() }

// neg128 returns the two's complement negation of hi:lo.
func neg128(hi, lo uint64) (uint64, uint64) {
	lo, borrow := bits.Sub64(0, lo, 0)
	hi, _ = bits.Sub64(0, hi, borrow)
	return hi, lo
}

// u128Float returns (hi*2^64 + lo) * 2^exp rounded once to the nearest
// float64, so that values wider than 53 bits lose no more than float64
// precision (converting the halves separately and adding would round
// twice).
func u128Float(hi, lo uint64, exp int) float64 {
	if hi == 0 {
		return math.Ldexp(float64(lo), exp)
	}
	lz := bits.LeadingZeros64(hi)
	// Top 64 significant bits; the bits shifted out only matter as a sticky
	// bit for rounding, and bit 0 lies well below float64's rounding bit.
	m := hi<<lz | lo>>(64-lz)
	if lo<<lz != 0 {
		m |= 1
	}
	return math.Ldexp(float64(m), exp+64-lz)
}

// I32F32 is the raw value of a signed fixed-point number with 32 fractional
// bits (substrate-fixed I32F32), as stored on chain: value = raw / 2^32.
type I32F32 int64

// Float64 returns the value, rounded to the nearest float64.
func (v I32F32) Float64() float64 { return math.Ldexp(float64(v), -32) }

// I96F32 is the raw value of a signed fixed-point number with 32 fractional
// bits in an i128 (substrate-fixed I96F32): value = raw / 2^32.
type I96F32 Int128

// Float64 returns the value, rounded once to the nearest float64.
func (v I96F32) Float64() float64 {
	if v.Hi >= 0 {
		return u128Float(uint64(v.Hi), v.Lo, -32)
	}
	hi, lo := neg128(uint64(v.Hi), v.Lo)
	return -u128Float(hi, lo, -32)
}

// U64F64 is the raw value of an unsigned fixed-point number with 64
// fractional bits (substrate-fixed U64F64): value = raw / 2^64.
type U64F64 Uint128

// Float64 returns the value, rounded once to the nearest float64.
func (v U64F64) Float64() float64 { return u128Float(v.Hi, v.Lo, -64) }
