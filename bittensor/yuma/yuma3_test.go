package yuma

import (
	"fmt"
	"math"
	"testing"
)

// f64ToU16Proportion is set_alpha_values_32: I32F32::from_num(x) (rounded to
// nearest) times 65535, floored.
func f64ToU16Proportion(x float64) uint16 {
	return proportionToU16(fx(math.RoundToEven(x * (1 << fxFracBits))))
}

// yuma3Chain is setup_yuma_3_scenario: n uids registered at block 1, tempo
// 1, bonds penalty 0, steepness 1000, BMA 975000, kappa 32767, liquid alpha
// on with (0.1, 0.3), Yuma 3, 3 validator permits, and one warm-up epoch
// (run_epoch: next block, then epoch) to issue the permits.
func yuma3Chain(t *testing.T, stakes []uint64) *chain {
	p := mockParams(1)
	p.BondsPenalty = 0
	p.AlphaSigmoidSteepness = 1000
	p.BondsMovingAverage = 975_000
	p.Kappa = 65535 / 2
	p.LiquidAlpha = true
	p.AlphaLow = f64ToU16Proportion(0.1)
	p.AlphaHigh = f64ToU16Proportion(0.3)
	p.Yuma3 = true
	p.MaxAllowedValidators = 3
	c := newChain(p, 1, stakes)
	c.nextBlock()
	c.epoch(t)
	return c
}

// yuma3Epoch is run_epoch_and_check_bonds_dividends. Subtensor's helper
// zips each 5-wide bond row with the target row skipped by 3, which is
// empty, so upstream only checks dividends; here the bonds towards the
// miners (uids firstMiner…) are checked too. Subtensor allows 1e-3; the
// targets have 4 decimals, and the largest deviation seen is 1.2e-4 (bonds
// late in bonds_reset), so 2e-4 is asserted.
func yuma3Epoch(t *testing.T, c *chain, label string, firstMiner int, bonds [][]float64, dividends []float64) {
	t.Helper()
	c.nextBlock()
	r := c.epoch(t)
	const eps = 2e-4
	for i, row := range bonds {
		for k, want := range row {
			j := firstMiner + k
			got := u16Proportion(c.bond(i, j)).float()
			if math.Abs(got-want) > eps {
				t.Errorf("%s: bond[%d][%d] = %.4f, want %.4f", label, i, j, got, want)
			}
		}
	}
	for i, want := range dividends {
		got := u16Proportion(r.DividendsU16[i]).float()
		if math.Abs(got-want) > eps {
			t.Errorf("%s: dividend[%d] = %.4f, want %.4f", label, i, got, want)
		}
	}
}

var (
	toS1   = []uint16{65535, 0}
	toS2   = []uint16{0, 65535}
	miners = []uint16{3, 4}
)

// setAll sets the weight rows of validators 0, 1, 2 (towards uids) in the
// current block.
func setAll(c *chain, uids []uint16, rows ...[]uint16) {
	for v, row := range rows {
		c.setWeightsDense(v, uids, MaxUpscale(row))
	}
}

type yuma3Case struct {
	name    string
	stakes  []uint64
	noLA    bool // liquid alpha switched off after setup
	weights func(epoch int, c *chain)
	bonds   [][][]float64
	divs    [][]float64
	// minerCol is the index in each target row of the first miner (the
	// liquid-alpha-disabled targets carry an extra leading column, uid 2).
	minerCol int
}

// moves returns the weight schedule of the kappa_moves tests: all on
// server 1 at epoch 0, then the given rows at epochs 1 and 2, then all on
// server 2 from epoch 3 (weights are not re-set afterwards).
func moves(e1, e2 [3][]uint16) func(int, *chain) {
	return func(epoch int, c *chain) {
		switch epoch {
		case 0:
			setAll(c, miners, toS1, toS1, toS1)
		case 1:
			setAll(c, miners, e1[0], e1[1], e1[2])
		case 2:
			setAll(c, miners, e2[0], e2[1], e2[2])
		case 3:
			setAll(c, miners, toS2, toS2, toS2)
		}
	}
}

// switchC is the one_epoch_switch / liquid_alpha_disabled schedule: all
// validators on server 1 every epoch except epoch 2, where C moves.
func switchC(epoch int, c *chain) {
	if epoch == 2 {
		setAll(c, miners, toS1, toS1, toS2)
		return
	}
	setAll(c, miners, toS1, toS1, toS1)
}

