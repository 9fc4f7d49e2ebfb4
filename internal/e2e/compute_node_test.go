package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/miner"
	"github.com/vigil-validator/vigil/internal/node"
	"github.com/vigil-validator/vigil/internal/worker"
)

// publishAxon serves kp's axon on netuid 1 at a free loopback address, as
// 'vigil chain serve-axon' does, and returns the address.
func publishAxon(t testing.TB, client *subtensor.Client, kp *keys.KeyPair) string {
	t.Helper()
	addr := freeAddr(t)
	call, err := subtensor.ServeAxon(1, 1, netip.MustParseAddrPort(addr), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Submit(context.Background(), kp, call, subtensor.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	return addr
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestComputeValidatorNode: 'vigil validator' with mechanism: compute, as
// built from its configuration file, on a localnet: //Alice's axon at the
// address she publishes, //Bob's vigil miner and worker. Challenges are
// issued, pulled, committed, proved and verified, and Alice's weights on
// chain give Bob the weight.
func TestComputeValidatorNode(t *testing.T) {
	g := localnet.DefaultGenesis()
	g.Subnets[0].Hyperparameters = map[string]any{"tempo": 10, "weights_rate_limit": 5}
	_, url := localnettest.Start(t, g, 100*time.Millisecond)
	client := localnettest.Client(t, url)
	alice, bob := devKey(t, "//Alice"), devKey(t, "//Bob")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	axonAddr := publishAxon(t, client, alice)
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
mechanism: compute
compute:
  listen: ` + axonAddr + `
  validation:
    challenge_interval: 1
    verification_interval: 1
    challenge_type: cpu_matrix
    cpu:
      matrix_size: 100
      size_variance: 0
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadRole(config.DefaultValidator(), config.Source{File: file})
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(ctx, cfg, func() (*keys.KeyPair, error) { return alice, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	grp := &lifecycle.Group{DrainTimeout: 5 * time.Second}
	grp.Add("test", lifecycle.Context(ctx, func(ctx context.Context) error { <-ctx.Done(); return nil }))
	n.AddTo(ctx, grp)
	done := make(chan error, 1)
	go func() { done <- grp.Run() }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node stopped with %v", err)
		}
	}()

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	rpc, err := computerpc.NewClient(bob)
	if err != nil {
		t.Fatal(err)
	}
	mc := miner.DefaultConfig()
	mc.Netuid, mc.Hotkey = 1, bob
	mc.Selection.MinStakeRao = 100 * 1_000_000_000
	mc.SyncInterval, mc.HeartbeatInterval, mc.PollInterval, mc.IdleCheck = 300*time.Millisecond, 300*time.Millisecond, 200*time.Millisecond, 20*time.Millisecond
	mc.Hub.MinHeartbeatGap = 0
	m := miner.New(mc, quiet, client, rpc, nil)
	hub := httptest.NewServer(m.Hub())
	defer hub.Close()
	mctx, stopMiner := context.WithCancel(ctx)
	minerDone := make(chan struct{})
	go func() { _ = m.Run(mctx); close(minerDone) }()
	defer func() { stopMiner(); <-minerDone }()
	wc := worker.DefaultConfig()
	wc.MinerURL, wc.WorkerID, wc.HeartbeatInterval = "ws"+strings.TrimPrefix(hub.URL, "http"), "bob-cpu", 100*time.Millisecond
	w, err := worker.New(wc, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.Run(mctx) }()

	waitUntil(t, 90*time.Second, "a verified challenge", func() bool {
		var count int
		_ = n.Store.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM compute_challenges WHERE status = 'verified' AND is_success").Scan(&count)
		return count > 0
	})
	waitUntil(t, 90*time.Second, "Alice's weights on chain for Bob", func() bool {
		mg, err := client.Metagraph(ctx, 1, "")
		if err != nil {
			return false
		}
		var bobUID uint16
		pub := bob.PublicKey()
		for _, nr := range mg.Neurons {
			if nr.Hotkey == subtensor.AccountID(pub) {
				bobUID = nr.UID
			}
		}
		ws, err := client.Weights(ctx, 1, 0, "")
		if err != nil {
			return false
		}
		for _, x := range ws {
			if x.UID == bobUID && x.Value > 0 {
				return true
			}
		}
		return false
	})
}
