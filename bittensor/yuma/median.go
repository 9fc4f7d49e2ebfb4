package yuma

// medianScratch holds the partition buffers of weightedMedian so that the
// per-column calls of a whole epoch reuse three slices.
type medianScratch struct {
	cur, lower, upper []int
}

// weightedMedian is the stake-weighted median search of subtensor
// (math.rs weighted_median): a deterministic quickselect that pivots on the
// middle element of the current partition and excludes scores equal to the
// pivot from both sides. It returns the smallest score c such that the stake
// of scores ≤ c exceeds minority, or the largest score if none does. With
// exact fixed-point sums that value does not depend on the pivot; the
// chain's pivot is kept anyway so that even saturating inputs take the same
// path.
//
// stake and score are indexed by the entries of idx; lo and hi bound the
// stake integral of the partition. An empty partition, mismatched lengths or
// exhausting the iteration cap (len(idx)) give 0, as on chain.
func weightedMedian(stake, score []fx, idx []int, minority, lo, hi fx, s *medianScratch) fx {
	if len(stake) != len(score) {
		return 0
	}
	if s == nil {
		s = &medianScratch{}
	}
	cur := append(s.cur[:0], idx...)
	lower, upper := s.lower[:0], s.upper[:0]
	defer func() { s.cur, s.lower, s.upper = cur, lower, upper }()
	get := func(v []fx, k int) fx {
		if k < 0 || k >= len(v) {
			return 0
		}
		return v[k]
	}
	limit := len(idx)
	for iter := 0; ; {
		n := len(cur)
		if n == 0 {
			return 0
		}
		if n == 1 {
			return get(score, cur[0])
		}
		pivot := get(score, cur[n/2])
		var loStake, hiStake fx
		lower, upper = lower[:0], upper[:0]
		for _, k := range cur {
			v := get(score, k)
			switch {
			case v == pivot:
				// Equal scores join neither side, so ties resolve to the pivot.
			case v < pivot:
				loStake = satAdd(loStake, get(stake, k))
				lower = append(lower, k)
			default:
				hiStake = satAdd(hiStake, get(stake, k))
				upper = append(upper, k)
			}
		}
		switch {
		case minority < satAdd(lo, loStake) && len(lower) > 0:
			hi = satAdd(lo, loStake)
			cur, lower = lower, cur
		case satSub(hi, hiStake) <= minority && len(upper) > 0:
			lo = satSub(hi, hiStake)
			cur, upper = upper, cur
		default:
			return pivot
		}
		iter++
		if iter > limit {
			return 0
		}
	}
}

// weightedMedianColSparse is math.rs weighted_median_col_sparse: for each of
// the columns, the weighted median of the column's scores over the rows with
// positive stake (absent entries score 0), with those stakes renormalized and
// minority = Σstake − majority.
func weightedMedianColSparse(stake []fx, score [][]entry, columns int, majority fx) []fx {
	useStake := make([]fx, 0, len(stake))
	for _, s := range stake {
		if s > 0 {
			useStake = append(useStake, s)
		}
	}
	normalize(useStake)
	var stakeSum fx
	for _, s := range useStake {
		stakeSum += s
	}
	minority := satSub(stakeSum, majority)
	idx := make([]int, len(useStake))
	for k := range idx {
		idx[k] = k
	}

	// Column-major copy of the positive-stake rows: one contiguous block.
	m := len(useStake)
	cols := make([]fx, columns*m)
	k := 0
	for i, s := range stake {
		if i >= len(score) {
			break
		}
		if s <= 0 {
			continue
		}
		for _, e := range score[i] {
			if int(e.j) < columns {
				cols[int(e.j)*m+k] = e.v
			}
		}
		k++
	}

	median := make([]fx, columns)
	var scratch medianScratch
	for c := range median {
		median[c] = weightedMedian(useStake, cols[c*m:(c+1)*m], idx, minority, 0, stakeSum, &scratch)
	}
	return median
}
