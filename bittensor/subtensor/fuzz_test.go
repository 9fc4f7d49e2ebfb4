package subtensor

import "testing"

// The decoders face bytes from any node the operator points at: they must
// fail cleanly, never panic or allocate without bound.
func FuzzDecodeSelectiveMetagraph(f *testing.F) {
	b := recorded(f, "metagraph", "state_call", `["SubnetInfoRuntimeApi_get_selective_mechagraph"`)
	f.Add(b[:4096])
	f.Add([]byte{1, 4})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeSelectiveMetagraph(data)
		if err == nil && m == nil {
			t.Fatal("nil metagraph without an error")
		}
	})
}

func FuzzDecodeNeuronsLite(f *testing.F) {
	b := recorded(f, "neurons_lite", "state_call", `["NeuronInfoRuntimeApi_get_neurons_lite"`)
	f.Add(b)
	f.Add(b[2:400])
	f.Add([]byte{4})
	f.Fuzz(func(t *testing.T, data []byte) {
		ns, err := DecodeNeuronsLite(data)
		// Each neuron takes at least minNeuronLiteSize bytes: more neurons
		// than that allows means the length cap failed.
		if err == nil && len(ns)*minNeuronLiteSize > len(data) {
			t.Fatalf("%d neurons from %d bytes", len(ns), len(data))
		}
	})
}

func FuzzDecodeHyperparameters(f *testing.F) {
	f.Add(recorded(f, "get_subnet_hyperparameters", "state_call", `["SubnetInfoRuntimeApi_get_subnet_hyperparams"`), 1)
	v3, err := EncodeHyperparameters(Hyperparameters{Tempo: 360, BurnIncreaseMult: 1.26, AlphaSigmoidSteepness: -3}, 3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v3, 3)
	f.Fuzz(func(t *testing.T, data []byte, version int) {
		_, _ = DecodeHyperparameters(data, version)
	})
}
