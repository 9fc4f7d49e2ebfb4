package localnet

import (
	"math/bits"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/yuma"
)

// runEpoch runs Yuma Consensus for a subnet over its pending emission and
// stores the outcome as subtensor does: incentive, dividends, consensus,
// validator trust, permits, activity, emission and bonds per uid. Each
// hotkey's share of the emission is added to its stake. A subnet with
// several mechanisms runs one epoch per mechanism on an even split of the
// emission (the remainder to mechanism 0), keeps each one's incentive and
// bonds, and sums the rest weighted by the mechanism's share, as
// subtensor's epoch_with_mechanisms does.
func (c *Chain) runEpoch(st *State, s *Subnet, ev *eventLog) {
	n := len(s.Neurons)
	if n == 0 {
		return
	}
	count := s.mechanisms()
	if count == 1 {
		r, ok := c.mechanismEpoch(st, s, 0, s.PendingEmission)
		if !ok {
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
		return
	}
	total := s.PendingEmission
	share := total / uint64(count)
	type agg struct {
		active, permit                        bool
		consensus, dividends, vtrust          uint64
		emission, serverEmission, valEmission uint64
	}
	sum := make([]agg, n)
	// weighted is v·sub/total, the mechanism-0-gets-all rule for a zero
	// emission included.
	weighted := func(v, sub uint64, m uint8) uint64 {
		if total == 0 {
			if m == 0 {
				return v
			}
			return 0
		}
		hi, lo := bits.Mul64(v, sub)
		q, _ := bits.Div64(hi%total, lo, total)
		return q + hi/total
	}
	for m := range count {
		sub := share
		if m == 0 {
			sub = total - share*uint64(count-1)
		}
		r, ok := c.mechanismEpoch(st, s, m, sub)
		if !ok {
			return
		}
		for i, nr := range s.Neurons {
			a := &sum[i]
			a.active = a.active || r.Active[i]
			a.permit = a.permit || r.ValidatorPermit[i]
			a.consensus += weighted(uint64(r.ConsensusU16[i]), sub, m)
			a.dividends += weighted(uint64(r.DividendsU16[i]), sub, m)
			a.vtrust += weighted(uint64(r.ValidatorTrustU16[i]), sub, m)
			a.emission += weighted(r.Emission[i], sub, m)
			a.serverEmission += r.ServerEmission[i]
			a.valEmission += r.ValidatorEmission[i]
			*nr.mech(m).bonds = fromYuma(r.Bonds[i])
			if m == 0 {
				nr.Incentive = subtensor.Proportion(r.IncentiveU16[i])
			} else {
				nr.Mechanisms[m-1].Incentive = r.IncentiveU16[i]
			}
		}
	}
	u16 := func(v uint64) subtensor.Proportion { return subtensor.Proportion(min(v, 65535)) }
	for i, nr := range s.Neurons {
		a := sum[i]
		nr.Active, nr.ValidatorPermit = a.active, a.permit
		nr.Consensus, nr.Dividends, nr.ValidatorTrust = u16(a.consensus), u16(a.dividends), u16(a.vtrust)
		nr.Emission = a.emission
		nr.Stake += a.serverEmission + a.valEmission
	}
	c.cfg.Log.Debug("epoch", "netuid", s.Netuid, "block", st.Number, "emission", total, "mechanisms", count)
}

// mechanismEpoch runs Yuma on mechanism m's weights, bonds and LastUpdate
// with emission rao to distribute.
func (c *Chain) mechanismEpoch(st *State, s *Subnet, m uint8, emission uint64) (*yuma.Result, bool) {
	n := len(s.Neurons)
	hp := s.Params
	p := yuma.Params{
		Kappa: hp.Kappa, BondsPenalty: s.BondsPenalty, BondsMovingAverage: hp.BondsMovingAvg,
		Yuma3: hp.YumaVersion == 3, LiquidAlpha: hp.LiquidAlphaEnabled, AlphaLow: hp.AlphaLow, AlphaHigh: hp.AlphaHigh,
		AlphaSigmoidSteepness: int16(max(-32768, min(32767, hp.AlphaSigmoidSteepness))),
		MaxAllowedValidators:  hp.MaxValidators, ActivityCutoff: hp.ActivityCutoff, StakeThreshold: st.StakeThreshold,
		Tempo: hp.Tempo,
	}
	in := yuma.Inputs{
		N: n, CurrentBlock: st.Number, OwnerUID: -1, LastMechanismStepBlock: s.LastMechanismStep, RaoEmission: emission,
		LastUpdate: make([]uint64, n), BlockAtRegistration: make([]uint64, n), AlphaStake: make([]uint64, n),
		ValidatorPermit: make([]bool, n), Weights: make([][]yuma.Entry, n), Bonds: make([][]yuma.Entry, n),
	}
	if uid, ok := s.uid(s.OwnerHotkey); ok {
		in.OwnerUID = int(uid)
	}
	for i, nr := range s.Neurons {
		nm := nr.mech(m)
		in.LastUpdate[i], in.BlockAtRegistration[i], in.AlphaStake[i] = *nm.lastUpdate, nr.BlockAtRegistration, nr.Stake
		in.ValidatorPermit[i] = nr.ValidatorPermit
		in.Weights[i] = toYuma(*nm.weights)
		in.Bonds[i] = toYuma(*nm.bonds)
	}
	if hp.CommitRevealWeightsEnable {
		in.CommitBlocks = commitBlocks(s, st.Number, m)
	}
	r, err := yuma.Epoch(p, in)
	if err != nil {
		c.cfg.Log.Error("epoch failed", "netuid", s.Netuid, "mechanism", m, "err", err)
		return nil, false
	}
	return &r, true
}

// commitBlocks is, per uid, the block of its earliest live commit (hash or
// timelocked) on mechanism m, or yuma.NoCommit.
func commitBlocks(s *Subnet, block uint64, m uint8) []uint64 {
	out := make([]uint64, len(s.Neurons))
	for i := range out {
		out[i] = yuma.NoCommit
	}
	epoch := s.epoch(block)
	see := func(who AccountID, mech uint8, commitEpoch, commitBlock uint64) {
		if mech != m || commitEpoch+s.Params.CommitRevealPeriod < epoch {
			return // expired
		}
		if uid, ok := s.uid(who); ok {
			out[uid] = min(out[uid], commitBlock)
		}
	}
	for who, cs := range s.HashCommits {
		for _, hc := range cs {
			see(who, hc.Mech, hc.Epoch, hc.Block)
		}
	}
	for e, cs := range s.Timelocked {
		for _, tc := range cs {
			see(tc.Who, tc.Mech, e, tc.Block)
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
