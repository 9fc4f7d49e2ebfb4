package subtensor

import (
	"errors"
	"fmt"
)

// MaxTempo is subtensor's MAX_TEMPO: the largest tempo an owner may set,
// and the count of blocks without an epoch after which one fires anyway.
const MaxTempo = 50_400

// EpochSchedule is a subnet's epoch scheduler state on runtimes that have
// the stateful scheduler (subtensor's LastEpochBlock, PendingEpochAt,
// SubnetEpochIndex; spec 423 on): an epoch fires at a block once tempo
// blocks have passed since the last one, or when an owner-set
// PendingEpochAt arrives, or when BlocksSinceLastStep has passed MaxTempo.
// The values are storage as read at the end of block Block.
type EpochSchedule struct {
	Block               uint64
	Tempo               uint16
	LastEpochBlock      uint64
	PendingEpochAt      uint64
	EpochIndex          uint64
	BlocksSinceLastStep uint64
}

// Due is subtensor's should_run_epoch at block, for this state.
func (s EpochSchedule) Due(block uint64) bool {
	switch {
	case s.Tempo == 0:
		return false
	case s.PendingEpochAt > 0 && block >= s.PendingEpochAt:
		return true
	case s.BlocksSinceLastStep > MaxTempo:
		return true
	}
	return block-min(block, s.LastEpochBlock) >= uint64(s.Tempo)
}

// Lookahead is current_epoch_with_lookahead at block for this state: the
// epoch index plus one when an epoch is due. Reveals run with it at the
// start of a block, before that block's epoch fires, and a commit made in a
// block is filed under it (after the block's epoch, if any, fired).
func (s EpochSchedule) Lookahead(block uint64) uint64 {
	if s.Due(block) {
		return s.EpochIndex + 1
	}
	return s.EpochIndex
}

// Advance applies block's scheduler step (run_coinbase's): the
// blocks-since counter grows, and a due epoch fires. It does not model the
// chain's cap on epochs per block, which can push an epoch a block later
// when many subnets fire together.
func (s *EpochSchedule) Advance(block uint64) {
	s.BlocksSinceLastStep++
	if s.Due(block) {
		s.LastEpochBlock, s.PendingEpochAt, s.BlocksSinceLastStep = block, 0, 0
		s.EpochIndex++
	}
	s.Block = block
}

// ErrNoEpochs is returned for a subnet with tempo 0: it runs no epochs, so
// nothing would ever reveal a commit.
var ErrNoEpochs = errors.New("tempo 0: the subnet runs no epochs")

// PredictReveal says where a commit made now lands and when the chain
// reveals it: the commit is included in the next block (Block+1) and filed
// under that block's epoch; it is revealed at the first block whose
// look-ahead epoch is the commit epoch plus revealPeriod — the block where
// that epoch fires, before it runs.
func (s EpochSchedule) PredictReveal(revealPeriod uint64) (commitEpoch, revealBlock uint64, err error) {
	if s.Tempo == 0 {
		return 0, 0, ErrNoEpochs
	}
	inclusion := s.Block + 1
	commitEpoch = s.Lookahead(inclusion)
	target := commitEpoch + revealPeriod
	limit := inclusion + (revealPeriod+1)*MaxTempo
	st := s
	for b := inclusion; b <= limit; b++ {
		if st.Lookahead(b) == target {
			return commitEpoch, b, nil
		}
		st.Advance(b)
	}
	return 0, 0, fmt.Errorf("no reveal within %d blocks of block %d", limit-inclusion, inclusion)
}
