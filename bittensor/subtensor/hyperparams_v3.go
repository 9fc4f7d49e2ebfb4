package subtensor

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/vigil-validator/vigil/bittensor/scale"
)

// get_subnet_hyperparams_v3 answers Option<Vec<HyperparamEntry>>, an entry
// being {name: Vec<u8>, value: HyperparamValue} and the value an enum of
// the types it may take (subtensor's rpc_info/subnet_info.rs). Names are
// looked up; unknown names are skipped, an unknown value type is an error
// (its size is not known).
const (
	hpBool = iota
	hpU16
	hpU32
	hpU64
	hpU128
	hpTaoBalance
	hpI32F32
	hpU64F64
)

// hpValue is one decoded HyperparamValue.
type hpValue struct {
	kind  uint8
	b     bool
	u     uint64 // U16, U32, U64, TaoBalance, and U128 when it fits
	fixed float64
}

// maxHyperparams bounds the entries read from one answer.
const maxHyperparams = 256

func decodeHyperparamsV3(b []byte) (Hyperparameters, error) {
	h := Hyperparameters{Version: 3}
	err := scale.Decode(b, func(r *scale.Reader) error {
		some, err := r.Option()
		if err != nil {
			return r.Wrap("hyperparameters", err)
		}
		if !some {
			return errNoMetagraph
		}
		n, err := r.VecLen(2)
		if err != nil {
			return r.Wrap("hyperparameters", err)
		}
		if n > maxHyperparams {
			return fmt.Errorf("hyperparameters: %d entries, over %d", n, maxHyperparams)
		}
		for range n {
			name, err := r.ByteSlice()
			if err != nil {
				return r.Wrap("hyperparameter name", err)
			}
			v, err := readHPValue(r)
			if err != nil {
				return r.Wrap("hyperparameter "+string(name), err)
			}
			if err := h.setV3(string(name), v); err != nil {
				return err
			}
		}
		return nil
	})
	return h, err
}

func readHPValue(r *scale.Reader) (hpValue, error) {
	kind, err := r.U8()
	if err != nil {
		return hpValue{}, err
	}
	v := hpValue{kind: kind}
	switch kind {
	case hpBool:
		v.b, err = r.Bool()
	case hpU16, hpU32, hpU64, hpTaoBalance:
		v.u, err = r.Compact()
		limit := map[uint8]uint64{hpU16: math.MaxUint16, hpU32: math.MaxUint32}[kind]
		if err == nil && limit > 0 && v.u > limit {
			err = fmt.Errorf("%w: %d for a %d-bit value", scale.ErrInvalid, v.u, map[uint8]int{hpU16: 16, hpU32: 32}[kind])
		}
	case hpU128:
		var x *big.Int
		if x, err = r.CompactBig(); err == nil {
			v.u = math.MaxUint64
			if x.IsUint64() {
				v.u = x.Uint64()
			}
		}
	case hpI32F32:
		var x scale.I32F32
		x, err = r.I32F32()
		v.fixed = x.Float64()
	case hpU64F64:
		var x scale.Uint128
		x, err = r.U128()
		v.fixed = math.Ldexp(float64(x.Hi), 0) + math.Ldexp(float64(x.Lo), -64)
	default:
		err = fmt.Errorf("%w: hyperparameter value type %d", scale.ErrInvalid, kind)
	}
	return v, err
}

// setV3 stores one entry; a known name with a value of another type is an
// error, an unknown name is ignored.
func (h *Hyperparameters) setV3(name string, v hpValue) error {
	want := func(kinds ...uint8) error {
		for _, k := range kinds {
			if v.kind == k {
				return nil
			}
		}
		return fmt.Errorf("hyperparameter %s: value type %d", name, v.kind)
	}
	u16 := func(dst *uint16) error { *dst = uint16(v.u); return want(hpU16) }
	u64 := func(dst *uint64) error { *dst = v.u; return want(hpU64, hpTaoBalance) }
	flag := func(dst *bool) error { *dst = v.b; return want(hpBool) }
	switch name {
	case "kappa":
		return u16(&h.Kappa)
	case "immunity_period":
		return u16(&h.ImmunityPeriod)
	case "min_allowed_weights":
		return u16(&h.MinAllowedWeights)
	case "max_weights_limit":
		return u16(&h.MaxWeightsLimit)
	case "tempo":
		return u16(&h.Tempo)
	case "weights_version":
		return u64(&h.WeightsVersion)
	case "weights_rate_limit":
		return u64(&h.WeightsRateLimit)
	case "activity_cutoff":
		return u64(&h.ActivityCutoff)
	case "activity_cutoff_factor":
		h.ActivityCutoffFactor = uint32(v.u)
		return want(hpU32)
	case "registration_allowed":
		return flag(&h.RegistrationAllowed)
	case "target_regs_per_interval":
		return u16(&h.TargetRegsPerInterval)
	case "min_burn":
		return u64(&h.MinBurn)
	case "max_burn":
		return u64(&h.MaxBurn)
	case "burn_half_life":
		return u16(&h.BurnHalfLife)
	case "burn_increase_mult":
		h.BurnIncreaseMult = v.fixed
		return want(hpU64F64)
	case "bonds_moving_avg":
		return u64(&h.BondsMovingAvg)
	case "max_regs_per_block":
		return u16(&h.MaxRegsPerBlock)
	case "serving_rate_limit":
		return u64(&h.ServingRateLimit)
	case "max_validators":
		return u16(&h.MaxValidators)
	case "commit_reveal_period":
		return u64(&h.CommitRevealPeriod)
	case "commit_reveal_weights_enabled":
		return flag(&h.CommitRevealWeightsEnable)
	case "alpha_high":
		return u16(&h.AlphaHigh)
	case "alpha_low":
		return u16(&h.AlphaLow)
	case "liquid_alpha_enabled":
		return flag(&h.LiquidAlphaEnabled)
	case "alpha_sigmoid_steepness":
		h.AlphaSigmoidSteepness = v.fixed
		return want(hpI32F32)
	case "yuma_version":
		return u16(&h.YumaVersion)
	case "subnet_is_active":
		return flag(&h.SubnetIsActive)
	case "transfers_enabled":
		return flag(&h.TransfersEnabled)
	case "bonds_reset_enabled":
		return flag(&h.BondsResetEnabled)
	case "user_liquidity_enabled":
		return flag(&h.UserLiquidityEnabled)
	case "owner_cut_enabled":
		return flag(&h.OwnerCutEnabled)
	case "min_childkey_take":
		return u16(&h.MinChildkeyTake)
	}
	return nil
}

