package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestKaspaZeroSettingsReachTheMechanism: an explicit rating_alpha 0 and
// min_peer_stake 0, from the file or from the SN16 variables, reach the
// mechanism as 0 instead of turning back into the defaults.
func TestKaspaZeroSettingsReachTheMechanism(t *testing.T) {
	file := filepath.Join(t.TempDir(), "validator.yaml")
	if err := os.WriteFile(file, []byte("chain:\n  netuid: 1\nkaspa:\n  rating_alpha: 0\n  min_peer_stake: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sn16 := map[string]string{"VIGIL_CHAIN_NETUID": "1", "RATING_WEIGHT": "0", "VIGIL_KASPA_MIN_PEER_STAKE": "0"}
	bob, err := keys.FromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	// One validator serving an IPv4 axon with no stake at all.
	mg := &subtensor.Metagraph{Neurons: []subtensor.Neuron{{Hotkey: subtensor.AccountID(bob.PublicKey()),
		Axon: subtensor.AxonInfo{IP: scale.Uint128{Lo: uint64(127)<<24 | 1}, Port: 8000, IPType: 4}}}}
	for name, src := range map[string]config.Source{
		"file":     {File: file},
		"sn16 env": {LookupEnv: config.SN16Env(func(k string) (string, bool) { v, ok := sn16[k]; return v, ok })},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.LoadRole(config.DefaultValidator(), src)
			if err != nil {
				t.Fatal(err)
			}
			kc := cfg.Kaspa
			if kc.RatingAlpha != 0 || kc.MinPeerStake != 0 {
				t.Fatalf("kaspa settings %+v, want rating alpha and min peer stake 0", kc)
			}
			holder := &mechanism.Metagraph{}
			holder.Store(mg)
			mech, err := kaspa.New(kc, mechanism.Deps{Store: storetest.Open(t, "sqlite", clock.Real()), Metagraph: holder})
			if err != nil {
				t.Fatal(err)
			}
			if peers := mech.Peers(); len(peers) != 1 {
				t.Errorf("peers %v, want the stakeless validator", peers)
			}
		})
	}
}
