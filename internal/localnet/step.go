package localnet

import (
	"errors"
	"maps"
	"slices"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/timelock"
)

// blockStep is what subtensor does at the start of every block, per
// subnet in netuid order: reveal the timelocked commits whose epoch has
// come (before the epoch, so revealed weights count in it), accrue
// emission, and run the epoch when the subnet's tempo says so.
func (c *Chain) blockStep(st *State, ev *eventLog) {
	if st.StatefulEpochs {
		c.blockStepStateful(st, ev)
		return
	}
	for _, netuid := range slices.Sorted(maps.Keys(st.Subnets)) {
		s := st.Subnets[netuid]
		if s.Params.Tempo == 0 {
			continue
		}
		c.revealTimelocked(st, s, ev)
		s.BlocksSinceLastStep++
		s.PendingEmission += s.EmissionPerBlock
		// The block opens its epoch. Exact because stepped blocks are 1 and
		// later: EpochStart clamps epochs begun before block 0 to 0.
		tempo := s.Params.Tempo
		if subtensor.EpochStart(subtensor.EpochOf(st.Number, netuid, tempo), netuid, tempo) == st.Number {
			c.runEpoch(st, s, ev)
			s.LastMechanismStep = st.Number
			s.BlocksSinceLastStep = 0
			s.PendingEmission = 0
		}
	}
}

// maxEpochsPerBlock is finney's MaxEpochsPerBlock: more subnets due in one
// block than this are deferred to the next.
const maxEpochsPerBlock = 2

// blockStepStateful is subtensor's block_step on the stateful scheduler:
// first every subnet reveals the timelocked commits of the epoch about to
// fire (reveal_crv3_commits, before run_coinbase; a subnet the per-block
// cap defers reveals in the block it fires), then run_coinbase counts the
// block and fires the due epochs, in netuid order, at most
// maxEpochsPerBlock of them; the rest get PendingEpochAt = next block.
func (c *Chain) blockStepStateful(st *State, ev *eventLog) {
	block := st.Number
	netuids := slices.Sorted(maps.Keys(st.Subnets))
	deferred := map[uint16]bool{}
	due := 0
	for _, netuid := range netuids {
		if st.Subnets[netuid].epochDue(block) {
			if due >= maxEpochsPerBlock {
				deferred[netuid] = true
			}
			due++
		}
	}
	for _, netuid := range netuids {
		if s := st.Subnets[netuid]; s.Params.Tempo != 0 && !deferred[netuid] {
			c.revealTimelocked(st, s, ev)
		}
	}
	for _, netuid := range netuids {
		decayBurn(st.Subnets[netuid], block)
	}
	fired := 0
	for _, netuid := range netuids {
		s := st.Subnets[netuid]
		s.BlocksSinceLastStep++
		s.PendingEmission += s.EmissionPerBlock
		if !s.epochDue(block) {
			continue
		}
		if fired >= maxEpochsPerBlock {
			s.PendingEpochAt = block + 1
			continue
		}
		c.runEpoch(st, s, ev)
		fired++
		s.LastMechanismStep = block
		s.BlocksSinceLastStep = 0
		s.PendingEmission = 0
		s.LastEpochBlock, s.PendingEpochAt = block, 0
		s.EpochIndex++
	}
}

// revealTimelocked applies the commits made RevealPeriodEpochs epochs
// ago whose pulse is on chain; a commit whose pulse has not arrived waits
// for a later block of the epoch, and older epochs are dropped.
func (c *Chain) revealTimelocked(st *State, s *Subnet, ev *eventLog) {
	epoch := s.epoch(st.Number)
	rp := s.Params.CommitRevealPeriod
	for e := range s.Timelocked {
		if e+rp < epoch {
			for _, tc := range s.Timelocked[e] {
				c.cfg.Log.Info("timelocked commit expired unrevealed", "netuid", s.Netuid, "who", tc.Who.Hex(), "round", tc.Round)
			}
			delete(s.Timelocked, e)
		}
	}
	if epoch < rp {
		return
	}
	queue := s.Timelocked[epoch-rp]
	var left []TimelockCommit
	for _, tc := range queue {
		sig, ok := c.pulse(st, tc.Round)
		if !ok {
			left = append(left, tc)
			continue
		}
		if err := c.revealOne(st, s, tc, sig, ev); err != nil {
			// Subtensor drops such a commit in silence; the localnet says
			// so with its own event, and in its log.
			c.cfg.Log.Info("timelocked commit dropped", "netuid", s.Netuid, "who", tc.Who.Hex(), "round", tc.Round, "err", err)
			ev.emit(subtensor.Pallet, "TimelockedWeightsDropped", concat(u16b(s.index(tc.Mech)), tc.Who[:], u64b(tc.Round)))
		}
	}
	if len(left) == 0 {
		delete(s.Timelocked, epoch-rp)
	} else {
		s.Timelocked[epoch-rp] = left
	}
}

var errWrongHotkey = errors.New("payload names another hotkey")

func (c *Chain) revealOne(st *State, s *Subnet, tc TimelockCommit, sig []byte, ev *eventLog) error {
	pt, err := timelock.Decrypt(c.beacon.Beacon(), tc.Ciphertext, tc.Round, sig)
	if err != nil {
		return err
	}
	hotkey, uids, values, vk, err := decodePayload(pt)
	if err != nil {
		return err
	}
	if hotkey != nil && AccountID(hotkey) != tc.Who {
		return errWrongHotkey
	}
	if e := setWeights(st, s, tc.Who, tc.Mech, uids, values, vk, true, ev); e != "" {
		return errors.New(e)
	}
	ev.emit(subtensor.Pallet, "TimelockedWeightsRevealed", concat(u16b(s.index(tc.Mech)), tc.Who[:]))
	return nil
}

// decodePayload reads WeightsTlockPayload {hotkey, uids, values,
// version_key}, or the legacy payload without the hotkey.
func decodePayload(b []byte) (hotkey []byte, uids, values []uint16, vk uint64, err error) {
	rest := func(r *scale.Reader) (err error) {
		if uids, err = u16s(r); err != nil {
			return
		}
		if values, err = u16s(r); err != nil {
			return
		}
		vk, err = r.U64()
		return
	}
	err = scale.Decode(b, func(r *scale.Reader) (err error) {
		if hotkey, err = r.ByteSlice(); err != nil {
			return
		}
		if len(hotkey) != 32 {
			return errors.New("hotkey is not 32 bytes")
		}
		return rest(r)
	})
	if err == nil {
		return
	}
	hotkey = nil
	err = scale.Decode(b, rest)
	return
}
