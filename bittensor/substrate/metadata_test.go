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

func FuzzDecodeMetadata(f *testing.F) {
	_, raw := mainnetMetadata(f)
	f.Add(raw[:2048])
	f.Add([]byte("meta\x0e"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeMetadata(data)
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
