package subtensor

import (
	"fmt"
	"net/netip"

	"golang.org/x/crypto/blake2b"

	"github.com/vigil-validator/vigil/bittensor/scale"
)

// Pallet is the pallet that holds subtensor's calls.
const Pallet = "SubtensorModule"

// Call is a SubtensorModule call: its name in the metadata and its SCALE
// arguments. substrate.Metadata.EncodeCall turns it into call bytes.
type Call struct {
	Name string
	Args []byte
}

// MaxTimelockedCommit is the chain's limit on a timelocked commit's
// ciphertext.
const MaxTimelockedCommit = 5000

func putU16s(e *scale.Encoder, v []uint16) {
	e.VecLen(len(v))
	for _, x := range v {
		e.U16(x)
	}
}

// SetWeights is set_weights(netuid, dests, weights, version_key); uids and
// weights are the final u16 vectors (see ProcessWeights and
// ConvertWeights).
func SetWeights(netuid uint16, uids, weights []uint16, versionKey uint64) (Call, error) {
	if len(uids) != len(weights) {
		return Call{}, fmt.Errorf("set_weights: %d uids and %d weights", len(uids), len(weights))
	}
	e := scale.NewEncoder(2 + 10 + 4*len(uids) + 8)
	e.U16(netuid)
	putU16s(e, uids)
	putU16s(e, weights)
	e.U64(versionKey)
	return Call{"set_weights", e.Bytes()}, nil
}

// MaxMechanisms is subtensor's MAX_MECHANISM_COUNT_PER_SUBNET, and
// MechanismStride its GLOBAL_MAX_SUBNET_COUNT: mechanism m of a subnet keeps
// its Weights, Bonds, LastUpdate and Incentive at the storage index
// netuid + m·4096.
const (
	MaxMechanisms   = 16
	MechanismStride = 4096
)

// StorageIndex is the NetUidStorageIndex of mechanism mecid of netuid.
func StorageIndex(netuid uint16, mecid uint8) uint16 {
	return uint16(mecid)*MechanismStride + netuid
}

// SetMechanismWeights is set_mechanism_weights(netuid, mecid, dests,
// weights, version_key): set_weights for one incentive mechanism of a
// subnet (mechanism 0 is what set_weights sets).
func SetMechanismWeights(netuid uint16, mecid uint8, uids, weights []uint16, versionKey uint64) (Call, error) {
	c, err := SetWeights(netuid, uids, weights, versionKey)
	if err != nil {
		return Call{}, err
	}
	return Call{"set_mechanism_weights", withMechanism(c.Args, mecid)}, nil
}

// withMechanism inserts the mechanism id after a call's leading netuid, as
// each *_mechanism_* call lays out its arguments.
func withMechanism(args []byte, mecid uint8) []byte {
	out := make([]byte, 0, len(args)+1)
	out = append(out, args[:2]...)
	out = append(out, mecid)
	return append(out, args[2:]...)
}

// CommitWeights is commit_weights(netuid, commit_hash); see CommitHash.
func CommitWeights(netuid uint16, hash [32]byte) Call {
	e := scale.NewEncoder(34)
	e.U16(netuid)
	e.Fixed(hash[:])
	return Call{"commit_weights", e.Bytes()}
}

// RevealWeights is reveal_weights(netuid, uids, values, salt, version_key);
// the vectors must be those hashed by CommitHash.
func RevealWeights(netuid uint16, uids, values, salt []uint16, versionKey uint64) (Call, error) {
	if len(uids) != len(values) {
		return Call{}, fmt.Errorf("reveal_weights: %d uids and %d values", len(uids), len(values))
	}
	e := scale.NewEncoder(2 + 15 + 2*(2*len(uids)+len(salt)) + 8)
	e.U16(netuid)
	putU16s(e, uids)
	putU16s(e, values)
	putU16s(e, salt)
	e.U64(versionKey)
	return Call{"reveal_weights", e.Bytes()}, nil
}

// CommitHash is the hash a commit_weights call commits to: blake2b-256 of
// SCALE(hotkey, netuid storage index, uids, values, salt, version_key). The
// storage index is the netuid for mechanism 0.
func CommitHash(hotkey AccountID, netuidIndex uint16, uids, values, salt []uint16, versionKey uint64) [32]byte {
	e := scale.NewEncoder(32 + 2 + 15 + 2*(2*len(uids)+len(salt)) + 8)
	e.Fixed(hotkey[:])
	e.U16(netuidIndex)
	putU16s(e, uids)
	putU16s(e, values)
	putU16s(e, salt)
	e.U64(versionKey)
	return blake2b.Sum256(e.Bytes())
}

