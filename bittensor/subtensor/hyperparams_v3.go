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
		if err := readSome(r); err != nil {
			return err
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

// v3Params are get_subnet_hyperparams_v3's entries in subtensor's order,
// each with its value type and the field it fills (nil: not kept here).
var v3Params = []struct {
	name  string
	kind  uint8
	field func(h *Hyperparameters) any
}{
	{"kappa", hpU16, func(h *Hyperparameters) any { return &h.Kappa }},
	{"immunity_period", hpU16, func(h *Hyperparameters) any { return &h.ImmunityPeriod }},
	{"min_allowed_weights", hpU16, func(h *Hyperparameters) any { return &h.MinAllowedWeights }},
	{"max_weights_limit", hpU16, func(h *Hyperparameters) any { return &h.MaxWeightsLimit }},
	{"tempo", hpU16, func(h *Hyperparameters) any { return &h.Tempo }},
	{"weights_version", hpU64, func(h *Hyperparameters) any { return &h.WeightsVersion }},
	{"weights_rate_limit", hpU64, func(h *Hyperparameters) any { return &h.WeightsRateLimit }},
	{"activity_cutoff", hpU64, func(h *Hyperparameters) any { return &h.ActivityCutoff }},
	{"activity_cutoff_factor", hpU32, func(h *Hyperparameters) any { return &h.ActivityCutoffFactor }},
	{"registration_allowed", hpBool, func(h *Hyperparameters) any { return &h.RegistrationAllowed }},
	{"target_regs_per_interval", hpU16, func(h *Hyperparameters) any { return &h.TargetRegsPerInterval }},
	{"min_burn", hpTaoBalance, func(h *Hyperparameters) any { return &h.MinBurn }},
	{"max_burn", hpTaoBalance, func(h *Hyperparameters) any { return &h.MaxBurn }},
	{"burn_half_life", hpU16, func(h *Hyperparameters) any { return &h.BurnHalfLife }},
	{"burn_increase_mult", hpU64F64, func(h *Hyperparameters) any { return &h.BurnIncreaseMult }},
	{"bonds_moving_avg", hpU64, func(h *Hyperparameters) any { return &h.BondsMovingAvg }},
	{"max_regs_per_block", hpU16, func(h *Hyperparameters) any { return &h.MaxRegsPerBlock }},
	{"serving_rate_limit", hpU64, func(h *Hyperparameters) any { return &h.ServingRateLimit }},
	{"max_validators", hpU16, func(h *Hyperparameters) any { return &h.MaxValidators }},
	{"commit_reveal_period", hpU64, func(h *Hyperparameters) any { return &h.CommitRevealPeriod }},
	{"commit_reveal_weights_enabled", hpBool, func(h *Hyperparameters) any { return &h.CommitRevealWeightsEnable }},
	{"alpha_high", hpU16, func(h *Hyperparameters) any { return &h.AlphaHigh }},
	{"alpha_low", hpU16, func(h *Hyperparameters) any { return &h.AlphaLow }},
	{"liquid_alpha_enabled", hpBool, func(h *Hyperparameters) any { return &h.LiquidAlphaEnabled }},
	{"alpha_sigmoid_steepness", hpI32F32, func(h *Hyperparameters) any { return &h.AlphaSigmoidSteepness }},
	{"yuma_version", hpU16, func(h *Hyperparameters) any { return &h.YumaVersion }},
	{"subnet_is_active", hpBool, func(h *Hyperparameters) any { return &h.SubnetIsActive }},
	{"transfers_enabled", hpBool, func(h *Hyperparameters) any { return &h.TransfersEnabled }},
	{"bonds_reset_enabled", hpBool, func(h *Hyperparameters) any { return &h.BondsResetEnabled }},
	{"user_liquidity_enabled", hpBool, func(h *Hyperparameters) any { return &h.UserLiquidityEnabled }},
	{"owner_cut_enabled", hpBool, func(h *Hyperparameters) any { return &h.OwnerCutEnabled }},
	{"owner_cut_auto_lock_enabled", hpBool, nil},
	{"min_childkey_take", hpU16, func(h *Hyperparameters) any { return &h.MinChildkeyTake }},
}

// setV3 stores one entry; a known name with a value of another type is an
// error, an unknown name is ignored.
func (h *Hyperparameters) setV3(name string, v hpValue) error {
	for _, p := range v3Params {
		if p.name != name {
			continue
		}
		if v.kind != p.kind {
			return fmt.Errorf("hyperparameter %s: value type %d, want %d", name, v.kind, p.kind)
		}
		if p.field == nil {
			return nil
		}
		switch dst := p.field(h).(type) {
		case *bool:
			*dst = v.b
		case *uint16:
			*dst = uint16(v.u) // range checked when read
		case *uint32:
			*dst = uint32(v.u)
		case *uint64:
			*dst = v.u
		case *float64:
			*dst = v.fixed
		}
		return nil
	}
	return nil
}

// encodeHyperparamsV3 is the get_subnet_hyperparams_v3 answer for h, its
// entries in subtensor's order.
func encodeHyperparamsV3(h Hyperparameters) ([]byte, error) {
	if _, err := i32f32FromFloat(h.AlphaSigmoidSteepness); err != nil {
		return nil, fmt.Errorf("hyperparameters: alpha_sigmoid_steepness: %w", err)
	}
	if !(h.BurnIncreaseMult >= 0 && h.BurnIncreaseMult < 0x1p64) {
		return nil, errors.New("hyperparameters: burn_increase_mult is not a U64F64")
	}
	e := scale.NewEncoder(1024)
	e.OptionSome()
	e.VecLen(len(v3Params))
	for _, p := range v3Params {
		e.ByteSlice([]byte(p.name))
		e.U8(p.kind)
		var field any = new(bool)
		if p.field != nil {
			field = p.field(&h)
		}
		switch v := field.(type) {
		case *bool:
			e.Bool(*v)
		case *uint16:
			e.Compact(uint64(*v))
		case *uint32:
			e.Compact(uint64(*v))
		case *uint64:
			e.Compact(*v)
		case *float64:
			if p.kind == hpI32F32 {
				steep, _ := i32f32FromFloat(*v) // checked above
				e.I32F32(steep)
			} else {
				e.U128(u64f64(*v))
			}
		}
	}
	return e.Bytes(), nil
}

// u64f64 is the U64F64 of a float64 in range, exactly (a float64 has 52
// fraction bits, a U64F64 64).
func u64f64(f float64) scale.Uint128 {
	whole, frac := math.Modf(f)
	return scale.Uint128{Hi: uint64(whole), Lo: uint64(math.Ldexp(frac, 64))}
}
