package subtensor

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Weight processing as the Bittensor SDK does it before a weights
// extrinsic (bittensor.utils.weight_utils): ProcessWeights, then
// ConvertWeights. Validators that agree with the SDK here put the same u16
// vectors on chain for the same scores, which matters under Yuma's
// weight-consensus clipping. Computation is in float64 where the SDK often
// uses float32; results can differ in the last u16 step on rare ties.

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

// NormalizeMaxWeight is the SDK's normalize_max_weight: x scaled to sum 1
// with no element above limit, by clipping the largest values (uniform when
// x sums to 0 or len(x)·limit ≤ 1). The ε = 1e-7 of the SDK is kept so that
// results match it.
func NormalizeMaxWeight(x []float64, limit float64) []float64 {
	const epsilon = 1e-7
	n := len(x)
	out := make([]float64, n)
	if n == 0 {
		return out
	}
	var sum float64
	for _, v := range x {
		sum += v
	}
	if sum == 0 || float64(n)*limit <= 1 {
		for i := range out {
			out[i] = 1 / float64(n)
		}
		return out
	}
	values := slices.Clone(x)
	sort.Float64s(values)
	est := make([]float64, n)
	for i, v := range values {
		est[i] = v / sum
	}
	if est[n-1] <= limit {
		for i, v := range x {
			out[i] = v / sum
		}
		return out
	}
	cumsum := make([]float64, n)
	var acc float64
	for i, e := range est {
		acc += e
		cumsum[i] = acc
	}
	nValues := 0
	for i, e := range est {
		if e/(float64(n-i-1)*e+cumsum[i]+epsilon) < limit {
			nValues++
		}
	}
	if nValues == 0 {
		// Not reachable for limit·n > 1 (the smallest element always
		// qualifies); kept so bad input cannot index out of range.
		nValues = 1
	}
	cutoff := (limit*cumsum[nValues-1] - epsilon) / (1 - limit*float64(n-nValues)) * sum
	var clipped float64
	for i, v := range x {
		out[i] = min(v, cutoff)
		clipped += out[i]
	}
	for i := range out {
		out[i] /= clipped
	}
	return out
}

// Quantile is NumPy's default (linear interpolation) quantile of x, q in
// [0, 1].
func Quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	sort.Float64s(s)
	h := float64(len(s)-1) * q
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

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
	var nzIdx []int
	for i, w := range weights {
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
		w := make([]float64, n)
		for i := range w {
			w[i] = 1e-5
		}
		for _, i := range nzIdx {
			if i >= n {
				return nil, nil, fmt.Errorf("%w: weight at position %d for a subnet of %d", ErrBadWeights, i, n)
			}
			w[i] += weights[i]
		}
		return all(), NormalizeMaxWeight(w, maxWeightLimit), nil
	}
	nz := make([]float64, len(nzIdx))
	for j, i := range nzIdx {
		nz[j] = weights[i]
	}
	maxExclude := float64(max(0, len(nz)-minAllowed)) / float64(len(nz))
	q := min(float64(excludeQuantile)/U16Max, maxExclude)
	lowest := Quantile(nz, q)
	var keptU []uint16
	var keptW []float64
	for j, i := range nzIdx {
		if lowest <= nz[j] {
			keptU = append(keptU, uids[i])
			keptW = append(keptW, nz[j])
		}
	}
	return keptU, NormalizeMaxWeight(keptW, maxWeightLimit), nil
}
