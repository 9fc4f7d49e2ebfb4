package yuma

import "testing"

// TestMaxWeightLimitedTable is subtensor's own table for
// check_vec_max_limited (pallets/subtensor/src/tests/math.rs,
// test_check_vec_max_limited), transcribed as data.
func TestMaxWeightLimitedTable(t *testing.T) {
	const m = 65535
	for _, c := range []struct {
		v     []uint16
		limit uint16
		want  bool
	}{
		{nil, 0, true},
		{nil, m, true},
		{[]uint16{m}, m, true},
		{[]uint16{m}, m - 1, false},
		{[]uint16{m}, 0, false},
		{[]uint16{0}, m, true},
		{[]uint16{0, m}, m, true},
		{[]uint16{0, m, m}, m / 2, false},
		{[]uint16{0, m, m}, m/2 + 1, true},
		{[]uint16{0, m, m, m}, m/3 - 1, false},
		{[]uint16{0, m, m, m}, m / 3, true},
	} {
		if got := MaxWeightLimited(c.v, c.limit); got != c.want {
			t.Errorf("MaxWeightLimited(%v, %d) = %v, want %v", c.v, c.limit, got, c.want)
		}
	}
}
