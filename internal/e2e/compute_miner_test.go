package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/miner"
	"github.com/vigil-validator/vigil/internal/securesession"
	"github.com/vigil-validator/vigil/internal/worker"
)

// challengeValidator is a validator's compute side for tests: it hands
// out queued challenges on task polls, samples the committed results, and
// verifies the proofs with internal/challenge.
type challengeValidator struct {
	t       testing.TB
	miner   string
	trusted challenge.TrustedKeys

	mu       sync.Mutex
	queue    []issued
	issued   map[string]*issued
	workers  map[string]computeproto.WorkerInfo
	verdicts map[string][]challenge.Verdict
	debug    map[string]json.RawMessage // each proof's debug_info
	notify   chan string                // when set, gets each verdict's challenge id
}

type issued struct {
	id, kind, worker, seed string
	size, iterations       int
	roots                  map[string]string
	rows                   []int
	cells                  []challenge.Cell
	target                 bool
}

func (v *challengeValidator) queueChallenge(kind, worker string, size, iterations int) string {
	seed := make([]byte, 16)
	copy(seed, fmt.Sprintf("%s%d%d", worker, size, time.Now().UnixNano()))
	id := fmt.Sprintf("ch-%d-%s", time.Now().UnixNano(), kind)
	c := issued{id: id, kind: kind, worker: worker, seed: hex.EncodeToString(seed), size: size, iterations: iterations, target: worker != ""}
	v.mu.Lock()
	v.queue = append(v.queue, c)
	v.mu.Unlock()
	return id
}

func (v *challengeValidator) handlers() computerpc.Handlers {
	return computerpc.Handlers{
		Heartbeat: func(_ context.Context, peer string, hb computeproto.HeartbeatData) (any, int) {
			v.mu.Lock()
			for _, w := range hb.Workers {
				v.workers[w.WorkerID] = w
			}
			v.mu.Unlock()
			return computeproto.NewHeartbeatResponse(0, "ok", int64(len(hb.Workers)), time.Now()), 0
		},
		Task: func(_ context.Context, peer string, _ computeproto.TaskRequest) (any, int) {
			v.mu.Lock()
			defer v.mu.Unlock()
			var out []computeproto.ComputeChallenge
			for _, c := range v.queue {
				data := computeproto.ChallengeData{ChallengeType: c.kind, MatrixSize: int64(c.size), Seed: c.seed, Iterations: int64(c.iterations), ChallengeID: c.id}
				cc := computeproto.ComputeChallenge{ChallengeID: c.id, ChallengeType: c.kind, Data: data, Timeout: 60}
				if c.target {
					w := c.worker
					cc.TargetWorkerID = &w
				}
				out = append(out, cc)
				v.issued[c.id] = &c
			}
			v.queue = nil
			return computeproto.NewTaskResponse(out, time.Now()), 0
		},
		Commitment: func(_ context.Context, peer string, cd computeproto.CommitmentData) (any, int) {
			v.mu.Lock()
			defer v.mu.Unlock()
			c := v.issued[cd.ChallengeID]
			if c == nil || peer != v.miner || (c.target && cd.WorkerID != c.worker) {
				return map[string]any{"error": "unknown challenge"}, computeproto.CodeValidationFailed
			}
			c.worker = cd.WorkerID
			c.roots = map[string]string{}
			for _, cm := range cd.Commitments {
				if c.kind == computeproto.ChallengeGPUMatrix {
					if err := challenge.VerifyCommitment(v.trusted, uint64(cm.SigVer), c.seed, cm.UUID, cm.MerkleRoot, cm.SigVal); err != nil {
						v.t.Errorf("%s: commitment of %s: %v", c.id, cm.UUID, err)
						continue
					}
				}
				c.roots[cm.UUID] = cm.MerkleRoot
			}
			var reqs []computeproto.ProofRequest
			if c.kind == computeproto.ChallengeCPUMatrix {
				c.rows = challenge.DefaultSampling().CPURowsToCheck(c.size)
				reqs = append(reqs, computeproto.ProofRequest{UUID: challenge.CPUUnit, Rows: int64s(c.rows), Coordinates: []computeproto.Coordinate{}})
			} else {
				c.cells, c.rows = challenge.DefaultSampling().GPUTargets(c.size)
				for uuid := range c.roots {
					req := computeproto.ProofRequest{UUID: uuid, Rows: int64s(c.rows)}
					for _, cell := range c.cells {
						req.Coordinates = append(req.Coordinates, computeproto.Coordinate{int64(cell.Row), int64(cell.Col)})
					}
					reqs = append(reqs, req)
				}
			}
			return computeproto.CommitmentResponse{ProofRequests: reqs}, 0
		},
		Proof: func(_ context.Context, peer string, pd computeproto.ProofData) (any, int) {
			v.mu.Lock()
			c := v.issued[pd.ChallengeID]
			v.mu.Unlock()
			if c == nil || peer != v.miner {
				return map[string]any{"error": "unknown challenge"}, computeproto.CodeValidationFailed
			}
			seed, _ := hex.DecodeString(c.seed)
			var verdicts []challenge.Verdict
			for _, p := range pd.Proofs {
				proofs := compute.ChallengeProofs(p.MerkleProofs)
				if c.kind == computeproto.ChallengeCPUMatrix {
					verdicts = append(verdicts, challenge.VerifyCPU(seed, c.size, c.iterations, c.rows, c.roots[p.UUID], challenge.CPUProof{RowHashes: p.RowHashes, Proofs: proofs}))
					continue
				}
				vals := make([]float64, len(p.CoordinateValues))
				for i, x := range p.CoordinateValues {
					vals[i] = float64(x)
				}
				check := challenge.GPUCheck{SeedHex: c.seed, UUID: p.UUID, Size: c.size, Iterations: c.iterations, Root: c.roots[p.UUID],
					Cells: c.cells, Rows: c.rows, Columns: challenge.SecretColumns(c.size, 0.05)}
				verdicts = append(verdicts, challenge.VerifyGPU(check, challenge.DefaultTolerance(), challenge.GPUProof{Values: vals, RowHashes: p.RowHashes, Proofs: proofs}))
			}
			v.mu.Lock()
			v.verdicts[pd.ChallengeID] = verdicts
			if v.debug != nil {
				v.debug[pd.ChallengeID] = pd.DebugInfo
			}
			v.mu.Unlock()
			if v.notify != nil {
				v.notify <- pd.ChallengeID
			}
			return computeproto.ProofDataResponse{ChallengeStatus: "queued", Message: "queued", ChallengeID: pd.ChallengeID}, 0
		},
	}
}

