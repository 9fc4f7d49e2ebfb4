package compute_test

import (
	"context"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/mechanism"
	mechcompute "github.com/vigil-validator/vigil/internal/mechanism/compute"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

type rig struct {
	st  *store.Store
	clk *clock.Fake
	m   *mechcompute.Mechanism
}

func newRig(t testing.TB, engine, kind string, st *store.Store, clk *clock.Fake) *rig {
	t.Helper()
	if clk == nil {
		clk = clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	}
	if st == nil {
		st = storetest.Open(t, engine, clk)
	}
	s := mechcompute.DefaultSettings()
	s.Validation.ChallengeType = kind
	s.Validation.CPU.MatrixSize, s.Validation.CPU.SizeVariance = 100, 0
	s.Validation.GPU.MatrixSize, s.Validation.GPU.SizeVariance = 32, 0
	s.Validation.GPU.ModelAllowlist = ""
	m, err := mechcompute.New(s, mechanism.Deps{Netuid: 3, Store: st, Clock: clk, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{st: st, clk: clk, m: m}
}

func (r *rig) beat(t *testing.T, miner, worker string, gpus ...string) {
	t.Helper()
	hb := computeproto.NewHeartbeatData(miner, r.clk.Now())
	w := computeproto.NewWorkerInfo(worker, r.clk.Now())
	w.Capabilities = []string{"cpu_matrix", "gpu_matrix"}
	for _, g := range gpus {
		w.SystemInfo.GPUPlugin = append(w.SystemInfo.GPUPlugin, computeproto.GPUEntry{UUID: g, Name: "vigil CPU backend"})
	}
	hb.Workers = []computeproto.WorkerInfo{w}
	if _, code := r.m.Handlers().Heartbeat(context.Background(), miner, hb); code != 0 {
		t.Fatalf("heartbeat refused: %d", code)
	}
}

func (r *rig) pull(t *testing.T, miner string) []computeproto.ComputeChallenge {
	t.Helper()
	resp, code := r.m.Handlers().Task(context.Background(), miner, computeproto.NewTaskRequest(miner, r.clk.Now()))
	if code != 0 {
		t.Fatalf("task: %d", code)
	}
	tr := resp.(computeproto.TaskResponse)
	if tr.TaskData == nil {
		return nil
	}
	return tr.TaskData.Challenges
}

// cpuCommit computes a pulled CPU challenge and returns its commitment and
// the worker's result for the proofs.
func cpuCommit(t *testing.T, c computeproto.ComputeChallenge, worker string) (computeproto.CommitmentData, *compute.CPUResult) {
	t.Helper()
	seed, _ := hex.DecodeString(c.Data.Seed)
	res, err := compute.ComputeCPU(seed, int(c.Data.MatrixSize), int(c.Data.Iterations))
	if err != nil {
		t.Fatal(err)
	}
	return computeproto.NewCommitmentData(c.ChallengeID, worker, []computeproto.Commitment{{UUID: "-1", MerkleRoot: res.Root()}}), res
}

func proofFor(t *testing.T, id string, res *compute.CPUResult, req computeproto.ProofRequest) computeproto.ProofData {
	t.Helper()
	rows := make([]int, len(req.Rows))
	for i, r := range req.Rows {
		rows[i] = int(r)
	}
	p, err := res.Prove(rows)
	if err != nil {
		t.Fatal(err)
	}
	return computeproto.NewProofData(id, []computeproto.ProofResponse{{UUID: "-1", RowHashes: p.RowHashes, MerkleProofs: compute.MerkleProofs(p.Proofs),
		CoordinateValues: []computeproto.PyFloat{}}})
}

func status(t *testing.T, st *store.Store, miner, id string) string {
	t.Helper()
	c, err := st.GetComputeChallenge(context.Background(), 3, id, miner)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

// TestHostileMiners: a commitment for another miner's challenge, a GPU
// outside the inventory, proofs with a missing or an extra uuid, a second
// commitment — each refused with the reference's error answer and counted;
// nothing of the hostile request is stored.
func TestHostileMiners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		r := newRig(t, engine, "cpu_matrix", nil, nil)
		h := r.m.Handlers()
		r.beat(t, "5Bob", "w1")
		r.beat(t, "5Charlie", "c1")
		if err := r.m.Issue(ctx); err != nil {
			t.Fatal(err)
		}
		chs := r.pull(t, "5Bob")
		if len(chs) != 1 || *chs[0].TargetWorkerID != "w1" {
			t.Fatalf("pulled %+v", chs)
		}
		cd, res := cpuCommit(t, chs[0], "w1")
		// Charlie commits to Bob's challenge.
		if body, code := h.Commitment(ctx, "5Charlie", cd); code != 1 || body.(map[string]any)["error"] == nil {
			t.Fatalf("another miner's commitment: %v %d", body, code)
		}
		if status(t, r.st, "5Bob", cd.ChallengeID) != "sent" {
			t.Fatal("another miner's commitment changed the challenge")
		}
		resp, code := h.Commitment(ctx, "5Bob", cd)
		if code != 0 {
			t.Fatalf("commit: %v", resp)
		}
		req := resp.(computeproto.CommitmentResponse).ProofRequests[0]
		if _, code := h.Commitment(ctx, "5Bob", cd); code != 1 {
			t.Fatal("a second commitment was taken")
		}
		pd := proofFor(t, cd.ChallengeID, res, req)
		extra := pd
		extra.Proofs = append(append([]computeproto.ProofResponse{}, pd.Proofs...), computeproto.ProofResponse{UUID: "GPU-x", RowHashes: pd.Proofs[0].RowHashes, MerkleProofs: pd.Proofs[0].MerkleProofs})
		missing := pd
		missing.Proofs = nil
		for name, bad := range map[string]computeproto.ProofData{"extra uuid": extra, "missing uuid": missing} {
			if _, code := h.Proof(ctx, "5Bob", bad); code != 1 {
				t.Errorf("%s: accepted", name)
			}
		}
		if status(t, r.st, "5Bob", cd.ChallengeID) != "committed" {
			t.Fatal("a refused proof changed the challenge")
		}
		if _, code := h.Proof(ctx, "5Charlie", pd); code != 1 {
			t.Fatal("another miner's proof was taken")
		}
		if _, code := h.Proof(ctx, "5Bob", pd); code != 0 {
			t.Fatal("the honest proof was refused")
		}
		if n, err := r.m.VerifyQueued(ctx); err != nil || n != 1 || status(t, r.st, "5Bob", cd.ChallengeID) != "verified" {
			t.Fatalf("verification: %d %v", n, err)
		}
		got := []float64{r.m.Refused("commitment", "unknown challenge"), r.m.Refused("commitment", "refused"),
			r.m.Refused("proof", "shape"), r.m.Refused("proof", "unknown challenge")}
		if got[0] != 1 || got[1] != 1 || got[2] != 2 || got[3] != 1 {
			t.Fatalf("refusals counted %v, want [1 1 2 1]", got)
		}
	})
}

// TestGPUOutsideInventoryFails: a GPU commitment for a uuid the worker
// never reported fails the challenge, as the reference fails it.
func TestGPUOutsideInventoryFails(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, "sqlite", "gpu_matrix", nil, nil)
	r.beat(t, "5Bob", "w1", "GPU-real")
	if err := r.m.Issue(ctx); err != nil {
		t.Fatal(err)
	}
	chs := r.pull(t, "5Bob")
	if len(chs) != 1 {
		t.Fatalf("pulled %d", len(chs))
	}
	cd := computeproto.NewCommitmentData(chs[0].ChallengeID, "w1", []computeproto.Commitment{{UUID: "GPU-fake", MerkleRoot: "ab", SigVer: 1, SigVal: "00"}})
	if body, code := r.m.Handlers().Commitment(ctx, "5Bob", cd); code != 1 || !containsError(body, "inventory") {
		t.Fatalf("a GPU outside the inventory: %v %d", body, code)
	}
	if s := status(t, r.st, "5Bob", chs[0].ChallengeID); s != "failed" {
		t.Fatalf("status %s", s)
	}
}

