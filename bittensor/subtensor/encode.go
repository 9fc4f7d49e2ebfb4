package subtensor

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/vigil-validator/vigil/bittensor/scale"
)

// The encoders below are the inverses of DecodeSelectiveMetagraph,
// DecodeNeuronsLite and DecodeHyperparameters, so that a development chain
// can answer the runtime APIs in the bytes subtensor itself sends. For every
// struct the decoder produces, decoding the encoder's output gives the same
// struct back; the bytes equal the runtime's wherever our structs hold every
// field of the wire format.

// Worst-case encoded sizes, so that each encoder allocates its output once.
const (
	maxCompactU16 = 4 // values from 2^14 take the four-byte mode
	maxCompactU64 = 9
	// Everything in a selective metagraph that does not grow with the
	// number of uids: 75 Option tags, the fixed-size fields, and at most 9
	// bytes for each compact value and vector length.
	metagraphHeaderMax = 75 + 2*accountSize + 16 + 8 + 80*maxCompactU64
	// What one uid adds: hotkey, coldkey, an identity (None), axon, active,
	// permit, six Compact<u16> and six Compact<u64> columns, and its two
	// (hotkey, 0) dividend pairs.
	metagraphPerUIDMax = 2*accountSize + 1 + axonInfoSize + 2 + 6*maxCompactU16 + 6*maxCompactU64 +
		2*(accountSize+1)
	neuronLiteMax = 2*accountSize + 2*maxCompactU16 + 1 + axonInfoSize + prometheusInfoSize +
		1 + accountSize + maxCompactU64 + // one stake entry
		maxCompactU16 + maxCompactU64 + 5*maxCompactU16 + maxCompactU64 + 1 + maxCompactU16
	// The Some tag, 13 Compact<u16>, 12 Compact<u64>, 7 bools and v2's I32F32.
	hyperparamsMax = 1 + 13*maxCompactU16 + 12*maxCompactU64 + 7 + 8
)

// zeroPrometheus is the PrometheusInfo the encoders send: Neuron does not
// keep it, and validators do not read it.
var zeroPrometheus [prometheusInfoSize]byte

// Encode writes the axon as the chain stores it (pallet_subtensor's
// AxonInfo, with its two zero placeholder bytes).
func (a *AxonInfo) Encode(e *scale.Encoder) {
	e.U64(a.Block)
	e.U32(a.Version)
	e.U128(a.IP)
	e.U16(a.Port)
	e.U8(a.IPType)
	e.U8(a.Protocol)
	e.U16(0) // the two placeholder bytes, always 0 on chain
}

// writeCompactBytes writes s as Vec<Compact<u8>>, the runtime's encoding of
// subnet names and symbols.
func writeCompactBytes(e *scale.Encoder, s string) {
	e.VecLen(len(s))
	for i := range len(s) {
		e.Compact(uint64(s[i]))
	}
}

// i96f32FromFloat is the I96F32 whose Float64 is f. Any float the decoder
// produced is an integer multiple of 2^-32 and converts exactly; other
// values round to the nearest multiple, out-of-range ones saturate and NaN
// becomes 0. Saturating at exactly ±2^95 is also exact at the struct level:
// the largest I96F32 rounds to 2^95 as a float64.
func i96f32FromFloat(f float64) scale.I96F32 {
	s := math.Round(math.Ldexp(f, 32))
	switch {
	case math.IsNaN(s):
		return scale.I96F32{}
	case s >= 0x1p127:
		return scale.I96F32{Hi: math.MaxInt64, Lo: math.MaxUint64}
	case s <= -0x1p127:
		return scale.I96F32{Hi: math.MinInt64}
	}
	a := math.Abs(s)
	hi := math.Floor(math.Ldexp(a, -64))
	lo := a - math.Ldexp(hi, 64) // exact: the low bits of an integral float
	h, l := uint64(hi), uint64(lo)
	if s < 0 { // two's complement
		var borrow uint64
		l, borrow = bits.Sub64(0, l, 0)
		h, _ = bits.Sub64(0, h, borrow)
	}
	return scale.I96F32{Hi: int64(h), Lo: l}
}

