package subtensor

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/yuma"
)

func near(a, b []float64) bool { return nearWithin(a, b, 1e-12) }

func nearWithin(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// Expected values are worked by hand from the SDK's formulas
// (bittensor.utils.weight_utils).
func TestConvertWeights(t *testing.T) {
	cases := []struct {
		name     string
		uids     []uint16
		weights  []float64
		wantU    []uint16
		wantW    []uint16
		wantFail bool
	}{
		// 0.5·65535 = 32767.5 rounds half to even: 32768; 0.25·65535 = 16383.75.
		{"scaled to max, half to even", []uint16{0, 1, 2}, []float64{0.5, 1, 0.25}, []uint16{0, 1, 2}, []uint16{32768, 65535, 16384}, false},
		{"scale does not matter", []uint16{3, 9}, []float64{2000, 4000}, []uint16{3, 9}, []uint16{32768, 65535}, false},
		{"rounding to zero drops", []uint16{0, 1, 2}, []float64{1, 1e-6, 0}, []uint16{0}, []uint16{65535}, false},
		{"all zero gives nothing", []uint16{0, 1}, []float64{0, 0}, []uint16{}, []uint16{}, false},
		{"one weight", []uint16{7}, []float64{0.001}, []uint16{7}, []uint16{65535}, false},
		{"negative", []uint16{0, 1}, []float64{1, -0.1}, nil, nil, true},
		{"NaN", []uint16{0}, []float64{math.NaN()}, nil, nil, true},
		{"Inf", []uint16{0}, []float64{math.Inf(1)}, nil, nil, true},
		{"length mismatch", []uint16{0, 1}, []float64{1}, nil, nil, true},
	}
	for _, c := range cases {
		u, w, err := ConvertWeights(c.uids, c.weights)
		if c.wantFail {
			if !errors.Is(err, ErrBadWeights) {
				t.Errorf("%s: %v, want ErrBadWeights", c.name, err)
			}
			continue
		}
		if err != nil || !slices.Equal(u, c.wantU) || !slices.Equal(w, c.wantW) {
			t.Errorf("%s: %v %v %v, want %v %v", c.name, u, w, err, c.wantU, c.wantW)
		}
	}
}

func TestNormalizeMaxWeight(t *testing.T) {
	const eps = 1e-7
	// [1,1,8], limit 0.5: two values stay under the limit, the cutoff is
	// (0.5·0.2 − ε)/(1 − 0.5·1)·10 = 2 − 20ε.
	cut := (0.5*0.2 - eps) / 0.5 * 10
	s := 2 + cut
	cases := []struct {
		name  string
		x     []float64
		limit float64
		want  []float64
	}{
		{"under the limit: just normalized", []float64{1, 1, 1, 1}, 0.5, []float64{0.25, 0.25, 0.25, 0.25}},
		{"all zero: uniform", []float64{0, 0, 0}, 0.5, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
		{"len·limit ≤ 1: uniform", []float64{1, 2}, 0.5, []float64{0.5, 0.5}},
		{"over the limit: clipped", []float64{1, 8, 1}, 0.5, []float64{1 / s, cut / s, 1 / s}},
		{"limit 1 is plain normalization", []float64{3, 1}, 1, []float64{0.75, 0.25}},
	}
	for _, c := range cases {
		if got := NormalizeMaxWeight(c.x, c.limit); !near(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// The SDK's own property test: for random vectors the max respects the
	// limit and the sum is 1.
	r := rand.New(rand.NewPCG(1, 2))
	for _, limit := range []float64{0.01, 0.02, 0.03, 0.1, 0.5} {
		for range 20 {
			x := make([]float64, 1000)
			for i := range x {
				x[i] = r.Float64()
			}
			x[r.IntN(1000)] = 500 // one dominant score
			y := NormalizeMaxWeight(x, limit)
			var sum float64
			for _, v := range y {
				sum += v
			}
			if slices.Max(y) > limit+1e-9 || math.Abs(sum-1) > 1e-9 {
				t.Fatalf("limit %v: max %v, sum %v", limit, slices.Max(y), sum)
			}
		}
	}
}

func TestQuantileIsNumPyLinear(t *testing.T) {
	x := []float32{0.4, 0.1, 0.3, 0.2}
	for _, c := range []struct{ q, want float32 }{{0, 0.1}, {1, 0.4}, {0.5, 0.25}, {1.0 / 3, 0.2}, {0.9, 0.37}} {
		if got := Quantile(x, c.q); math.Abs(float64(got-c.want)) > 1e-7 {
			t.Errorf("quantile %v = %v, want %v", c.q, got, c.want)
		}
	}
	if got := Quantile([]float32{7}, 0.3); got != 7 {
		t.Errorf("quantile of one value = %v", got)
	}
}

func TestProcessWeights(t *testing.T) {
	uids4 := []uint16{0, 1, 2, 3}
	cases := []struct {
		name           string
		uids           []uint16
		weights        []float64
		n, minAllowed  int
		limit          float64
		quantile       uint16
		wantU          []uint16
		wantW          []float64
		wantErrorMatch bool
	}{
		{name: "all zero: uniform over the subnet", uids: uids4, weights: []float64{0, 0, 0, 0}, n: 4, minAllowed: 1, limit: 1,
			wantU: uids4, wantW: []float64{0.25, 0.25, 0.25, 0.25}},
		{name: "subnet smaller than the minimum: uniform", uids: []uint16{0, 1, 2}, weights: []float64{1, 0, 0}, n: 3, minAllowed: 5, limit: 1,
			wantU: []uint16{0, 1, 2}, wantW: []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
		{name: "fewer than the minimum: padded with 1e-5", uids: uids4, weights: []float64{0, 0.6, 0.4, 0}, n: 4, minAllowed: 3, limit: 1,
			wantU: uids4, wantW: []float64{1e-5 / 1.00004, 0.60001 / 1.00004, 0.40001 / 1.00004, 1e-5 / 1.00004}},
		{name: "one weight, minimum 1", uids: uids4, weights: []float64{0, 0, 5, 0}, n: 4, minAllowed: 1, limit: 1,
			wantU: []uint16{2}, wantW: []float64{1}},
		// q = min(32767/65535, (4−1)/4) ≈ 0.499992; NumPy's quantile of
		// [.1,.2,.3,.4] there is ≈ 0.2499977, so .3 and .4 stay.
		{name: "exclusion quantile", uids: uids4, weights: []float64{0.1, 0.2, 0.3, 0.4}, n: 4, minAllowed: 1, limit: 1, quantile: 32767,
			wantU: []uint16{2, 3}, wantW: []float64{3.0 / 7, 4.0 / 7}},
		// The quantile never removes more than count − minAllowed: q ≤ 1/4.
		{name: "quantile bounded by the minimum", uids: uids4, weights: []float64{0.1, 0.2, 0.3, 0.4}, n: 4, minAllowed: 3, limit: 1, quantile: 65535,
			wantU: []uint16{1, 2, 3}, wantW: []float64{0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9}},
		{name: "over the max limit", uids: []uint16{4, 5, 6}, weights: []float64{1, 8, 1}, n: 10, minAllowed: 1, limit: 0.5,
			wantU: []uint16{4, 5, 6}, wantW: NormalizeMaxWeight([]float64{1, 8, 1}, 0.5)},
		{name: "negative", uids: uids4, weights: []float64{1, -1, 0, 0}, n: 4, minAllowed: 1, limit: 1, wantErrorMatch: true},
		{name: "NaN", uids: uids4, weights: []float64{1, math.NaN(), 0, 0}, n: 4, minAllowed: 1, limit: 1, wantErrorMatch: true},
		{name: "no subnet", uids: uids4, weights: []float64{1, 1, 1, 1}, n: 0, minAllowed: 1, limit: 1, wantErrorMatch: true},
		{name: "padding past the subnet", uids: []uint16{0, 1, 2, 3, 4, 5}, weights: []float64{0, 0, 0, 0, 0, 1}, n: 4, minAllowed: 3, limit: 1, wantErrorMatch: true},
	}
	for _, c := range cases {
		u, w, err := ProcessWeights(c.uids, c.weights, c.n, c.minAllowed, c.limit, c.quantile)
		if c.wantErrorMatch {
			if !errors.Is(err, ErrBadWeights) {
				t.Errorf("%s: %v, want ErrBadWeights", c.name, err)
			}
			continue
		}
		// The common case runs in float32, as the SDK does: 1e-7 apart.
		if err != nil || !slices.Equal(u, c.wantU) || !nearWithin(w, c.wantW, 1e-7) {
			t.Errorf("%s: %v %v %v\n want %v %v", c.name, u, w, err, c.wantU, c.wantW)
		}
	}
	// The over-the-limit case respects the limit once converted.
	u, w, _ := ProcessWeights([]uint16{4, 5, 6}, []float64{1, 8, 1}, 10, 1, 0.5, 0)
	cu, cw, err := ConvertWeights(u, w)
	if err != nil || !slices.Equal(cu, []uint16{4, 5, 6}) || cw[1] != 65535 || cw[0] != cw[2] || cw[0] != 32768 {
		t.Errorf("processed and converted: %v %v %v", cu, cw, err)
	}
}

func BenchmarkProcessAndConvert(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	uids := make([]uint16, 1024)
	w := make([]float64, 1024)
	for i := range w {
		uids[i] = uint16(i)
		w[i] = r.Float64()
	}
	b.ReportAllocs()
	for b.Loop() {
		u, p, err := ProcessWeights(uids, w, 1024, 8, 0.05, 6553)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ConvertWeights(u, p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestClippedWeightsPassTheChainsLimit: a vector clipped at
// max_weight_limit and converted to u16 as the SDK does is refused now and
// then by the rule subtensor applied while it enforced MaxWeightsLimit (the
// chain max-upscales, then check_vec_max_limited in I32F32); after
// FitMaxWeightLimit every one passes, each entry moved by at most one unit,
// and a vector that passed is untouched. For the limits subnets used, on
// thousands of score vectors with dominant scores.
func TestClippedWeightsPassTheChainsLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	refused, total, fitted := 0, 0, 0
	for _, limit := range []uint16{455, 1000, 2000, 6553, 13107, 32767, 45000} {
		for range 600 {
			size := 2 + r.IntN(300)
			scores := make([]float64, size)
			uids := make([]uint16, size)
			for i := range scores {
				uids[i] = uint16(i)
				scores[i] = r.Float64()
				if r.IntN(10) == 0 {
					scores[i] = 50 * r.Float64() // dominant scores to clip
				}
			}
			u, w, err := ProcessWeights(uids, scores, size, 1, float64(limit)/U16Max, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, cw, err := ConvertWeights(u, w)
			if err != nil {
				t.Fatal(err)
			}
			if len(cw)*int(limit) <= U16Max {
				continue // no vector this short can meet the limit; the SDK goes uniform
			}
			total++
			sdk := slices.Clone(cw)
			if !yuma.MaxWeightLimited(yuma.MaxUpscale(cw), limit) {
				refused++
			}
			plan := &WeightPlan{Values: cw}
			added := plan.FitMaxWeightLimit(limit)
			if !yuma.MaxWeightLimited(yuma.MaxUpscale(plan.Values), limit) {
				t.Fatalf("limit %d, %d scores: still refused after fitting: %v", limit, size, plan.Values)
			}
			changed := 0
			for i := range sdk {
				if d := int(plan.Values[i]) - int(sdk[i]); d != 0 {
					changed++
					if d < 0 || d > 1 {
						t.Fatalf("limit %d: entry %d moved from %d to %d", limit, i, sdk[i], plan.Values[i])
					}
				}
			}
			if (added == 0) != (changed == 0) || added != changed {
				t.Fatalf("limit %d: fit reports %d units, %d entries changed", limit, added, changed)
			}
			fitted += added
		}
	}
	// The SDK's vectors fail the rule this often; that is what the fit is for.
	t.Logf("%d of %d SDK vectors would be refused with MaxWeightExceeded; fitting added %d units in all", refused, total, fitted)
	if refused == 0 {
		t.Error("no SDK vector fails the rule: the test no longer exercises the fit")
	}
}
