package yuma

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// fxF32 is I32F32::from_num(f32) as the Rust tests use it (vec_to_fixed,
// fixed()): the f32 value rounded to the nearest 2^-32.
func fxF32(x float32) fx { return fx(math.RoundToEven(float64(x) * (1 << fxFracBits))) }

func fxs(v ...float32) []fx {
	out := make([]fx, len(v))
	for i, x := range v {
		out[i] = fxF32(x)
	}
	return out
}

func seq(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// TestWeightedMedian reproduces the fixed vectors of
// tests/math.rs::test_math_weighted_median (majority 0.51).
func TestWeightedMedian(t *testing.T) {
	majority := fxF32(0.51)
	cases := []struct {
		stake, score []fx
		want         fx
	}{
		{nil, nil, 0},
		{func() []fx { s := fxs(0.51); normalize(s); return s }(), fxs(1), fxOne},
		{fxs(0.49, 0.51), fxs(0.5, 1), fxOne},
		{fxs(0.51, 0.49), fxs(0.5, 1), fxF32(0.5)},
		{fxs(0.49, 0, 0.51), fxs(0.5, 0.7, 1), fxOne},
		{fxs(0.49, 0.01, 0.5), fxs(0.5, 0.7, 1), fxF32(0.7)},
		{fxs(0.49, 0.51, 0), fxs(0.5, 0.7, 1), fxF32(0.7)},
		{fxs(0, 0.49, 0.51), fxs(0.5, 0.7, 1), fxOne},
		{fxs(0, 0.49, 0, 0.51), fxs(0.5, 0.5, 1, 1), fxOne},
		{fxs(0, 0.49, 0, 0.51, 0), fxs(0.5, 0.5, 1, 1, 0.5), fxOne},
		{fxs(0.2, 0.2, 0.2, 0.2, 0.2), fxs(0.8, 0.2, 1, 0.6, 0.4), fxF32(0.6)},
		{
			fxs(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1),
			fxs(0.8, 0.8, 0.2, 0.2, 1.0, 1.0, 0.6, 0.6, 0.4, 0.4),
			fxF32(0.6),
		},
	}
	for k, c := range cases {
		got := weightedMedian(c.stake, c.score, seq(len(c.stake)), fxOne-majority, 0, sum(c.stake), nil)
		if got != c.want {
			t.Errorf("case %d: median = %v, want %v", k, got.float(), c.want.float())
		}
	}
}

// TestWeightedMedianRandom ports the randomized part of
// test_math_weighted_median: for 100 uids with distinct or repeated scores
// the result must be one of the admissible medians, also after shuffling.
func TestWeightedMedianRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100
	for _, maj := range []float32{0, 0.0000001, 0.25, 0.49, 0.49, 0.49, 0.5, 0.51, 0.51, 0.51, 0.9999999, 1} {
		majority := fxF32(maj)
		for _, allowEqual := range []bool{false, true} {
			var stake, score []fx
			var last fx
			for i := range n {
				if allowEqual {
					if rng.IntN(2) == 1 {
						stake = append(stake, fxOne)
					} else {
						stake = append(stake, 0)
					}
					if rng.IntN(2) == 1 {
						last += fxOne
					}
					score = append(score, last)
				} else {
					stake = append(stake, fxOne)
					score = append(score, fxFromInt(int64(i)))
				}
			}
			normalize(stake)
			total := sum(stake)
			minority := max(total-majority, 0)

			var medians []fx
			var medianStake, stakeSum fx
			set := false
			for i := range n {
				stakeSum += stake[i]
				if !set && stakeSum >= minority {
					medianStake, set = stakeSum, true
				}
				if set {
					if medianStake < stakeSum {
						if medianStake == minority && !slices.Contains(medians, score[i]) {
							medians = append(medians, score[i])
						}
						break
					}
					if !slices.Contains(medians, score[i]) {
						medians = append(medians, score[i])
					}
				}
			}
			if len(medians) == 0 {
				medians = append(medians, 0)
			}
			idx := seq(n)
			for shuffle := range 11 {
				if shuffle > 0 {
					rng.Shuffle(n, func(a, b int) {
						stake[a], stake[b] = stake[b], stake[a]
						score[a], score[b] = score[b], score[a]
					})
				}
				got := weightedMedian(stake, score, idx, minority, 0, total, nil)
				if !slices.Contains(medians, got) {
					t.Fatalf("majority %v equal %v shuffle %d: median %v not in %v", maj, allowEqual, shuffle, got, medians)
				}
			}
		}
	}
}

