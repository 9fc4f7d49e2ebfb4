package subtensor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

// dialClient connects a Client to a fake node for the length of the test.
func dialClient(t testing.TB, url string) *Client {
	t.Helper()
	rpc, err := substrate.Dial(context.Background(), substrate.Options{URL: url, CallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rpc.Close() })
	c, err := New(rpc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func replay(t testing.TB, seeds ...string) *Client {
	t.Helper()
	return dialClient(t, substratetest.RecordedNode(t, seeds...).URL())
}

// recordedPlus serves the mainnet recordings plus a test's own seed
// "extra", which answers first.
func recordedPlus(t *testing.T, extra map[string]map[string]json.RawMessage, seeds ...string) *substratetest.Node {
	t.Helper()
	rec, err := substratetest.LoadRecordings(substratetest.Fixture(t, "chain", "mainnet_rpc_recordings.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec["extra"] = extra
	node, err := substratetest.NewNode(rec, append([]string{"extra"}, seeds...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	return node
}

// The arguments must be the bytes the Python SDK sent for the same call.
func TestSelectiveArgsMatchRecordedRequest(t *testing.T) {
	want := "0100" + "00" + "2901"
	for i := range 74 {
		want += hex.EncodeToString([]byte{byte(i), 0})
	}
	if got := hex.EncodeToString(selectiveArgs(1)); got != want {
		t.Errorf("selective args\n got %s\nwant %s", got, want)
	}
}

func TestMetagraphFromRecordedNode(t *testing.T) {
	c := replay(t, "metagraph")
	m, err := c.Metagraph(context.Background(), 1, "0xdb13c066e2c63969f140164fb3bfe7a0aaa7b71407fc0fe525d68e57329ef9d0")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Apex" || m.Block != 6852690 || len(m.Neurons) != 1024 || !strings.HasPrefix(m.BlockHash, "0xdb13c066") {
		t.Errorf("metagraph %q at %d (%s), %d neurons", m.Name, m.Block, m.BlockHash, len(m.Neurons))
	}
	// The head is resolved through chain_getHead when no block is given.
	if m2, err := c.Metagraph(context.Background(), 1, ""); err != nil || m2.Block != m.Block {
		t.Errorf("metagraph at head: %v", err)
	}
}

func TestLegacyMetagraphFallback(t *testing.T) {
	// Spec 208 had no selective call: the recorded node answers "method not
	// found" for it, and the client must fall back to get_neurons_lite.
	node := substratetest.RecordedNode(t, "neurons_lite")
	c := dialClient(t, node.URL())
	m, err := c.Metagraph(context.Background(), 23, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Neurons) != 19 || m.Netuid != 23 || m.Block == 0 {
		t.Errorf("legacy metagraph: netuid %d block %d, %d neurons", m.Netuid, m.Block, len(m.Neurons))
	}
	// Without V15 metadata the client could not tell, so it tried.
	if a, s := node.Calls("state_call:Metadata_metadata_at_version"), node.Calls("state_call:"+selectiveMechagraph); a != 1 || s != 1 {
		t.Errorf("metadata asked %d times, selective tried %d times; want 1 and 1", a, s)
	}
}

func TestHyperparametersFallBackToV1(t *testing.T) {
	c := replay(t, "get_subnet_hyperparameters")
	h, err := c.Hyperparameters(context.Background(), 23, "")
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 1 || h.Tempo != 1000 {
		t.Errorf("hyperparameters %+v", h)
	}
}

func TestStorageReads(t *testing.T) {
	c := replay(t, "tempo", "blocks_since_last_update")
	tempo, ok, err := c.storageU16(context.Background(), "Tempo", 23, "0x03a008636efbe7706f79f2c7d7d4e85ff26a3e67922e5fefab71e7f6d9dab43d")
	if err != nil || !ok || tempo != 1000 {
		t.Errorf("Tempo(23) = %d, %v, %v", tempo, ok, err)
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{"finney": Networks["finney"], "ws://10.0.0.1:9944": "ws://10.0.0.1:9944"} {
		if got, err := Endpoint(in); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := Endpoint("http://x"); err == nil {
		t.Error("http endpoint accepted")
	}
}

func TestLastUpdateFromRecordedNode(t *testing.T) {
	c := replay(t, "blocks_since_last_update")
	lu, err := c.LastUpdate(context.Background(), 1, "0x2830271e820b419253b79cbafea83f726354bbef26eb318835ffa774288de9ff")
	if err != nil {
		t.Fatal(err)
	}
	// The recorded value starts 0x0110 (1024 entries) then a1cf260000000000.
	if len(lu) != 1024 || lu[0] != 0x26cfa1 {
		t.Fatalf("LastUpdate(1): %d entries, first %d", len(lu), lu[0])
	}
	for i, v := range lu {
		if v > 6553223 {
			t.Errorf("uid %d last updated at %d, after the block read (6553223)", i, v)
		}
	}
}

func TestSubnetParamsFailsOnUnansweredItems(t *testing.T) {
	// The "tempo" recording answers Tempo(23) at its head; the other items
	// are not recorded there, so the client must fail on them rather than
	// invent values.
	c := replay(t, "tempo")
	_, err := c.SubnetParams(context.Background(), 23, "0x03a008636efbe7706f79f2c7d7d4e85ff26a3e67922e5fefab71e7f6d9dab43d")
	if err == nil || !strings.Contains(err.Error(), "netuid 23") || !strings.Contains(err.Error(), "WeightsSetRateLimit") {
		t.Errorf("SubnetParams on a node missing items: %v", err)
	}
}

func BenchmarkMetagraphFromRecordedNode(b *testing.B) {
	c := replay(b, "metagraph")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Metagraph(ctx, 1, "0xdb13c066e2c63969f140164fb3bfe7a0aaa7b71407fc0fe525d68e57329ef9d0"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSubnetParamsReadsValuesAndDefaults(t *testing.T) {
	const at = "0x0101010101010101010101010101010101010101010101010101010101010101"
	answers := map[string]string{ // item → SCALE value; "" means unset
		"Tempo":                      "6300", // 99
		"WeightsSetRateLimit":        "",     // default 100
		"CommitRevealWeightsEnabled": "00",   // false
		"MinAllowedWeights":          "",     // default 1024
		"MaxWeightsLimit":            "ff7f", // 32767
		"WeightsVersionKey":          "e803000000000000",
		"RevealPeriodEpochs":         "",
	}
	calls := map[string]json.RawMessage{}
	for _, it := range subnetParamItems {
		key, err := substrate.StorageKey("SubtensorModule", it.item, substrate.MapKey{Hasher: it.hasher, Key: netuidKey(5)})
		if err != nil {
			t.Fatal(err)
		}
		params, _ := json.Marshal([]any{substrate.HexKey(key), at})
		result := "null"
		if v := answers[it.item]; v != "" {
			result = `"0x` + v + `"`
		}
		calls[string(params)] = json.RawMessage(`{"result":` + result + `}`)
	}
	node, err := substratetest.NewNode(substratetest.Recordings{"s": {"state_getStorageAt": calls}}, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	c := dialClient(t, node.URL())
	p, err := c.SubnetParams(context.Background(), 5, at)
	if err != nil {
		t.Fatal(err)
	}
	want := SubnetParams{Tempo: 99, WeightsSetRateLimit: 100, CommitRevealEnabled: false, MinAllowedWeights: 1024,
		MaxWeightsLimit: 32767, WeightsVersionKey: 1000, RevealPeriodEpochs: 1}
	if p != want {
		t.Errorf("SubnetParams = %+v, want %+v", p, want)
	}
}

// v15Node serves the recorded seeds plus the recorded V15 metadata answer
// (Metadata_metadata_at_version(15)) and a runtime version at the head;
// edit may change the metadata hex first.
func v15Node(t *testing.T, edit func(hexMD string) string, seeds ...string) (*Client, *substratetest.Node) {
	t.Helper()
	b, err := os.ReadFile(substratetest.Fixture(t, "chain", "mainnet_metadata_v15_at_version.hex"))
	if err != nil {
		t.Fatal(err)
	}
	md := strings.TrimPrefix(strings.TrimSpace(string(b)), "0x")
	if edit != nil {
		md = edit(md)
	}
	node := recordedPlus(t, map[string]map[string]json.RawMessage{
		"state_call":              {`["Metadata_metadata_at_version", "0x0f000000"]`: json.RawMessage(`{"result":"0x` + md + `"}`)},
		"state_getRuntimeVersion": {`[]`: json.RawMessage(`{"result":{"specName":"node-subtensor","specVersion":321,"transactionVersion":1}}`)},
	}, seeds...)
	return dialClient(t, node.URL()), node
}

// With V15 metadata listing the selective call, the client calls it, and
// fetches the metadata once per runtime version, not once per metagraph.
func TestMetagraphChecksV15Metadata(t *testing.T) {
	c, node := v15Node(t, nil, "metagraph")
	for range 3 {
		m, err := c.Metagraph(context.Background(), 1, "")
		if err != nil {
			t.Fatal(err)
		}
		if m.Name != "Apex" || len(m.Neurons) != 1024 {
			t.Fatalf("metagraph %q, %d neurons", m.Name, len(m.Neurons))
		}
	}
	if n := node.Calls("state_call:Metadata_metadata_at_version"); n != 1 {
		t.Errorf("metadata fetched %d times for one runtime version, want 1", n)
	}
	if n := node.Calls("state_call:" + selectiveMechagraph); n != 3 {
		t.Errorf("selective call made %d times, want 3", n)
	}
	has, known, err := c.HasRuntimeMethod(context.Background(), "NeuronInfoRuntimeApi_get_neurons_lite", "")
	if err != nil || !known || !has {
		t.Errorf("get_neurons_lite: has %v known %v, %v", has, known, err)
	}
	has, known, err = c.HasRuntimeMethod(context.Background(), "SubnetInfoRuntimeApi_get_nothing", "")
	if err != nil || !known || has {
		t.Errorf("get_nothing: has %v known %v, %v", has, known, err)
	}
}

// When the runtime's V15 metadata does not list the selective call, the
// client goes straight to get_neurons_lite without trying it.
func TestMetagraphSkipsMethodsV15DoesNotList(t *testing.T) {
	name := hex.EncodeToString([]byte("get_selective_mechagraph"))
	renamed := hex.EncodeToString([]byte("get_selective_mechagrapX"))
	c, node := v15Node(t, func(md string) string {
		if !strings.Contains(md, "60"+name) {
			t.Fatal("the V15 fixture does not list get_selective_mechagraph")
		}
		return strings.ReplaceAll(md, "60"+name, "60"+renamed)
	}, "neurons_lite")
	m, err := c.Metagraph(context.Background(), 23, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Neurons) != 19 || m.Netuid != 23 {
		t.Errorf("legacy metagraph: netuid %d, %d neurons", m.Netuid, len(m.Neurons))
	}
	if n := node.Calls("state_call:" + selectiveMechagraph); n != 0 {
		t.Errorf("selective call tried %d times though the metadata does not list it", n)
	}
	if n := node.Calls("state_call:NeuronInfoRuntimeApi_get_neurons_lite"); n != 1 {
		t.Errorf("get_neurons_lite called %d times", n)
	}
}

// The selective metagraph carries no validator trust: it comes from the
// ValidatorTrust storage vector at the same block.
func TestMetagraphReadsValidatorTrust(t *testing.T) {
	key, err := substrate.StorageKey("SubtensorModule", "ValidatorTrust", substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	e := scale.NewEncoder(0)
	e.VecLen(1000) // fewer than the 1024 neurons: the rest stay 0
	for i := range 1000 {
		e.U16(uint16(i * 65))
	}
	params, _ := json.Marshal([]any{substrate.HexKey(key), nil})
	node := recordedPlus(t, map[string]map[string]json.RawMessage{
		"state_getStorageAt": {string(params): json.RawMessage(`{"result":"0x` + hex.EncodeToString(e.Bytes()) + `"}`)},
	}, "metagraph")
	m, err := dialClient(t, node.URL()).Metagraph(context.Background(), 1, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range m.Neurons {
		want := Proportion(0)
		if i < 1000 {
			want = Proportion(i * 65)
		}
		if n.ValidatorTrust != want {
			t.Fatalf("uid %d: validator trust %d, want %d", i, n.ValidatorTrust, want)
		}
	}
}
