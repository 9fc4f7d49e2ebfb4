package yuma

import (
	"math"
	"testing"
)

// chain is a minimal stand-in for the subtensor state the reference tests
// drive through the pallet: it stores weights the way set_weights does
// (already max-upscaled values are given), stamps LastUpdate, and persists
// permits and bonds after each epoch as persist_mechanism_epoch_terms does.
// LastMechansimStepBlock stays 0 because the tests call epoch() directly.
type chain struct {
	p     Params
	block uint64
	in    Inputs
	last  Result
}

func newChain(p Params, block uint64, stakes []uint64) *chain {
	n := len(stakes)
	c := &chain{p: p, block: block}
	c.in = Inputs{
		N:                   n,
		LastUpdate:          make([]uint64, n),
		BlockAtRegistration: make([]uint64, n),
		AlphaStake:          append([]uint64(nil), stakes...),
		OwnerUID:            -1,
		ValidatorPermit:     make([]bool, n),
		Weights:             make([][]Entry, n),
		Bonds:               make([][]Entry, n),
		RaoEmission:         1_000_000_000,
	}
	for i := range c.in.BlockAtRegistration {
		c.in.BlockAtRegistration[i] = block
	}
	return c
}

// setWeights stores a row and stamps LastUpdate with the current block.
func (c *chain) setWeights(uid int, row ...Entry) {
	c.in.Weights[uid] = row
	c.in.LastUpdate[uid] = c.block
}

// setWeightsDense stores values towards uids (explicit zeros kept, as
// set_weights keeps them).
func (c *chain) setWeightsDense(uid int, uids []uint16, values []uint16) {
	row := make([]Entry, len(uids))
	for k := range uids {
		row[k] = Entry{uids[k], values[k]}
	}
	c.setWeights(uid, row...)
}

func (c *chain) nextBlock() { c.block++ }

func (c *chain) epoch(t *testing.T) Result {
	t.Helper()
	c.in.CurrentBlock = c.block
	r, err := Epoch(c.p, c.in)
	if err != nil {
		t.Fatalf("Epoch: %v", err)
	}
	c.in.ValidatorPermit = r.ValidatorPermit
	c.in.Bonds = r.Bonds
	c.last = r
	return r
}

// bond returns the stored bond of row i towards uid j (0 if absent), like
// get_bonds.
func (c *chain) bond(i, j int) uint16 {
	for _, e := range c.in.Bonds[i] {
		if int(e.UID) == j {
			return e.Value
		}
	}
	return 0
}

// activityCutoff is get_activity_cutoff_blocks at the default
// ActivityCutoffFactorMilli (13889).
func activityCutoff(tempo uint16) uint64 {
	return max(1, 13889*uint64(tempo)/1000)
}

// mockParams are the pallet mock defaults (tests/mock.rs) relevant to Yuma,
// which differ from the runtime's: MaxAllowedValidators 100 and a legacy
// ActivityCutoff replaced by the factor-of-tempo rule.
func mockParams(tempo uint16) Params {
	p := DefaultParams()
	p.MaxAllowedValidators = 100
	p.ActivityCutoff = activityCutoff(tempo)
	p.Tempo = tempo
	return p
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for i, w := range want {
		if math.Abs(got[i]-w) > tol {
			t.Errorf("%s[%d] = %.10f, want %.10f (tol %g)", what, i, got[i], w, tol)
		}
	}
}

func assertEqualU64(t *testing.T, what string, got, want []uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s[%d] = %d, want %d", what, i, got[i], want[i])
		}
	}
}