func containsError(body any, s string) bool {
	m, ok := body.(map[string]any)
	if !ok {
		return false
	}
	e, _ := m["error"].(string)
	return e != "" && contains(e, s)
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestRestartResumesVerification: a validator killed with a proof queued,
// a challenge sent and one committed: after the restart the queued proof
// is verified (nothing is lost), the sent one fails when it expires and
// the committed one when it goes stale.
func TestRestartResumesVerification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		before := newRig(t, engine, "cpu_matrix", nil, nil)
		h := before.m.Handlers()
		for _, w := range []string{"wq", "ws", "wc"} {
			before.beat(t, "5Bob", w)
		}
		if err := before.m.Issue(ctx); err != nil {
			t.Fatal(err)
		}
		chs := before.pull(t, "5Bob")
		if len(chs) != 3 {
			t.Fatalf("pulled %d", len(chs))
		}
		ids := map[string]string{}
		for _, c := range chs {
			w := *c.TargetWorkerID
			ids[w] = c.ChallengeID
			if w == "ws" {
				continue // stays sent
			}
			cd, res := cpuCommit(t, c, w)
			resp, code := h.Commitment(ctx, "5Bob", cd)
			if code != 0 {
				t.Fatalf("commit: %v", resp)
			}
			if w == "wq" {
				if _, code := h.Proof(ctx, "5Bob", proofFor(t, c.ChallengeID, res, resp.(computeproto.CommitmentResponse).ProofRequests[0])); code != 0 {
					t.Fatal("proof refused")
				}
			}
		}
		// kill -9: the mechanism is gone, the store stays.
		after := newRig(t, engine, "cpu_matrix", before.st, before.clk)
		if n, err := after.m.VerifyQueued(ctx); err != nil || n != 1 {
			t.Fatalf("resumed %d, %v", n, err)
		}
		if s := status(t, after.st, "5Bob", ids["wq"]); s != "verified" {
			t.Fatalf("the queued proof: %s", s)
		}
		after.clk.Advance(2 * time.Minute)
		swept, err := after.st.SweepComputeChallenges(ctx, 3, 8*time.Minute, mechcompute.Stale)
		if err != nil || swept["expired"] != 1 || status(t, after.st, "5Bob", ids["ws"]) != "failed" {
			t.Fatalf("expiry: %v %v", swept, err)
		}
		after.clk.Advance(mechcompute.Stale)
		if swept, err := after.st.SweepComputeChallenges(ctx, 3, 8*time.Minute, mechcompute.Stale); err != nil || swept["stale"] != 1 ||
			status(t, after.st, "5Bob", ids["wc"]) != "failed" {
			t.Fatalf("stale: %v %v", swept, err)
		}
	})
}