// encodeHyperparamsV3 is the get_subnet_hyperparams_v3 answer for h, its
// entries in subtensor's order.
func encodeHyperparamsV3(h Hyperparameters) ([]byte, error) {
	steep, err := i32f32FromFloat(h.AlphaSigmoidSteepness)
	if err != nil {
		return nil, fmt.Errorf("hyperparameters: alpha_sigmoid_steepness: %w", err)
	}
	if h.BurnIncreaseMult < 0 || h.BurnIncreaseMult >= 0x1p64 || math.IsNaN(h.BurnIncreaseMult) {
		return nil, errors.New("hyperparameters: burn_increase_mult is not a U64F64")
	}
	e := scale.NewEncoder(1024)
	type entry struct {
		name string
		put  func()
	}
	u := func(kind uint8, v uint64) func() { return func() { e.U8(kind); e.Compact(v) } }
	flag := func(v bool) func() { return func() { e.U8(hpBool); e.Bool(v) } }
	mult := new(big.Float).SetFloat64(h.BurnIncreaseMult)
	bits, _ := mult.Mul(mult, new(big.Float).SetMantExp(big.NewFloat(1), 64)).Int(nil)
	var lo, hi uint64
	if bits.BitLen() <= 128 {
		lo = new(big.Int).And(bits, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
		hi = new(big.Int).Rsh(bits, 64).Uint64()
	}
	entries := []entry{
		{"kappa", u(hpU16, uint64(h.Kappa))},
		{"immunity_period", u(hpU16, uint64(h.ImmunityPeriod))},
		{"min_allowed_weights", u(hpU16, uint64(h.MinAllowedWeights))},
		{"max_weights_limit", u(hpU16, uint64(h.MaxWeightsLimit))},
		{"tempo", u(hpU16, uint64(h.Tempo))},
		{"weights_version", u(hpU64, h.WeightsVersion)},
		{"weights_rate_limit", u(hpU64, h.WeightsRateLimit)},
		{"activity_cutoff", u(hpU64, h.ActivityCutoff)},
		{"activity_cutoff_factor", u(hpU32, uint64(h.ActivityCutoffFactor))},
		{"registration_allowed", flag(h.RegistrationAllowed)},
		{"target_regs_per_interval", u(hpU16, uint64(h.TargetRegsPerInterval))},
		{"min_burn", u(hpTaoBalance, h.MinBurn)},
		{"max_burn", u(hpTaoBalance, h.MaxBurn)},
		{"burn_half_life", u(hpU16, uint64(h.BurnHalfLife))},
		{"burn_increase_mult", func() { e.U8(hpU64F64); e.U128(scale.Uint128{Hi: hi, Lo: lo}) }},
		{"bonds_moving_avg", u(hpU64, h.BondsMovingAvg)},
		{"max_regs_per_block", u(hpU16, uint64(h.MaxRegsPerBlock))},
		{"serving_rate_limit", u(hpU64, h.ServingRateLimit)},
		{"max_validators", u(hpU16, uint64(h.MaxValidators))},
		{"commit_reveal_period", u(hpU64, h.CommitRevealPeriod)},
		{"commit_reveal_weights_enabled", flag(h.CommitRevealWeightsEnable)},
		{"alpha_high", u(hpU16, uint64(h.AlphaHigh))},
		{"alpha_low", u(hpU16, uint64(h.AlphaLow))},
		{"liquid_alpha_enabled", flag(h.LiquidAlphaEnabled)},
		{"alpha_sigmoid_steepness", func() { e.U8(hpI32F32); e.I32F32(steep) }},
		{"yuma_version", u(hpU16, uint64(h.YumaVersion))},
		{"subnet_is_active", flag(h.SubnetIsActive)},
		{"transfers_enabled", flag(h.TransfersEnabled)},
		{"bonds_reset_enabled", flag(h.BondsResetEnabled)},
		{"user_liquidity_enabled", flag(h.UserLiquidityEnabled)},
		{"owner_cut_enabled", flag(h.OwnerCutEnabled)},
		{"owner_cut_auto_lock_enabled", flag(false)},
		{"min_childkey_take", u(hpU16, uint64(h.MinChildkeyTake))},
	}
	e.OptionSome()
	e.VecLen(len(entries))
	for _, en := range entries {
		e.ByteSlice([]byte(en.name))
		en.put()
	}
	return e.Bytes(), nil
}
