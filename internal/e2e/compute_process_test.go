package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
	"github.com/vigil-validator/vigil/internal/worker"
)

// proc is a vigil process: this test binary re-run as 'vigil <args>'.
type proc struct {
	name string
	args []string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startVigil starts 'vigil args…' with its output in dir/name.log; the
// test's end interrupts it, and prints its log's tail when the test
// failed.
func startVigil(t testing.TB, dir, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, args: args, log: filepath.Join(dir, name+".log")}
	p.start(t)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			t.Logf("--- %s (%s):\n%s", name, strings.Join(args, " "), b)
		}
	})
	return p
}

func (p *proc) start(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(p.args, "\n"))
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
}

// stop interrupts the process and waits for it (killing it after 10 s).
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill is kill -9.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// TestComputeProcesses runs the compute subnet as separate processes on
// loopback, on SQLite and on PostgreSQL: a localnet; 'vigil validator'
// with mechanism: compute; 'vigil meshhub-sim' leasing //Ferdie's worker;
// a 'vigil miner' for //Bob, //Dave and //Ferdie; 'vigil worker's for Bob
// (two) and Ferdie (one), and for Dave a worker whose products are wrong.
//
// The honest miner and the leased one hold the weight on chain, the wrong
// one none, the leased one's pass carries its lease, and the weights on
// chain are a weight pass the validator stored. Then the validator is
// killed (SIGKILL) while challenges are sent and proofs wait for their
// verification, and restarted: nothing verified changes, every queued
// proof is verified, sent challenges end by the stated rules, and no two
// weight submissions fall inside the rate limit.
func TestComputeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs vigil processes for about a minute")
	}
	storetest.Each(t, computeProcesses)
}

