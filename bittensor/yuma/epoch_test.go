package yuma

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func validInputs(n int) Inputs {
	return Inputs{
		N:                   n,
		LastUpdate:          make([]uint64, n),
		BlockAtRegistration: make([]uint64, n),
		AlphaStake:          make([]uint64, n),
		OwnerUID:            -1,
		ValidatorPermit:     make([]bool, n),
	}
}

func TestEpochInputErrors(t *testing.T) {
	cases := map[string]func(*Inputs){
		"negative N":       func(in *Inputs) { in.N = -1 },
		"N too large":      func(in *Inputs) { in.N = 70000 },
		"owner":            func(in *Inputs) { in.OwnerUID = -2 },
		"last update":      func(in *Inputs) { in.LastUpdate = in.LastUpdate[:2] },
		"registration":     func(in *Inputs) { in.BlockAtRegistration = nil },
		"alpha stake":      func(in *Inputs) { in.AlphaStake = append(in.AlphaStake, 1) },
		"tao stake":        func(in *Inputs) { in.TaoStake = make([]uint64, 2) },
		"permits":          func(in *Inputs) { in.ValidatorPermit = nil },
		"weights":          func(in *Inputs) { in.Weights = make([][]Entry, 4) },
		"bonds":            func(in *Inputs) { in.Bonds = make([][]Entry, 1) },
		"commit blocks":    func(in *Inputs) { in.CommitBlocks = make([]uint64, 5) },
		"several mismatch": func(in *Inputs) { in.LastUpdate, in.AlphaStake = nil, nil },
	}
	for name, mutate := range cases {
		in := validInputs(3)
		mutate(&in)
		if _, err := Epoch(DefaultParams(), in); !errors.Is(err, ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", name, err)
		}
	}
	if _, err := Epoch(DefaultParams(), validInputs(3)); err != nil {
		t.Errorf("valid inputs: %v", err)
	}
	r, err := Epoch(DefaultParams(), validInputs(0))
	if err != nil || len(r.Emission) != 0 {
		t.Errorf("N = 0: %v, %v", r, err)
	}
}

// TestEpochRobust feeds random, partly hostile inputs (out-of-range and
// duplicate uids, unsorted rows, saturating stakes, extreme parameters) and
// checks that Epoch neither panics nor pays out more than RaoEmission.
func TestEpochRobust(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	u64 := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return math.MaxUint64 - rng.Uint64N(3)
		default:
			return rng.Uint64N(1 << rng.IntN(64))
		}
	}
	row := func(n int) []Entry {
		r := make([]Entry, rng.IntN(n+3))
		for k := range r {
			r[k] = Entry{UID: uint16(rng.IntN(n + 2)), Value: uint16(rng.Uint32())}
		}
		return r
	}
	for iter := range 400 {
		n := rng.IntN(24)
		in := validInputs(n)
		in.CurrentBlock = u64()
		in.RaoEmission = u64()
		in.OwnerUID = rng.IntN(n+2) - 1
		in.LastMechanismStepBlock = u64()
		in.Weights = make([][]Entry, n)
		in.Bonds = make([][]Entry, n)
		if rng.IntN(2) == 0 {
			in.TaoStake = make([]uint64, n)
		}
		if rng.IntN(2) == 0 {
			in.CommitBlocks = make([]uint64, n)
		}
		for i := range n {
			in.LastUpdate[i] = u64()
			in.BlockAtRegistration[i] = u64()
			in.AlphaStake[i] = u64()
			in.ValidatorPermit[i] = rng.IntN(2) == 0
			in.Weights[i] = row(n)
			in.Bonds[i] = row(n)
			if in.TaoStake != nil {
				in.TaoStake[i] = u64()
			}
			if in.CommitBlocks != nil {
				in.CommitBlocks[i] = u64()
			}
		}
		p := Params{
			Kappa:                 uint16(rng.Uint32()),
			BondsPenalty:          uint16(rng.Uint32()),
			BondsMovingAverage:    u64(),
			Yuma3:                 rng.IntN(2) == 0,
			LiquidAlpha:           rng.IntN(2) == 0,
			AlphaLow:              uint16(rng.Uint32()),
			AlphaHigh:             uint16(rng.Uint32()),
			AlphaSigmoidSteepness: int16(rng.Uint32()),
			MaxAllowedValidators:  uint16(rng.IntN(n + 2)),
			ActivityCutoff:        u64(),
			StakeThreshold:        u64(),
			Tempo:                 uint16(rng.Uint32()),
			TaoWeight:             u64(),
		}
		r, err := Epoch(p, in)
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		if len(r.Emission) != n || len(r.Bonds) != n || len(r.DividendsU16) != n {
			t.Fatalf("iter %d: output lengths %d/%d/%d, want %d", iter, len(r.Emission), len(r.Bonds), len(r.DividendsU16), n)
		}
		var paid, stored uint64
		for i := range n {
			paid += r.ServerEmission[i] + r.ValidatorEmission[i]
			stored += r.Emission[i]
			if !r.ValidatorPermit[i] && len(r.Bonds[i]) != 0 {
				t.Fatalf("iter %d: bonds kept for uid %d without permit", iter, i)
			}
		}
		// Shares are floored proportions summing to at most 1.
		if in.RaoEmission < math.MaxUint64/2 && (paid > in.RaoEmission || stored > in.RaoEmission) {
			t.Fatalf("iter %d: paid %d, stored %d of %d", iter, paid, stored, in.RaoEmission)
		}
	}
}

