package substrate

import (
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

var (
	mdOnce sync.Once
	md     *Metadata
	mdRaw  []byte
	mdErr  error
)

func mainnetMetadata(t testing.TB) (*Metadata, []byte) {
	t.Helper()
	path := substratetest.Fixture(t, "chain", "mainnet_metadata_v14.hex")
	mdOnce.Do(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			mdErr = err
			return
		}
		mdRaw, mdErr = hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"))
		if mdErr == nil {
			md, mdErr = DecodeMetadata(mdRaw)
		}
	})
	if mdErr != nil {
		t.Fatal(mdErr)
	}
	return md, mdRaw
}

func TestDecodeMainnetMetadataV14(t *testing.T) {
	m, _ := mainnetMetadata(t)
	p, ok := m.Pallet("SubtensorModule")
	if !ok || p.Index != 7 || p.StoragePrefix != "SubtensorModule" {
		t.Fatalf("SubtensorModule: %+v", p)
	}
	idx, call, err := m.Call("SubtensorModule", "set_weights")
	if err != nil || idx != 7 || call.Index != 0 {
		t.Fatalf("set_weights: pallet %d call %+v, %v", idx, call, err)
	}
	var names []string
	for _, f := range call.Fields {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "netuid,dests,weights,version_key" {
		t.Errorf("set_weights fields %v", names)
	}
	var ext []string
	for _, e := range m.SignedExtensions {
		ext = append(ext, e.Identifier)
	}
	want := "CheckNonZeroSender,CheckSpecVersion,CheckTxVersion,CheckGenesis,CheckMortality,CheckNonce,CheckWeight,ChargeTransactionPayment,SubtensorTransactionExtension,DrandPriority,CheckMetadataHash"
	if strings.Join(ext, ",") != want {
		t.Errorf("signed extensions\n got %s\nwant %s", strings.Join(ext, ","), want)
	}
	if m.ExtrinsicVersion != 4 {
		t.Errorf("extrinsic version %d", m.ExtrinsicVersion)
	}
	// Dispatch errors are named from the metadata.
	sub, _ := m.Pallet("SubtensorModule")
	errs := m.Types[*sub.Errors]
	found := false
	for _, v := range errs.Variants {
		if v.Name == "SettingWeightsTooFast" {
			name, v2, err := m.Error(7, v.Index)
			found = err == nil && name == "SubtensorModule" && v2.Name == "SettingWeightsTooFast"
		}
	}
	if !found {
		t.Error("SubtensorModule.SettingWeightsTooFast not resolvable by index")
	}
}

// Storage keys built from the metadata's declared hashers equal the keys the
// Python SDK sent to mainnet.
func TestMetadataStorageKeysMatchRecordings(t *testing.T) {
	m, _ := mainnetMetadata(t)
	cases := []struct {
		item string
		keys [][]byte
		want string
	}{
		{"Tempo", [][]byte{{23, 0}}, "0x658faa385070e074c85bf6b568cf05557641384bb339f3758acddfd7053d33171700"},
		{"LastUpdate", [][]byte{{1, 0}}, "0x658faa385070e074c85bf6b568cf0555696e262a16e52255a69d8acd793541460100"},
		{"NetworksAdded", [][]byte{{23, 0}}, "0x658faa385070e074c85bf6b568cf05550e30450fc4d507a846032a7fa65d9a431700"},
		{"MinAllowedWeights", [][]byte{{23, 0}}, "0x658faa385070e074c85bf6b568cf05555cd1c97edf92be296fb8ae73ee8611261700"},
		{"MaxWeightsLimit", [][]byte{{23, 0}}, "0x658faa385070e074c85bf6b568cf0555919db2fe18203eba898cee471ef192401700"},
	}
	for _, tc := range cases {
		k, err := m.StorageKey("SubtensorModule", tc.item, tc.keys...)
		if err != nil || HexKey(k) != tc.want {
			t.Errorf("%s: %s, %v; want %s", tc.item, HexKey(k), err, tc.want)
		}
	}
	if _, err := m.StorageKey("SubtensorModule", "Tempo"); err == nil {
		t.Error("a map key was not required")
	}
}

func TestMetadataRejectsBadInput(t *testing.T) {
	_, raw := mainnetMetadata(t)
	for _, cut := range []int{0, 3, 5, 6, 1000, len(raw) / 2, len(raw) - 1} {
		if _, err := DecodeMetadata(raw[:cut]); err == nil {
			t.Errorf("metadata cut at %d decoded", cut)
		}
	}
	v16, err := os.ReadFile(substratetest.Fixture(t, "chain", "finney_metadata_v16_2026-04.scale"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeMetadata(v16); !errors.Is(err, ErrMetadataVersion) {
		t.Errorf("V16: %v, want ErrMetadataVersion", err)
	}
	if _, err := DecodeMetadataHex("0xzz"); err == nil {
		t.Error("bad hex accepted")
	}
}

// mainnetMetadataV15 is the answer of state_call
// Metadata_metadata_at_version(15) recorded on mainnet.
func mainnetMetadataV15(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(substratetest.Fixture(t, "chain", "mainnet_metadata_v15_at_version.hex"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeMainnetMetadataV15(t *testing.T) {
	raw := mainnetMetadataV15(t)
	m, err := DecodeMetadataAtVersion(raw)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 15 || m.ExtrinsicVersion != 4 {
		t.Fatalf("version %d, extrinsic version %d", m.Version, m.ExtrinsicVersion)
	}
	if idx, call, err := m.Call("SubtensorModule", "set_weights"); err != nil || idx != 7 || call.Index != 0 {
		t.Fatalf("set_weights: pallet %d call %+v, %v", idx, call, err)
	}
	var ext []string
	for _, e := range m.SignedExtensions {
		ext = append(ext, e.Identifier)
	}
	if got := strings.Join(ext, ","); !strings.HasPrefix(got, "CheckNonZeroSender,CheckSpecVersion,CheckTxVersion,CheckGenesis,CheckMortality,CheckNonce,CheckWeight,ChargeTransactionPayment,") ||
		!strings.HasSuffix(got, ",CheckMetadataHash") {
		t.Errorf("signed extensions %s", got)
	}
	for _, id := range []uint32{m.AddressType, m.CallType, m.SignatureType, m.ExtraType} {
		if m.Types[id] == nil {
			t.Errorf("extrinsic part type %d missing", id)
		}
	}

	// The runtime's own signatures of the calls the metagraph reader makes:
	// the argument layouts it encodes must be what the runtime declares.
	var prim func(id uint32) string
	prim = func(id uint32) string {
		ty := m.Types[id]
		switch {
		case ty == nil:
			return "?"
		case ty.Kind == KindPrimitive:
			return [...]string{"bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "u256", "i8", "i16", "i32", "i64", "i128", "i256"}[ty.Prim]
		case ty.Kind == KindSequence:
			return "Vec<" + prim(ty.Elem) + ">"
		}
		return strings.Join(ty.Path, "::")
	}
	for name, want := range map[string][2]string{
		"SubnetInfoRuntimeApi_get_selective_mechagraph":  {"netuid:u16 subid:u8 metagraph_indexes:Vec<u16>", "Option"},
		"NeuronInfoRuntimeApi_get_neurons_lite":          {"netuid:u16", "Vec<pallet_subtensor::rpc_info::neuron_info::NeuronInfoLite>"},
		"SubnetInfoRuntimeApi_get_subnet_hyperparams_v2": {"netuid:u16", "Option"},
	} {
		meth, ok := m.RuntimeAPIMethod(name)
		if !ok {
			t.Errorf("%s not listed", name)
			continue
		}
		var sig []string
		for _, in := range meth.Inputs {
			sig = append(sig, in.Name+":"+prim(in.Type))
		}
		if got := strings.Join(sig, " "); got != want[0] {
			t.Errorf("%s(%s), want (%s)", name, got, want[0])
		}
		if out := prim(meth.Output); out != want[1] {
			t.Errorf("%s returns %s, want %s", name, out, want[1])
		}
	}
	for _, name := range []string{"SubnetInfoRuntimeApi_get_nothing", "NoSuchApi_get_neurons_lite", "SubnetInfoRuntimeApi", ""} {
		if _, ok := m.RuntimeAPIMethod(name); ok {
			t.Errorf("%q found", name)
		}
	}
	// V14 lists no runtime APIs.
	v14, _ := mainnetMetadata(t)
	if _, ok := v14.RuntimeAPIMethod("NeuronInfoRuntimeApi_get_neurons_lite"); ok {
		t.Error("V14 metadata listed a runtime API")
	}

	for _, cut := range []int{0, 1, 2, 7, len(raw) / 3, len(raw) - 1} {
		if _, err := DecodeMetadataAtVersion(raw[:cut]); err == nil {
			t.Errorf("V15 cut at %d decoded", cut)
		}
	}
	if _, err := DecodeMetadataAtVersion([]byte{0}); !errors.Is(err, ErrMetadataVersion) {
		t.Errorf("None: %v, want ErrMetadataVersion", err)
	}
	if _, err := DecodeMetadataAtVersion(append(append([]byte{}, raw...), 0)); err == nil {
		t.Error("trailing byte accepted")
	}
}

func BenchmarkDecodeMetadataV15(b *testing.B) {
	raw := mainnetMetadataV15(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMetadataAtVersion(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecodeMetadata(f *testing.F) {
	_, raw := mainnetMetadata(f)
	f.Add(raw[:2048])
	f.Add([]byte("meta\x0e"))
	v15 := mainnetMetadataV15(f)
	f.Add(v15[:2048])
	f.Add([]byte("\x01\x14meta\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeMetadata(data)
		_, _ = DecodeMetadataAtVersion(data)
	})
}

func BenchmarkDecodeMetadata(b *testing.B) {
	_, raw := mainnetMetadata(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMetadata(raw); err != nil {
			b.Fatal(err)
		}
	}
}
