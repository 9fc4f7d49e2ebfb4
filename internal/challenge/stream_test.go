package challenge

import "testing"

// TestElementStreamIsRandint: the block-tempered stream gives the same
// elements as randint(-500, 501) one draw at a time (itself held to NumPy),
// across fills and skips that end mid-block.
func TestElementStreamIsRandint(t *testing.T) {
	t.Run("machine", testElementStream)
	t.Run("go", func(t *testing.T) {
		saved := refillBlock
		refillBlock = refillGo
		defer func() { refillBlock = saved }()
		testElementStream(t)
	})
}

func testElementStream(t *testing.T) {
	for _, seed := range []uint32{0, 77, 0xffffffff} {
		m := newMT19937(seed)
		s, s2 := newElementStream(seed), newElementStream(seed)
		dst := make([]int16, 5000)
		s.fill(dst[:1])
		s.fill(dst[1:3000])
		s.fill(dst[3000:])
		for i, v := range dst {
			if w := m.randint(ElementLow, ElementHigh); int64(v) != w {
				t.Fatalf("seed %d element %d: %d, randint %d", seed, i, v, w)
			}
		}
		s2.skip(623)
		s2.skip(2376)
		one := make([]int16, 1)
		s2.fill(one)
		if one[0] != dst[2999] {
			t.Fatalf("seed %d: after skipping 2999 elements %d, want %d", seed, one[0], dst[2999])
		}
	}
}

func BenchmarkElementStream8M(b *testing.B) {
	dst := make([]int16, 8_000_000)
	for b.Loop() {
		newElementStream(12345).fill(dst)
	}
}
