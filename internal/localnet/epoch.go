package localnet

import (
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/yuma"
)

// runEpoch runs Yuma Consensus for a subnet over its pending emission and
// stores the outcome as subtensor does: incentive, dividends, consensus,
// validator trust, permits, activity, emission and bonds per uid. Each
// hotkey's share of the emission is added to its stake.
func (c *Chain) runEpoch(st *State, s *Subnet, ev *eventLog) {
	n := len(s.Neurons)
	if n == 0 {
		return
	}
	hp := s.Params
	p := yuma.Params{
		Kappa: hp.Kappa, BondsPenalty: s.BondsPenalty, BondsMovingAverage: hp.BondsMovingAvg,
		Yuma3: hp.YumaVersion == 3, LiquidAlpha: hp.LiquidAlphaEnabled, AlphaLow: hp.AlphaLow, AlphaHigh: hp.AlphaHigh,
		AlphaSigmoidSteepness: int16(max(-32768, min(32767, hp.AlphaSigmoidSteepness))),
		MaxAllowedValidators:  hp.MaxValidators, ActivityCutoff: hp.ActivityCutoff, StakeThreshold: st.StakeThreshold,
		Tempo: hp.Tempo,
	}
	in := yuma.Inputs{
		N: n, CurrentBlock: st.Number, OwnerUID: -1, LastMechanismStepBlock: s.LastMechanismStep, RaoEmission: s.PendingEmission,
		LastUpdate: make([]uint64, n), BlockAtRegistration: make([]uint64, n), AlphaStake: make([]uint64, n),
		ValidatorPermit: make([]bool, n), Weights: make([][]yuma.Entry, n), Bonds: make([][]yuma.Entry, n),
	}
	if uid, ok := s.uid(s.OwnerHotkey); ok {
		in.OwnerUID = int(uid)
	}
	for i, nr := range s.Neurons {
		in.LastUpdate[i], in.BlockAtRegistration[i], in.AlphaStake[i] = nr.LastUpdate, nr.BlockAtRegistration, nr.Stake
		in.ValidatorPermit[i] = nr.ValidatorPermit
		in.Weights[i] = toYuma(nr.Weights)
		in.Bonds[i] = toYuma(nr.Bonds)
	}
	if hp.CommitRevealWeightsEnable {
		in.CommitBlocks = commitBlocks(s, st.Number)
	}
	r, err := yuma.Epoch(p, in)
	if err != nil {
		c.cfg.Log.Error("epoch failed", "netuid", s.Netuid, "err", err)
		return
	}
	for i, nr := range s.Neurons {
		nr.Active = r.Active[i]
		nr.ValidatorPermit = r.ValidatorPermit[i]
		nr.Consensus = subtensor.Proportion(r.ConsensusU16[i])
		nr.Incentive = subtensor.Proportion(r.IncentiveU16[i])
		nr.Dividends = subtensor.Proportion(r.DividendsU16[i])
		nr.ValidatorTrust = subtensor.Proportion(r.ValidatorTrustU16[i])
		nr.Emission = r.Emission[i]
		nr.Stake += r.ServerEmission[i] + r.ValidatorEmission[i]
		nr.Bonds = fromYuma(r.Bonds[i])
	}
	c.cfg.Log.Debug("epoch", "netuid", s.Netuid, "block", st.Number, "emission", s.PendingEmission)
}

// commitBlocks is, per uid, the block of its earliest live commit (hash or
// timelocked), or yuma.NoCommit.
func commitBlocks(s *Subnet, block uint64) []uint64 {
	out := make([]uint64, len(s.Neurons))
	for i := range out {
		out[i] = yuma.NoCommit
	}
	epoch := s.epoch(block)
	see := func(who AccountID, commitEpoch, commitBlock uint64) {
		if commitEpoch+s.Params.CommitRevealPeriod < epoch {
			return // expired
		}
		if uid, ok := s.uid(who); ok {
			out[uid] = min(out[uid], commitBlock)
		}
	}
	for who, cs := range s.HashCommits {
		for _, hc := range cs {
			see(who, hc.Epoch, hc.Block)
		}
	}
	for e, cs := range s.Timelocked {
		for _, tc := range cs {
			see(tc.Who, e, tc.Block)
		}
	}
	return out
}

func toYuma(row []WeightEntry) []yuma.Entry {
	out := make([]yuma.Entry, len(row))
	for i, w := range row {
		out[i] = yuma.Entry{UID: w.UID, Value: w.Value}
	}
	return out
}

func fromYuma(row []yuma.Entry) []WeightEntry {
	if len(row) == 0 {
		return nil
	}
	out := make([]WeightEntry, len(row))
	for i, w := range row {
		out[i] = WeightEntry{UID: w.UID, Value: w.Value}
	}
	return out
}
