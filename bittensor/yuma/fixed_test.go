package yuma

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

var two32 = new(big.Int).Lsh(big.NewInt(1), 32)

func bigFloorDiv(a, b *big.Int) *big.Int {
	q, m := new(big.Int), new(big.Int)
	q.DivMod(a, b, m) // Euclidean; equals floor for b > 0
	return q
}

func saturate(v *big.Int) fx {
	if v.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return fxMax
	}
	if v.Cmp(big.NewInt(math.MinInt64)) < 0 {
		return fxMin
	}
	return fx(v.Int64())
}

// TestMulDiv checks the I32F32 product (floor) and quotient (truncation
// toward zero) against exact big-integer arithmetic, signs and saturation
// included.
func TestMulDiv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := []fx{0, 1, -1, fxOne, -fxOne, fxHalf, fxMax, fxMin, fxMin + 1, 3, -3}
	for range 2000 {
		v := fx(rng.Uint64())
		if rng.IntN(2) == 0 {
			v >>= rng.IntN(63)
		}
		vals = append(vals, v)
	}
	for k := 0; k+1 < len(vals); k++ {
		a, b := vals[k], vals[len(vals)-1-k]
		ba, bb := big.NewInt(int64(a)), big.NewInt(int64(b))
		want := saturate(bigFloorDiv(new(big.Int).Mul(ba, bb), two32))
		if got := satMul(a, b); got != want {
			t.Fatalf("satMul(%d, %d) = %d, want %d", a, b, got, want)
		}
		if b == 0 {
			continue
		}
		q := new(big.Int).Quo(new(big.Int).Mul(ba, two32), bb) // truncates
		want = saturate(q)
		if got := satDiv(a, b); got != want {
			t.Fatalf("satDiv(%d, %d) = %d, want %d", a, b, got, want)
		}
		if !q.IsInt64() {
			want = 0
		}
		if got := safeDiv(a, b); got != want {
			t.Fatalf("safeDiv(%d, %d) = %d, want %d", a, b, got, want)
		}
	}
	if safeDiv(fxOne, 0) != 0 || satDiv(fxOne, 0) != 0 {
		t.Error("division by zero must give 0")
	}
}

// truncatedExp is Σ_{i=0}^{31} |x|^i/i! in float64 (inverted for x < 0):
// the series substrate_fixed evaluates, without its fixed-point rounding.
func truncatedExp(x float64) float64 {
	a := math.Abs(x)
	s, term := 1.0, 1.0
	for i := 1; i < 32; i++ {
		term *= a / float64(i)
		s += term
	}
	if x < 0 {
		return 1 / s
	}
	return s
}

// TestExp checks the port of substrate_fixed's exp: it agrees with math.Exp
// for |x| ≤ 8 (liquid alpha at the default steepness 1000 stays within ±5),
// and beyond that with the 31-term Taylor series the chain really computes,
// which falls short of e^x (by 0.8% at x = 20). The special case for exactly
// 1 returns e truncated to 23 fractional bits.
func TestExp(t *testing.T) {
	for x := -20.0; x <= 20.0; x += 0.0625 {
		got := expSafe(fx(x * (1 << fxFracBits))).float()
		if x == 1 {
			continue // special case, below
		}
		want := truncatedExp(x)
		if math.Abs(x) <= 8 {
			want = math.Exp(x)
		}
		if math.Abs(got-want) > 1e-9+1e-9*want {
			t.Errorf("exp(%v) = %.12g, want %.12g", x, got, want)
		}
	}
	if got := expSafe(fxOne); got != fx(22802600)<<9 {
		t.Errorf("exp(1) = %d, want I9F23 e (22802600<<9)", got)
	}
	if expSafe(fxFromInt(-1000)) != expSafe(fxFromInt(-20)) || expSafe(fxMax) != expSafe(fxFromInt(20)) {
		t.Error("exp_safe must clamp its argument to [-20, 20]")
	}
}

