package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/node"
	"github.com/vigil-validator/vigil/internal/store"
)

// TestOneValidatorTwoSubnets runs one validator node, as 'vigil validator'
// builds it from a configuration file with a subnets: list, on netuid 1
// (tempo 10) and netuid 2 (tempo 20) of a localnet: one hotkey, one chain
// connection, one store, one ops listener, a weight loop per subnet. The
// miners register their workers once; weights land on each subnet at its
// own tempo, and /health and /metrics name each subnet.
func TestOneValidatorTwoSubnets(t *testing.T) {
	miners := []localnet.GenesisNeuron{{Hotkey: "//Bob"}, {Hotkey: "//Charlie"}, {Hotkey: "//Dave"}, {Hotkey: "//Eve"}, {Hotkey: "//Ferdie"}}
	g := localnet.DefaultGenesis()
	g.Subnets[0].Miners = miners
	g.Subnets[0].Hyperparameters = map[string]any{"tempo": 10, "weights_rate_limit": 5}
	g.Subnets = append(g.Subnets, localnet.GenesisSubnet{Netuid: 2, Owner: "//Alice", Miners: miners,
		Validators:      []localnet.GenesisNeuron{{Hotkey: "//Alice", Stake: 1000 * 1e9}},
		Hyperparameters: map[string]any{"tempo": 20, "weights_rate_limit": 5}})
	_, url := localnettest.Start(t, g, 100*time.Millisecond)
	sim, prom, _ := simulatedPool(t)

	dir := t.TempDir()
	file := filepath.Join(dir, "validator.yaml")
	yaml := `chain:
  network: ` + url + `
  netuid: 1
database:
  url: sqlite:` + filepath.Join(dir, "vigil.db") + `
ops:
  listen: 127.0.0.1:0
weights:
  block_time: 100ms
kaspa:
  prometheus_endpoint: ` + prom.URL() + `
  window: ` + simulated.String() + `
  listen: 127.0.0.1:0
subnets:
  - netuid: 2
    mechanism: kaspa
    kaspa:
      prometheus_endpoint: ` + prom.URL() + `
      window: ` + simulated.String() + `
      listen: 127.0.0.1:0
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadRole(config.DefaultValidator(), config.Source{File: file})
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := keys.FromURI("//Alice")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := node.New(ctx, cfg, func() (*keys.KeyPair, error) { return alice, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if len(n.Subnets) != 2 || n.Subnets[0].Netuid != 1 || n.Subnets[1].Netuid != 2 {
		t.Fatalf("subnets %+v", n.Subnets)
	}
	g2 := &lifecycle.Group{DrainTimeout: 5 * time.Second}
	g2.Add("test", lifecycle.Context(ctx, func(ctx context.Context) error { <-ctx.Done(); return nil }))
	n.AddTo(ctx, g2)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- g2.Run() }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node stopped with %v", err)
		}
	}()

	// The workers are registered once, with subnet 1's API (once its weight
	// loop has read the metagraph the registry checks hotkeys against); the
	// Kaspa registry is the store's, so subnet 2 rates the same workers.
	for n.Subnets[0].Validator.Metagraph() == nil {
		if time.Now().After(start.Add(30 * time.Second)) {
			t.Fatal("no metagraph read within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	registerWorkers(t, sim, "http://"+n.Subnets[0].APIAddr())

	// Three submissions on each subnet, each at least its tempo after the
	// one before.
	tempo := map[uint16]uint64{1: 10, 2: 20}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ready := true
		for netuid := range tempo {
			rows, err := n.Store.WeightSubmissions(ctx, netuid, 10, store.OutcomeIncluded, store.OutcomeFinalized)
			if err != nil {
				t.Fatal(err)
			}
			ready = ready && len(rows) >= 3
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not three submissions on each subnet within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for netuid, every := range tempo {
		rows, _ := n.Store.WeightSubmissions(ctx, netuid, 10, store.OutcomeIncluded, store.OutcomeFinalized)
		for i := 0; i+1 < len(rows); i++ { // newest first
			if gap := rows[i].Block - rows[i+1].Block; gap < every {
				t.Errorf("netuid %d: submissions at blocks %d and %d, %d apart, under its tempo %d", netuid, rows[i+1].Block, rows[i].Block, gap, every)
			}
		}
		ws, err := n.Client.Weights(ctx, netuid, 0, "")
		if err != nil || len(ws) == 0 {
			t.Errorf("netuid %d: //Alice's weights on chain %v %v", netuid, ws, err)
		}
	}

	get := func(path string) string {
		resp, err := http.Get("http://" + n.OpsAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if h := get("/health"); !strings.Contains(h, "netuid 1 weights") || !strings.Contains(h, "netuid 2 weights") {
		t.Errorf("/health does not name each subnet's checks: %s", h)
	}
	if m := get("/metrics"); !strings.Contains(m, `vigil_validator_weight_submissions_total{netuid="2",outcome=`) {
		t.Errorf("/metrics has no per-subnet submissions")
	}
}
