// Package subtensortest sets up scripted subtensor nodes for tests: the
// recorded finney metadata, and subnets written into storage under the
// keys the runtime uses.
package subtensortest

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

// MainnetMetadata loads the recorded finney V14 metadata, as hex and
// decoded.
func MainnetMetadata(t testing.TB) (string, *substrate.Metadata) {
	t.Helper()
	raw, err := os.ReadFile(substratetest.Fixture(t, "chain", "mainnet_metadata_v14.hex"))
	if err != nil {
		t.Fatal(err)
	}
	md, err := substrate.DecodeMetadataHex(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw)), md
}

// SuccessEvents is System.Events holding one ExtrinsicSuccess for
// extrinsic 1, what a substratetest.Chain's block holds after a
// submission.
func SuccessEvents(t testing.TB, md *substrate.Metadata) []byte {
	t.Helper()
	sys, ok := md.Pallet("System")
	if !ok || sys.Events == nil {
		t.Fatal("metadata has no System events")
	}
	var success uint8
	for _, v := range md.Types[*sys.Events].Variants {
		if v.Name == "ExtrinsicSuccess" {
			success = v.Index
		}
	}
	e := scale.NewEncoder(0)
	e.VecLen(1)
	e.U8(0) // Phase::ApplyExtrinsic
	e.U32(1)
	e.U8(sys.Index)
	e.U8(success)
	e.Fixed([]byte{0, 0, 0, 0}) // DispatchInfo: weight (compact 0, 0), class, pays
	e.VecLen(0)
	return e.Bytes()
}

// NewChain is a scripted node with finney's metadata at block number,
// whose submissions succeed.
func NewChain(t testing.TB, number uint64) (*substratetest.Chain, *substrate.Metadata) {
	mdHex, md := MainnetMetadata(t)
	ch := &substratetest.Chain{Metadata: mdHex, SpecVersion: 329, Number: number, Nonce: 5}
	ch.Set(substrate.EventsKey(), SuccessEvents(t, md))
	return ch, md
}

// Put stores value under pallet.item with the given map keys.
func Put(t testing.TB, ch *substratetest.Chain, pallet, item string, value []byte, keys ...substrate.MapKey) {
	t.Helper()
	key, err := substrate.StorageKey(pallet, item, keys...)
	if err != nil {
		t.Fatal(err)
	}
	ch.Set(key, value)
}

// ByNetuid is the map key of items keyed by netuid with Identity.
func ByNetuid(netuid uint16) substrate.MapKey {
	return substrate.MapKey{Hasher: substrate.Identity, Key: U16(netuid)}
}

// U16 is a SCALE u16.
func U16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// U64 is a SCALE u64.
func U64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// VecU64 is a SCALE Vec<u64>.
func VecU64(v ...uint64) []byte {
	e := scale.NewEncoder(0)
	e.VecLen(len(v))
	for _, x := range v {
		e.U64(x)
	}
	return e.Bytes()
}

// Subnet is a subnet's weight-setting state in storage.
type Subnet struct {
	Netuid, N, Tempo  uint16
	RateLimit         uint64
	CommitReveal      bool
	MinAllowedWeights uint16
	VersionKey        uint64
	Hotkeys           map[[32]byte]uint16 // registered hotkeys and their uids
	LastUpdate        []uint64
	Timestamp         time.Time
	LastStoredRound   uint64
	Burn              uint64
}

// Install writes the subnet into the chain's storage.
func (s Subnet) Install(t testing.TB, ch *substratetest.Chain) {
	t.Helper()
	const p = "SubtensorModule"
	nk := ByNetuid(s.Netuid)
	Put(t, ch, p, "NetworksAdded", []byte{1}, nk)
	for hk, uid := range s.Hotkeys {
		Put(t, ch, p, "Uids", U16(uid), nk, substrate.MapKey{Hasher: substrate.Blake2_128Concat, Key: hk[:]})
	}
	cr := byte(0)
	if s.CommitReveal {
		cr = 1
	}
	Put(t, ch, p, "SubnetworkN", U16(s.N), nk)
	Put(t, ch, p, "Tempo", U16(s.Tempo), nk)
	Put(t, ch, p, "WeightsSetRateLimit", U64(s.RateLimit), nk)
	Put(t, ch, p, "CommitRevealWeightsEnabled", []byte{cr}, nk)
	Put(t, ch, p, "MinAllowedWeights", U16(s.MinAllowedWeights), nk)
	Put(t, ch, p, "WeightsVersionKey", U64(s.VersionKey), nk)
	Put(t, ch, p, "LastUpdate", VecU64(s.LastUpdate...), nk)
	if s.Burn > 0 {
		Put(t, ch, p, "Burn", U64(s.Burn), nk)
	}
	if !s.Timestamp.IsZero() {
		Put(t, ch, "Timestamp", "Now", U64(uint64(s.Timestamp.UnixMilli())))
	}
	Put(t, ch, "Drand", "LastStoredRound", U64(s.LastStoredRound))
}

// Call is a submitted extrinsic's signer and SubtensorModule call.
type Call struct {
	Signer [32]byte
	Name   string
	Args   []byte
}

// Submitted decodes the i-th extrinsic the chain received, which must be a
// signed SubtensorModule call.
func Submitted(t testing.TB, ch *substratetest.Chain, md *substrate.Metadata, i int) Call {
	t.Helper()
	sub := ch.Submitted()
	if len(sub) <= i {
		t.Fatalf("%d extrinsics submitted, want more than %d", len(sub), i)
	}
	x, err := md.TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	ext, err := x.DecodeExtrinsic(sub[i])
	if err != nil {
		t.Fatal(err)
	}
	p, ok := md.Pallet("SubtensorModule")
	if !ok || len(ext.Call) < 2 || ext.Call[0] != p.Index {
		t.Fatalf("call %x is not a SubtensorModule call", ext.Call)
	}
	for _, v := range md.Types[*p.Calls].Variants {
		if v.Index == ext.Call[1] {
			return Call{Signer: ext.Signer, Name: v.Name, Args: ext.Call[2:]}
		}
	}
	t.Fatalf("call index %d unknown", ext.Call[1])
	return Call{}
}
