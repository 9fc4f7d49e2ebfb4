// Package subtensor is a typed client for the Bittensor chain: metagraphs,
// hyperparameters and the storage values a validator reads.
package subtensor

import (
	"encoding/hex"
	"fmt"
	"net/netip"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
)

// AccountID is a 32-byte account (an sr25519 public key).
type AccountID [32]byte

// Hex renders the account as 0x-prefixed hex.
func (a AccountID) Hex() string { return "0x" + hex.EncodeToString(a[:]) }

// MarshalText writes the account as 0x-prefixed hex, so that JSON holds
// accounts (and maps keyed by them) readably.
func (a AccountID) MarshalText() ([]byte, error) { return []byte(a.Hex()), nil }

// UnmarshalText reads 0x-prefixed hex of 32 bytes, MarshalText's form
// only (ParsePublicKey alone would also take SS58 and padding).
func (a *AccountID) UnmarshalText(b []byte) error {
	s := string(b)
	if len(s) != 66 || s[:2] != "0x" {
		return fmt.Errorf("account %q: want 0x and 64 hex digits", s)
	}
	p, err := keys.ParsePublicKey(s)
	if err != nil {
		return fmt.Errorf("account %q: %w", s, err)
	}
	*a = AccountID(p)
	return nil
}

// AxonInfo is where a neuron serves, as stored on chain.
type AxonInfo struct {
	Block    uint64
	Version  uint32
	IP       scale.Uint128 // IPv4 in the low 32 bits when IPType is 4
	Port     uint16
	IPType   uint8
	Protocol uint8
}

// Serving reports whether the neuron has published an address.
func (a AxonInfo) Serving() bool { return a.IP != (scale.Uint128{}) }

// Addr is the published address; it uses IPType rather than guessing from
// the value as the Python SDK does.
func (a AxonInfo) Addr() (netip.AddrPort, bool) {
	if !a.Serving() {
		return netip.AddrPort{}, false
	}
	var ip netip.Addr
	switch a.IPType {
	case 4:
		if a.IP.Hi != 0 || a.IP.Lo>>32 != 0 {
			return netip.AddrPort{}, false
		}
		v := uint32(a.IP.Lo)
		ip = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	case 6:
		var b [16]byte
		for i := range 8 {
			b[i] = byte(a.IP.Hi >> (56 - 8*i))
			b[8+i] = byte(a.IP.Lo >> (56 - 8*i))
		}
		ip = netip.AddrFrom16(b)
	default:
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, a.Port), true
}

// IPString is the address without the port, "" when not serving.
func (a AxonInfo) IPString() string {
	ap, ok := a.Addr()
	if !ok {
		return ""
	}
	return ap.Addr().String()
}

// Proportion is a u16 fraction of 65535, as the chain stores incentive,
// dividends, consensus and trust.
type Proportion uint16

// Float is the fraction in [0, 1].
func (p Proportion) Float() float64 { return float64(p) / 65535 }

// Neuron is one uid of a subnet.
type Neuron struct {
	UID                 uint16
	Hotkey, Coldkey     AccountID
	Active              bool
	ValidatorPermit     bool
	LastUpdate          uint64
	BlockAtRegistration uint64
	Axon                AxonInfo
	Incentive           Proportion
	Dividends           Proportion
	Consensus           Proportion
	Trust               Proportion
	Rank                Proportion
	ValidatorTrust      Proportion
	PruningScore        uint16
	Emission            uint64 // rao of alpha, last epoch
	AlphaStake          uint64 // rao
	TaoStake            uint64 // rao
	Stake               uint64 // rao: total stake the epoch uses
}

