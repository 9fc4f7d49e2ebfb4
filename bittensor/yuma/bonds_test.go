package yuma

import "testing"

// TestBonds replays subtensor tests/epoch.rs::test_bonds (sparse): 8 uids,
// stakes [1,2,3,4,0,0,0,0], tempo 1, bonds penalty 65535, BMA 900000, Yuma 2.
// Validators first all weight the 4 servers 0.1/0.2/0.3/0.4, then one after
// another switch to self-weight (masked), and val3 finally backs only srv4.
// Stored bonds are the test's assertions (exact); dividends, incentive and
// emission are the trace in its comments (printed to 10 digits; the traced
// blocks start at 0 where the test now starts at 1, which shifts no value).
func TestBonds(t *testing.T) {
	p := mockParams(1)
	p.MaxAllowedValidators = 8
	c := newChain(p, 1, []uint64{1, 2, 3, 4, 0, 0, 0, 0})
	c.epoch(t) // issue permits

	servers := []Entry{{4, 16383}, {5, 32767}, {6, 49149}, {7, 65535}}
	steps := []struct {
		name      string
		setup     func()
		col       int      // bond column asserted
		bonds     []uint16 // stored bonds[0..3][col], asserted by the test
		dividends []float64
		incentive []float64
		emission  []uint64
	}{
		{
			name: "all validators weight servers",
			setup: func() {
				for uid := range 4 {
					c.setWeights(uid, servers...)
				}
			},
			col:       4,
			bonds:     []uint16{16383, 32767, 49151, 65535},
			dividends: []float64{0.0999999978, 0.1999999983, 0.3000000012, 0.4000000022, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0.0999975582, 0.2000012207, 0.2999926752, 0.4000085455},
			emission:  []uint64{49999998, 99999999, 150000000, 200000001, 49998779, 100000610, 149996337, 200004272},
		},
		{
			name:      "val1 self-weight",
			setup:     func() { c.setWeights(0, Entry{0, 65535}) },
			col:       4,
			bonds:     []uint16{14582, 32767, 49151, 65535},
			dividends: []float64{0.0899967032, 0.2022211233, 0.303334432, 0.404447741, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0.0999975582, 0.2000012207, 0.2999926754, 0.4000085455},
			emission:  []uint64{44998351, 101110561, 151667215, 202223870, 49998779, 100000610, 149996337, 200004272},
		},
		{
			name:      "val2 self-weight",
			setup:     func() { c.setWeights(1, Entry{1, 65535}) },
			col:       4,
			bonds:     []uint16{12603, 28321, 49151, 65535},
			dividends: []float64{0.0809936118, 0.1819995677, 0.3158592721, 0.421147548, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0.0999975582, 0.2000012207, 0.2999926754, 0.4000085455},
			emission:  []uint64{40496805, 90999783, 157929636, 210573773, 49998779, 100000610, 149996337, 200004272},
		},
		{
			name:      "val3 self-weight: no consensus",
			setup:     func() { c.setWeights(2, Entry{2, 65535}) },
			col:       7,
			bonds:     []uint16{12602, 28320, 49150, 65535},
			dividends: []float64{0, 0, 0, 0, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0, 0, 0, 0},
			emission:  []uint64{99999999, 199999999, 299999999, 399999999, 0, 0, 0, 0},
		},
		{
			name:      "val3 backs srv4",
			setup:     func() { c.setWeights(2, Entry{7, 65535}) },
			col:       7,
			bonds:     []uint16{10951, 24609, 49150, 65535},
			dividends: []float64{0.0728874663, 0.1637972582, 0.3271309866, 0.4361842885, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0, 0, 0, 1},
			emission:  []uint64{36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000},
		},
		{
			name:      "unchanged 1",
			col:       7,
			bonds:     []uint16{9559, 21482, 49150, 65535},
			dividends: []float64{0.0655988548, 0.1474132247, 0.3372762585, 0.4497116616, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0, 0, 0, 1},
			emission:  []uint64{32799427, 73706612, 168638129, 224855830, 0, 0, 0, 500000000},
		},
		{
			name:      "unchanged 2",
			col:       7,
			bonds:     []uint16{8376, 18824, 49150, 65535},
			dividends: []float64{0.0590361361, 0.1326722752, 0.3464062694, 0.4618853189, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0, 0, 0, 1},
			emission:  []uint64{29518068, 66336137, 173203134, 230942659, 0, 0, 0, 500000000},
		},
		{
			// No assertion in the test; the trace's final emaB, floored to
			// u16, gives the bonds.
			name:      "unchanged 3",
			col:       7,
			bonds:     []uint16{7363, 16549, 49150, 65535},
			dividends: []float64{0.053130352, 0.1194037423, 0.3546237142, 0.472842191, 0, 0, 0, 0},
			incentive: []float64{0, 0, 0, 0, 0, 0, 0, 1},
			emission:  []uint64{26565175, 59701871, 177311856, 236421095, 0, 0, 0, 500000000},
		},
	}
	for _, s := range steps {
		c.nextBlock()
		if s.setup != nil {
			s.setup()
		}
		r := c.epoch(t)
		for i, want := range s.bonds {
			if got := c.bond(i, s.col); got != want {
				t.Errorf("%s: bonds[%d][%d] = %d, want %d", s.name, i, s.col, got, want)
			}
		}
		assertClose(t, s.name+": dividends", r.Dividends, s.dividends, 1e-9)
		assertClose(t, s.name+": incentive", r.Incentive, s.incentive, 1e-9)
		assertEqualU64(t, s.name+": emission", r.Emission, s.emission)
	}
}
