package localnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// Genesis describes the chain's first state: funded accounts and subnets
// with their parameters and pre-registered neurons. Keys are dev URIs
// (//Alice) or 0x-prefixed public keys.
type Genesis struct {
	Accounts []GenesisAccount `yaml:"accounts"`
	Subnets  []GenesisSubnet  `yaml:"subnets"`
	// EpochScheduler is "stateful" (the default: today's subtensor, epochs
	// every tempo blocks from LastEpochBlock, counted in SubnetEpochIndex)
	// or "legacy" (epochs at (block + netuid + 1) % (tempo + 1) == 0, as
	// runtimes before spec 423 ran them).
	EpochScheduler string `yaml:"epoch_scheduler"`
}

// GenesisAccount is a funded account.
type GenesisAccount struct {
	Key     string `yaml:"key"`
	Balance uint64 `yaml:"balance"` // rao
}

// GenesisSubnet is a subnet at genesis.
type GenesisSubnet struct {
	Netuid uint16 `yaml:"netuid"`
	Owner  string `yaml:"owner"` // coldkey; its hotkey is the owner hotkey
	// Hyperparameters override the defaults, by their JSON names
	// (tempo, min_allowed_weights, commit_reveal_weights_enabled, …) and
	// burn, max_allowed_uids, stake_threshold, emission_per_block,
	// bonds_penalty.
	Hyperparameters map[string]any  `yaml:"hyperparameters"`
	Validators      []GenesisNeuron `yaml:"validators"`
	Miners          []GenesisNeuron `yaml:"miners"`
}

// GenesisNeuron is a pre-registered neuron: a hotkey, its coldkey (the
// hotkey itself when empty) and its stake in rao.
type GenesisNeuron struct {
	Hotkey  string `yaml:"hotkey"`
	Coldkey string `yaml:"coldkey"`
	Stake   uint64 `yaml:"stake"`
}

// DevAccounts are the well-known development keys.
var DevAccounts = []string{"//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie"}

// DefaultGenesis funds the dev accounts with a million TAO each and opens
// subnet 1, owned by //Alice, with //Alice as its validator and //Bob,
// //Charlie and //Dave as miners.
func DefaultGenesis() Genesis {
	var g Genesis
	for _, a := range DevAccounts {
		g.Accounts = append(g.Accounts, GenesisAccount{Key: a, Balance: 1_000_000 * 1e9})
	}
	g.Subnets = []GenesisSubnet{{
		Netuid: 1, Owner: "//Alice",
		Validators: []GenesisNeuron{{Hotkey: "//Alice", Stake: 1000 * 1e9}},
		Miners:     []GenesisNeuron{{Hotkey: "//Bob"}, {Hotkey: "//Charlie"}, {Hotkey: "//Dave"}},
	}}
	return g
}

