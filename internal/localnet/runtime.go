package localnet

import (
	"fmt"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

func runtimeError(format string, args ...any) *substrate.RPCError {
	return &substrate.RPCError{Code: 4003, Message: "Client error: Execution failed: " + fmt.Sprintf(format, args...)}
}

// runtimeCall answers state_call for the runtime APIs clients use, at
// block b.
func (c *Chain) runtimeCall(b *Block, method string, args []byte) ([]byte, *substrate.RPCError) {
	netuidArg := func() (*Subnet, *substrate.RPCError) {
		if len(args) < 2 {
			return nil, runtimeError("%s: netuid argument missing", method)
		}
		return b.State.Subnets[uint16(args[0])|uint16(args[1])<<8], nil
	}
	switch method {
	case "Metadata_metadata":
		return enc(func(e *scale.Encoder) { e.ByteSlice(c.cfg.Metadata) }), nil
	case "Metadata_metadata_versions":
		return enc(func(e *scale.Encoder) { e.VecLen(1); e.U32(14) }), nil
	case "Metadata_metadata_at_version":
		// Only V14 exists here; None tells the client to use
		// state_getMetadata.
		if len(args) == 4 && args[0] == 14 && args[1]|args[2]|args[3] == 0 {
			return enc(func(e *scale.Encoder) { e.U8(1); e.ByteSlice(c.cfg.Metadata) }), nil
		}
		return []byte{0}, nil
	case "NeuronInfoRuntimeApi_get_neurons_lite":
		s, err := netuidArg()
		if err != nil {
			return nil, err
		}
		if s == nil {
			return []byte{0}, nil
		}
		m := metagraphOf(b, s)
		return subtensor.EncodeNeuronsLiteFor(s.Netuid, m.Neurons), nil
	case "SubnetInfoRuntimeApi_get_selective_mechagraph":
		s, err := netuidArg()
		if err != nil {
			return nil, err
		}
		if s == nil {
			return []byte{0}, nil // Option::None
		}
		if len(args) < 3 || args[2] != 0 {
			return []byte{0}, nil // only mechanism 0 exists
		}
		return subtensor.EncodeSelectiveMetagraph(metagraphOf(b, s)), nil
	case "SubnetInfoRuntimeApi_get_subnet_hyperparams", "SubnetInfoRuntimeApi_get_subnet_hyperparams_v2", "SubnetInfoRuntimeApi_get_subnet_hyperparams_v3":
		s, err := netuidArg()
		if err != nil {
			return nil, err
		}
		if s == nil {
			return []byte{0}, nil
		}
		version := 1
		switch method {
		case "SubnetInfoRuntimeApi_get_subnet_hyperparams_v2":
			version = 2
		case "SubnetInfoRuntimeApi_get_subnet_hyperparams_v3":
			version = 3
		}
		hp := s.Params
		out, eerr := subtensor.EncodeHyperparameters(hp, version)
		if eerr != nil {
			return nil, runtimeError("%s: %v", method, eerr)
		}
		return out, nil
	}
	return nil, runtimeError("Other: Exported method %s is not found", method)
}

// metagraphOf is the subnet as the runtime APIs describe it at block b.
func metagraphOf(b *Block, s *Subnet) *subtensor.Metagraph {
	hp := s.Params
	m := &subtensor.Metagraph{
		Netuid: s.Netuid, Block: b.Number, Name: fmt.Sprintf("localnet %d", s.Netuid), Symbol: "α",
		OwnerHotkey: s.OwnerHotkey, OwnerColdkey: s.Owner, NetworkRegisteredAt: s.RegisteredAt,
		Tempo: hp.Tempo, LastStep: s.LastMechanismStep, BlocksSinceLastStep: s.BlocksSinceLastStep,
		Rho: hp.Rho, Kappa: hp.Kappa, MinAllowedWeights: hp.MinAllowedWeights, MaxWeightsLimit: hp.MaxWeightsLimit,
		WeightsVersion: hp.WeightsVersion, WeightsRateLimit: hp.WeightsRateLimit, ActivityCutoff: hp.ActivityCutoff,
		MaxValidators: hp.MaxValidators, NumUIDs: uint16(len(s.Neurons)), MaxUIDs: s.MaxAllowedUids,
		ImmunityPeriod: hp.ImmunityPeriod, Burn: s.Burn, Difficulty: hp.Difficulty,
		RegistrationAllowed: hp.RegistrationAllowed, CommitRevealEnabled: hp.CommitRevealWeightsEnable,
		CommitRevealPeriod: hp.CommitRevealPeriod, LiquidAlphaEnabled: hp.LiquidAlphaEnabled,
		AlphaHigh: hp.AlphaHigh, AlphaLow: hp.AlphaLow, BondsMovingAvg: hp.BondsMovingAvg, MovingPrice: 1,
	}
	m.Neurons = make([]subtensor.Neuron, len(s.Neurons))
	for i, nr := range s.Neurons {
		n := nr.Neuron
		n.UID = uint16(i)
		n.AlphaStake = n.Stake
		m.Neurons[i] = n
	}
	return m
}