func computeProcesses(t *testing.T, engine string) {
	const rateLimit = 5
	g := localnet.DefaultGenesis()
	g.Subnets[0].Miners = []localnet.GenesisNeuron{{Hotkey: "//Bob"}, {Hotkey: "//Dave"}, {Hotkey: "//Ferdie"}}
	g.Subnets[0].Hyperparameters = map[string]any{"tempo": 10, "weights_rate_limit": rateLimit}
	_, url := localnettest.Start(t, g, 100*time.Millisecond)
	client := localnettest.Client(t, url)
	alice := devKey(t, "//Alice")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	axonAddr := publishAxon(t, client, alice)
	dir := t.TempDir()
	dbURL := storetest.URL(t, engine)
	hubAddr := freeAddr(t)
	bob, dave, ferdie := devKey(t, "//Bob").SS58(), devKey(t, "//Dave").SS58(), devKey(t, "//Ferdie").SS58()
	startVigil(t, dir, "meshhub-sim", "meshhub-sim", "--listen", hubAddr, "--leases", ferdie+":ferdie-1=0.8", "--every", "500ms")

	file := filepath.Join(dir, "validator.yaml")
	yaml := `chain:
  network: ` + url + `
  netuid: 1
database:
  url: ` + dbURL + `
ops:
  listen: 127.0.0.1:0
weights:
  block_time: 100ms
mechanism: compute
compute:
  listen: ` + axonAddr + `
  validation:
    challenge_interval: 1
    challenge_timeout: 5
    verification_interval: 3
    ranking_window_minutes: 3
    challenge_type: cpu_matrix
    cpu:
      matrix_size: 120
      size_variance: 0
  meshhub:
    ws_url: ws://` + hubAddr + `
    reconnect_delay_seconds: 1
    heartbeat_interval_seconds: 2
    resource_report_interval_seconds: 5
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	validator := startVigil(t, dir, "validator", "validator", "--config", file, "--wallet-uri", "//Alice")

	hubs := map[string]string{}
	for _, m := range []string{"//Bob", "//Dave", "//Ferdie"} {
		hubs[m] = freeAddr(t)
		startVigil(t, dir, "miner-"+m[2:], "miner", "--chain-network", url, "--chain-netuid", "1", "--wallet-uri", m,
			"--ops-listen", "127.0.0.1:0", "--worker-hub-listen", hubs[m], "--validators-min-stake-tao", "1",
			"--loops-sync-interval", "1s", "--loops-heartbeat-interval", "2s", "--loops-task-poll-interval", "1s")
	}
	for _, w := range []struct{ miner, id string }{{"//Bob", "bob-1"}, {"//Bob", "bob-2"}, {"//Ferdie", "ferdie-1"}} {
		startVigil(t, dir, "worker-"+w.id, "worker", "--miner-url", "ws://"+hubs[w.miner], "--worker-id", w.id,
			"--ops-listen", "127.0.0.1:0", "--worker-heartbeat-interval", "1s", "--worker-reconnect-interval", "1s")
	}
	// Dave's worker computes another product, slowly: its challenges stay
	// sent for a while, and every proof fails.
	wc := worker.DefaultConfig()
	wc.MinerURL, wc.WorkerID, wc.HeartbeatInterval, wc.ReconnectMin = "ws://"+hubs["//Dave"], "dave-1", time.Second, time.Second
	wc.CPU = func(seed []byte, size, iterations int) (*compute.CPUResult, error) {
		time.Sleep(1500 * time.Millisecond)
		other := append([]byte{}, seed...)
		other[0] ^= 0xff
		return compute.ComputeCPU(other, size, iterations)
	}
	dw, err := worker.New(wc, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = dw.Run(ctx) }()

	var st *store.Store
	waitUntil(t, 30*time.Second, "the validator's database", func() bool {
		// Opening a SQLite path creates the file: wait for the validator's
		// own, or it would find an empty file and refuse it.
		if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
			if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
				return false
			}
		}
		if st == nil {
			if st, err = store.Open(ctx, store.Options{URL: dbURL, BusyTimeout: 5 * time.Second}); err != nil {
				return false
			}
		}
		var n int
		return st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM compute_challenges").Scan(&n) == nil
	})
	defer st.Close()
	// The outcome on chain.
	var onChain map[string]float64
	waitUntil(t, 120*time.Second, "weights for Bob and Ferdie, none for Dave, and a failed challenge of Dave's", func() bool {
		var failed int
		_ = st.DB().QueryRowContext(ctx, st.Rebind("SELECT COUNT(*) FROM compute_challenges WHERE hotkey = ? AND (status = 'failed' OR NOT is_success) AND status IN ('failed', 'verified')"), dave).Scan(&failed)
		onChain = chainShares(ctx, client)
		return failed > 0 && onChain[bob] > 0 && onChain[ferdie] > 0 && onChain[dave] == 0
	})
	var lease float64
	if err := st.DB().QueryRowContext(ctx, st.Rebind("SELECT lease_score FROM compute_workers WHERE hotkey = ? AND worker_id = 'ferdie-1'"), ferdie).Scan(&lease); err != nil || lease != 0.8 {
		t.Fatalf("Ferdie's lease: %v %v", lease, err)
	}
	waitUntil(t, 30*time.Second, "a stored weight pass equal to the weights on chain", func() bool {
		onChain = chainShares(ctx, client)
		pass, ok := matchingPass(ctx, t, st, onChain)
		return ok && pass[ferdie].Lease == 0.8 && pass[ferdie].Weight > pass[bob].Weight && pass[dave].Weight == 0
	})

	// Kill -9 while proofs wait for their verification and a challenge is
	// sent, then read what the database holds. The state can move between
	// the look and the kill: then the validator is restarted and killed
	// again.
	var atKill map[string]challengeState
	for attempt := 1; ; attempt++ {
		waitUntil(t, 60*time.Second, "proofs queued and a challenge sent", func() bool {
			s := statuses(ctx, t, st)
			if count(s, "verifying") > 0 && count(s, "sent") > 0 {
				validator.kill()
				return true
			}
			return false
		})
		if atKill = statuses(ctx, t, st); count(atKill, "verifying") > 0 && count(atKill, "sent") > 0 {
			break
		}
		if attempt == 10 {
			t.Fatal("no kill caught a proof queued and a challenge sent in 10 attempts")
		}
		validator.start(t)
	}
	head, err := client.Head(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed at block %d with %d verified, %d verifying, %d committed, %d sent, %d created, %d failed", head.Number,
		count(atKill, "verified"), count(atKill, "verifying"), count(atKill, "committed"), count(atKill, "sent"), count(atKill, "created"), count(atKill, "failed"))
	successAtKill := successes(ctx, t, st)
	subsAtKill, err := st.WeightSubmissions(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}

	validator.start(t)
	waitUntil(t, 60*time.Second, "every queued proof verified and every sent challenge ended", func() bool {
		now := statuses(ctx, t, st)
		for id, s := range atKill {
			if (s.status == "verifying" && now[id].status != "verified") || (s.status == "sent" && now[id].status == "sent") {
				return false
			}
		}
		return true
	})
	now := statuses(ctx, t, st)
	after := successes(ctx, t, st)
	for id, s := range atKill {
		switch {
		case s.status == "verified" && (now[id].status != "verified" || after[id] != successAtKill[id]):
			t.Errorf("challenge %s was verified (success %v) and is now %s (success %v)", id, successAtKill[id], now[id].status, after[id])
		case s.status == "committed" && now[id].status == "created":
			t.Errorf("challenge %s went back: %+v", id, now[id])
		}
	}
	// Dave's queued proofs fail on their rows, Bob's pass.
	for id, s := range atKill {
		if s.status != "verifying" {
			continue
		}
		if want := s.hotkey == bob; after[id] != want {
			t.Errorf("challenge %s of %s, queued at the kill: success %v after the restart", id, s.hotkey, after[id])
		}
	}
	// Weights go on chain again, never twice inside the rate limit.
	waitUntil(t, 60*time.Second, "weights submitted after the restart", func() bool {
		subs, err := st.WeightSubmissions(ctx, 1, 1000)
		return err == nil && len(subs) > len(subsAtKill)
	})
	subs, err := st.WeightSubmissions(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []uint64
	for _, s := range subs {
		if s.Outcome == store.OutcomeFailed {
			t.Errorf("a failed weight submission at block %d: %s", s.Block, s.Error)
		}
		blocks = append(blocks, s.Block)
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i] < blocks[j] })
	for i := 1; i < len(blocks); i++ {
		if blocks[i]-blocks[i-1] < rateLimit {
			t.Errorf("weight submissions at blocks %d and %d, inside the rate limit of %d: %v", blocks[i-1], blocks[i], rateLimit, blocks)
		}
	}
	t.Logf("%d weight submissions at blocks %v", len(blocks), blocks)
}

// chainShares is Alice's weight row on subnet 1 as shares, by hotkey.
func chainShares(ctx context.Context, client *subtensor.Client) map[string]float64 {
	mg, err := client.Metagraph(ctx, 1, "")
	if err != nil {
		return nil
	}
	ws, err := client.Weights(ctx, 1, 0, mg.BlockHash)
	if err != nil {
		return nil
	}
	var sum float64
	for _, w := range ws {
		sum += float64(w.Value)
	}
	out := map[string]float64{}
	for _, n := range mg.Neurons {
		for _, w := range ws {
			if w.UID == n.UID && sum > 0 {
				hk, _ := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
				out[hk] = float64(w.Value) / sum
			}
		}
	}
	return out
}

// matchingPass returns the newest stored weight pass whose weights are
// the shares on chain (to the u16's precision).
func matchingPass(ctx context.Context, t *testing.T, st *store.Store, shares map[string]float64) (map[string]scoring.MinerScore, bool) {
	rows, err := st.DB().QueryContext(ctx, "SELECT miners FROM compute_weight_passes ORDER BY id DESC")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var ms []scoring.MinerScore
		if err := json.Unmarshal([]byte(raw), &ms); err != nil {
			t.Fatal(err)
		}
		pass := map[string]scoring.MinerScore{}
		match := len(ms) > 0
		for _, m := range ms {
			pass[m.Hotkey] = m
			if math.Abs(m.Weight-shares[m.Hotkey]) > 1e-4 {
				match = false
			}
		}
		if match {
			return pass, true
		}
	}
	return nil, false
}

type challengeState struct{ hotkey, status string }

// statuses reads every challenge's state.
func statuses(ctx context.Context, t *testing.T, st *store.Store) map[string]challengeState {
	rows, err := st.DB().QueryContext(ctx, "SELECT challenge_id, hotkey, status FROM compute_challenges")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]challengeState{}
	for rows.Next() {
		var id string
		var s challengeState
		if err := rows.Scan(&id, &s.hotkey, &s.status); err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	return out
}

// successes reads every verified challenge's outcome.
func successes(ctx context.Context, t *testing.T, st *store.Store) map[string]bool {
	rows, err := st.DB().QueryContext(ctx, "SELECT challenge_id, is_success FROM compute_challenges WHERE status = 'verified'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		var ok bool
		if err := rows.Scan(&id, &ok); err != nil {
			t.Fatal(err)
		}
		out[id] = ok
	}
	return out
}

func count(s map[string]challengeState, status string) int {
	n := 0
	for _, c := range s {
		if c.status == status {
			n++
		}
	}
	return n
}
