package subtensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

type numpyWeightsReq struct {
	UIDs       []uint16  `json:"uids"`
	Weights    []float64 `json:"weights"`
	N          int       `json:"n"`
	MinAllowed int       `json:"min_allowed"`
	Limit      float64   `json:"limit"`
	Quantile   uint16    `json:"quantile"`
}

type numpyWeightsResp struct {
	UIDs        []uint16  `json:"uids"`
	Weights     []float64 `json:"weights"`
	EmitUIDs    []uint16  `json:"emit_uids"`
	EmitWeights []uint16  `json:"emit_weights"`
	NumPy       string    `json:"numpy"`
}

// randomWeightCases are score vectors of the shapes validators produce:
// full-precision scores, scores with ties and zeros, one dominant score
// that the max-weight limit clips, tiny scores, and short vectors that
// fall below min_allowed_weights; with the subnets' usual limits and
// exclusion quantiles.
func randomWeightCases(r *rand.Rand, count int) []numpyWeightsReq {
	limits := []uint16{65535, 32767, 6553, 1000, 455, 200}
	out := make([]numpyWeightsReq, 0, count)
	for len(out) < count {
		size := 1 + r.IntN(64)
		switch r.IntN(10) {
		case 0:
			size = 65 + r.IntN(400)
		case 1:
			size = 1024 + r.IntN(3072)
		}
		c := numpyWeightsReq{UIDs: make([]uint16, size), Weights: make([]float64, size), N: size + r.IntN(8)}
		for i := range c.UIDs {
			c.UIDs[i] = uint16(i)
		}
		shape := r.IntN(6)
		for i := range c.Weights {
			switch shape {
			case 0, 1: // full precision
				c.Weights[i] = r.Float64()
			case 2: // ties and zeros
				c.Weights[i] = float64(r.IntN(4)) / 4
			case 3: // ratings as the Kaspa mechanism rounds them
				c.Weights[i] = math.Round(r.Float64()*1e8) / 1e8
			case 4: // sparse
				if r.IntN(4) == 0 {
					c.Weights[i] = r.ExpFloat64()
				}
			case 5: // tiny
				c.Weights[i] = r.Float64() * 1e-30
			}
		}
		if r.IntN(3) == 0 {
			c.Weights[r.IntN(size)] = 10 + 1000*r.Float64() // dominant: clipped
		}
		if lim := limits[r.IntN(len(limits))]; r.IntN(5) == 0 {
			c.Limit = float64(1+r.IntN(65535)) / U16Max
		} else {
			c.Limit = float64(lim) / U16Max
		}
		switch r.IntN(4) {
		case 0:
			c.MinAllowed = 0
		case 1:
			c.MinAllowed = 1
		case 2:
			c.MinAllowed = r.IntN(size + 4)
		case 3:
			c.MinAllowed = 8
		}
		if r.IntN(3) == 0 {
			c.Quantile = uint16(r.IntN(65536))
		}
		out = append(out, c)
	}
	return out
}

// TestProcessWeightsMatchesNumPy holds ProcessWeights and ConvertWeights to
// NumPy itself (tools/pyoracle/weights.py; Debian's python3-numpy, with
// NumPy 2's promotion and quantile rules) on thousands of random vectors:
// the processed vector must be bit for bit NumPy's, and the u16 vector the
// same to the last unit.
func TestProcessWeightsMatchesNumPy(t *testing.T) {
	python := oracletest.Python(t, "numpy")
	dir := oracletest.ToolsDir("pyoracle")
	if dir == "" {
		t.Fatal("tools/pyoracle not found")
	}
	cases := randomWeightCases(rand.New(rand.NewPCG(2026, 12)), 4000)
	var got []numpyWeightsResp
	oracletest.RunWith(t, python, dir+"/weights.py", cases, &got)
	if len(got) != len(cases) {
		t.Fatalf("the oracle answered %d of %d", len(got), len(cases))
	}
	t.Logf("NumPy %s, %d vectors", got[0].NumPy, len(cases))
	bad, badU16 := 0, 0
	for i, c := range cases {
		u, w, err := ProcessWeights(c.UIDs, c.Weights, c.N, c.MinAllowed, c.Limit, c.Quantile)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		eu, ew, err := ConvertWeights(u, w)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want := got[i]
		same := slices.Equal(u, want.UIDs) && slices.Equal(w, want.Weights) &&
			slices.Equal(eu, want.EmitUIDs) && slices.Equal(ew, want.EmitWeights)
		if !slices.Equal(eu, want.EmitUIDs) || !slices.Equal(ew, want.EmitWeights) {
			badU16++
		}
		if !same {
			bad++
			if bad <= 5 {
				t.Errorf("case %d (size %d, n %d, min %d, limit %v, quantile %d) differs from NumPy: %s",
					i, len(c.Weights), c.N, c.MinAllowed, c.Limit, c.Quantile, firstDifference(u, w, eu, ew, want))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d vectors differ from NumPy, %d of them in the u16 vector submitted", bad, len(cases), badU16)
	}
}

// firstDifference says where a result first departs from NumPy's.
func firstDifference(u []uint16, w []float64, eu, ew []uint16, want numpyWeightsResp) string {
	switch {
	case !slices.Equal(u, want.UIDs):
		return fmt.Sprintf("uids %v, NumPy %v", u, want.UIDs)
	case !slices.Equal(w, want.Weights):
		for i := range w {
			if w[i] != want.Weights[i] {
				return fmt.Sprintf("weight %d: %v, NumPy %v", i, w[i], want.Weights[i])
			}
		}
	case !slices.Equal(eu, want.EmitUIDs):
		return fmt.Sprintf("emitted uids %v, NumPy %v", eu, want.EmitUIDs)
	}
	for i := range ew {
		if i >= len(want.EmitWeights) || ew[i] != want.EmitWeights[i] {
			return fmt.Sprintf("u16 weight %d differs", i)
		}
	}
	return "u16 lengths differ"
}
