package subtensor

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Weight processing as the Bittensor SDK does it before a weights
// extrinsic (bittensor.utils.weight_utils): ProcessWeights, then
// ConvertWeights. Validators that agree with the SDK here put the same u16
// vectors on chain for the same scores, which matters under Yuma's
// weight-consensus clipping. Agreement to the last u16 needs NumPy's own
// arithmetic: the SDK casts scores to float32, sums with NumPy's pairwise
// summation, interpolates quantiles in float32, and mixes Python floats into
// float32 expressions under NumPy 2's promotion rules (NEP 50: the Python
// value is converted to float32 first). The functions below do exactly
// those operations in that order; explicit float32 conversions keep the
// compiler from fusing a multiply and an add, which NumPy does not do.

// ErrBadWeights is wrapped by the errors of weight processing.
var ErrBadWeights = errors.New("invalid weights")

// U16Max is the chain's weight scale.
const U16Max = 65535

func checkWeights(uids []uint16, weights []float64) error {
	if len(uids) != len(weights) {
		return fmt.Errorf("%w: %d uids and %d weights", ErrBadWeights, len(uids), len(weights))
	}
	for i, w := range weights {
		switch {
		case math.IsNaN(w) || math.IsInf(w, 0):
			return fmt.Errorf("%w: weight of uid %d is %v", ErrBadWeights, uids[i], w)
		case w < 0:
			return fmt.Errorf("%w: weight of uid %d is negative (%v)", ErrBadWeights, uids[i], w)
		}
	}
	return nil
}

// ConvertWeights is the SDK's convert_weights_and_uids_for_emit: weights are
// scaled so the largest becomes 65535, rounded half to even (Python's
// round), and entries that round to 0 are dropped. All-zero weights give
// empty vectors.
func ConvertWeights(uids []uint16, weights []float64) ([]uint16, []uint16, error) {
	if err := checkWeights(uids, weights); err != nil {
		return nil, nil, err
	}
	var sum, maxW float64
	for _, w := range weights {
		sum += w
		maxW = max(maxW, w)
	}
	if sum == 0 {
		return []uint16{}, []uint16{}, nil
	}
	outU := make([]uint16, 0, len(uids))
	outW := make([]uint16, 0, len(uids))
	for i, w := range weights {
		v := math.RoundToEven(w / maxW * U16Max)
		if v != 0 {
			outU = append(outU, uids[i])
			outW = append(outW, uint16(v))
		}
	}
	return outU, outW, nil
}

// pwBlock is NumPy's PW_BLOCKSIZE: below it, a sum runs in eight
// interleaved accumulators; above it, the array is split in two.
const pwBlock = 128