var yuma3Cases = []yuma3Case{
	{
		name:    "kappa_moves_first",
		stakes:  []uint64{8, 1, 1, 0, 0},
		weights: moves([3][]uint16{toS2, toS1, toS1}, [3][]uint16{toS2, toS2, toS1}),
		bonds: [][][]float64{
			{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
			{{0.0908, 0.1013}, {0.3697, 0.0000}, {0.3697, 0.0000}},
			{{0.0815, 0.1924}, {0.3170, 0.1013}, {0.5580, 0.0000}},
			{{0.0731, 0.2742}, {0.2765, 0.1924}, {0.4306, 0.1013}},
			{{0.0656, 0.3478}, {0.2435, 0.2742}, {0.3589, 0.1924}},
			{{0.0588, 0.4139}, {0.2157, 0.3478}, {0.3089, 0.2742}},
		},
		divs: [][]float64{
			{0.8000, 0.1000, 0.1000, 0.0000, 0.0000},
			{1.0000, 0.0000, 0.0000, 0.0000, 0.0000},
			{0.9382, 0.0618, 0.0000, 0.0000, 0.0000},
			{0.8819, 0.0773, 0.0407, 0.0000, 0.0000},
			{0.8564, 0.0844, 0.0592, 0.0000, 0.0000},
			{0.8418, 0.0884, 0.0697, 0.0000, 0.0000},
		},
	},
	{
		name:    "kappa_moves_second",
		stakes:  []uint64{8, 1, 1, 0, 0},
		weights: moves([3][]uint16{toS1, toS2, toS1}, [3][]uint16{toS2, toS2, toS1}),
		bonds: [][][]float64{
			{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
			{{0.1924, 0.0000}, {0.0908, 0.2987}, {0.1924, 0.0000}},
			{{0.1715, 0.1013}, {0.0815, 0.3697}, {0.4336, 0.0000}},
			{{0.1531, 0.1924}, {0.0731, 0.4336}, {0.3608, 0.1013}},
			{{0.1369, 0.2742}, {0.0656, 0.4910}, {0.3103, 0.1924}},
			{{0.1225, 0.3478}, {0.0588, 0.5426}, {0.2712, 0.2742}},
		},
		divs: [][]float64{
			{0.8000, 0.1000, 0.1000, 0.0000, 0.0000},
			{0.8446, 0.0498, 0.1056, 0.0000, 0.0000},
			{0.6868, 0.3132, 0.0000, 0.0000, 0.0000},
			{0.7421, 0.2090, 0.0489, 0.0000, 0.0000},
			{0.7625, 0.1706, 0.0669, 0.0000, 0.0000},
			{0.7730, 0.1508, 0.0762, 0.0000, 0.0000},
		},
	},
	{
		name:    "kappa_moves_last",
		stakes:  []uint64{8, 1, 1, 0, 0},
		weights: moves([3][]uint16{toS1, toS2, toS1}, [3][]uint16{toS1, toS2, toS2}),
		bonds: [][][]float64{
			{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
			{{0.1924, 0.0000}, {0.0908, 0.2987}, {0.1924, 0.0000}},
			{{0.2742, 0.0000}, {0.0815, 0.5081}, {0.1715, 0.2987}},
			{{0.2416, 0.1013}, {0.0731, 0.5580}, {0.1531, 0.3697}},
			{{0.2141, 0.1924}, {0.0656, 0.6028}, {0.1369, 0.4336}},
			{{0.1903, 0.2742}, {0.0588, 0.6430}, {0.1225, 0.4910}},
		},
		divs: [][]float64{
			{0.8000, 0.1000, 0.1000, 0.0000, 0.0000},
			{0.8446, 0.0498, 0.1056, 0.0000, 0.0000},
			{0.8966, 0.0333, 0.0701, 0.0000, 0.0000},
			{0.4663, 0.3210, 0.2127, 0.0000, 0.0000},
			{0.5976, 0.2340, 0.1683, 0.0000, 0.0000},
			{0.6592, 0.1932, 0.1475, 0.0000, 0.0000},
		},
	},
	{
		name:    "one_epoch_switch",
		stakes:  []uint64{33, 33, 34, 0, 0},
		weights: switchC,
		bonds: [][][]float64{
			{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
			{{0.1924, 0.0000}, {0.1924, 0.0000}, {0.1924, 0.0000}},
			{{0.2742, 0.0000}, {0.2742, 0.0000}, {0.1715, 0.2987}},
			{{0.3478, 0.0000}, {0.3478, 0.0000}, {0.2554, 0.2618}},
			{{0.4139, 0.0000}, {0.4139, 0.0000}, {0.3309, 0.2312}},
			{{0.4733, 0.0000}, {0.4733, 0.0000}, {0.3987, 0.2051}},
		},
		divs: [][]float64{
			{0.3300, 0.3300, 0.3400, 0.0000, 0.0000},
			{0.3300, 0.3300, 0.3400, 0.0000, 0.0000},
			{0.3782, 0.3782, 0.2436, 0.0000, 0.0000},
			{0.3628, 0.3628, 0.2745, 0.0000, 0.0000},
			{0.3541, 0.3541, 0.2917, 0.0000, 0.0000},
			{0.3487, 0.3487, 0.3026, 0.0000, 0.0000},
		},
	},
	{
		// Without liquid alpha Yuma 3 uses the plain sparse EMA
		// (mat_ema_sparse), so C keeps a decaying bond to server 1 after
		// moving away. The targets' rows are [uid 2, server 1, server 2].
		name:     "liquid_alpha_disabled",
		stakes:   []uint64{33, 33, 34, 0, 0},
		noLA:     true,
		weights:  switchC,
		minerCol: 1,
		bonds: [][][]float64{
			{{0.0000, 0.0250, 0.0000}, {0.0000, 0.0250, 0.0000}, {0.0000, 0.0250, 0.0000}},
			{{0.0000, 0.0494, 0.0000}, {0.0000, 0.0494, 0.0000}, {0.0000, 0.0494, 0.0000}},
			{{0.0000, 0.0731, 0.0000}, {0.0000, 0.0731, 0.0000}, {0.0000, 0.0481, 0.0250}},
			{{0.0000, 0.0963, 0.0000}, {0.0000, 0.0963, 0.0000}, {0.0000, 0.0719, 0.0244}},
			{{0.0000, 0.1189, 0.0000}, {0.0000, 0.1189, 0.0000}, {0.0000, 0.0951, 0.0238}},
			{{0.0000, 0.1409, 0.0000}, {0.0000, 0.1409, 0.0000}, {0.0000, 0.1178, 0.0232}},
		},
		divs: [][]float64{
			{0.3300, 0.3300, 0.3400, 0.0000, 0.0000},
			{0.3300, 0.3300, 0.3400, 0.0000, 0.0000},
			{0.3734, 0.3734, 0.2532, 0.0000, 0.0000},
			{0.3611, 0.3611, 0.2779, 0.0000, 0.0000},
			{0.3541, 0.3541, 0.2919, 0.0000, 0.0000},
			{0.3495, 0.3495, 0.3009, 0.0000, 0.0000},
		},
	},
	{
		name:   "stable_miner",
		stakes: []uint64{8, 1, 1, 0, 0, 0},
		weights: func(epoch int, c *chain) {
			m := []uint16{3, 4, 5}
			a := []uint16{65535 / 2, 0, 65535 / 2} // servers 1 and 3
			b := []uint16{0, 65535 / 2, 65535 / 2} // servers 2 and 3
			switch epoch {
			case 0:
				setAll(c, m, a, a, a)
			case 1:
				setAll(c, m, a, b, a)
			case 2:
				setAll(c, m, b, b, a)
			case 3:
				setAll(c, m, b, b, b)
			}
		},
		bonds: [][][]float64{
			{{0.0507, 0.0000, 0.0507}, {0.0507, 0.0000, 0.0507}, {0.0507, 0.0000, 0.0507}},
			{{0.0962, 0.0000, 0.0962}, {0.0455, 0.1000, 0.0962}, {0.0962, 0.0000, 0.0962}},
			{{0.0863, 0.0507, 0.1371}, {0.0408, 0.1405, 0.1371}, {0.1770, 0.0000, 0.1371}},
			{{0.0774, 0.0962, 0.1739}, {0.0367, 0.1770, 0.1739}, {0.1579, 0.0507, 0.1739}},
			{{0.0694, 0.1371, 0.2069}, {0.0329, 0.2097, 0.2069}, {0.1411, 0.0962, 0.2069}},
			{{0.0623, 0.1739, 0.2366}, {0.0296, 0.2391, 0.2366}, {0.1263, 0.1371, 0.2366}},
		},
		divs: [][]float64{
			{0.8000, 0.1000, 0.1000, 0.0000, 0.0000, 0.0000},
			{0.8226, 0.0745, 0.1028, 0.0000, 0.0000, 0.0000},
			{0.7750, 0.1685, 0.0565, 0.0000, 0.0000, 0.0000},
			{0.7864, 0.1372, 0.0764, 0.0000, 0.0000, 0.0000},
			{0.7912, 0.1241, 0.0847, 0.0000, 0.0000, 0.0000},
			{0.7937, 0.1173, 0.0890, 0.0000, 0.0000, 0.0000},
		},
	},
}

// TestYuma3Scenarios replays the Yuma 3 scenario tests of tests/epoch.rs
// (sparse path), epoch by epoch.
func TestYuma3Scenarios(t *testing.T) {
	for _, tc := range yuma3Cases {
		t.Run(tc.name, func(t *testing.T) {
			c := yuma3Chain(t, tc.stakes)
			if tc.noLA {
				c.p.LiquidAlpha = false
			}
			for e := range tc.divs {
				tc.weights(e, c)
				bonds := tc.bonds[e]
				first := 3
				if tc.minerCol > 0 {
					// Check the leading uid-2 column as well.
					first = 3 - tc.minerCol
				}
				yuma3Epoch(t, c, fmt.Sprintf("epoch %d", e), first, bonds, tc.divs[e])
			}
		})
	}
}

// TestYuma3BondsReset replays test_yuma_3_bonds_reset: 41 epochs, with the
// bonds to miner uid 3 reset (do_reset_bonds, which drops that column from
// every stored row) before epoch 20.
func TestYuma3BondsReset(t *testing.T) {
	c := yuma3Chain(t, []uint64{8, 1, 1, 0, 0})
	divs := map[int][]float64{
		0:  {0.8000, 0.1000, 0.1000, 0.0000, 0.0000},
		1:  {0.8944, 0.0528, 0.0528, 0.0000, 0.0000},
		2:  {0.5230, 0.2385, 0.2385, 0.0000, 0.0000},
		19: {0.7919, 0.1040, 0.1040, 0.0000, 0.0000},
		20: {0.7928, 0.1036, 0.1036, 0.0000, 0.0000},
		21: {0.8467, 0.0766, 0.0766, 0.0000, 0.0000},
		40: {0.7928, 0.1036, 0.1036, 0.0000, 0.0000},
	}
	bonds := map[int][][]float64{
		0:  {{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
		1:  {{0.1924, 0.0000}, {0.0908, 0.2987}, {0.0908, 0.2987}},
		2:  {{0.1715, 0.1013}, {0.0815, 0.3697}, {0.0815, 0.3697}},
		19: {{0.0269, 0.8539}, {0.0131, 0.8975}, {0.0131, 0.8975}},
		20: {{0.0000, 0.8687}, {0.0000, 0.9079}, {0.0000, 0.9079}},
		21: {{0.0000, 0.8820}, {0.2987, 0.6386}, {0.2987, 0.6386}},
		40: {{0.8687, 0.0578}, {0.9079, 0.0523}, {0.9079, 0.0523}},
	}
	for e := 0; e <= 40; e++ {
		switch {
		case e == 0:
			setAll(c, miners, toS1, toS1, toS1)
		case e == 1:
			setAll(c, miners, toS1, toS2, toS2)
		case e <= 20:
			setAll(c, miners, toS2, toS2, toS2)
			if e == 20 {
				for i, row := range c.in.Bonds {
					var kept []Entry
					for _, b := range row {
						if b.UID != 3 {
							kept = append(kept, b)
						}
					}
					c.in.Bonds[i] = kept
				}
			}
		case e == 21:
			setAll(c, miners, toS2, toS1, toS1)
		default:
			setAll(c, miners, toS1, toS1, toS1)
		}
		if d, ok := divs[e]; ok {
			yuma3Epoch(t, c, fmt.Sprintf("epoch %d", e), 3, bonds[e], d)
		} else {
			c.nextBlock()
			c.epoch(t)
		}
	}
}
