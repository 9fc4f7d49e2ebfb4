package localnet

import (
	"math/big"
	"math/bits"
)

// The registration price of today's subtensor (registration.rs,
// update_registration_prices_for_networks and
// bump_registration_price_after_registration; utils/misc.rs for the Q32
// arithmetic): each block after the first the burn is multiplied by f,
// where f^BurnHalfLife = 1/2 in Q32 fixed point, and each registration
// multiplies it by BurnIncreaseMult (U64F64); both are clamped to
// [MinBurn, MaxBurn]. State files without these parameters keep a fixed
// burn.
const (
	defaultBurnHalfLife     = 360
	defaultBurnIncreaseMult = 1.26
)

// mulQ32 is value·factor/2^32, saturating.
func mulQ32(value, factor uint64) uint64 {
	hi, lo := bits.Mul64(value, factor)
	if hi>>32 != 0 {
		return ^uint64(0)
	}
	return hi<<32 | lo>>32
}

// powQ32 is base^exp in Q32, by squaring, each product truncated as
// subtensor's pow_q32 does.
func powQ32(base uint64, exp uint16) uint64 {
	result, factor, power := uint64(1)<<32, base, uint32(exp)
	for power > 0 {
		if power&1 == 1 {
			result = mulQ32(result, factor)
		}
		power >>= 1
		if power > 0 {
			factor = mulQ32(factor, factor)
		}
	}
	return result
}

// decayFactorQ32 is the largest Q32 f with powQ32(f, halfLife) <= 1/2,
// found by bisection as subtensor's decay_factor_q32 finds it.
func decayFactorQ32(halfLife uint16) uint64 {
	if halfLife == 0 {
		return 1 << 32
	}
	lo, hi := uint64(0), uint64(1)<<32
	for lo+1 < hi {
		mid := lo + (hi-lo)>>1
		if powQ32(mid, halfLife) > 1<<31 {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo
}

func clampBurn(s *Subnet, burn uint64) uint64 {
	return max(min(burn, s.Params.MaxBurn), s.Params.MinBurn)
}

// decayBurn is one block's decay of the burn (none at block 1).
func decayBurn(s *Subnet, block uint64) {
	if s.Params.BurnHalfLife == 0 && s.Params.BurnIncreaseMult == 0 {
		return // a state file from before the price moved
	}
	burn := s.Burn
	if s.Params.BurnHalfLife > 0 && block > 1 {
		burn = mulQ32(burn, decayFactorQ32(s.Params.BurnHalfLife))
	}
	s.Burn = clampBurn(s, burn)
}

// bumpBurn raises the burn after a registration: floor(burn · mult), the
// multiplier being the U64F64 value of the float64 (exact: a float64 has
// 52 fraction bits), and at least 1.
func bumpBurn(s *Subnet) {
	if s.Params.BurnIncreaseMult <= 1 {
		return
	}
	p := new(big.Float).SetPrec(256).SetUint64(s.Burn)
	p.Mul(p, new(big.Float).SetPrec(256).SetFloat64(s.Params.BurnIncreaseMult))
	burn, _ := p.Uint64() // truncated; saturated above 2^64-1
	s.Burn = clampBurn(s, burn)
}
