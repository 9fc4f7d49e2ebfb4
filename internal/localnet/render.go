package localnet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// storage is a block's raw key-value storage, keyed by the raw key as a
// string, as subtensor's state_getStorage serves it.
type storage map[string][]byte

// renderer writes State into raw storage under the runtime metadata's keys
// and hashers, so that any client reading finney's storage items reads
// ours the same way.
type renderer struct {
	md  *substrate.Metadata
	out storage
	err error
	// pulses caches the rendered Drand.Pulses entries: a pulse never
	// changes once stored, and there are a thousand of them.
	pulses map[uint64][2]string
}

func (r *renderer) put(pallet, item string, value []byte, keys ...[]byte) {
	if r.err != nil {
		return
	}
	k, err := r.md.StorageKey(pallet, item, keys...)
	if err != nil {
		r.err = fmt.Errorf("render %s.%s: %w", pallet, item, err)
		return
	}
	r.out[string(k)] = value
}

func enc(f func(e *scale.Encoder)) []byte {
	e := scale.NewEncoder(16)
	f(e)
	return e.Bytes()
}

func u16b(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u32b(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64b(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func boolb(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

// balancesFlags is pallet_balances' ExtraFlags with the "new logic" bit
// set, as every account on a current runtime has.
var balancesFlags = scale.Uint128{Hi: 1 << 63}

// render writes the state of a block; blockHashes are the hashes the chain
// still knows (System.BlockHash), events the block's System.Events.
func render(md *substrate.Metadata, st *State, blockHashes map[uint64][32]byte, events []byte, pulses map[uint64][2]string) (storage, error) {
	r := &renderer{md: md, out: make(storage, 64+16*len(st.Accounts)+len(st.Pulses)), pulses: pulses}
	r.put("System", "Number", u32b(uint32(st.Number)))
	r.put("System", "Events", events)
	for n, h := range blockHashes {
		r.put("System", "BlockHash", h[:], u32b(uint32(n)))
	}
	for id, a := range st.Accounts {
		r.put("System", "Account", enc(func(e *scale.Encoder) {
			e.U32(a.Nonce)
			e.U32(0) // consumers
			e.U32(1) // providers
			e.U32(0) // sufficients
			e.U64(a.Free)
			e.U64(0) // reserved
			e.U64(0) // frozen
			e.U128(balancesFlags)
		}), id[:])
	}
	r.put("Timestamp", "Now", u64b(st.TimestampMs))
	r.put("Drand", "LastStoredRound", u64b(st.LastStoredRound))
	for round, sig := range st.Pulses {
		if kv, ok := r.pulses[round]; ok {
			r.out[kv[0]] = []byte(kv[1])
			continue
		}
		rnd := sha256.Sum256(sig)
		v := enc(func(e *scale.Encoder) {
			e.U64(round)
			e.ByteSlice(rnd[:])
			e.ByteSlice(sig)
		})
		k, err := r.md.StorageKey("Drand", "Pulses", u64b(round))
		if err != nil {
			return nil, fmt.Errorf("render Drand.Pulses: %w", err)
		}
		r.out[string(k)] = v
		if r.pulses != nil {
			r.pulses[round] = [2]string{string(k), string(v)}
		}
	}
	for round := range r.pulses {
		if _, ok := st.Pulses[round]; !ok {
			delete(r.pulses, round)
		}
	}
	const p = "SubtensorModule"
	r.put(p, "CommitRevealWeightsVersion", u16b(st.CommitRevealWeightsVersion))
	r.put(p, "StakeThreshold", u64b(st.StakeThreshold))
	for _, netuid := range slices.Sorted(maps.Keys(st.Subnets)) {
		r.subnet(st.Subnets[netuid])
	}
	return r.out, r.err
}

func (r *renderer) subnet(s *Subnet) {
	const p = "SubtensorModule"
	nk := u16b(s.Netuid)
	hp := s.Params
	r.put(p, "NetworksAdded", boolb(true), nk)
	r.put(p, "SubnetworkN", u16b(uint16(len(s.Neurons))), nk)
	r.put(p, "Tempo", u16b(hp.Tempo), nk)
	r.put(p, "WeightsSetRateLimit", u64b(hp.WeightsRateLimit), nk)
	r.put(p, "CommitRevealWeightsEnabled", boolb(hp.CommitRevealWeightsEnable), nk)
	r.put(p, "RevealPeriodEpochs", u64b(hp.CommitRevealPeriod), nk)
	r.put(p, "MinAllowedWeights", u16b(hp.MinAllowedWeights), nk)
	r.put(p, "MaxWeightsLimit", u16b(hp.MaxWeightsLimit), nk)
	r.put(p, "WeightsVersionKey", u64b(hp.WeightsVersion), nk)
	r.put(p, "Kappa", u16b(hp.Kappa), nk)
	r.put(p, "ImmunityPeriod", u16b(hp.ImmunityPeriod), nk)
	r.put(p, "MaxAllowedUids", u16b(s.MaxAllowedUids), nk)
	r.put(p, "MaxAllowedValidators", u16b(hp.MaxValidators), nk)
	r.put(p, "ActivityCutoff", u16b(uint16(min(hp.ActivityCutoff, 65535))), nk)
	r.put(p, "Burn", u64b(s.Burn), nk)
	r.put(p, "SubnetOwner", s.Owner[:], nk)
	r.put(p, "SubnetOwnerHotkey", s.OwnerHotkey[:], nk)
	r.put(p, "LastMechansimStepBlock", u64b(s.LastMechanismStep), nk)
	r.put(p, "BlocksSinceLastStep", u64b(s.BlocksSinceLastStep), nk)
	if s.MechanismCount > 1 {
		r.put(p, "MechanismCountCurrent", []byte{s.MechanismCount}, nk)
	}
	if s.stateful {
		r.put(p, "LastEpochBlock", u64b(s.LastEpochBlock), nk)
		r.put(p, "PendingEpochAt", u64b(s.PendingEpochAt), nk)
		r.put(p, "SubnetEpochIndex", u64b(s.EpochIndex), nk)
	}

	n := len(s.Neurons)
	lastUpdate := make([]uint64, n)
	emission := make([]uint64, n)
	var active, permit []bool
	var incentive, dividends, consensus, vtrust []uint16
	for i, nr := range s.Neurons {
		uid := u16b(uint16(i))
		r.put(p, "Uids", uid, nk, nr.Hotkey[:])
		r.put(p, "Keys", nr.Hotkey[:], nk, uid)
		r.put(p, "Owner", nr.Coldkey[:], nr.Hotkey[:])
		r.put(p, "BlockAtRegistration", u64b(nr.BlockAtRegistration), nk, uid)
		r.put(p, "TotalHotkeyAlpha", u64b(nr.Stake), nr.Hotkey[:], nk)
		if nr.Axon.Serving() {
			r.put(p, "Axons", enc(nr.Axon.Encode), nk, nr.Hotkey[:])
		}
		if len(nr.Weights) > 0 {
			r.put(p, "Weights", sparseRow(nr.Weights), nk, uid)
		}
		if len(nr.Bonds) > 0 {
			r.put(p, "Bonds", sparseRow(nr.Bonds), nk, uid)
		}
		lastUpdate[i] = nr.LastUpdate
		emission[i] = nr.Emission
		active = append(active, nr.Active)
		permit = append(permit, nr.ValidatorPermit)
		incentive = append(incentive, uint16(nr.Incentive))
		dividends = append(dividends, uint16(nr.Dividends))
		consensus = append(consensus, uint16(nr.Consensus))
		vtrust = append(vtrust, uint16(nr.ValidatorTrust))
	}
	r.put(p, "LastUpdate", vecU64(lastUpdate), nk)
	r.put(p, "Emission", vecU64(emission), nk)
	r.put(p, "Active", vecBool(active), nk)
	r.put(p, "ValidatorPermit", vecBool(permit), nk)
	r.put(p, "Incentive", vecU16(incentive), nk)
	r.put(p, "Dividends", vecU16(dividends), nk)
	r.put(p, "Consensus", vecU16(consensus), nk)
	r.put(p, "ValidatorTrust", vecU16(vtrust), nk)
	// Mechanisms 1 and up, at their storage indices.
	for m := uint8(1); m < s.mechanisms(); m++ {
		ik := u16b(s.index(m))
		lu, inc := make([]uint64, n), make([]uint16, n)
		for i, nr := range s.Neurons {
			uid := u16b(uint16(i))
			if int(m) <= len(nr.Mechanisms) {
				ms := nr.Mechanisms[m-1]
				if len(ms.Weights) > 0 {
					r.put(p, "Weights", sparseRow(ms.Weights), ik, uid)
				}
				if len(ms.Bonds) > 0 {
					r.put(p, "Bonds", sparseRow(ms.Bonds), ik, uid)
				}
				lu[i], inc[i] = ms.LastUpdate, ms.Incentive
			}
		}
		r.put(p, "LastUpdate", vecU64(lu), ik)
		r.put(p, "Incentive", vecU16(inc), ik)
	}
	// Commits are keyed by the storage index of their mechanism.
	for who, cs := range s.HashCommits {
		for m, group := range byMechanism(cs, func(c HashCommit) uint8 { return c.Mech }) {
			r.put(p, "WeightCommits", enc(func(e *scale.Encoder) {
				e.VecLen(len(group))
				for _, c := range group {
					e.Fixed(c.Hash[:])
					e.U64(c.Epoch)
					e.U64(c.Block)
					e.U64(0)
				}
			}), u16b(s.index(m)), who[:])
		}
	}
	for epoch, cs := range s.Timelocked {
		for m, group := range byMechanism(cs, func(c TimelockCommit) uint8 { return c.Mech }) {
			r.put(p, "TimelockedWeightCommits", enc(func(e *scale.Encoder) {
				e.VecLen(len(group))
				for _, c := range group {
					e.Fixed(c.Who[:])
					e.U64(c.Block)
					e.ByteSlice(c.Ciphertext)
					e.U64(c.Round)
				}
			}), u16b(s.index(m)), u64b(epoch))
		}
	}
}

// byMechanism groups commits by mechanism, keeping their order.
func byMechanism[C any](cs []C, mech func(C) uint8) map[uint8][]C {
	out := make(map[uint8][]C)
	for _, c := range cs {
		out[mech(c)] = append(out[mech(c)], c)
	}
	return out
}

func sparseRow(row []WeightEntry) []byte {
	return enc(func(e *scale.Encoder) {
		e.VecLen(len(row))
		for _, w := range row {
			e.U16(w.UID)
			e.U16(w.Value)
		}
	})
}

func vecU64(v []uint64) []byte {
	return enc(func(e *scale.Encoder) {
		e.VecLen(len(v))
		for _, x := range v {
			e.U64(x)
		}
	})
}

func vecU16(v []uint16) []byte {
	return enc(func(e *scale.Encoder) {
		e.VecLen(len(v))
		for _, x := range v {
			e.U16(x)
		}
	})
}

func vecBool(v []bool) []byte {
	return enc(func(e *scale.Encoder) {
		e.VecLen(len(v))
		for _, x := range v {
			e.Bool(x)
		}
	})
}