// Metagraph is the state of one subnet at one block.
type Metagraph struct {
	Netuid    uint16
	Block     uint64
	BlockHash string
	Name      string
	Symbol    string

	OwnerHotkey, OwnerColdkey AccountID
	NetworkRegisteredAt       uint64
	Tempo                     uint16
	LastStep                  uint64
	BlocksSinceLastStep       uint64
	Rho, Kappa                uint16
	MinAllowedWeights         uint16
	MaxWeightsLimit           uint16
	WeightsVersion            uint64
	WeightsRateLimit          uint64
	ActivityCutoff            uint64
	MaxValidators             uint16
	NumUIDs, MaxUIDs          uint16
	ImmunityPeriod            uint16
	Burn, Difficulty          uint64
	RegistrationAllowed       bool
	CommitRevealEnabled       bool
	CommitRevealPeriod        uint64
	LiquidAlphaEnabled        bool
	AlphaHigh, AlphaLow       uint16
	BondsMovingAvg            uint64
	MovingPrice               float64

	Neurons []Neuron
}

// Hyperparameters are a subnet's settings that shape weight setting and
// consensus.
type Hyperparameters struct {
	Rho                       uint16 `json:"rho"`
	Kappa                     uint16 `json:"kappa"`
	ImmunityPeriod            uint16 `json:"immunity_period"`
	MinAllowedWeights         uint16 `json:"min_allowed_weights"`
	MaxWeightsLimit           uint16 `json:"max_weights_limit"`
	Tempo                     uint16 `json:"tempo"`
	MinDifficulty             uint64 `json:"min_difficulty"`
	MaxDifficulty             uint64 `json:"max_difficulty"`
	WeightsVersion            uint64 `json:"weights_version"`
	WeightsRateLimit          uint64 `json:"weights_rate_limit"`
	AdjustmentInterval        uint16 `json:"adjustment_interval"`
	ActivityCutoff            uint64 `json:"activity_cutoff"`
	RegistrationAllowed       bool   `json:"registration_allowed"`
	TargetRegsPerInterval     uint16 `json:"target_regs_per_interval"`
	MinBurn                   uint64 `json:"min_burn"`
	MaxBurn                   uint64 `json:"max_burn"`
	BondsMovingAvg            uint64 `json:"bonds_moving_avg"`
	MaxRegsPerBlock           uint16 `json:"max_regs_per_block"`
	ServingRateLimit          uint64 `json:"serving_rate_limit"`
	MaxValidators             uint16 `json:"max_validators"`
	AdjustmentAlpha           uint64 `json:"adjustment_alpha"`
	Difficulty                uint64 `json:"difficulty"`
	CommitRevealPeriod        uint64 `json:"commit_reveal_period"`
	CommitRevealWeightsEnable bool   `json:"commit_reveal_weights_enabled"`
	AlphaHigh                 uint16 `json:"alpha_high"`
	AlphaLow                  uint16 `json:"alpha_low"`
	LiquidAlphaEnabled        bool   `json:"liquid_alpha_enabled"`
	// Fields below exist from the v2 runtime API on; Version says which
	// decoded.
	AlphaSigmoidSteepness float64 `json:"alpha_sigmoid_steepness"`
	YumaVersion           uint16  `json:"yuma_version"`
	SubnetIsActive        bool    `json:"subnet_is_active"`
	TransfersEnabled      bool    `json:"transfers_enabled"`
	BondsResetEnabled     bool    `json:"bonds_reset_enabled"`
	UserLiquidityEnabled  bool    `json:"user_liquidity_enabled"`
	// Fields below exist from the v3 runtime API on (which drops rho, the
	// difficulties and the adjustment interval and alpha).
	ActivityCutoffFactor uint32  `json:"activity_cutoff_factor"` // milli
	BurnHalfLife         uint16  `json:"burn_half_life"`
	BurnIncreaseMult     float64 `json:"burn_increase_mult"`
	OwnerCutEnabled      bool    `json:"owner_cut_enabled"`
	MinChildkeyTake      uint16  `json:"min_childkey_take"`
	// Version is the runtime API that was decoded: 1, 2 or 3.
	Version int `json:"runtime_api_version"`
}