// LoadGenesis reads a YAML genesis file, refusing unknown fields.
func LoadGenesis(path string) (Genesis, error) {
	var g Genesis
	b, err := os.ReadFile(path)
	if err != nil {
		return g, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&g); err != nil {
		return g, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// defaultParams are a development subnet's parameters: finney's defaults
// where they suit a quick chain, short tempo and small minimums otherwise.
func defaultParams() subtensor.Hyperparameters {
	return subtensor.Hyperparameters{
		Rho: 10, Kappa: 32767, ImmunityPeriod: 100, MinAllowedWeights: 1, MaxWeightsLimit: 65535, Tempo: 10,
		WeightsRateLimit: 5, ActivityCutoff: 5000, RegistrationAllowed: true, TargetRegsPerInterval: 2,
		MinBurn: 500_000, MaxBurn: 100 * 1e9, BondsMovingAvg: 900_000, MaxRegsPerBlock: 1, ServingRateLimit: 0,
		MaxValidators: 64, CommitRevealPeriod: 1, CommitRevealWeightsEnable: false,
		AlphaHigh: 58982, AlphaLow: 45875, AlphaSigmoidSteepness: 1000, YumaVersion: 2, SubnetIsActive: true,
		TransfersEnabled: true, Version: 3, ActivityCutoffFactor: 1000, MinChildkeyTake: 0,
		BurnHalfLife: defaultBurnHalfLife, BurnIncreaseMult: defaultBurnIncreaseMult,
	}
}

// Key resolves a dev URI or a 0x public key.
func Key(s string) (AccountID, error) {
	// Only this exact form is a public key: FromURI reads other hex as a
	// seed.
	if len(s) == 66 && s[:2] == "0x" {
		p, err := keys.ParsePublicKey(s)
		if err != nil {
			return AccountID{}, fmt.Errorf("key %q: %w", s, err)
		}
		return AccountID(p), nil
	}
	kp, err := keys.FromURI(s)
	if err != nil {
		return AccountID{}, fmt.Errorf("key %q: %w", s, err)
	}
	return AccountID(kp.PublicKey()), nil
}

// State builds the genesis state.
func (g Genesis) State() (*State, error) {
	st := newState()
	switch g.EpochScheduler {
	case "", "stateful":
		st.StatefulEpochs = true
	case "legacy":
	default:
		return nil, fmt.Errorf("epoch_scheduler %q: want stateful or legacy", g.EpochScheduler)
	}
	for _, a := range g.Accounts {
		id, err := Key(a.Key)
		if err != nil {
			return nil, err
		}
		st.account(id).Free += a.Balance
	}
	for _, gs := range g.Subnets {
		if _, dup := st.Subnets[gs.Netuid]; dup || gs.Netuid == 0 {
			return nil, fmt.Errorf("subnet %d: netuid must be unique and not 0 (the root network)", gs.Netuid)
		}
		owner, err := Key(gs.Owner)
		if err != nil {
			return nil, fmt.Errorf("subnet %d owner: %w", gs.Netuid, err)
		}
		s := &Subnet{Netuid: gs.Netuid, Owner: owner, OwnerHotkey: owner, Params: defaultParams(),
			MaxAllowedUids: 256, Burn: 1e9, EmissionPerBlock: 1e9, BondsPenalty: 65535}
		for name, v := range gs.Hyperparameters {
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("subnet %d %s: %w", gs.Netuid, name, err)
			}
			if err := setParam(s, name, raw); err != nil {
				return nil, fmt.Errorf("subnet %d: %w", gs.Netuid, err)
			}
		}
		add := func(gn GenesisNeuron, validator bool) error {
			hk, err := Key(gn.Hotkey)
			if err != nil {
				return err
			}
			ck := hk
			if gn.Coldkey != "" {
				if ck, err = Key(gn.Coldkey); err != nil {
					return err
				}
			}
			if _, dup := s.uid(hk); dup {
				return fmt.Errorf("hotkey %s registered twice", gn.Hotkey)
			}
			if len(s.Neurons) >= int(s.MaxAllowedUids) {
				return fmt.Errorf("more neurons than max_allowed_uids (%d)", s.MaxAllowedUids)
			}
			nr := &Neuron{}
			nr.UID = uint16(len(s.Neurons))
			nr.Hotkey, nr.Coldkey, nr.Stake = hk, ck, gn.Stake
			nr.ValidatorPermit = validator
			nr.Active = true
			s.Neurons = append(s.Neurons, nr)
			return nil
		}
		for _, v := range gs.Validators {
			if err := add(v, true); err != nil {
				return nil, fmt.Errorf("subnet %d validator: %w", gs.Netuid, err)
			}
		}
		for _, m := range gs.Miners {
			if err := add(m, false); err != nil {
				return nil, fmt.Errorf("subnet %d miner: %w", gs.Netuid, err)
			}
		}
		st.Subnets[gs.Netuid] = s
	}
	st.syncSchedulers()
	return st, nil
}
