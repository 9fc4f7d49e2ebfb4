package subtensor

import (
	"errors"

	"github.com/vigil-validator/vigil/bittensor/scale"
)

func readHyperparams(r *scale.Reader, version int) (Hyperparameters, error) {
	h := Hyperparameters{Version: version}
	u16s := func(dst ...*uint16) error {
		for _, d := range dst {
			v, err := r.CompactU16()
			if err != nil {
				return err
			}
			*d = v
		}
		return nil
	}
	u64s := func(dst ...*uint64) error {
		for _, d := range dst {
			v, err := r.Compact()
			if err != nil {
				return err
			}
			*d = v
		}
		return nil
	}
	bools := func(dst ...*bool) error {
		for _, d := range dst {
			v, err := r.Bool()
			if err != nil {
				return err
			}
			*d = v
		}
		return nil
	}
	steps := []func() error{
		func() error {
			return u16s(&h.Rho, &h.Kappa, &h.ImmunityPeriod, &h.MinAllowedWeights, &h.MaxWeightsLimit, &h.Tempo)
		},
		func() error { return u64s(&h.MinDifficulty, &h.MaxDifficulty, &h.WeightsVersion, &h.WeightsRateLimit) },
		func() error { return u16s(&h.AdjustmentInterval) },
		func() error { return u64s(&h.ActivityCutoff) },
		func() error { return bools(&h.RegistrationAllowed) },
		func() error { return u16s(&h.TargetRegsPerInterval) },
		func() error { return u64s(&h.MinBurn, &h.MaxBurn, &h.BondsMovingAvg) },
		func() error { return u16s(&h.MaxRegsPerBlock) },
		func() error { return u64s(&h.ServingRateLimit) },
		func() error { return u16s(&h.MaxValidators) },
		func() error { return u64s(&h.AdjustmentAlpha, &h.Difficulty, &h.CommitRevealPeriod) },
		func() error { return bools(&h.CommitRevealWeightsEnable) },
		func() error { return u16s(&h.AlphaHigh, &h.AlphaLow) },
		func() error { return bools(&h.LiquidAlphaEnabled) },
	}
	if version >= 2 {
		steps = append(steps,
			func() error {
				v, err := r.I32F32()
				h.AlphaSigmoidSteepness = v.Float64()
				return err
			},
			func() error { return u16s(&h.YumaVersion) },
			func() error {
				return bools(&h.SubnetIsActive, &h.TransfersEnabled, &h.BondsResetEnabled, &h.UserLiquidityEnabled)
			},
		)
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return h, r.Wrap("hyperparameters", err)
		}
	}
	return h, nil
}

// DecodeHyperparameters decodes a get_subnet_hyperparams answer of the given
// API version (3 for _v3, 2 for _v2, 1 for the original). For 1 and 2 it
// accepts the current Option<…> shape and the Vec<u8>-wrapped struct older
// runtimes returned.
func DecodeHyperparameters(b []byte, version int) (Hyperparameters, error) {
	if version == 3 {
		return decodeHyperparamsV3(b)
	}
	if version != 1 && version != 2 {
		return Hyperparameters{}, errors.New("hyperparameters: version must be 1, 2 or 3")
	}
	var h Hyperparameters
	err := scale.Decode(b, func(r *scale.Reader) error {
		if err := readSome(r); err != nil {
			return err
		}
		var err error
		h, err = readHyperparams(r, version)
		return err
	})
	if err == nil || errors.Is(err, errNoMetagraph) {
		return h, err
	}
	r := scale.NewReader(b)
	if inner, werr := r.ByteSlice(); werr == nil && r.Remaining() == 0 {
		if werr = scale.Decode(inner, func(r *scale.Reader) error {
			var e error
			h, e = readHyperparams(r, version)
			return e
		}); werr == nil {
			return h, nil
		}
	}
	return h, err
}

// readSome reads the Option tag of a hyperparameters answer: nil for Some,
// errNoMetagraph for None (no such subnet).
func readSome(r *scale.Reader) error {
	some, err := r.Option()
	if err != nil {
		return r.Wrap("hyperparameters", err)
	}
	if !some {
		return errNoMetagraph
	}
	return nil
}
