package yuma

import (
	"math"
	"math/bits"
)

// fx is a signed Q32.32 fixed-point number, the bit pattern of subtensor's
// I32F32 (substrate_fixed). All epoch arithmetic is done in it so that the
// u16 values the chain stores come out bit for bit.
//
// Rounding follows substrate_fixed: multiplication floors (arithmetic shift of
// the 128-bit product), division truncates toward zero, conversions to
// integers floor. Operations named sat* saturate at the type's bounds;
// safeDiv returns 0 for a zero divisor or an overflowing quotient, as
// subtensor's safe_div (checked_div().unwrap_or_default()) does.
type fx int64

const (
	fxFracBits    = 32
	fxOne      fx = 1 << fxFracBits
	fxHalf     fx = 1 << (fxFracBits - 1)
	fxMax      fx = math.MaxInt64
	fxMin      fx = math.MinInt64
	u16Max        = 65535
	fxU16Max   fx = u16Max << fxFracBits
)

// fxFromInt converts an integer that fits in 31 bits exactly.
func fxFromInt(v int64) fx { return fx(v << fxFracBits) }

// fxFromU16 is I32F32::saturating_from_num(u16): exact.
func fxFromU16(v uint16) fx { return fx(int64(v) << fxFracBits) }

// float returns the exact value of x as float64 (exact while |x| < 2^21).
func (x fx) float() float64 { return float64(x) / (1 << fxFracBits) }

func satAdd(a, b fx) fx {
	s := a + b
	// Overflow iff both operands have the same sign and the sum's differs.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		if a >= 0 {
			return fxMax
		}
		return fxMin
	}
	return s
}

func satSub(a, b fx) fx {
	d := a - b
	if (a >= 0) != (b >= 0) && (d >= 0) != (a >= 0) {
		if a >= 0 {
			return fxMax
		}
		return fxMin
	}
	return d
}

func absU64(a fx) uint64 {
	if a < 0 {
		return uint64(-(a + 1)) + 1 // no overflow for MinInt64
	}
	return uint64(a)
}

// mulOverflow returns floor(a·b / 2^32) and whether it overflows int64.
func mulOverflow(a, b fx) (fx, bool) {
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(absU64(a), absU64(b))
	// Magnitude of the shifted product, floor for positive results.
	qhi := hi >> fxFracBits
	q := hi<<(64-fxFracBits) | lo>>fxFracBits
	if !neg {
		if qhi != 0 || q > math.MaxInt64 {
			return fxMax, true
		}
		return fx(q), false
	}
	// Negative: floor(-m/2^32) = -ceil(m/2^32).
	if lo&(1<<fxFracBits-1) != 0 {
		q++
		if q == 0 {
			qhi++
		}
	}
	if qhi != 0 || q > 1<<63 {
		return fxMin, true
	}
	return fx(-int64(q-1) - 1), false
}

// satMul is I32F32::saturating_mul.
func satMul(a, b fx) fx {
	p, _ := mulOverflow(a, b)
	return p
}

// checkedMul is I32F32::checked_mul().unwrap_or_default().
func checkedMul(a, b fx) fx {
	p, over := mulOverflow(a, b)
	if over {
		return 0
	}
	return p
}

// divOverflow returns (a·2^32)/b truncated toward zero and whether the
// quotient overflows. b must not be zero.
func divOverflow(a, b fx) (fx, bool) {
	neg := (a < 0) != (b < 0)
	ua, ub := absU64(a), absU64(b)
	hi, lo := ua>>(64-fxFracBits), ua<<fxFracBits
	if hi >= ub {
		if neg {
			return fxMin, true
		}
		return fxMax, true
	}
	q, _ := bits.Div64(hi, lo, ub)
	if neg {
		if q > 1<<63 {
			return fxMin, true
		}
		return fx(-int64(q-1) - 1), false
	}
	if q > math.MaxInt64 {
		return fxMax, true
	}
	return fx(q), false
}