// pairwiseSum is NumPy's pairwise summation (pairwise_sum in
// numpy/_core/src/umath/loops_utils.h.src), in the array's own precision:
// what ndarray.sum() returns for a contiguous float32 or float64 array.
func pairwiseSum[F float32 | float64](a []F) F {
	n := len(a)
	switch {
	case n < 8:
		var res F
		for _, v := range a {
			res += v
		}
		return res
	case n <= pwBlock:
		var r [8]F
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
}

// normalizeEpsilon is normalize_max_weight's epsilon.
const normalizeEpsilon = 1e-7

// NormalizeMaxWeight is the SDK's normalize_max_weight on a float64 array
// (what process_weights passes it when it pads a short vector): x scaled to
// sum 1 with no element above limit, by clipping the largest values
// (uniform when x sums to 0 or len(x)·limit ≤ 1).
func NormalizeMaxWeight(x []float64, limit float64) []float64 {
	return normalizeMaxWeight(x, limit, func(v float64) float64 { return v })
}

// NormalizeMaxWeight32 is normalize_max_weight on a float32 array, the
// vector process_weights normalises in the common case; limit, a Python
// float there, enters each float32 expression as float32(limit).
func NormalizeMaxWeight32(x []float32, limit float64) []float32 {
	return normalizeMaxWeight(x, limit, func(v float64) float32 { return float32(v) })
}

// normalizeMaxWeight is normalize_max_weight in the precision F of the
// array; conv turns a Python float into F as NumPy 2 does.
func normalizeMaxWeight[F float32 | float64](x []F, limit float64, conv func(float64) F) []F {
	n := len(x)
	out := make([]F, n)
	if n == 0 {
		return out
	}
	if pairwiseSum(x) == 0 || float64(n)*limit <= 1 {
		for i := range out {
			out[i] = 1 / F(n)
		}
		return out
	}
	w := slices.Clone(x)
	values := slices.Clone(x)
	slices.Sort(values)
	vsum := pairwiseSum(values)
	est := make([]F, n)
	for i, v := range values {
		est[i] = v / vsum
	}
	lim, eps := conv(limit), conv(normalizeEpsilon)
	if slices.Max(est) <= lim {
		wsum := pairwiseSum(w)
		for i, v := range w {
			out[i] = v / wsum
		}
		return out
	}
	cumsum := make([]F, n) // np.cumsum: running, in order
	var acc F
	for i, e := range est {
		acc += e
		cumsum[i] = acc
	}
	nValues := 0
	for i, e := range est {
		rest := F(F(n-i-1) * e)
		if e/((rest+cumsum[i])+eps) < lim {
			nValues++
		}
	}
	k := nValues - 1
	if k < 0 {
		k = n - 1 // a Python index of -1; unreachable for len(x)·limit > 1
	}
	// The numerator is in F (a Python float times an F scalar); the
	// denominator is a NumPy float64 (a Python float times the int64 count),
	// which is not weak, so the cutoff and the comparison are float64 and
	// the clipped entries take the cutoff rounded to F.
	num := F(F(lim*cumsum[k]) - eps)
	den := 1 - limit*float64(n-nValues)
	cutoff := float64(num) / den * float64(vsum)
	for i, v := range w {
		if float64(v) > cutoff {
			w[i] = conv(cutoff)
		}
	}
	wsum := pairwiseSum(w)
	for i, v := range w {
		out[i] = v / wsum
	}
	return out
}

// Quantile is NumPy 2's np.quantile of a float32 array (linear
// interpolation, method 7 of Hyndman and Fan) at q, which NumPy takes in
// the array's dtype when it is a Python float; the interpolation weight
// and the result are float32 too.
func Quantile(x []float32, q float32) float32 {
	n := len(x)
	if n == 0 {
		return float32(math.NaN())
	}
	s := slices.Clone(x)
	slices.Sort(s)
	virtual := f32(f32(n-1) * q)
	if virtual >= f32(n-1) {
		return s[n-1]
	}
	prev := int(virtual) // virtual ≥ 0: floor
	gamma := virtual - f32(prev)
	a, b := s[prev], s[prev+1]
	diff := b - a
	if gamma >= 0.5 {
		return b - f32(diff*(1-gamma))
	}
	return a + f32(diff*gamma)
}

// f32 rounds to float32: an explicit conversion, so that the compiler never
// fuses the product it wraps into an add.
func f32[T ~float32 | ~float64 | ~int](v T) float32 { return float32(v) }

// ProcessWeights is the SDK's process_weights (process_weights_for_netuid
// after it read the subnet's values): n is the subnet's neuron count,
// minAllowed its MinAllowedWeights, maxWeightLimit its MaxWeightsLimit/65535
// and excludeQuantile a u16 fraction of the smallest weights to drop.
//
//   - no positive weight, or n < minAllowed: uniform 1/n over uids 0..n-1;
//   - fewer positive weights than minAllowed: every uid 0..n-1 gets 1e-5,
//     plus the weight at its position, then NormalizeMaxWeight (the SDK adds
//     by position in the input, which is the uid when the input is a full
//     score vector);
//   - otherwise the positive weights at or above the exclusion quantile,
//     through NormalizeMaxWeight.
func ProcessWeights(uids []uint16, weights []float64, n, minAllowed int, maxWeightLimit float64, excludeQuantile uint16) ([]uint16, []float64, error) {
	if err := checkWeights(uids, weights); err != nil {
		return nil, nil, err
	}
	if n <= 0 || n > U16Max+1 {
		return nil, nil, fmt.Errorf("%w: subnet size %d", ErrBadWeights, n)
	}
	if math.IsNaN(maxWeightLimit) || maxWeightLimit <= 0 {
		return nil, nil, fmt.Errorf("%w: max weight limit %v", ErrBadWeights, maxWeightLimit)
	}
	// weights.astype(np.float32); a score beyond float32's range would
	// become +Inf and every weight NaN.
	w32 := make([]float32, len(weights))
	for i, w := range weights {
		w32[i] = float32(w)
		if math.IsInf(float64(w32[i]), 0) {
			return nil, nil, fmt.Errorf("%w: weight of uid %d (%v) overflows float32", ErrBadWeights, uids[i], w)
		}
	}
	var nzIdx []int
	for i, w := range w32 {
		if w > 0 {
			nzIdx = append(nzIdx, i)
		}
	}
	all := func() []uint16 {
		out := make([]uint16, n)
		for i := range out {
			out[i] = uint16(i)
		}
		return out
	}
	if len(nzIdx) == 0 || n < minAllowed {
		w := make([]float64, n)
		for i := range w {
			w[i] = 1 / float64(n)
		}
		return all(), w, nil
	}
	if len(nzIdx) < minAllowed {
		// A float64 vector: the SDK pads with an int64 array times 1e-5.
		w := make([]float64, n)
		for i := range w {
			w[i] = 1e-5
		}
		for _, i := range nzIdx {
			if i >= n {
				return nil, nil, fmt.Errorf("%w: weight at position %d for a subnet of %d", ErrBadWeights, i, n)
			}
			w[i] += float64(w32[i])
		}
		return all(), NormalizeMaxWeight(w, maxWeightLimit), nil
	}
	nz := make([]float32, len(nzIdx))
	for j, i := range nzIdx {
		nz[j] = w32[i]
	}
	maxExclude := float64(max(0, len(nz)-minAllowed)) / float64(len(nz))
	q := min(float64(excludeQuantile)/U16Max, maxExclude)
	lowest := Quantile(nz, float32(q))
	var keptU []uint16
	var keptW []float32
	for j, i := range nzIdx {
		if lowest <= nz[j] {
			keptU = append(keptU, uids[i])
			keptW = append(keptW, nz[j])
		}
	}
	norm := NormalizeMaxWeight32(keptW, maxWeightLimit)
	out := make([]float64, len(norm))
	for i, v := range norm {
		out[i] = float64(v)
	}
	return keptU, out, nil
}