// sparseRows is vec_to_sparse_mat_fixed (non-transposed): positive values
// only.
func sparseRows(v []float32, rows int) [][]entry {
	cols := len(v) / rows
	m := make([][]entry, rows)
	for r := range rows {
		for c := range cols {
			if x := v[r*cols+c]; x > 0 {
				m[r] = append(m[r], entry{uint16(c), fxF32(x)})
			}
		}
	}
	return m
}

// TestWeightedMedianColSparse reproduces
// tests/math.rs::test_math_weighted_median_col_sparse.
func TestWeightedMedianColSparse(t *testing.T) {
	w := []float32{0, 0.1, 0, 0, 0.2, 0.4, 0, 0.3, 0.1, 0, 0.4, 0.5}
	w2 := []float32{0, 0.1, 0, 0, 0.2, 0.4, 0, 0.3, 0.1, 0, 0, 0.5}
	cases := []struct {
		stake    []fx
		score    [][]entry
		columns  int
		majority float32
		want     []fx
	}{
		{nil, [][]entry{nil}, 0, 0.5, []fx{}},
		{fxs(0, 0), sparseRows([]float32{0, 0, 0, 0}, 2), 2, 0.5, fxs(0, 0)},
		{fxs(0, 0.75, 0.25, 0), sparseRows(w, 4), 3, 0.24, fxs(0, 0.3, 0.4)},
		{fxs(0, 0.75, 0.25, 0), sparseRows(w, 4), 3, 0.26, fxs(0, 0.2, 0.4)},
		{fxs(0, 0.75, 0.25, 0), sparseRows(w, 4), 3, 0.76, fxs(0, 0.2, 0.1)},
		{fxs(0, 0.3, 0.2, 0.5), sparseRows(w2, 4), 3, 0.51, fxs(0, 0, 0.4)},
	}
	for k, c := range cases {
		got := weightedMedianColSparse(c.stake, c.score, c.columns, fxF32(c.majority))
		if !slices.Equal(got, c.want) {
			t.Errorf("case %d: medians %v, want %v", k, got, c.want)
		}
	}
}

// TestColClip reproduces tests/math.rs::test_math_col_clip_sparse.
func TestColClip(t *testing.T) {
	th := fxs(0, 5, 12)
	cases := [][2][]float32{
		{{0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {0, 2, 3, 0, 5, 6, 0, 5, 9, 0, 5, 12}},
		{{0, 2, 3, 4, 5, 6, 0, 0, 0, 10, 11, 12}, {0, 2, 3, 0, 5, 6, 0, 0, 0, 0, 5, 12}},
		{make([]float32, 12), make([]float32, 12)},
	}
	for k, c := range cases {
		got := colClip(sparseRows(c[0], 4), th)
		want := sparseRows(c[1], 4)
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("case %d row %d: %v, want %v", k, i, got[i], want[i])
			}
		}
	}
}

// TestWeightedMedianDefinition checks the quickselect against the definition
// on small random inputs with many ties and zero stakes: the smallest score
// c with stake(score ≤ c) > minority, else the largest score.
func TestWeightedMedianDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 20000 {
		n := rng.IntN(7)
		stake, score := make([]fx, n), make([]fx, n)
		for i := range n {
			stake[i] = fx(rng.IntN(4)) << 30
			score[i] = fx(rng.IntN(4)) << 30
		}
		total := sum(stake)
		minority := total - fx(rng.IntN(6))<<30
		want := fx(0)
		if n > 0 {
			sorted := slices.Sorted(slices.Values(score))
			want = sorted[n-1]
			for _, c := range sorted {
				var below fx
				for i := range n {
					if score[i] <= c {
						below += stake[i]
					}
				}
				if below > minority {
					want = c
					break
				}
			}
		}
		if got := weightedMedian(stake, score, seq(n), minority, 0, total, nil); got != want {
			t.Fatalf("stake %v score %v minority %v: got %v, want %v", stake, score, minority, got, want)
		}
	}
}