// safeDiv is subtensor's SafeDiv for I32F32: 0 on a zero divisor or overflow.
func safeDiv(a, b fx) fx {
	if b == 0 {
		return 0
	}
	q, over := divOverflow(a, b)
	if over {
		return 0
	}
	return q
}

// satDiv is I32F32::saturating_div. Rust panics on a zero divisor; we return
// 0 instead, the call sites never divide by zero.
func satDiv(a, b fx) fx {
	if b == 0 {
		return 0
	}
	q, _ := divOverflow(a, b)
	return q
}

func minFx(a, b fx) fx {
	if a < b {
		return a
	}
	return b
}

func maxFx(a, b fx) fx {
	if a > b {
		return a
	}
	return b
}

// clampFx is math.rs clamp_value: min with high first, then max with low.
func clampFx(v, low, high fx) fx { return maxFx(minFx(v, high), low) }

// proportionToU16 is fixed_proportion_to_u16: floor(x·65535), saturated to
// [0, 65535].
func proportionToU16(x fx) uint16 {
	p := satMul(x, fxU16Max)
	if p <= 0 {
		return 0
	}
	v := int64(p) >> fxFracBits
	if v > u16Max {
		return u16Max
	}
	return uint16(v)
}

// u16Proportion is u16 / 65535 in I32F32, floored (u16_proportion_to_fixed).
func u16Proportion(v uint16) fx { return safeDiv(fxFromU16(v), fxU16Max) }

// ppmComplement returns 1 − I32F32(I64F64(v)/10^6), the EMA rate subtensor
// derives from BondsMovingAverage. The I64F64 quotient floored to 32
// fractional bits equals floor(v·2^32/10^6); values too large for I32F32
// saturate (the chain would saturate or panic there).
func ppmComplement(v uint64) fx {
	hi, lo := bits.Mul64(v, 1<<fxFracBits)
	var q uint64
	if hi >= 1_000_000 {
		q = math.MaxUint64
	} else {
		q, _ = bits.Div64(hi, lo, 1_000_000)
	}
	if q > math.MaxInt64 {
		q = math.MaxInt64
	}
	return satSub(fxOne, fx(q))
}

// eI9F23 is substrate_fixed's constant E as I9F23 (e truncated to 23
// fractional bits), which its exp returns verbatim for an argument of exactly
// 1. Derived from the top bits of consts::E (U2F126 0xADF85458A2BB4A9A…).
const eI9F23 = 0xADF85458A2BB4A9A >> 39

// fxExp ports substrate_fixed::transcendental::exp for I32F32: the Taylor
// series 1 + x + Σ_{i=2}^{31} x^i/i! evaluated term by term in I32F32 on |x|,
// inverted for negative x. ok is false where substrate_fixed returns Err.
func fxExp(x fx) (fx, bool) {
	if x == 0 {
		return fxOne, true
	}
	if x == fxOne {
		return fx(eI9F23 << (fxFracBits - 23)), true
	}
	neg := x < 0
	if neg {
		if x == fxMin {
			return 0, false
		}
		x = -x
	}
	result := x + fxOne
	if result < x {
		return 0, false
	}
	term := uint64(x)
	for i := uint64(2); i < fxFracBits; i++ {
		// term·x floored; both are non-negative here.
		hi, lo := bits.Mul64(term, uint64(x))
		if hi>>fxFracBits != 0 {
			return 0, false
		}
		term = hi<<(64-fxFracBits) | lo>>fxFracBits
		if term > math.MaxInt64 {
			return 0, false
		}
		// (term·2^32)/(i·2^32) in I32F32 is just the integer quotient.
		term /= i
		s := result + fx(term)
		if s < result {
			return 0, false
		}
		result = s
	}
	if neg {
		q, over := divOverflow(fxOne, result)
		if over {
			return 0, false
		}
		result = q
	}
	return result, true
}

// expSafe is math.rs exp_safe: the argument is clamped to [−20, 20].
func expSafe(x fx) fx {
	x = clampFx(x, fxFromInt(-20), fxFromInt(20))
	if v, ok := fxExp(x); ok {
		return v
	}
	if x <= 0 {
		return 0
	}
	return fxMax
}