// TestAlphaSigmoid checks the liquid-alpha rate: within [low, high], at
// the midpoint for a zero difference with steepness 0, and constant when
// low = high (test_liquid_alpha_equal_values_against_itself).
func TestAlphaSigmoid(t *testing.T) {
	low, high := u16Proportion(6553), u16Proportion(19660)
	steep := satDiv(fxFromInt(1000), fxFromInt(-100))
	for _, c := range [][3]float64{{0.3, 0.9, 0.1}, {0.5, 0.5, 0.5}, {0.2, 0, 0.8}, {0, 1, 0}, {1, 0, 1}} {
		a := alphaSigmoid(fx(c[0]*(1<<32)), fx(c[1]*(1<<32)), fx(c[2]*(1<<32)), low, high, steep)
		if a < low || a > high {
			t.Errorf("alpha%v = %v outside [%v, %v]", c, a.float(), low.float(), high.float())
		}
	}
	// Weight far above consensus: buying fast, σ = 1/(1+e^-5), alpha near high.
	want := low.float() + (high.float()-low.float())/(1+math.Exp(-5))
	if a := alphaSigmoid(0, fxOne, 0, low, high, steep); math.Abs(a.float()-want) > 1e-8 {
		t.Errorf("alpha for diff 1 = %v, want %v", a.float(), want)
	}
	mid := alphaSigmoid(0, 0, 0, low, high, 0)
	if want := (low.float() + high.float()) / 2; math.Abs(mid.float()-want) > 1e-9 {
		t.Errorf("alpha with steepness 0 = %v, want %v", mid.float(), want)
	}
	same := u16Proportion(65535 / 10)
	if a := alphaSigmoid(fxHalf, fxOne, 0, same, same, steep); a != same {
		t.Errorf("alpha with low = high = %v, want %v", a, same)
	}
}

// TestMaxUpscale reproduces tests/math.rs::test_vec_u16_max_upscale_to_u16
// and the u16 cases of set_weights seen in the epoch tests.
func TestMaxUpscale(t *testing.T) {
	cases := [][2][]uint16{
		{{}, {}},
		{{0}, {0}},
		{{0, 0}, {0, 0}},
		{{1}, {65535}},
		{{0, 1}, {0, 65535}},
		{{65534}, {65535}},
		{{65535}, {65535}},
		{{65535, 65535}, {65535, 65535}},
		{{0, 1, 65534}, {0, 1, 65535}},
		{{0, 1, 2, 3, 4, 65533, 65535}, {0, 1, 2, 3, 4, 65533, 65535}},
		{{32767, 32767}, {65535, 65535}},
		{{43690, 21845}, {65535, 32768}},
		{{16383, 32767, 49149, 65535}, {16383, 32767, 49149, 65535}},
	}
	for _, c := range cases {
		if got := MaxUpscale(c[0]); !slices.Equal(got, c[1]) {
			t.Errorf("MaxUpscale(%v) = %v, want %v", c[0], got, c[1])
		}
	}
}

func TestProportionToU16(t *testing.T) {
	cases := []struct {
		x    fx
		want uint16
	}{
		{0, 0},
		{-fxOne, 0},
		{fxOne, 65535},
		{fxHalf, 32767},
		{fxFromInt(65535), 65535}, // saturates
		{fxMax, 65535},
		{u16Proportion(12345), 12344}, // floor(floor(v/65535)·65535) loses one
	}
	for _, c := range cases {
		if got := proportionToU16(c.x); got != c.want {
			t.Errorf("proportionToU16(%v) = %d, want %d", c.x.float(), got, c.want)
		}
	}
}

// TestStakeWeights covers the I64F64 stake path: TAO weighted by TaoWeight,
// saturation, and the floor of the normalized share.
func TestStakeWeights(t *testing.T) {
	in := Inputs{
		N:          3,
		AlphaStake: []uint64{1, 2, 0},
		TaoStake:   []uint64{0, 0, 4},
	}
	p := Params{TaoWeight: math.MaxUint64 / 4 * 1} // ≈ 0.25
	s := stakeWeights(p, &in, -1)
	// 4·0.25 (slightly less, the weight is floored) ≈ 1, so ≈ [1/4, 2/4, 1/4].
	for i, want := range []float64{0.25, 0.5, 0.25} {
		if math.Abs(s[i].float()-want) > 1e-8 {
			t.Errorf("stake[%d] = %v, want ≈ %v", i, s[i].float(), want)
		}
	}
	in.AlphaStake = []uint64{math.MaxUint64, math.MaxUint64, 1}
	in.TaoStake = nil
	s = stakeWeights(Params{}, &in, -1)
	if s[0] == 0 || s[0] != s[1] {
		t.Errorf("saturated stakes = %v", s)
	}
	// Threshold applies to the integer part of the total.
	in = Inputs{N: 2, AlphaStake: []uint64{999, 1000}}
	s = stakeWeights(Params{StakeThreshold: 1000}, &in, -1)
	if s[0] != 0 || s[1] != fxOne {
		t.Errorf("threshold: %v", s)
	}
	if got := fracTimes2p32(u128{hi: 1}, u128{hi: 3}); got != 1431655765 {
		t.Errorf("floor(2^32/3) = %d, want 1431655765", got)
	}
}
