// Package e2e holds end-to-end tests that run the parts together: a
// localnet, the Kaspa bridge simulator, a real Prometheus, miners
// registering workers over HTTP, and the validator setting weights.
package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/kaspasim"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/prometheustest"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
	"github.com/vigil-validator/vigil/internal/validator"
)

// simulated is how much pool activity the simulator produces.
const simulated = 8 * time.Minute

// validatorNode is a validator with the Kaspa mechanism and its public
// API on loopback.
type validatorNode struct {
	v    *validator.Validator
	mech *kaspa.Mechanism
	api  *httptest.Server
}

func startValidator(t *testing.T, client *subtensor.Client, st *store.Store, beacon *timelock.Beacon, prom string) *validatorNode {
	t.Helper()
	alice, _ := keys.FromURI("//Alice")
	n := &validatorNode{}
	// The window is the simulated span, so the rating's share-rate and
	// uptime terms see an hour's proportions in eight minutes.
	settings := kaspa.DefaultSettings()
	settings.PrometheusEndpoint, settings.PoolWallet, settings.Window = prom, kaspasim.DefaultWallet, simulated
	holder := &mechanism.Metagraph{}
	mech, err := kaspa.New(settings, mechanism.Deps{Store: st, Metagraph: holder, Self: subtensor.AccountID(alice.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	n.mech = mech
	n.v, err = validator.New(validator.Config{Netuid: 1, Hotkey: alice, Client: client, Store: st, Mechanism: mech, Metagraph: holder,
		Tick: 100 * time.Millisecond, Weights: subtensor.WeightOptions{Beacon: beacon, BlockTime: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	n.api = httptest.NewServer(mech.API())
	t.Cleanup(n.api.Close)
	return n
}

// simulatedPool is the pool: five workers, one per dev miner (//Bob to
// //Ferdie), with simulated minutes of activity scraped by a real
// Prometheus.
func simulatedPool(t *testing.T) (*kaspasim.Sim, *prometheustest.Prometheus, []kaspasim.Hotkey) {
	t.Helper()
	hotkeys, err := kaspasim.DevHotkeys(5)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	sim, err := kaspasim.New(kaspasim.Config{Wallet: kaspasim.DefaultWallet, Hotkeys: hotkeys, Seed: 3, Speed: 1, Clock: clk,
		Profiles: []kaspasim.Profile{kaspasim.Honest, kaspasim.Honest, kaspasim.Idle, kaspasim.Inflated, kaspasim.Flooding}})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	prom := prometheustest.Start(t, simSrv.URL+"/metrics")
	prom.WaitForSamples(t, kaspasim.MetricUptime)
	for range simulated / time.Minute {
		clk.Advance(time.Minute)
		sim.Advance()
		time.Sleep(1100 * time.Millisecond)
	}
	return sim, prom, hotkeys
}

// registerWorkers registers each pool worker of the owner's wallet with
// the validator's public API, signed by its miner's hotkey.
func registerWorkers(t *testing.T, sim *kaspasim.Sim, api string) {
	t.Helper()
	for _, w := range sim.Workers() {
		if !w.OwnerWallet {
			continue
		}
		kp, err := keys.FromURI(w.HotkeyURI)
		if err != nil {
			t.Fatal(err)
		}
		if err := (&registry.Client{BaseURL: api}).Register(context.Background(), kp, w.Name); err != nil {
			t.Fatalf("register %s (%s): %v", w.Name, w.Profile, err)
		}
	}
}

func TestKaspaSubnetEndToEnd(t *testing.T) {
	// The chain: //Alice validates subnet 1, five dev miners.
	g := localnet.DefaultGenesis()
	g.Subnets[0].Miners = []localnet.GenesisNeuron{{Hotkey: "//Bob"}, {Hotkey: "//Charlie"}, {Hotkey: "//Dave"}, {Hotkey: "//Eve"}, {Hotkey: "//Ferdie"}}
	g.Subnets[0].Hyperparameters = map[string]any{"weights_rate_limit": 5}
	chain, url := localnettest.Start(t, g, 100*time.Millisecond)
	client := localnettest.Client(t, url)
	ctx := context.Background()
	b := chain.Beacon()
	beacon := &b

	sim, prom, hotkeys := simulatedPool(t)

	st := storetest.Open(t, "sqlite", clock.Real())
	node := startValidator(t, client, st, beacon, prom.URL())
	// The validator's first pass reads the metagraph the registry checks
	// hotkeys against; no one has registered, so nothing is scored yet.
	if r, err := node.v.Step(ctx); err != nil || r.Submitted {
		t.Fatalf("first step: %+v %v", r, err)
	}
	// Miners register their workers over HTTP, signed by their hotkeys.
	registerWorkers(t, sim, node.api.URL)
	// A forged registration (signed by another key) is refused.
	mallory, _ := keys.FromURI("//Mallory")
	if code, _ := registerAs(t, node.api.URL, mallory, hotkeys[0].SS58, hotkeys[0].SS58+".rig9"); code != http.StatusBadRequest {
		t.Fatalf("forged registration: %d", code)
	}

	r, err := node.v.Step(ctx)
	if err != nil || !r.Submitted {
		t.Fatalf("weights step: %+v %v", r, err)
	}
	// Killed and restarted mid-cycle: the registry is still there and the
	// new process does not submit again inside the cadence.
	node.api.Close()
	node2 := startValidator(t, client, st, beacon, prom.URL())
	mappings, err := st.ActiveKaspaMappings(ctx)
	if err != nil || len(mappings) != 5 {
		t.Fatalf("registry after restart: %v %v", mappings, err)
	}
	if r, err := node2.v.Step(ctx); err != nil || r.Submitted {
		t.Fatalf("step after restart: %+v %v", r, err)
	}
	rows, err := st.WeightSubmissions(ctx, 1, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("journal after restart: %d rows, %v", len(rows), err)
	}

	// After the next epoch, incentive follows the profiles.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mg, err := client.Metagraph(ctx, 1, "")
		if err != nil {
			t.Fatal(err)
		}
		inc := map[kaspasim.Profile]float64{}
		for _, w := range sim.Workers() {
			for _, n := range mg.Neurons {
				if ss58(n.Hotkey) == w.Hotkey {
					inc[w.Profile] = max(inc[w.Profile], n.Incentive.Float())
				}
			}
		}
		if inc[kaspasim.Honest] > 0 {
			if inc[kaspasim.Honest] <= inc[kaspasim.Inflated] || inc[kaspasim.Honest] <= inc[kaspasim.Flooding] || inc[kaspasim.Honest] <= inc[kaspasim.Idle] {
				t.Fatalf("incentive by profile %v", inc)
			}
			t.Logf("incentive by profile %v", inc)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incentive after 20 s: %v", inc)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ss58(a subtensor.AccountID) string {
	s, _ := keys.SS58Encode(a[:], 42)
	return s
}

// registerAs posts /register for hotkey, signed by kp: a forgery when kp
// is not hotkey's key, which registry.Client cannot send.
func registerAs(t *testing.T, api string, kp *keys.KeyPair, hotkey, worker string) (int, string) {
	t.Helper()
	ts := float64(time.Now().UnixNano()/1e3) / 1e6
	sig, err := kp.Sign(registry.RegistrationMessage(hotkey, worker, ts))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"hotkey": hotkey, "worker": worker, "registration_time": ts})
	req, _ := http.NewRequest(http.MethodPost, api+"/register", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", hex.EncodeToString(sig[:]))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}
