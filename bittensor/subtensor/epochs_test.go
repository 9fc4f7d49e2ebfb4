package subtensor

import (
	"errors"
	"testing"
)

// TestPredictRevealDrandVectors are the epoch-schedule vectors of
// bittensor-drand (src/epoch_schedule_vectors.rs: predict_vectors and
// commit_epoch_vectors), the SDK's own predictor, transcribed as data.
func TestPredictRevealDrandVectors(t *testing.T) {
	for _, c := range []struct {
		name         string
		s            EpochSchedule
		revealPeriod uint64
		want         uint64
		wantErr      error
	}{
		{"tempo_zero", EpochSchedule{LastEpochBlock: 10, Block: 10}, 1, 0, ErrNoEpochs},
		{"cycle_reset", EpochSchedule{LastEpochBlock: 10, Tempo: 50, Block: 10}, 1, 60, nil},
		{"pending_fires_before_auto", EpochSchedule{LastEpochBlock: 80, PendingEpochAt: 95, Tempo: 20, Block: 91}, 1, 95, nil},
	} {
		_, got, err := c.s.PredictReveal(c.revealPeriod)
		if !errors.Is(err, c.wantErr) || (c.wantErr == nil && got != c.want) {
			t.Errorf("%s: reveal block %d, %v; want %d, %v", c.name, got, err, c.want, c.wantErr)
		}
	}
	// commit_epoch_at_extrinsic_block
	s := EpochSchedule{LastEpochBlock: 100, Tempo: 50, Block: 120}
	if e, _, err := s.PredictReveal(1); err != nil || e != 0 {
		t.Errorf("commit epoch %d, %v; want 0", e, err)
	}
}

// The reveal block is the first block whose look-ahead epoch is the
// target: exact equality, never a later epoch, never before the commit.
func TestPredictRevealIsTheFirstBlockOfTheEpoch(t *testing.T) {
	for _, tempo := range []uint16{1, 2, 10, 99, 360} {
		for last := uint64(0); last < 3*uint64(tempo); last += uint64(tempo)/3 + 1 {
			for _, rp := range []uint64{1, 2, 3} {
				s := EpochSchedule{Tempo: tempo, LastEpochBlock: last, Block: last + uint64(tempo)/2, EpochIndex: 7}
				ce, rb, err := s.PredictReveal(rp)
				if err != nil {
					t.Fatal(err)
				}
				// Walk the chain: the epoch fires at rb, and had not
				// reached the target before.
				st := s
				for b := s.Block + 1; b < rb; b++ {
					if st.Lookahead(b) >= ce+rp {
						t.Fatalf("tempo %d last %d rp %d: target epoch seen at %d, before %d", tempo, last, rp, b, rb)
					}
					st.Advance(b)
				}
				if !st.Due(rb) || st.Lookahead(rb) != ce+rp {
					t.Fatalf("tempo %d last %d rp %d: no epoch %d fires at %d", tempo, last, rp, ce+rp, rb)
				}
				if rb <= s.Block+1 {
					t.Fatalf("reveal at %d, not after the commit at %d", rb, s.Block+1)
				}
			}
		}
	}
}
