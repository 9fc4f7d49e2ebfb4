package phases

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

var t0 = time.Unix(1_765_000_000, 0)

func cpuChallenge() Challenge {
	return Challenge{ID: "c1", Hotkey: "5M", WorkerID: "w1", Kind: computeproto.ChallengeCPUMatrix, SeedHex: "00112233445566778899aabbccddeeff",
		Size: 140, Iterations: 2, Status: Sent, SentAt: t0}
}

func cpuWork(t *testing.T, ch Challenge) (*compute.CPUResult, computeproto.CommitmentData) {
	t.Helper()
	seed, _ := hex.DecodeString(ch.SeedHex)
	r, err := compute.ComputeCPU(seed, ch.Size, ch.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	return r, computeproto.NewCommitmentData(ch.ID, ch.WorkerID, []computeproto.Commitment{{UUID: "-1", MerkleRoot: r.Root(), SigVer: 0}})
}

func proofData(id string, resp ...computeproto.ProofResponse) computeproto.ProofData {
	return computeproto.NewProofData(id, resp)
}

func merkle(ps []challenge.Proof) []computeproto.MerkleProof { return compute.MerkleProofs(ps) }

func TestCPUChallengePhases(t *testing.T) {
	ch := cpuChallenge()
	r, cd := cpuWork(t, ch)
	s := challenge.DefaultSampling()
	now := t0.Add(1500 * time.Millisecond)
	out := Commit(ch, cd, nil, nil, s, now)
	if out.Code != CodeOK || out.Fail || out.Roots["-1"] != r.Root() || *out.ComputationTimeMS != 1500 ||
		len(out.ProofRequests) != 1 || len(out.Rows) < 25 || !slices.IsSorted(out.Rows) {
		t.Fatalf("commit: %+v", out)
	}
	ch.Status, ch.Roots, ch.Rows = Committed, out.Roots, out.Rows
	p, err := r.Prove(ch.Rows)
	if err != nil {
		t.Fatal(err)
	}
	pd := proofData(ch.ID, computeproto.ProofResponse{UUID: "-1", RowHashes: p.RowHashes, MerkleProofs: merkle(p.Proofs), CoordinateValues: []computeproto.PyFloat{}})
	if err := CheckProofs(ch, pd); err != nil {
		t.Fatal(err)
	}
	ch.Status = Verifying
	if o := Verify(ch, pd, challenge.DefaultTolerance(), false); !o.Passed || o.SuccessCount != 1 {
		t.Fatalf("verify: %+v", o)
	}
	pd.Proofs[0].RowHashes[0] = strings.Repeat("0", 16)
	if o := Verify(ch, pd, challenge.DefaultTolerance(), false); o.Passed || o.Verdicts[0].Rule != challenge.RuleMerkle {
		t.Fatalf("a tampered proof: %+v", o)
	}

	// Refusals that leave the challenge as it was, and failures.
	cases := []struct {
		name  string
		ch    func(Challenge) Challenge
		cd    func(computeproto.CommitmentData) computeproto.CommitmentData
		fail  bool
		error string
	}{
		{"already committed", func(c Challenge) Challenge { c.Status = Committed; return c }, nil, false, "already processed"},
		{"another worker", nil, func(d computeproto.CommitmentData) computeproto.CommitmentData { d.WorkerID = "w2"; return d }, false, "Worker ID mismatch"},
		{"no commitments", nil, func(d computeproto.CommitmentData) computeproto.CommitmentData { d.Commitments = nil; return d }, false, "Missing"},
		{"no CPU commitment", nil, func(d computeproto.CommitmentData) computeproto.CommitmentData {
			d.Commitments = []computeproto.Commitment{{UUID: "GPU-x", MerkleRoot: "ab", SigVer: 1, SigVal: "00"}}
			return d
		}, true, "no CPU commitment"},
	}
	for _, c := range cases {
		x, d := cpuChallenge(), cd
		if c.ch != nil {
			x = c.ch(x)
		}
		if c.cd != nil {
			d = c.cd(d)
		}
		o := Commit(x, d, nil, nil, s, now)
		if o.Code != CodeError || o.Fail != c.fail || !strings.Contains(o.Error, c.error) {
			t.Errorf("%s: %+v", c.name, o)
		}
	}
}

func TestGPUChallengePhases(t *testing.T) {
	key, _ := compute.GenerateSigningKey()
	backend, err := compute.NewCPUBackend(key, 2, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ch := Challenge{ID: "g1", Hotkey: "5M", WorkerID: "w1", Kind: computeproto.ChallengeGPUMatrix, SeedHex: "0123456789abcdef0123456789abcdef",
		Size: 48, Iterations: 1, Status: Sent, SentAt: t0}
	results, err := backend.Submit(ctx, compute.Task{SeedHex: ch.SeedHex, Size: ch.Size, Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	var cms []computeproto.Commitment
	inventory := map[string]bool{}
	for _, r := range results {
		cms = append(cms, computeproto.Commitment{UUID: r.UUID, MerkleRoot: r.MerkleRoot, SigVer: int64(r.SigVer), SigVal: r.SigVal})
		inventory[r.UUID] = true
	}
	cd := computeproto.NewCommitmentData(ch.ID, ch.WorkerID, cms)
	trusted := challenge.TrustedKeys{&key.PublicKey}
	out := Commit(ch, cd, inventory, trusted, challenge.DefaultSampling(), t0.Add(time.Second))
	if out.Code != CodeOK || len(out.Roots) != 2 || len(out.ProofRequests) != 2 || len(out.Cells) < 20 {
		t.Fatalf("commit: %+v", out)
	}
	ch.Status, ch.Roots, ch.Rows, ch.Cells = Committed, out.Roots, out.Rows, out.Cells
	var resp []computeproto.ProofResponse
	for i, r := range results {
		c, err := compute.Commit(r)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Prove(ctx, backend, ch.Cells, ch.Rows)
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]computeproto.PyFloat, len(p.Values))
		for j, v := range p.Values {
			vals[j] = computeproto.PyFloat(v)
			if i == 1 {
				vals[j] += 1 // the second GPU's values are all wrong
			}
		}
		resp = append(resp, computeproto.ProofResponse{UUID: r.UUID, RowHashes: p.RowHashes, MerkleProofs: merkle(p.Proofs), CoordinateValues: vals})
	}
	pd := proofData(ch.ID, resp...)
	if err := CheckProofs(ch, pd); err != nil {
		t.Fatal(err)
	}
	if o := Verify(ch, pd, challenge.DefaultTolerance(), false); !o.Passed || o.SuccessCount != 1 || len(o.Verdicts) != 2 {
		t.Fatalf("one GPU of two: %+v", o)
	}
	if o := Verify(ch, pd, challenge.DefaultTolerance(), true); o.Passed || o.SuccessCount != 1 {
		t.Fatalf("one GPU of two, with every GPU required: %+v", o)
	}
	// Structure: a proof missing, one extra, one doubled, one without values.
	for name, bad := range map[string][]computeproto.ProofResponse{
		"missing":   resp[:1],
		"extra":     append(slices.Clone(resp), computeproto.ProofResponse{UUID: "GPU-other", RowHashes: []string{"ab"}, MerkleProofs: resp[0].MerkleProofs, CoordinateValues: vals1()}),
		"doubled":   {resp[0], resp[0]},
		"no values": {resp[0], {UUID: resp[1].UUID, RowHashes: resp[1].RowHashes, MerkleProofs: resp[1].MerkleProofs}},
	} {
		if err := CheckProofs(ch, proofData(ch.ID, bad...)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	// Commitment refusals.
	fresh := ch
	fresh.Status, fresh.Roots = Sent, nil
	if o := Commit(fresh, cd, map[string]bool{results[0].UUID: true}, trusted, challenge.DefaultSampling(), t0); !o.Fail || !strings.Contains(o.Error, "inventory") {
		t.Errorf("a GPU outside the inventory: %+v", o)
	}
	other, _ := compute.GenerateSigningKey()
	if o := Commit(fresh, cd, inventory, challenge.TrustedKeys{&other.PublicKey}, challenge.DefaultSampling(), t0); !o.Fail || !strings.Contains(o.Error, "signature") {
		t.Errorf("an untrusted signature: %+v", o)
	}
	unsigned := cd
	unsigned.Commitments = []computeproto.Commitment{{UUID: results[0].UUID, MerkleRoot: results[0].MerkleRoot, SigVer: 1}}
	if o := Commit(fresh, unsigned, inventory, trusted, challenge.DefaultSampling(), t0); o.Fail || !strings.Contains(o.Error, "missing signature") {
		t.Errorf("no signature: %+v", o)
	}
	cpuOnly := cd
	cpuOnly.Commitments = []computeproto.Commitment{{UUID: "-1", MerkleRoot: results[0].MerkleRoot}}
	if o := Commit(fresh, cpuOnly, inventory, trusted, challenge.DefaultSampling(), t0); !o.Fail || !strings.Contains(o.Error, "no GPU commitment") {
		t.Errorf("a GPU challenge with only the CPU's commitment: %+v", o)
	}
}

func vals1() []computeproto.PyFloat { return []computeproto.PyFloat{1} }

func TestEligible(t *testing.T) {
	cpu, gpu := []string{"cpu_matrix"}, []string{"cpu_matrix", "gpu_matrix"}
	ws := []Worker{
		{WorkerID: "ok", Online: true, LastHeartbeat: t0, Capabilities: gpu, GPUModels: []string{"NVIDIA GeForce RTX 4090"}},
		{WorkerID: "offline", Online: false, LastHeartbeat: t0, Capabilities: gpu, GPUModels: []string{"H100 80GB HBM3"}},
		{WorkerID: "leased", Online: true, LastHeartbeat: t0, Capabilities: gpu, LeaseScore: 0.5, GPUModels: []string{"H100 80GB HBM3"}},
		{WorkerID: "pending", Online: true, LastHeartbeat: t0, Capabilities: gpu, Pending: true, GPUModels: []string{"H100 80GB HBM3"}},
		{WorkerID: "cpu-only", Online: true, LastHeartbeat: t0, Capabilities: cpu},
		{WorkerID: "t4", Online: true, LastHeartbeat: t0, Capabilities: gpu, GPUModels: []string{"Tesla T4"}},
		{WorkerID: "deleted", Online: true, Deleted: true, LastHeartbeat: t0, Capabilities: gpu, GPUModels: []string{"H200"}},
	}
	names := func(ws []Worker) (out []string) {
		for _, w := range ws {
			out = append(out, w.WorkerID)
		}
		return out
	}
	allow := []string{"RTX 4090", "h100 80gb"}
	if got := names(Eligible(ws, "gpu_matrix", allow)); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("gpu: %v", got)
	}
	if got := names(Eligible(ws, "gpu_matrix", nil)); !slices.Equal(got, []string{"ok", "t4"}) {
		t.Fatalf("gpu, no allowlist: %v", got)
	}
	if got := names(Eligible(ws, "cpu_matrix", allow)); !slices.Equal(got, []string{"ok", "cpu-only", "t4"}) {
		t.Fatalf("cpu: %v", got)
	}
	// Only the 100 heard from last are considered.
	var many []Worker
	for i := range 150 {
		many = append(many, Worker{WorkerID: string(rune('a' + i%26)), Online: true, LastHeartbeat: t0.Add(time.Duration(i) * time.Second), Capabilities: cpu})
	}
	if got := Eligible(many, "cpu_matrix", nil); len(got) != 100 || !got[0].LastHeartbeat.Equal(t0.Add(149*time.Second)) {
		t.Fatalf("%d eligible, first %v", len(got), got[0].LastHeartbeat)
	}
}

func TestNewChallengeData(t *testing.T) {
	for _, kind := range []string{"cpu_matrix", "gpu_matrix"} {
		shape := DefaultCPUShape
		if kind == "gpu_matrix" {
			shape = DefaultGPUShape
		}
		d, err := NewChallengeData(kind, shape)
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := hex.DecodeString(d.Seed)
		var want int
		if kind == "gpu_matrix" {
			want, _ = challenge.GPUSize(seed, shape.MatrixSize, shape.SizeVariance)
			if *d.Mode != 0 || *d.TargetGPUID != -1 || d.MatrixSize < 31129 || d.MatrixSize > 34406 {
				t.Fatalf("gpu: %+v", d)
			}
		} else {
			want, _ = challenge.CPUSize(seed, shape.MatrixSize, shape.SizeVariance)
			if d.MatrixSize < 1800 || d.MatrixSize > 2200 {
				t.Fatalf("cpu: %+v", d)
			}
		}
		if len(d.Seed) != 32 || int(d.MatrixSize) != want || d.Validate() != nil {
			t.Fatalf("%s: %+v (%v)", kind, d, d.Validate())
		}
	}
}