func int64s(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

func (v *challengeValidator) verdict(t *testing.T, id string) (challenge.Verdict, string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		v.mu.Lock()
		vs, ok := v.verdicts[id]
		worker := ""
		if c := v.issued[id]; c != nil {
			worker = c.worker
		}
		v.mu.Unlock()
		if ok {
			for _, x := range vs {
				if !x.Passed {
					return x, worker
				}
			}
			if len(vs) == 0 {
				t.Fatalf("%s: no proofs", id)
			}
			return vs[0], worker
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no verdict for %s", id)
	return challenge.Verdict{}, ""
}

// TestComputeMinerEndToEnd: a localnet where //Alice validates and //Bob
// mines; Alice's compute side serves its axon at the address it published
// on chain; Bob's miner finds it in the metagraph (permit and stake), and
// three workers (two CPU, one GPU through a reference-protocol binary on a
// Unix socket) compute challenges that are committed, proved and verified.
// A worker that drops mid-task is finalised, and the next challenge goes
// to a live one.
func TestComputeMinerEndToEnd(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, chainURL := localnettest.Start(t, localnet.DefaultGenesis(), 50*time.Millisecond)
	client := localnettest.Client(t, chainURL)
	alice, bob := devKey(t, "//Alice"), devKey(t, "//Bob")

	// Alice's compute side, and its address on chain.
	key, err := compute.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	val := &challengeValidator{t: t, miner: bob.SS58(), trusted: challenge.TrustedKeys{&key.PublicKey}, issued: map[string]*issued{},
		workers: map[string]computeproto.WorkerInfo{}, verdicts: map[string][]challenge.Verdict{}, debug: map[string]json.RawMessage{}}
	ax, err := axon.New(axon.Config{Hotkey: alice})
	if err != nil {
		t.Fatal(err)
	}
	if err := computerpc.Serve(ax, computerpc.ServerConfig{Sessions: securesession.NewServer(alice.SS58())}, val.handlers()); err != nil {
		t.Fatal(err)
	}
	axSrv := httptest.NewServer(ax)
	t.Cleanup(axSrv.Close)
	addr := netip.MustParseAddrPort(axSrv.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	call, err := subtensor.ServeAxon(1, 1, addr, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Submit(ctx, alice, call, subtensor.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}

	// Bob's miner.
	rpc, err := computerpc.NewClient(bob)
	if err != nil {
		t.Fatal(err)
	}
	cfg := miner.DefaultConfig()
	cfg.Netuid, cfg.Hotkey = 1, bob
	cfg.Selection.MinStakeRao = 100 * 1_000_000_000
	cfg.SyncInterval, cfg.HeartbeatInterval, cfg.PollInterval, cfg.IdleCheck = 200*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond, 20*time.Millisecond
	cfg.IdleThreshold = 0.3
	cfg.Hub.MinHeartbeatGap = 0
	metrics := miner.NewMetrics()
	m := miner.New(cfg, quiet, client, rpc, metrics)
	hubSrv := httptest.NewServer(m.Hub())
	t.Cleanup(hubSrv.Close)
	runCtx, stopMiner := context.WithCancel(context.Background())
	minerDone := make(chan struct{})
	go func() { _ = m.Run(runCtx); close(minerDone) }()
	t.Cleanup(func() { stopMiner(); <-minerDone })

	// Three workers: the GPU one through the binary's socket protocol.
	backend, err := compute.NewCPUBackend(key, 1, 128)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "gpu_tensor.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	binSrv := &compute.BinaryServer{Backend: backend}
	go func() { _ = binSrv.Serve(ln) }()
	t.Cleanup(func() { _ = binSrv.Close() })
	hubURL := "ws" + strings.TrimPrefix(hubSrv.URL, "http")
	stops := map[string]context.CancelFunc{}
	for _, w := range []struct {
		id  string
		gpu compute.Backend
	}{{"cpu-a", nil}, {"cpu-b", nil}, {"gpu-c", compute.NewBinary(sock)}} {
		wc := worker.DefaultConfig()
		wc.MinerURL, wc.WorkerID, wc.GPU = hubURL, w.id, w.gpu
		wc.HeartbeatInterval = 100 * time.Millisecond
		wk, err := worker.New(wc, quiet, nil)
		if err != nil {
			t.Fatal(err)
		}
		wctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = wk.Run(wctx); close(done) }()
		stops[w.id] = stop
		t.Cleanup(func() { stop(); <-done })
	}

	// The validator hears of all three through the miner's heartbeats once
	// Bob selects Alice (her permit comes with the first epoch).
	waitUntil(t, 60*time.Second, "heartbeats of three workers at the validator", func() bool {
		val.mu.Lock()
		defer val.mu.Unlock()
		return len(val.workers) == 3
	})
	val.mu.Lock()
	if caps := val.workers["gpu-c"].Capabilities; len(caps) != 2 || val.workers["gpu-c"].SystemInfo.GPUPlugin[0].UUID == "" {
		t.Errorf("the GPU worker's inventory: %+v", val.workers["gpu-c"])
	}
	val.mu.Unlock()

	ids := map[string]string{
		val.queueChallenge(computeproto.ChallengeCPUMatrix, "cpu-a", 150, 1): "cpu-a",
		val.queueChallenge(computeproto.ChallengeCPUMatrix, "cpu-b", 120, 2): "cpu-b",
		val.queueChallenge(computeproto.ChallengeGPUMatrix, "gpu-c", 64, 1):  "gpu-c",
	}
	for id, want := range ids {
		if v, worker := val.verdict(t, id); !v.Passed || worker != want {
			t.Fatalf("%s on %s: %+v (worker %s)", id, want, v, worker)
		}
		// Every timestamp of the reference's debug_info, in order.
		var debug struct {
			Timestamps map[string]int64 `json:"timestamps"`
		}
		val.mu.Lock()
		err := json.Unmarshal(val.debug[id], &debug)
		val.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		order := []string{"miner_task_received_ts", "worker_task_received_ts", "worker_task_completed_ts", "miner_task_response_ts",
			"worker_proof_request_received_ts", "worker_proof_completed_ts", "worker_proof_response_ts"}
		for i, k := range order {
			if debug.Timestamps[k] == 0 || (i > 0 && debug.Timestamps[k] < debug.Timestamps[order[i-1]]) {
				t.Fatalf("%s: debug timestamps %v (%s)", id, debug.Timestamps, k)
			}
		}
	}

	// cpu-a takes a long challenge and goes away in the middle of it.
	waitUntil(t, 10*time.Second, "the workers freed after their rounds", func() bool { return m.Hub().IdleFraction() == 1 })
	long := val.queueChallenge(computeproto.ChallengeCPUMatrix, "cpu-a", 4000, 1)
	waitUntil(t, 30*time.Second, "cpu-a busy", func() bool {
		for _, w := range m.Hub().Workers() {
			if w.ID == "cpu-a" && len(w.Tasks) == 1 && w.Tasks[0] == long {
				return true
			}
		}
		return false
	})
	stops["cpu-a"]()
	waitUntil(t, 30*time.Second, "cpu-a gone from the miner", func() bool { return len(m.Hub().Workers()) == 2 })
	next := val.queueChallenge(computeproto.ChallengeCPUMatrix, "", 100, 1)
	v, worker := val.verdict(t, next)
	if !v.Passed || worker == "cpu-a" || worker == "" {
		t.Fatalf("the next challenge: %+v on %q", v, worker)
	}
	val.mu.Lock()
	_, longVerdict := val.verdicts[long]
	val.mu.Unlock()
	if longVerdict {
		t.Fatalf("the dropped worker's challenge was proved")
	}
	// Every worker is freed once its round ends.
	waitUntil(t, 10*time.Second, "the workers idle again", func() bool { return m.Hub().IdleFraction() == 1 })

}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