// i32f32FromFloat is the I32F32 whose Float64 is f, rounded to the nearest
// multiple of 2^-32. Exactly 2^31 maps to the largest I32F32, which is what
// that value decodes to; NaN and values beyond it are ErrRange.
func i32f32FromFloat(f float64) (scale.I32F32, error) {
	s := math.Round(math.Ldexp(f, 32))
	switch {
	case s == 0x1p63:
		return math.MaxInt64, nil
	case math.IsNaN(s) || s > 0x1p63 || s < -0x1p63:
		return 0, fmt.Errorf("%w: %v is not an I32F32", scale.ErrRange, f)
	}
	return scale.I32F32(int64(s)), nil
}

// EncodeSelectiveMetagraph encodes m as the answer of
// SubnetInfoRuntimeApi_get_selective_mechagraph when every field is
// requested (as selectiveArgs does): Some(SelectiveMetagraph) with all 74
// fields Some. A nil m is the runtime's None for a subnet that does not
// exist.
//
// UIDs are positions in m.Neurons; NumUIDs is written as given (the decoder
// requires it to be 0 or len(m.Neurons)). Not on the wire: BlockHash and
// each neuron's UID and ValidatorTrust. Not held by Metagraph, so sent as
// zero: identity (None), subnet_emission through subnet_volume,
// pow_registration_allowed, min_difficulty through serving_rate_limit,
// identities (None per uid), tao/alpha_dividends_per_hotkey ((hotkey, 0)
// per uid, the runtime's shape), validators and commitments (empty).
// MovingPrice converts as i96f32FromFloat describes.
func EncodeSelectiveMetagraph(m *Metagraph) []byte {
	if m == nil {
		return []byte{0}
	}
	ns := m.Neurons
	e := scale.NewEncoder(metagraphHeaderMax + 2*(len(m.Name)+len(m.Symbol)) + len(ns)*metagraphPerUIDMax)
	compact := func(v uint64) { e.OptionSome(); e.Compact(v) }
	flag := func(v bool) { e.OptionSome(); e.Bool(v) }
	account := func(a *AccountID) { e.OptionSome(); e.Fixed(a[:]) }
	u16Col := func(get func(*Neuron) uint16) {
		e.OptionSome()
		e.VecLen(len(ns))
		for i := range ns {
			e.Compact(uint64(get(&ns[i])))
		}
	}
	u64Col := func(get func(*Neuron) uint64) {
		e.OptionSome()
		e.VecLen(len(ns))
		for i := range ns {
			e.Compact(get(&ns[i]))
		}
	}
	boolCol := func(get func(*Neuron) bool) {
		e.OptionSome()
		e.VecLen(len(ns))
		for i := range ns {
			e.Bool(get(&ns[i]))
		}
	}
	accountCol := func(get func(*Neuron) *AccountID) {
		e.OptionSome()
		e.VecLen(len(ns))
		for i := range ns {
			e.Fixed(get(&ns[i])[:])
		}
	}
	zeroDividends := func() {
		e.OptionSome()
		e.VecLen(len(ns))
		for i := range ns {
			e.Fixed(ns[i].Hotkey[:])
			e.Compact(0)
		}
	}

	e.OptionSome()
	e.Compact(uint64(m.Netuid)) // 0, never optional
	e.OptionSome()
	writeCompactBytes(e, m.Name)
	e.OptionSome()
	writeCompactBytes(e, m.Symbol)
	e.OptionSome()
	e.OptionNone() // 3 identity
	compact(m.NetworkRegisteredAt)
	account(&m.OwnerHotkey)
	account(&m.OwnerColdkey)
	compact(m.Block)
	compact(uint64(m.Tempo))
	compact(m.LastStep)
	compact(m.BlocksSinceLastStep)
	for range 10 { // 11 subnet_emission … 20 subnet_volume
		compact(0)
	}
	e.OptionSome()
	e.I96F32(i96f32FromFloat(m.MovingPrice))
	compact(uint64(m.Rho))
	compact(uint64(m.Kappa))
	compact(uint64(m.MinAllowedWeights))
	compact(uint64(m.MaxWeightsLimit))
	compact(m.WeightsVersion)
	compact(m.WeightsRateLimit)
	compact(m.ActivityCutoff)
	compact(uint64(m.MaxValidators))
	compact(uint64(m.NumUIDs))
	compact(uint64(m.MaxUIDs))
	compact(m.Burn)
	compact(m.Difficulty)
	flag(m.RegistrationAllowed)
	flag(false) // 35 pow_registration_allowed
	compact(uint64(m.ImmunityPeriod))
	for range 9 { // 37 min_difficulty … 45 serving_rate_limit
		compact(0)
	}
	flag(m.CommitRevealEnabled)
	compact(m.CommitRevealPeriod)
	flag(m.LiquidAlphaEnabled)
	compact(uint64(m.AlphaHigh))
	compact(uint64(m.AlphaLow))
	compact(m.BondsMovingAvg)
	accountCol(func(n *Neuron) *AccountID { return &n.Hotkey })
	accountCol(func(n *Neuron) *AccountID { return &n.Coldkey })
	e.OptionSome() // 54 identities: None for every uid
	e.VecLen(len(ns))
	for range ns {
		e.OptionNone()
	}
	e.OptionSome()
	e.VecLen(len(ns))
	for i := range ns {
		ns[i].Axon.Encode(e)
	}
	boolCol(func(n *Neuron) bool { return n.Active })
	boolCol(func(n *Neuron) bool { return n.ValidatorPermit })
	u16Col(func(n *Neuron) uint16 { return n.PruningScore })
	u64Col(func(n *Neuron) uint64 { return n.LastUpdate })
	u64Col(func(n *Neuron) uint64 { return n.Emission })
	u16Col(func(n *Neuron) uint16 { return uint16(n.Dividends) })
	u16Col(func(n *Neuron) uint16 { return uint16(n.Incentive) })
	u16Col(func(n *Neuron) uint16 { return uint16(n.Consensus) })
	u16Col(func(n *Neuron) uint16 { return uint16(n.Trust) })
	u16Col(func(n *Neuron) uint16 { return uint16(n.Rank) })
	u64Col(func(n *Neuron) uint64 { return n.BlockAtRegistration })
	u64Col(func(n *Neuron) uint64 { return n.AlphaStake })
	u64Col(func(n *Neuron) uint64 { return n.TaoStake })
	u64Col(func(n *Neuron) uint64 { return n.Stake })
	zeroDividends() // 70 tao_dividends_per_hotkey
	zeroDividends() // 71 alpha_dividends_per_hotkey
	e.OptionSome()
	e.VecLen(0) // 72 validators
	e.OptionSome()
	e.VecLen(0) // 73 commitments
	return e.Bytes()
}

