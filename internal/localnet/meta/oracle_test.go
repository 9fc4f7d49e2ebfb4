package meta

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// These tests load the generated metadata into @polkadot/types (pinned in
// tools/oracle, tools/oracle/localnet-metadata.mjs), the library most
// Substrate clients build on, and check that it reads the localnet as vigil
// does.

type oracleAnswer struct {
	Error string `json:"error"`
	// calls
	Calls []struct {
		Section, Method, Pallet string
		Index                   []uint8
	} `json:"calls"`
	Extensions []string `json:"extensions"`
	Warnings   []string `json:"warnings"`
	// sign
	Call, Extrinsic, Signer string
	// events
	Type    string `json:"type"`
	Records []struct {
		Phase struct {
			Kind  string
			Index uint32
		}
		Section, Method         string
		PalletIndex, EventIndex uint8
		Data                    string
		Topics                  []string
		DispatchError           *struct {
			Kind, Section, Name     string
			PalletIndex, ErrorIndex uint8
		}
	} `json:"records"`
	// storageKey
	Key string `json:"key"`
}

func askOracle(t *testing.T, reqs []map[string]any) []oracleAnswer {
	t.Helper()
	script := oracletest.Script(t, "localnet-metadata.mjs", "@polkadot/api")
	mdPath := filepath.Join(t.TempDir(), "localnet_metadata.hex")
	if err := os.WriteFile(mdPath, []byte(Hex()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out []oracleAnswer
	oracletest.Run(t, script, map[string]any{"metadata": mdPath, "requests": reqs}, &out)
	if len(out) != len(reqs) {
		t.Fatalf("oracle answered %d of %d requests", len(out), len(reqs))
	}
	for i, a := range out {
		if a.Error != "" {
			t.Fatalf("oracle request %d (%v): %s", i, reqs[i]["op"], a.Error)
		}
	}
	return out
}

func TestPolkadotJS(t *testing.T) {
	md := Decoded()
	x, err := md.TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	genesis := bytes.Repeat([]byte{0x11}, 32)
	birth := bytes.Repeat([]byte{0x22}, 32)
	long := make([]uint16, 200) // long enough that the payload is signed hashed
	for i := range long {
		long[i] = uint16(i)
	}
	signs := []struct {
		name           string
		dests, weights []uint16
		nonce          uint32
		tip            uint64
		era            any // {"current","period"} or "immortal"
		want           substrate.Era
	}{
		{"mortal, hashed payload", long, long, 7, 0, map[string]uint64{"current": 5000, "period": 64}, substrate.MortalEra(5000, 64)},
		{"immortal, tip", []uint16{0, 5}, []uint16{65535, 32768}, 0, 1000, "immortal", substrate.ImmortalEra},
	}
	blob := eventsBlob(t)
	subtensorKeys := []struct {
		method string
		args   []any
		keys   [][]byte
	}{
		{"tempo", []any{3}, [][]byte{le16(3)}},
		{"revealPeriodEpochs", []any{3}, [][]byte{le16(3)}},
		{"weights", []any{4099, 12}, [][]byte{le16(4099), le16(12)}},
		{"uids", []any{1, "0x" + strings.Repeat("42", 32)}, [][]byte{le16(1), bytes.Repeat([]byte{0x42}, 32)}},
		{"timelockedWeightCommits", []any{2, 900}, [][]byte{le16(2), le64(900)}},
	}
	reqs := []map[string]any{
		{"op": "calls"},
		{"op": "events", "encoded": "0x" + hex.EncodeToString(blob)},
	}
	for _, c := range signs {
		block := birth
		if c.want.Immortal {
			block = genesis
		}
		tx := map[string]any{"era": c.era, "nonce": c.nonce, "tip": c.tip, "specVersion": 385, "transactionVersion": 1,
			"genesisHash": "0x" + hex.EncodeToString(genesis), "blockHash": "0x" + hex.EncodeToString(block)}
		reqs = append(reqs, map[string]any{"op": "sign", "uri": "//Alice", "section": "subtensorModule", "method": "setWeights",
			"args": []any{1, c.dests, c.weights, 10002000}, "tx": tx})
	}
	for _, k := range subtensorKeys {
		reqs = append(reqs, map[string]any{"op": "storageKey", "section": "subtensorModule", "method": k.method, "args": k.args})
	}
	ans := askOracle(t, reqs)

	t.Run("calls", func(t *testing.T) {
		a := ans[0]
		if len(a.Calls) == 0 {
			t.Fatal("polkadot-js decorated no calls")
		}
		seen := map[string]bool{}
		for _, c := range a.Calls {
			pi, v, err := md.Call(c.Pallet, snake(c.Method))
			if err != nil || len(c.Index) != 2 || c.Index[0] != pi || c.Index[1] != v.Index {
				t.Errorf("polkadot-js %s.%s at %v; ours %d/%v (%v)", c.Section, c.Method, c.Index, pi, v, err)
			}
			seen[c.Section+"."+c.Method] = true
		}
		if !seen["subtensorModule.setWeights"] || !seen["balances.transferKeepAlive"] || !seen["timestamp.set"] {
			t.Errorf("calls %v", seen)
		}
		n := 0
		for _, p := range md.Pallets {
			n += len(variants(md, p.Calls))
		}
		if len(a.Calls) != n {
			t.Errorf("polkadot-js decorated %d calls, the metadata has %d", len(a.Calls), n)
		}
		if fmt.Sprint(a.Extensions) != fmt.Sprint(x.Names()) {
			t.Errorf("polkadot-js extensions %v", a.Extensions)
		}
		// Only the subtensor extensions may be unknown to it (they carry no data).
		t.Logf("polkadot-js warnings: %q", a.Warnings)
		for _, w := range a.Warnings {
			if !strings.Contains(w, "Unknown signed extensions SudoTransactionExtension, CheckShieldedTxValidity, SubtensorTransactionExtension, DrandPriority") {
				t.Errorf("polkadot-js warned: %s", w)
			}
		}
	})

	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range signs {
		t.Run("sign "+c.name, func(t *testing.T) {
			a := ans[2+i]
			call, err := md.EncodeCall("SubtensorModule", "set_weights", setWeightsArgs(1, c.dests, c.weights, 10002000))
			if err != nil {
				t.Fatal(err)
			}
			if got := oracletest.Unhex(t, a.Call); !bytes.Equal(got, call) {
				t.Fatalf("polkadot-js call %x\nours %x", got, call)
			}
			ext, err := x.DecodeExtrinsic(oracletest.Unhex(t, a.Extrinsic))
			if err != nil {
				t.Fatal(err)
			}
			p := substrate.TxParams{SpecVersion: 385, TransactionVersion: 1}
			copy(p.GenesisHash[:], genesis)
			copy(p.BirthHash[:], birth)
			if ext.Signer != alice.PublicKey() || "0x"+hex.EncodeToString(ext.Signer[:]) != a.Signer {
				t.Errorf("signer %x, polkadot-js %s", ext.Signer, a.Signer)
			}
			if ext.Nonce != c.nonce || ext.Tip != c.tip || ext.Era != c.want || !bytes.Equal(ext.Call, call) {
				t.Errorf("decoded %+v", ext)
			}
			if !x.Verify(ext, p) {
				t.Error("the polkadot-js signature does not verify under the localnet's extensions")
			}
		})
	}

	t.Run("events", func(t *testing.T) {
		a := ans[1]
		if a.Type != "Vec<FrameSystemEventRecord>" {
			t.Errorf("events type %q", a.Type)
		}
		recs, err := md.DecodeEvents(blob)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Records) != len(recs) {
			t.Fatalf("polkadot-js decoded %d records, we %d", len(a.Records), len(recs))
		}
		for i, r := range recs {
			o := a.Records[i]
			phase := map[bool]string{true: "ApplyExtrinsic"}[r.Phase.ApplyExtrinsic]
			if r.Phase.Finalization {
				phase = "Finalization"
			} else if r.Phase.Initialization {
				phase = "Initialization"
			}
			if o.Section != r.Pallet || o.Method != r.Name || o.PalletIndex != r.PalletIndex || o.EventIndex != r.EventIndex ||
				o.Phase.Kind != phase || o.Phase.Index != r.Phase.Index || !bytes.Equal(oracletest.Unhex(t, o.Data), r.Data) {
				t.Errorf("record %d: polkadot-js %+v, ours %+v", i, o, r)
			}
		}
		de := a.Records[4].DispatchError
		if de == nil || de.Kind != "Module" || de.Section != "SubtensorModule" || de.Name != "SettingWeightsTooFast" || de.PalletIndex != 7 {
			t.Errorf("polkadot-js dispatch error %+v", de)
		}
		if n := len(a.Records[5].Topics); n != 2 {
			t.Errorf("polkadot-js read %d topics, want 2", n)
		}
	})

	t.Run("storage keys", func(t *testing.T) {
		for i, k := range subtensorKeys {
			item := strings.ToUpper(k.method[:1]) + k.method[1:]
			ours, err := md.StorageKey("SubtensorModule", item, k.keys...)
			if err != nil {
				t.Fatal(err)
			}
			if got := oracletest.Unhex(t, ans[2+len(signs)+i].Key); !bytes.Equal(got, ours) {
				t.Errorf("%s: polkadot-js %x, ours %x", item, got, ours)
			}
		}
	})
}

// snake turns polkadot-js method names (setWeights) back into metadata
// names (set_weights).
func snake(s string) string {
	var sb strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				sb.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
