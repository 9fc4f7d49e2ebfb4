package worker

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/workerhub"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type miner struct {
	hub     *workerhub.Hub
	url     string
	mu      sync.Mutex
	results map[string]computeproto.TaskResult
	beats   []workerhub.Worker
}

func startMiner(t *testing.T) *miner {
	t.Helper()
	m := &miner{results: map[string]computeproto.TaskResult{}}
	cfg := workerhub.DefaultConfig()
	cfg.MinHeartbeatGap = 0
	m.hub = workerhub.New(cfg, quiet(), workerhub.Events{
		TaskResult: func(id string, r computeproto.TaskResult) { m.mu.Lock(); m.results[r.TaskID] = r; m.mu.Unlock() },
		Heartbeat:  func(w workerhub.Worker) { m.mu.Lock(); m.beats = append(m.beats, w); m.mu.Unlock() },
	}, nil)
	srv := httptest.NewServer(m.hub)
	m.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	t.Cleanup(func() { m.hub.Close(); srv.Close() })
	return m
}

func (m *miner) result(t *testing.T, task string) computeproto.TaskResult {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		r, ok := m.results[task]
		m.mu.Unlock()
		if ok {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no result for %s", task)
	return computeproto.TaskResult{}
}

func startWorker(t *testing.T, url, id string, gpu compute.Backend) *Worker {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MinerURL, cfg.WorkerID, cfg.GPU = url, id, gpu
	cfg.ReconnectMin, cfg.HeartbeatInterval = 50*time.Millisecond, 100*time.Millisecond
	w, err := New(cfg, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func toChallengeProofs(ps []computeproto.MerkleProof) []challenge.Proof {
	return compute.ChallengeProofs(ps)
}

// TestWorkerCPUChallenge: a CPU task through the hub, its commitment, then
// the proofs the validator samples, which verify; the result is proved
// once.
func TestWorkerCPUChallenge(t *testing.T) {
	m := startMiner(t)
	w := startWorker(t, m.url, "cpu0000011112222", nil)
	waitFor(t, "registration", func() bool { return len(m.hub.Workers()) == 1 && w.Connected() })
	waitFor(t, "a heartbeat with the inventory", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.beats) > 0 && m.beats[0].SystemInfo.CPUCount > 0 && m.beats[0].SystemInfo.MemoryTotal > 0
	})
	ctx := context.Background()
	const seed, n = "0badf00d0badf00d0badf00d0badf00d", 160
	task := computeproto.TaskAssignmentData{TaskID: "c1", TaskType: "cpu_matrix", ChallengeID: "c1", Timeout: 60, ValidatorHotkey: "5Validator",
		Data: computeproto.ChallengeData{ChallengeType: "cpu_matrix", MatrixSize: n, Seed: seed, Iterations: 2}}
	if err := m.hub.Assign(ctx, w.ID(), task); err != nil {
		t.Fatal(err)
	}
	r := m.result(t, "c1")
	if !r.Data.Succeeded() || r.Data.Result.MatrixSize != n || len(r.Data.Result.Commitments) != 1 || r.Data.Result.Commitments[0].UUID != "-1" ||
		r.Data.Timestamps["worker_task_completed_ts"] < r.Data.Timestamps["worker_task_received_ts"] {
		t.Fatalf("result: %+v", r)
	}
	root := r.Data.Result.Commitments[0].MerkleRoot
	rows := challenge.DefaultSampling().CPURowsToCheck(n)
	req := computeproto.ProofRequest{UUID: "-1", Rows: make([]int64, len(rows))}
	for i, x := range rows {
		req.Rows[i] = int64(x)
	}
	body, err := m.hub.RequestProof(ctx, w.ID(), "5Validator", "c1", []computeproto.ProofRequest{req})
	if err != nil || !body.Success || len(body.Proofs) != 1 || body.Phase2Timestamps()["worker_proof_completed_ts"] == 0 {
		t.Fatalf("proof: %+v %v", body, err)
	}
	p := body.Proofs[0]
	seedBytes := []byte{0x0b, 0xad, 0xf0, 0x0d}
	if v := challenge.VerifyCPU(append(seedBytes, make([]byte, 12)...), n, 2, rows, root, challenge.CPUProof{RowHashes: p.RowHashes, Proofs: toChallengeProofs(p.MerkleProofs)}); !v.Passed {
		t.Fatalf("verification: %+v", v)
	}
	// Asked again, the worker has nothing left for that validator.
	body, err = m.hub.RequestProof(ctx, w.ID(), "5Validator", "c1", []computeproto.ProofRequest{req})
	if err != nil || body.Success || !strings.Contains(body.Error, "no result kept") {
		t.Fatalf("second proof request: %+v %v", body, err)
	}
}

// TestWorkerGPUChallenge: a GPU task on a CPU backend; the commitments'
// signatures, cells, secret columns, hashes and proofs all verify.
func TestWorkerGPUChallenge(t *testing.T) {
	key, err := compute.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	backend, err := compute.NewCPUBackend(key, 2, 128)
	if err != nil {
		t.Fatal(err)
	}
	m := startMiner(t)
	w := startWorker(t, m.url, "gpu0000011112222", backend)
	waitFor(t, "registration", func() bool { return len(m.hub.Workers()) == 1 })
	if caps := m.hub.Workers()[0].Capabilities; len(caps) != 2 || caps[1] != "gpu_matrix" {
		t.Fatalf("capabilities %v", caps)
	}
	if plugin := m.hub.Workers()[0].SystemInfo.GPUPlugin; len(plugin) != 2 || !strings.HasPrefix(plugin[0].UUID, "CPU-") {
		t.Fatalf("gpu_plugin %+v", plugin)
	}
	ctx := context.Background()
	const seed, n = "00112233445566778899aabbccddeeff", 64
	task := computeproto.TaskAssignmentData{TaskID: "g1", TaskType: "gpu_matrix", ChallengeID: "g1", Timeout: 60, ValidatorHotkey: "5V",
		Data: computeproto.ChallengeData{ChallengeType: "gpu_matrix", MatrixSize: n, Seed: seed, Iterations: 1}}
	if err := m.hub.Assign(ctx, w.ID(), task); err != nil {
		t.Fatal(err)
	}
	r := m.result(t, "g1")
	if !r.Data.Succeeded() || len(r.Data.Result.Commitments) != 2 {
		t.Fatalf("result: %+v", r)
	}
	trusted := challenge.TrustedKeys{&key.PublicKey}
	cells, rows := challenge.DefaultSampling().GPUTargets(n)
	var reqs []computeproto.ProofRequest
	for _, c := range r.Data.Result.Commitments {
		if err := challenge.VerifyCommitment(trusted, uint64(c.SigVer), seed, c.UUID, c.MerkleRoot, c.SigVal); err != nil {
			t.Fatal(err)
		}
		req := computeproto.ProofRequest{UUID: c.UUID}
		for _, x := range rows {
			req.Rows = append(req.Rows, int64(x))
		}
		for _, c := range cells {
			req.Coordinates = append(req.Coordinates, computeproto.Coordinate{int64(c.Row), int64(c.Col)})
		}
		reqs = append(reqs, req)
	}
	body, err := m.hub.RequestProof(ctx, w.ID(), "5V", "g1", reqs)
	if err != nil || !body.Success || len(body.Proofs) != 2 {
		t.Fatalf("proofs: %+v %v", body, err)
	}
	for i, p := range body.Proofs {
		vals := make([]float64, len(p.CoordinateValues))
		for j, v := range p.CoordinateValues {
			vals[j] = float64(v)
		}
		check := challenge.GPUCheck{SeedHex: seed, UUID: p.UUID, Size: n, Iterations: 1, Root: r.Data.Result.Commitments[i].MerkleRoot,
			Cells: cells, Rows: rows, Columns: challenge.SecretColumns(n, 0.05)}
		if v := challenge.VerifyGPU(check, challenge.DefaultTolerance(), challenge.GPUProof{Values: vals, RowHashes: p.RowHashes, Proofs: toChallengeProofs(p.MerkleProofs)}); !v.Passed {
			t.Fatalf("%s: %+v", p.UUID, v)
		}
	}
}

// TestWorkerRefusesAndNoticesTheMinerGone: a task beyond the worker's
// kinds fails at once with a result (so the miner frees the worker), and a
// worker notices its miner going away.
func TestWorkerRefusesAndNoticesTheMinerGone(t *testing.T) {
	m := startMiner(t)
	w := startWorker(t, m.url, "ref0000011112222", nil)
	waitFor(t, "registration", func() bool { return len(m.hub.Workers()) == 1 })
	ctx := context.Background()
	task := computeproto.TaskAssignmentData{TaskID: "x1", TaskType: "gpu_matrix", ChallengeID: "x1", Timeout: 60, ValidatorHotkey: "5V",
		Data: computeproto.ChallengeData{MatrixSize: 64, Seed: "00112233", Iterations: 1}}
	if err := m.hub.Assign(ctx, w.ID(), task); err != nil {
		t.Fatal(err)
	}
	if r := m.result(t, "x1"); r.Data.Succeeded() || !strings.Contains(r.Data.Error, "no GPU backend") {
		t.Fatalf("gpu task on a CPU worker: %+v", r)
	}
	m.hub.Close()
	waitFor(t, "the disconnect", func() bool { return !w.Connected() })
}

func TestFingerprintID(t *testing.T) {
	// Python: hashlib.sha256("|".join(f"{k}:{v}" for k, v in sorted(fp.items())).encode()).hexdigest()[:16]
	fp := map[string]string{"platform": "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36", "machine": "x86_64", "processor": "",
		"primary_mac": "02:42:ac:11:00:02", "machine_id": "0123456789abcdef0123456789abcdef"}
	if got := FingerprintID(fp); got != "9d39e3a230309c78" {
		t.Fatalf("id %s", got)
	}
	if id := FingerprintID(Fingerprint()); len(id) != 16 {
		t.Fatalf("this host's id %q", id)
	}
}

// TestWorkerReconnects: a worker whose miner restarts at the same address
// registers with the new one on its own.
func TestWorkerReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	serve := func(ln net.Listener) (*workerhub.Hub, *http.Server) {
		hub := workerhub.New(workerhub.DefaultConfig(), quiet(), workerhub.Events{}, nil)
		srv := &http.Server{Handler: hub}
		go func() { _ = srv.Serve(ln) }()
		return hub, srv
	}
	hub1, srv1 := serve(ln)
	w := startWorker(t, "ws://"+addr, "reconnect00000000", nil)
	waitFor(t, "the first registration", func() bool { return len(hub1.Workers()) == 1 })
	hub1.Close()
	_ = srv1.Close()
	waitFor(t, "the disconnect", func() bool { return !w.Connected() })
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hub2, srv2 := serve(ln2)
	defer func() { hub2.Close(); _ = srv2.Close() }()
	waitFor(t, "the registration with the restarted miner", func() bool { return len(hub2.Workers()) == 1 && w.Connected() })
}