// EncodeNeuronsLite encodes ns as the answer of
// NeuronInfoRuntimeApi_get_neurons_lite with netuid 0; EncodeNeuronsLiteFor
// writes the subnet's netuid, which the decoder drops but other clients
// read.
func EncodeNeuronsLite(ns []Neuron) []byte { return EncodeNeuronsLiteFor(0, ns) }

// EncodeNeuronsLiteFor encodes ns as the answer of
// NeuronInfoRuntimeApi_get_neurons_lite(netuid): Vec<NeuronInfoLite>, the
// shape of current runtimes (not the Vec<u8>-wrapped one of old runtimes).
// Each neuron's UID is written as given. As the current runtime does, the
// stake is one entry (coldkey, Stake); AlphaStake, TaoStake and
// BlockAtRegistration are not on the wire, and prometheus_info is zero.
func EncodeNeuronsLiteFor(netuid uint16, ns []Neuron) []byte {
	e := scale.NewEncoder(maxCompactU64 + len(ns)*neuronLiteMax)
	e.VecLen(len(ns))
	for i := range ns {
		n := &ns[i]
		e.Fixed(n.Hotkey[:])
		e.Fixed(n.Coldkey[:])
		e.Compact(uint64(n.UID))
		e.Compact(uint64(netuid))
		e.Bool(n.Active)
		n.Axon.Encode(e)
		e.Fixed(zeroPrometheus[:])
		e.VecLen(1)
		e.Fixed(n.Coldkey[:])
		e.Compact(n.Stake)
		e.Compact(uint64(n.Rank))
		e.Compact(n.Emission)
		for _, p := range [...]Proportion{n.Incentive, n.Consensus, n.Trust, n.ValidatorTrust, n.Dividends} {
			e.Compact(uint64(p))
		}
		e.Compact(n.LastUpdate)
		e.Bool(n.ValidatorPermit)
		e.Compact(uint64(n.PruningScore))
	}
	return e.Bytes()
}

