package subtensor

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

var (
	recOnce sync.Once
	rec     substratetest.Recordings
	recErr  error
)

// recorded returns the hex result of a recorded call, decoded.
func recorded(t testing.TB, seed, method, paramsPrefix string) []byte {
	t.Helper()
	path := substratetest.Fixture(t, "chain", "mainnet_rpc_recordings.json")
	recOnce.Do(func() { rec, recErr = substratetest.LoadRecordings(path) })
	if recErr != nil {
		t.Fatal(recErr)
	}
	for params, raw := range rec[seed][method] {
		if !strings.HasPrefix(params, paramsPrefix) {
			continue
		}
		var answer struct{ Result string }
		if err := json.Unmarshal(raw, &answer); err != nil {
			t.Fatalf("%s %s: %v", seed, method, err)
		}
		b, err := hex.DecodeString(strings.TrimPrefix(answer.Result, "0x"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("no recorded %s %s… in seed %s", method, paramsPrefix, seed)
	return nil
}

func TestDecodeRecordedSelectiveMechagraph(t *testing.T) {
	b := recorded(t, "metagraph", "state_call", `["SubnetInfoRuntimeApi_get_selective_mechagraph"`)
	m, trailing, err := decodeSelectiveMetagraph(b)
	if err != nil {
		t.Fatal(err)
	}
	if trailing != 0 {
		t.Errorf("%d bytes left after all 74 fields: the layout is off", trailing)
	}
	if m.Netuid != 1 || m.Name != "Apex" || m.Tempo != 99 || m.Kappa != 32767 || !m.CommitRevealEnabled || m.Block != 6852690 {
		t.Errorf("header: netuid %d name %q tempo %d kappa %d cr %v block %d", m.Netuid, m.Name, m.Tempo, m.Kappa, m.CommitRevealEnabled, m.Block)
	}
	if int(m.NumUIDs) != len(m.Neurons) || len(m.Neurons) != 1024 {
		t.Fatalf("num_uids %d, %d neurons", m.NumUIDs, len(m.Neurons))
	}
	seen := map[AccountID]bool{}
	serving := 0
	for i, n := range m.Neurons {
		if int(n.UID) != i || seen[n.Hotkey] || n.Hotkey == (AccountID{}) || n.Coldkey == (AccountID{}) {
			t.Fatalf("uid %d: bad identity %+v", i, n)
		}
		seen[n.Hotkey] = true
		if n.LastUpdate > m.Block || n.BlockAtRegistration > m.Block {
			t.Errorf("uid %d: last_update %d / registration %d after block %d", i, n.LastUpdate, n.BlockAtRegistration, m.Block)
		}
		if n.Axon.Serving() {
			serving++
			if _, ok := n.Axon.Addr(); !ok || n.Axon.Port == 0 || n.Axon.Block > m.Block {
				t.Errorf("uid %d: axon %+v does not make an address", i, n.Axon)
			}
		}
		if n.Stake < n.AlphaStake {
			t.Errorf("uid %d: total stake %d below alpha stake %d", i, n.Stake, n.AlphaStake)
		}
	}
	if serving == 0 {
		t.Error("no neuron serves an axon")
	}
	u0 := m.Neurons[0]
	if got := hex.EncodeToString(u0.Hotkey[:4]); got != "4a7a6cf2" || u0.BlockAtRegistration != 6575900 || u0.Axon.Block != 6575906 || u0.Axon.Version != 9011001 {
		t.Errorf("uid 0: hotkey %s… registered %d axon %+v", got, u0.BlockAtRegistration, u0.Axon)
	}
}

func TestDecodeRecordedNeuronsLiteSpec208(t *testing.T) {
	b := recorded(t, "neurons_lite", "state_call", `["NeuronInfoRuntimeApi_get_neurons_lite"`)
	ns, err := DecodeNeuronsLite(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 19 {
		t.Fatalf("%d neurons, want 19", len(ns))
	}
	permits := 0
	for i, n := range ns {
		if int(n.UID) != i {
			t.Errorf("neuron %d has uid %d", i, n.UID)
		}
		if n.ValidatorPermit {
			permits++
		}
	}
	if permits == 0 || hex.EncodeToString(ns[0].Hotkey[:4]) != "b26667d9" || !ns[0].ValidatorPermit || ns[0].LastUpdate != 1365728 {
		t.Errorf("first neuron %+v, %d permits", ns[0], permits)
	}
	// Unwrapped, the same bytes decode the same way.
	r := b[2:] // the Vec<u8> wrapper's two-byte compact length (3469)
	if ns2, err := DecodeNeuronsLite(r); err != nil || len(ns2) != 19 || ns2[5] != ns[5] {
		t.Errorf("unwrapped decode: %d neurons, %v", len(ns2), err)
	}
}

func TestDecodersRejectTruncatedInput(t *testing.T) {
	mg := recorded(t, "metagraph", "state_call", `["SubnetInfoRuntimeApi_get_selective_mechagraph"`)
	nl := recorded(t, "neurons_lite", "state_call", `["NeuronInfoRuntimeApi_get_neurons_lite"`)
	for _, cut := range []int{0, 1, 2, 100, len(mg) / 2, len(mg) - 1} {
		if _, err := DecodeSelectiveMetagraph(mg[:cut]); err == nil {
			t.Errorf("metagraph cut at %d decoded", cut)
		}
	}
	for _, cut := range []int{0, 1, 3, 500, len(nl) - 1} {
		if _, err := DecodeNeuronsLite(nl[:cut]); err == nil {
			t.Errorf("neurons cut at %d decoded", cut)
		}
	}
	_, err := DecodeSelectiveMetagraph(mg[:len(mg)/2])
	if !strings.Contains(err.Error(), "offset") {
		t.Errorf("error %q does not give the offset", err)
	}
}

func BenchmarkDecodeSelectiveMechagraph(b *testing.B) {
	data := recorded(b, "metagraph", "state_call", `["SubnetInfoRuntimeApi_get_selective_mechagraph"`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeSelectiveMetagraph(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodeRecordedHyperparamsV1(t *testing.T) {
	b := recorded(t, "get_subnet_hyperparameters", "state_call", `["SubnetInfoRuntimeApi_get_subnet_hyperparams"`)
	h, err := DecodeHyperparameters(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Tempo, MinAllowedWeights and MaxWeightsLimit were also recorded as
	// storage reads of netuid 23 (0xe803, 0x0100, 0xffff); the alpha bounds
	// are the runtime's defaults.
	if h.Tempo != 1000 || h.MinAllowedWeights != 1 || h.MaxWeightsLimit != 65535 || h.Rho != 10 || h.Kappa != 32767 ||
		h.ImmunityPeriod != 5000 || h.AlphaHigh != 58982 || h.AlphaLow != 45875 || h.WeightsRateLimit != 100 || h.Version != 1 {
		t.Errorf("hyperparameters of netuid 23: %+v", h)
	}
	if _, err := DecodeHyperparameters(b[:len(b)-1], 1); err == nil {
		t.Error("truncated hyperparameters decoded")
	}
}
