// Package localnet is a development chain that speaks subtensor's JSON-RPC:
// blocks, a transaction pool that checks what subtensor checks, the
// weight-setting calls dispatched with subtensor's rules, a drand-like
// beacon revealing timelocked commits, and Yuma epochs. It is for trying a
// validator and for end-to-end tests, not a consensus node.
package localnet

import (
	"maps"
	"slices"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// AccountID is a 32-byte account (an sr25519 public key).
type AccountID = subtensor.AccountID

// Account is a balance holder.
type Account struct {
	Nonce uint32 `json:"nonce"`
	Free  uint64 `json:"free"` // rao
}

// WeightEntry is one sparse entry of a weight or bond row.
type WeightEntry struct {
	UID   uint16 `json:"uid"`
	Value uint16 `json:"value"`
}

// Neuron is a uid of a subnet, with the state the chain keeps for it. Its
// Weights, Bonds, LastUpdate and Incentive are mechanism 0's; Mechanisms
// holds those of mechanisms 1 and up (index m-1).
type Neuron struct {
	subtensor.Neuron
	Weights    []WeightEntry    `json:"weights,omitempty"`
	Bonds      []WeightEntry    `json:"bonds,omitempty"`
	Mechanisms []MechanismState `json:"mechanisms,omitempty"`
}

// MechanismState is a neuron's state on an incentive mechanism other than
// mechanism 0: what subtensor keys by the storage index netuid + m·4096.
type MechanismState struct {
	Weights    []WeightEntry `json:"weights,omitempty"`
	Bonds      []WeightEntry `json:"bonds,omitempty"`
	LastUpdate uint64        `json:"last_update,omitempty"`
	Incentive  uint16        `json:"incentive,omitempty"`
}

// mech is a neuron's state on one mechanism, by reference.
type mech struct {
	weights, bonds *[]WeightEntry
	lastUpdate     *uint64
}

// mech returns the neuron's state on mechanism m, making room for it.
func (nr *Neuron) mech(m uint8) mech {
	if m == 0 {
		return mech{&nr.Weights, &nr.Bonds, &nr.LastUpdate}
	}
	for len(nr.Mechanisms) < int(m) {
		nr.Mechanisms = append(nr.Mechanisms, MechanismState{})
	}
	ms := &nr.Mechanisms[m-1]
	return mech{&ms.Weights, &ms.Bonds, &ms.LastUpdate}
}

// incentive is the neuron's incentive on mechanism m.
func (nr *Neuron) incentive(m uint8) uint16 {
	if m == 0 {
		return uint16(nr.Incentive)
	}
	if int(m) <= len(nr.Mechanisms) {
		return nr.Mechanisms[m-1].Incentive
	}
	return 0
}

// HashCommit is an entry of WeightCommits: (hash, commit epoch, commit
// block), in the current runtime's layout.
type HashCommit struct {
	Hash  [32]byte `json:"hash"`
	Epoch uint64   `json:"epoch"`
	Block uint64   `json:"block"`
	Mech  uint8    `json:"mechanism,omitempty"`
}

// TimelockCommit is an entry of TimelockedWeightCommits.
type TimelockCommit struct {
	Who        AccountID `json:"who"`
	Block      uint64    `json:"block"`
	Ciphertext []byte    `json:"ciphertext"`
	Round      uint64    `json:"round"`
	Mech       uint8     `json:"mechanism,omitempty"`
}

// Subnet is one subnet's state.
type Subnet struct {
	Netuid       uint16                    `json:"netuid"`
	Owner        AccountID                 `json:"owner"` // coldkey
	OwnerHotkey  AccountID                 `json:"owner_hotkey"`
	RegisteredAt uint64                    `json:"registered_at"`
	Params       subtensor.Hyperparameters `json:"params"`
	// RevealPeriodEpochs, MaxAllowedUids and the commit-reveal version
	// complete Params.
	MaxAllowedUids uint16 `json:"max_allowed_uids"`
	Burn           uint64 `json:"burn"`
	// StakeThreshold is only read from genesis settings and older state
	// files: the chain's threshold is one value, State.StakeThreshold, as
	// on subtensor, where the latest subnet setting wins.
	StakeThreshold      uint64                      `json:"stake_threshold,omitempty"`
	BondsPenalty        uint16                      `json:"bonds_penalty"`
	Neurons             []*Neuron                   `json:"neurons"`
	HashCommits         map[AccountID][]HashCommit  `json:"hash_commits,omitempty"`
	Timelocked          map[uint64][]TimelockCommit `json:"timelocked,omitempty"` // by commit epoch
	LastMechanismStep   uint64                      `json:"last_mechanism_step"`
	BlocksSinceLastStep uint64                      `json:"blocks_since_last_step"`
	// EmissionPerBlock is the rao of alpha the subnet accrues each block
	// and distributes at its epoch.
	EmissionPerBlock uint64 `json:"emission_per_block"`
	PendingEmission  uint64 `json:"pending_emission"`
	// MechanismCount is MechanismCountCurrent (0 reads as 1).
	MechanismCount uint8 `json:"mechanism_count,omitempty"`
	// The stateful epoch scheduler's storage (State.StatefulEpochs).
	LastEpochBlock uint64 `json:"last_epoch_block"`
	PendingEpochAt uint64 `json:"pending_epoch_at"`
	EpochIndex     uint64 `json:"epoch_index"`
	// stateful mirrors State.StatefulEpochs for the subnet's own methods.
	stateful bool
}

// mechanisms is the subnet's MechanismCountCurrent.
func (s *Subnet) mechanisms() uint8 { return max(s.MechanismCount, 1) }

// index is the storage index of mechanism m.
func (s *Subnet) index(m uint8) uint16 { return subtensor.StorageIndex(s.Netuid, m) }

// uid returns the uid of hotkey, or false.
func (s *Subnet) uid(hotkey AccountID) (uint16, bool) {
	for i, n := range s.Neurons {
		if n.Hotkey == hotkey {
			return uint16(i), true
		}
	}
	return 0, false
}

// epoch is the epoch a commit or reveal at block belongs to. On the legacy
// schedule it is (block + netuid + 1) / (tempo + 1). On the stateful one it
// is subtensor's current_epoch_with_lookahead: SubnetEpochIndex, plus one
// while an epoch is due at block (at the start of a block, before it
// fires; in an extrinsic, only when the cap deferred it).
func (s *Subnet) epoch(block uint64) uint64 {
	if !s.stateful {
		return subtensor.EpochOf(block, s.Netuid, s.Params.Tempo)
	}
	if s.epochDue(block) {
		return s.EpochIndex + 1
	}
	return s.EpochIndex
}

// maxTempo is subtensor's MAX_TEMPO: past it without an epoch, one fires.
const maxTempo = 50_400

// epochDue is subtensor's should_run_epoch (run_coinbase.rs).
func (s *Subnet) epochDue(block uint64) bool {
	switch tempo := uint64(s.Params.Tempo); {
	case tempo == 0:
		return false
	case s.PendingEpochAt > 0 && block >= s.PendingEpochAt:
		return true
	case s.BlocksSinceLastStep > maxTempo:
		return true
	default:
		return block >= s.LastEpochBlock && block-s.LastEpochBlock >= tempo
	}
}

// State is the whole chain state at one block. Blocks keep their own copy
// (Clone), so reads at an older block see that block's state.
type State struct {
	Number          uint64                 `json:"number"`
	TimestampMs     uint64                 `json:"timestamp_ms"`
	Accounts        map[AccountID]*Account `json:"accounts"`
	Subnets         map[uint16]*Subnet     `json:"subnets"`
	LastStoredRound uint64                 `json:"last_stored_round"`
	// OldestStoredRound is the first round the chain still holds.
	OldestStoredRound uint64 `json:"oldest_stored_round,omitempty"`
	// Pulses are the beacon signatures stored on chain, by round; old ones
	// are pruned once no commit can need them.
	Pulses                     map[uint64][]byte `json:"pulses"`
	CommitRevealWeightsVersion uint16            `json:"commit_reveal_weights_version"`
	// StatefulEpochs runs subtensor's stateful epoch scheduler (spec 423
	// on: LastEpochBlock, PendingEpochAt, SubnetEpochIndex) instead of the
	// legacy (block + netuid + 1) / (tempo + 1) schedule. State files of
	// older versions lack it and keep the legacy schedule.
	StatefulEpochs bool `json:"stateful_epochs,omitempty"`
	// StakeThreshold is SubtensorModule.StakeThreshold: the stake (alpha +
	// TAO weight, here a neuron's stake) a hotkey needs to set weights,
	// the subnet owner's hotkey exempt.
	StakeThreshold uint64 `json:"global_stake_threshold,omitempty"`
}

// foldStakeThresholds moves subnet-level stake thresholds (genesis
// settings, older state files) into the chain's one value.
func (st *State) foldStakeThresholds() {
	for _, netuid := range slices.Sorted(maps.Keys(st.Subnets)) {
		if s := st.Subnets[netuid]; s.StakeThreshold > 0 {
			st.StakeThreshold, s.StakeThreshold = s.StakeThreshold, 0
		}
	}
}

// syncSchedulers tells each subnet which scheduler the chain runs (and
// folds subnet-level stake thresholds into the chain's one).
func (st *State) syncSchedulers() {
	for _, s := range st.Subnets {
		s.stateful = st.StatefulEpochs
	}
	st.foldStakeThresholds()
}

func newState() *State {
	return &State{
		Accounts:                   make(map[AccountID]*Account),
		Subnets:                    make(map[uint16]*Subnet),
		Pulses:                     make(map[uint64][]byte),
		CommitRevealWeightsVersion: 4,
	}
}

// account returns the account, creating it empty.
func (st *State) account(id AccountID) *Account {
	a, ok := st.Accounts[id]
	if !ok {
		a = &Account{}
		st.Accounts[id] = a
	}
	return a
}

// Clone is a deep copy.
func (st *State) Clone() *State {
	c := *st
	c.Accounts = make(map[AccountID]*Account, len(st.Accounts))
	for k, v := range st.Accounts {
		a := *v
		c.Accounts[k] = &a
	}
	c.Subnets = make(map[uint16]*Subnet, len(st.Subnets))
	for k, v := range st.Subnets {
		c.Subnets[k] = v.clone()
	}
	c.Pulses = maps.Clone(st.Pulses)
	return &c
}

func (s *Subnet) clone() *Subnet {
	c := *s
	c.Neurons = make([]*Neuron, len(s.Neurons))
	for i, n := range s.Neurons {
		nn := *n
		nn.Weights = slices.Clone(n.Weights)
		nn.Bonds = slices.Clone(n.Bonds)
		nn.Mechanisms = slices.Clone(n.Mechanisms)
		for j := range nn.Mechanisms {
			nn.Mechanisms[j].Weights = slices.Clone(n.Mechanisms[j].Weights)
			nn.Mechanisms[j].Bonds = slices.Clone(n.Mechanisms[j].Bonds)
		}
		c.Neurons[i] = &nn
	}
	c.HashCommits = make(map[AccountID][]HashCommit, len(s.HashCommits))
	for k, v := range s.HashCommits {
		c.HashCommits[k] = slices.Clone(v)
	}
	c.Timelocked = make(map[uint64][]TimelockCommit, len(s.Timelocked))
	for k, v := range s.Timelocked {
		c.Timelocked[k] = slices.Clone(v)
	}
	return &c
}
