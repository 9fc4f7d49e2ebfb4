package securesession

import (
	"math/rand/v2"
	"testing"
)

// fifoWindow is the straightforward FIFO+set filter of the protocol
// description, used as the model.
type fifoWindow struct {
	recv uint64
	fifo []uint64
	set  map[uint64]bool
}

func newFIFOWindow() *fifoWindow { return &fifoWindow{set: map[uint64]bool{}} }

func (m *fifoWindow) accept(seq uint64) bool {
	if m.set[seq] {
		return false
	}
	lo := uint64(0)
	if m.recv+1 > ReplayWindowSize {
		lo = m.recv - ReplayWindowSize + 1
	}
	if seq < lo || seq > m.recv+MaxForwardJump {
		return false
	}
	m.recv = max(m.recv, seq)
	if len(m.fifo) == ReplayWindowSize {
		delete(m.set, m.fifo[0])
		m.fifo = m.fifo[1:]
	}
	m.fifo = append(m.fifo, seq)
	m.set[seq] = true
	return true
}

// randomSeqs mixes in-order traffic, reordering, duplicates, old and far
// future numbers around the moving top.
func randomSeqs(r *rand.Rand, n int) []uint64 {
	out := make([]uint64, 0, n)
	top := uint64(0)
	for range n {
		var s uint64
		switch k := r.IntN(10); {
		case k < 4:
			s = top + 1
		case k < 6 && len(out) > 0:
			s = out[r.IntN(len(out))] // exact repeat of an earlier number
		case k < 8:
			s = top + uint64(r.IntN(3000)) // forward, sometimes too far
			if s > 0 && r.IntN(2) == 0 {
				s -= uint64(r.IntN(int(min(s, 1100)) + 1))
			}
		default:
			if top > 0 {
				s = top - uint64(r.IntN(int(min(top, 1500))+1))
			}
		}
		out = append(out, s)
		if s <= top+MaxForwardJump {
			top = max(top, s) // follow what a filter would accept
		}
	}
	return out
}

// TestReplayWindowMatchesModel runs the bitmap window and the FIFO+set model
// side by side: they must agree everywhere except where the model accepts a
// number it had already accepted (a replay it forgot), which the bitmap
// refuses. recv stays identical throughout.
func TestReplayWindowMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	replaysRefused, accepted, refused := 0, 0, 0
	for trial := range 200 {
		var w replayWindow
		m := newFIFOWindow()
		ever := map[uint64]bool{}
		for i, s := range randomSeqs(r, 3000) {
			got, want := w.accept(s), m.accept(s)
			if got != want {
				if got || !ever[s] {
					t.Fatalf("trial %d step %d seq %d: bitmap=%v model=%v (previously accepted: %v)", trial, i, s, got, want, ever[s])
				}
				replaysRefused++
			}
			if w.recv != m.recv {
				t.Fatalf("trial %d step %d: recv %d vs model %d", trial, i, w.recv, m.recv)
			}
			if got {
				ever[s] = true
				accepted++
			} else {
				refused++
			}
		}
	}
	if accepted < 100000 || refused < 100000 {
		t.Fatalf("traffic too one-sided: %d accepted, %d refused", accepted, refused)
	}
	t.Logf("accepted %d, refused %d, replays the model forgot and the bitmap refused: %d", accepted, refused, replaysRefused)
}

// With arrival order equal to numeric order inside the window (the honest
// case, plus duplicates and stale or far numbers) both filters agree exactly.
func TestReplayWindowIdenticalOnOrderedTraffic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var w replayWindow
	m := newFIFOWindow()
	next := uint64(1)
	for i := range 50000 {
		s := next
		switch r.IntN(8) {
		case 0:
			s = next - uint64(r.IntN(int(min(next, 1500)))) // duplicate or stale
		case 1:
			s = next + MaxForwardJump + uint64(r.IntN(10)) // too far ahead
		}
		if got, want := w.accept(s), m.accept(s); got != want {
			t.Fatalf("step %d seq %d: bitmap=%v model=%v", i, s, got, want)
		}
		if s == next {
			next++
		}
	}
}

// The reference filter forgets a number that arrived early and high once
// 1024 later (lower) numbers pushed it out of its FIFO; it would then accept
// it again although it is still inside the window.
func TestReplayWindowRefusesForgottenReplay(t *testing.T) {
	var w replayWindow
	m := newFIFOWindow()
	feed := []uint64{2048}
	for s := uint64(1025); s < 2048; s++ {
		feed = append(feed, s)
	}
	feed = append(feed, 2049)
	for _, s := range feed {
		if !w.accept(s) || !m.accept(s) {
			t.Fatalf("seq %d refused", s)
		}
	}
	if !m.accept(2048) {
		t.Fatal("model expected to re-accept 2048 (the reference's gap)")
	}
	if w.accept(2048) {
		t.Fatal("bitmap window accepted a replay of 2048")
	}
}

func TestReplayWindowBounds(t *testing.T) {
	var w replayWindow
	if w.accept(MaxForwardJump + 1) {
		t.Fatal("accepted a jump beyond the forward limit")
	}
	if !w.accept(MaxForwardJump) || w.recv != MaxForwardJump {
		t.Fatal("refused the largest allowed jump")
	}
	if w.accept(MaxForwardJump - ReplayWindowSize) {
		t.Fatal("accepted a number just below the window")
	}
	if !w.accept(MaxForwardJump - ReplayWindowSize + 1) {
		t.Fatal("refused the lowest number of the window")
	}
	var top replayWindow
	top.recv = MaxSeq - 1
	if !top.accept(MaxSeq) || top.accept(MaxSeq) {
		t.Fatal("largest sequence number mishandled")
	}
}
