package securesession

// replayWindow is the per-direction replay filter. It accepts a sequence
// number under the same bounds as the reference's FIFO+set filter: not below
// recv-1023, not above recv+2048, not already seen. It remembers every accepted
// number inside [recv-1023, recv] in a 1024-bit ring (136 bytes instead of a
// 1024-entry FIFO plus a hash set).
//
// Where the reference forgets a number (its FIFO is ordered by arrival, so a
// high number accepted early can be evicted while still inside the window and
// then be accepted a second time) this window still rejects it; that only
// refuses genuine replays, which honest peers never send.
type replayWindow struct {
	recv uint64
	bits [ReplayWindowSize / 64]uint64
}

// check reports whether seq would be accepted, without recording it.
func (w *replayWindow) check(seq uint64) bool {
	if seq > w.recv {
		return seq-w.recv <= MaxForwardJump
	}
	if w.recv-seq >= ReplayWindowSize {
		return false
	}
	return !w.has(seq)
}

// accept checks seq and records it when it is acceptable.
func (w *replayWindow) accept(seq uint64) bool {
	if !w.check(seq) {
		return false
	}
	if seq > w.recv {
		w.advance(seq)
	}
	w.bits[(seq/64)%uint64(len(w.bits))] |= 1 << (seq % 64)
	return true
}

func (w *replayWindow) has(seq uint64) bool {
	return w.bits[(seq/64)%uint64(len(w.bits))]&(1<<(seq%64)) != 0
}

// advance moves recv up to seq, clearing the slots of the numbers that fall
// out of the window (they share their ring slot with the new numbers).
func (w *replayWindow) advance(seq uint64) {
	if seq-w.recv >= ReplayWindowSize {
		w.bits = [ReplayWindowSize / 64]uint64{}
	} else {
		// Counting steps, not comparing s <= seq, survives seq == MaxSeq.
		for s, n := w.recv+1, seq-w.recv; n > 0; s, n = s+1, n-1 {
			w.bits[(s/64)%uint64(len(w.bits))] &^= 1 << (s % 64)
		}
	}
	w.recv = seq
}
