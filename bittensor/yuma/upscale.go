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
