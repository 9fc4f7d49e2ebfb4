package yuma

// MaxUpscale returns the weight values as set_weights stores them
// (vec_u16_max_upscale_to_u16): scaled so the largest becomes 65535 and
// rounded, ties away from zero. Use it to turn weights a validator submits
// into the Entry values the chain will hold. All-zero input is returned
// unchanged.
//
// Like the chain it has two rounding paths: for a maximum above 32768 each
// value is multiplied by the floored factor 65535/max, otherwise v·65535 is
// divided by max; both are kept because they round differently.
func MaxUpscale(values []uint16) []uint16 {
	out := make([]uint16, len(values))
	var m uint16
	for _, v := range values {
		m = max(m, v)
	}
	if m == 0 {
		return out
	}
	maxFx := fxFromU16(m)
	factor := safeDiv(fxU16Max, maxFx)
	for i, v := range values {
		var x fx
		if m > 32768 {
			x = satMul(fxFromU16(v), factor)
		} else {
			x = safeDiv(satMul(fxFromU16(v), fxU16Max), maxFx)
		}
		out[i] = roundToU16(x)
	}
	return out
}

// roundToU16 rounds a non-negative fixed-point value to the nearest integer,
// ties away from zero (substrate_fixed round), saturating to u16.
func roundToU16(x fx) uint16 {
	if x <= 0 {
		return 0
	}
	r := int64(satAdd(x, fxHalf)) >> fxFracBits
	if r > u16Max {
		return u16Max
	}
	return uint16(r)
}

// MaxWeightLimited is subtensor's check_vec_max_limited, the rule behind
// MaxWeightExceeded on runtimes that enforce MaxWeightsLimit: the vector
// (already max-upscaled by the chain) normalised in I32F32 — a running sum,
// each entry divided by it, truncating — must have no entry above
// limit/65535, itself an I32F32 quotient. Subtensor has not enforced it
// since its limit getter became the constant 65535 (late 2025); a limit of
// 65535 passes everything, as the runtime's own shortcut does.
func MaxWeightLimited(values []uint16, limit uint16) bool {
	if limit == u16Max {
		return true
	}
	limitFx := safeDiv(fxFromU16(limit), fxU16Max)
	var sum fx
	for _, v := range values {
		sum += fxFromU16(v) // the runtime's Sum: wrapping in a release build
	}
	if sum == 0 {
		return true
	}
	for _, v := range values {
		if safeDiv(fxFromU16(v), sum) > limitFx {
			return false
		}
	}
	return true
}