// TestUnsortedRowsLiquidAlpha pins the chain's row walk in the liquid-alpha
// lookup: with a weight row stored out of uid order, the weight of the
// earlier-listed higher uid is found but the later lower one is not, which
// changes that cell's rate.
func TestUnsortedRowsLiquidAlpha(t *testing.T) {
	dense := make([]fx, 4)
	walkRow([]entry{{3, fxOne}, {1, fxHalf}}, dense)
	if dense[3] != fxOne || dense[1] != 0 {
		t.Errorf("walk of unsorted row = %v, want only uid 3 found", dense)
	}
	walkRow([]entry{{1, fxHalf}, {3, fxOne}}, dense)
	if dense[3] != fxOne || dense[1] != fxHalf {
		t.Errorf("walk of sorted row = %v", dense)
	}
}

// benchInputs builds a 256-uid subnet with 64 staked validators that weight
// all uids densely at random (fixed seed), with bonds from a few epochs.
func benchInputs(b *testing.B, p Params) Inputs {
	const n, validators = 256, 64
	rng := rand.New(rand.NewPCG(42, 42))
	in := validInputs(n)
	in.CurrentBlock = 1000
	in.RaoEmission = 1_000_000_000
	in.Weights = make([][]Entry, n)
	in.Bonds = make([][]Entry, n)
	for i := range n {
		in.BlockAtRegistration[i] = 1
		if i < validators {
			in.AlphaStake[i] = 1_000_000_000 + rng.Uint64N(100_000_000_000)
			in.ValidatorPermit[i] = true
			in.LastUpdate[i] = 990
			vals := make([]uint16, n)
			for j := range vals {
				vals[j] = uint16(rng.Uint32())
			}
			vals = MaxUpscale(vals)
			row := make([]Entry, n)
			for j := range row {
				row[j] = Entry{uint16(j), vals[j]}
			}
			in.Weights[i] = row
		}
	}
	p.MaxAllowedValidators = validators
	for range 3 {
		r, err := Epoch(p, in)
		if err != nil {
			b.Fatal(err)
		}
		in.Bonds, in.ValidatorPermit = r.Bonds, r.ValidatorPermit
		in.CurrentBlock++
	}
	return in
}

// BenchmarkEpoch runs one epoch on 256 uids, 64 validators with dense random
// weights, for Yuma 2 (runtime defaults) and Yuma 3 with liquid alpha.
func BenchmarkEpoch(b *testing.B) {
	y3 := DefaultParams()
	y3.Yuma3, y3.LiquidAlpha, y3.BondsPenalty = true, true, 0
	y3.AlphaLow, y3.AlphaHigh = 6553, 19660
	for _, c := range []struct {
		name string
		p    Params
	}{{"yuma2", DefaultParams()}, {"yuma3_liquid_alpha", y3}} {
		b.Run(c.name, func(b *testing.B) {
			in := benchInputs(b, c.p)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Epoch(c.p, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
