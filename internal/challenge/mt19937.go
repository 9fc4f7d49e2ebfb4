// Package challenge is the compute subnet's matrix challenges as pure
// functions: the CPU challenge's matrices from NumPy's legacy RandomState,
// their product and row hashes, the Merkle tree over the row hashes with
// its proofs, and verification that samples rows instead of recomputing
// the product. It must agree bit for bit with the reference validator and
// workers; its tests hold it to NumPy itself.
package challenge

// mt19937 is the Mersenne Twister NumPy's legacy RandomState runs, seeded
// with init_genrand as RandomState(seed) does for a 32-bit integer seed.
type mt19937 struct {
	mt  [624]uint32
	idx int
}

func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{idx: 624}
	m.mt[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.mt[i-1]
		m.mt[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

// Uint32 is the next 32-bit output (genrand_int32).
func (m *mt19937) Uint32() uint32 {
	if m.idx >= 624 {
		m.twist()
	}
	y := m.mt[m.idx]
	m.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

func (m *mt19937) twist() {
	const n, mid, upper, lower, matrixA = 624, 397, 0x80000000, 0x7fffffff, 0x9908b0df
	mt := &m.mt
	mix := func(i, next, far int) {
		y := mt[i]&upper | mt[next]&lower
		v := mt[far] ^ y>>1
		if y&1 != 0 {
			v ^= matrixA
		}
		mt[i] = v
	}
	// The three ranges of genrand_int32's loop, without a modulo per word.
	for i := 0; i < n-mid; i++ {
		mix(i, i+1, i+mid)
	}
	for i := n - mid; i < n-1; i++ {
		mix(i, i+1, i+mid-n)
	}
	mix(n-1, 0, mid-1)
	m.idx = 0
}

// randint is NumPy's legacy RandomState.randint(low, high) for a range that
// fits in 32 bits: the masked rejection method, one 32-bit draw per try
// (numpy/random/_bounded_integers.pyx, buffered_bounded_masked_uint32).
func (m *mt19937) randint(low, high int64) int64 {
	rng := uint32(high - low - 1)
	if rng == 0 {
		return low
	}
	mask := rng
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if u := m.Uint32() & mask; u <= rng {
			return low + int64(u)
		}
	}
}

// The CPU challenge's elements are randint(-500, 501): 1000 is the range
// and 1023 its mask, one draw per try.
const (
	elementRange = ElementHigh - ElementLow - 1
	elementMask  = 1023
)

// elementStream draws the CPU challenge's elements from a RandomState
// stream, tempering a whole block of 624 outputs at a time: the same
// values as randint(-500, 501) one by one, without a call per draw.
type elementStream struct {
	m   mt19937
	out [624]uint32
	pos int
}

func newElementStream(seed uint32) *elementStream {
	return &elementStream{m: *newMT19937(seed), pos: 624}
}

func (s *elementStream) refill() {
	s.m.twist()
	for i, y := range &s.m.mt {
		y ^= y >> 11
		y ^= (y << 7) & 0x9d2c5680
		y ^= (y << 15) & 0xefc60000
		y ^= y >> 18
		s.out[i] = y
	}
	s.pos = 0
}

// fill sets dst to the next len(dst) elements.
func (s *elementStream) fill(dst []int16) {
	i := 0
	for i < len(dst) {
		if s.pos == len(s.out) {
			s.refill()
		}
		buf := s.out[s.pos:]
		j := 0
		for ; j < len(buf) && i < len(dst); j++ {
			if u := buf[j] & elementMask; u <= elementRange {
				dst[i] = int16(u) + ElementLow
				i++
			}
		}
		s.pos += j
	}
}

// skip passes over the next count elements.
func (s *elementStream) skip(count int) {
	for count > 0 {
		if s.pos == len(s.out) {
			s.refill()
		}
		buf := s.out[s.pos:]
		j := 0
		for ; j < len(buf) && count > 0; j++ {
			if buf[j]&elementMask <= elementRange {
				count--
			}
		}
		s.pos += j
	}
}