// CommitTimelockedWeights is commit_timelocked_weights(netuid, commit,
// reveal_round, commit_reveal_version). commit is the timelock ciphertext
// of TimelockPayload; version is the chain's CommitRevealWeightsVersion (4).
func CommitTimelockedWeights(netuid uint16, commit []byte, revealRound uint64, version uint16) (Call, error) {
	if len(commit) > MaxTimelockedCommit {
		return Call{}, fmt.Errorf("commit_timelocked_weights: ciphertext of %d bytes, over the chain's %d", len(commit), MaxTimelockedCommit)
	}
	e := scale.NewEncoder(2 + 3 + len(commit) + 8 + 2)
	e.U16(netuid)
	e.ByteSlice(commit)
	e.U64(revealRound)
	e.U16(version)
	return Call{"commit_timelocked_weights", e.Bytes()}, nil
}

// CommitTimelockedMechanismWeights is commit_timelocked_mechanism_weights
// (netuid, mecid, commit, reveal_round, commit_reveal_version).
func CommitTimelockedMechanismWeights(netuid uint16, mecid uint8, commit []byte, revealRound uint64, version uint16) (Call, error) {
	c, err := CommitTimelockedWeights(netuid, commit, revealRound, version)
	if err != nil {
		return Call{}, err
	}
	return Call{"commit_timelocked_mechanism_weights", withMechanism(c.Args, mecid)}, nil
}

// TimelockPayload is the plaintext a timelocked commit encrypts, as the
// chain decodes it when revealing: SCALE{hotkey: Vec<u8>, uids: Vec<u16>,
// values: Vec<u16>, version_key: u64}.
func TimelockPayload(hotkey AccountID, uids, values []uint16, versionKey uint64) ([]byte, error) {
	if len(uids) != len(values) {
		return nil, fmt.Errorf("timelock payload: %d uids and %d values", len(uids), len(values))
	}
	e := scale.NewEncoder(1 + 32 + 10 + 4*len(uids) + 8)
	e.ByteSlice(hotkey[:])
	putU16s(e, uids)
	putU16s(e, values)
	e.U64(versionKey)
	return e.Bytes(), nil
}

// ServeAxon is serve_axon(netuid, version, ip, port, ip_type, protocol, 0,
// 0) for an address; protocol is 4 for HTTP as the SDK's axons publish.
func ServeAxon(netuid uint16, version uint32, addr netip.AddrPort, protocol uint8) (Call, error) {
	ip := addr.Addr().Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || addr.Port() == 0 {
		return Call{}, fmt.Errorf("serve_axon: %s is not a routable address and port", addr)
	}
	var v scale.Uint128
	ipType := uint8(6)
	b := ip.As16()
	if ip.Is4() {
		ipType = 4
	}
	for i := range 8 {
		v.Hi = v.Hi<<8 | uint64(b[i])
		v.Lo = v.Lo<<8 | uint64(b[8+i])
	}
	if ip.Is4() {
		v = scale.Uint128{Lo: v.Lo & 0xffffffff}
	}
	e := scale.NewEncoder(2 + 4 + 16 + 2 + 4)
	e.U16(netuid)
	e.U32(version)
	e.U128(v)
	e.U16(addr.Port())
	e.U8(ipType)
	e.U8(protocol)
	e.U8(0)
	e.U8(0)
	return Call{"serve_axon", e.Bytes()}, nil
}

// BurnedRegister is burned_register(netuid, hotkey); the coldkey signs it
// and pays the burn.
func BurnedRegister(netuid uint16, hotkey AccountID) Call {
	e := scale.NewEncoder(34)
	e.U16(netuid)
	e.Fixed(hotkey[:])
	return Call{"burned_register", e.Bytes()}
}

// RegisterLimit is register_limit(netuid, hotkey, limit_price):
// burned_register that the chain refuses (RegistrationPriceLimitExceeded)
// when the burn at its block is above limitPrice rao.
func RegisterLimit(netuid uint16, hotkey AccountID, limitPrice uint64) Call {
	e := scale.NewEncoder(42)
	e.U16(netuid)
	e.Fixed(hotkey[:])
	e.U64(limitPrice)
	return Call{"register_limit", e.Bytes()}
}
