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
	return temper(y)
}

func (m *mt19937) twist() {
	twistState(&m.mt)
	m.idx = 0
}

func twistState(mt *[624]uint32) {
	const n, mid = 624, 397
	// The three ranges of genrand_int32's loop, without a modulo per word.
	for i := 0; i < n-mid; i++ {
		mt[i] = twistWord(mt[i], mt[i+1], mt[i+mid])
	}
	for i := n - mid; i < n-1; i++ {
		mt[i] = twistWord(mt[i], mt[i+1], mt[i+mid-n])
	}
	mt[n-1] = twistWord(mt[n-1], mt[0], mt[mid-1])
}

// twistWord is one word of the twist; the odd bit selects matrixA by a
// mask, not a branch, since it is a coin flip a branch predictor would
// miss half the time.
func twistWord(cur, next, far uint32) uint32 {
	y := cur&0x80000000 | next&0x7fffffff
	return far ^ y>>1 ^ -(y&1)&0x9908b0df
}

func temper(y uint32) uint32 {
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
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
	refillBlock(&s.m.mt, &s.out)
	s.pos = 0
}

// refillBlock twists the state and tempers the block into out; the
// machine's vector unit where it has one.
var refillBlock = refillGo

func refillGo(mt, out *[624]uint32) {
	twistState(mt)
	for i, y := range mt {
		out[i] = temper(y)
	}
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

// skip passes over the next count elements: whole blocks by a branchless
// count of their accepted words, the last one word by word.
func (s *elementStream) skip(count int) {
	for count > 0 {
		if s.pos == len(s.out) {
			s.refill()
		}
		buf := s.out[s.pos:]
		if count >= len(buf) { // the whole rest of the block goes
			for _, w := range buf {
				// 1 when w&1023 ≤ 1000: the sign of (w&1023) − 1001.
				count -= int(uint32(int32(w&elementMask)-(elementRange+1)) >> 31)
			}
			s.pos = len(s.out)
			continue
		}
		j := 0
		for ; j < len(buf) && count > 0; j++ {
			if buf[j]&elementMask <= elementRange {
				count--
			}
		}
		s.pos += j
	}
}