// EncodeHyperparameters encodes h as the answer of get_subnet_hyperparams
// (version 1), get_subnet_hyperparams_v2 (version 2: Some(struct), the
// current shape) or get_subnet_hyperparams_v3 (version 3: Some of named
// entries in subtensor's order). For 1 and 2: Some(struct), the
// current shape. h.Version is not consulted, so a v2 struct can answer a v1
// call; version 1 drops the v2 fields. It fails for another version, or
// when version 2's AlphaSigmoidSteepness does not fit in an I32F32.
func EncodeHyperparameters(h Hyperparameters, version int) ([]byte, error) {
	if version == 3 {
		return encodeHyperparamsV3(h)
	}
	if version != 1 && version != 2 {
		return nil, errors.New("hyperparameters: version must be 1, 2 or 3")
	}
	var steepness scale.I32F32
	if version == 2 {
		var err error
		if steepness, err = i32f32FromFloat(h.AlphaSigmoidSteepness); err != nil {
			return nil, fmt.Errorf("hyperparameters: alpha_sigmoid_steepness: %w", err)
		}
	}
	e := scale.NewEncoder(hyperparamsMax)
	u16s := func(vs ...uint16) {
		for _, v := range vs {
			e.Compact(uint64(v))
		}
	}
	u64s := func(vs ...uint64) {
		for _, v := range vs {
			e.Compact(v)
		}
	}
	// The order is readHyperparams', which is the runtime struct's.
	e.OptionSome()
	u16s(h.Rho, h.Kappa, h.ImmunityPeriod, h.MinAllowedWeights, h.MaxWeightsLimit, h.Tempo)
	u64s(h.MinDifficulty, h.MaxDifficulty, h.WeightsVersion, h.WeightsRateLimit)
	u16s(h.AdjustmentInterval)
	u64s(h.ActivityCutoff)
	e.Bool(h.RegistrationAllowed)
	u16s(h.TargetRegsPerInterval)
	u64s(h.MinBurn, h.MaxBurn, h.BondsMovingAvg)
	u16s(h.MaxRegsPerBlock)
	u64s(h.ServingRateLimit)
	u16s(h.MaxValidators)
	u64s(h.AdjustmentAlpha, h.Difficulty, h.CommitRevealPeriod)
	e.Bool(h.CommitRevealWeightsEnable)
	u16s(h.AlphaHigh, h.AlphaLow)
	e.Bool(h.LiquidAlphaEnabled)
	if version == 2 {
		e.I32F32(steepness)
		u16s(h.YumaVersion)
		e.Bool(h.SubnetIsActive)
		e.Bool(h.TransfersEnabled)
		e.Bool(h.BondsResetEnabled)
		e.Bool(h.UserLiquidityEnabled)
	}
	return e.Bytes(), nil
}
