package compute_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/console"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/validator"
)

// BenchmarkCommitment: the commitment handler on SQLite: the challenge
// read, the checks, the targets drawn and the commitment stored.
func BenchmarkCommitment(b *testing.B) {
	r := newRig(b, "sqlite", "cpu_matrix", nil, nil)
	ctx := context.Background()
	r.st.RecordComputeHeartbeat(ctx, 3, "5Bob", "", []store.ComputeWorkerBeat{{WorkerID: "w1", Status: "online", Capabilities: []string{"cpu_matrix"}}}) //nolint:errcheck
	const n = 20000
	cs := make([]store.ComputeChallenge, n)
	for i := range cs {
		cs[i] = store.ComputeChallenge{Netuid: 3, ID: fmt.Sprintf("c%05d", i), Hotkey: "5Bob", WorkerID: "w1", Kind: "cpu_matrix",
			Data: []byte(`{"challenge_type":"cpu_matrix","matrix_size":2000,"seed":"00112233445566778899aabbccddeeff","iterations":1}`)}
	}
	if err := r.st.CreateComputeChallenges(ctx, cs); err != nil {
		b.Fatal(err)
	}
	if _, err := r.st.PullComputeChallenges(ctx, 3, "5Bob", 3600e9); err != nil {
		b.Fatal(err)
	}
	h := r.m.Handlers()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if i == n {
			b.Fatal("out of challenges")
		}
		cd := computeproto.NewCommitmentData(cs[i].ID, "w1", []computeproto.Commitment{{UUID: "-1", MerkleRoot: "b40a16fc2af23c2d31576f1cc250f27cf3a314a363b6053a4ba23b1e87b9ac3f"}})
		if body, code := h.Commitment(ctx, "5Bob", cd); code != 0 {
			b.Fatalf("commit: %v", body)
		}
		i++
	}
}

// BenchmarkWeightPassFromStore: a weight pass as the validator runs it, on
// SQLite, over 256 miners of 100 workers each with a GPU, with 169 hours
// of availability (rings with about 90 % of the buckets set) and verified
// challenges at the reference's cadence (one a worker every 240 s): the
// ranking window's newest round only (25,600 challenges), then all 45 of
// its 180 minutes (1.15 million); read, scored and stored.
func BenchmarkWeightPassFromStore(b *testing.B) {
	const miners, workers, rounds = 256, 100, 45
	r, mg, addRounds := benchFleet(b, miners, workers, rounds)
	ctx := context.Background()
	pass := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			scores, err := r.m.Scores(ctx, mg)
			if err != nil || len(scores) != miners {
				b.Fatalf("%d scores: %v", len(scores), err)
			}
		}
	}
	b.Run("round=1", func(b *testing.B) {
		addRounds(0, 1)
		pass(b)
	})
	b.Run("rounds=45", func(b *testing.B) {
		addRounds(1, rounds)
		pass(b)
	})
}

// benchFleet is a store of miners × workers, each worker with a GPU and
// 169 hours of availability, and addRounds, which adds verified challenge
// rounds from..to-1 back from the newest (of rounds), one a worker.
func benchFleet(b *testing.B, miners, workers, rounds int) (*rig, *subtensor.Metagraph, func(from, to int)) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	r := newRig(b, "sqlite", "gpu_matrix", nil, clk)
	ctx := context.Background()
	end := clk.Now().Add(time.Duration(rounds) * 240 * time.Second)
	mg := &subtensor.Metagraph{Netuid: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	var rings []store.ComputeRing
	newest := scoring.Bucket(end)
	hotkeys := make([]string, miners)
	clk.Set(end)
	for m := range miners {
		var acc subtensor.AccountID
		acc[0], acc[1] = byte(m>>8), byte(m)
		hk, err := keys.SS58Encode(acc[:], keys.SS58PrefixBittensor)
		if err != nil {
			b.Fatal(err)
		}
		hotkeys[m] = hk
		mg.Neurons = append(mg.Neurons, subtensor.Neuron{UID: uint16(m), Hotkey: acc})
		var beats []store.ComputeWorkerBeat
		for w := range workers {
			id := fmt.Sprintf("w%03d", w)
			beats = append(beats, store.ComputeWorkerBeat{WorkerID: id, Status: "online", Capabilities: []string{"gpu_matrix"},
				GPUs: []store.ComputeGPU{{UUID: fmt.Sprintf("GPU-%s-%s", hk, id), Model: "NVIDIA H100 80GB HBM3"}}})
			ring := store.BucketRing{Newest: newest}
			for i := range ring.Words {
				for bit := range 64 {
					if rng.IntN(10) != 0 {
						ring.Words[i] |= 1 << bit
					}
				}
			}
			rings = append(rings, store.ComputeRing{Hotkey: hk, Kind: store.RingWorker, Subject: id, Ring: ring},
				store.ComputeRing{Hotkey: hk, Kind: store.RingGPU, Subject: fmt.Sprintf("GPU-%s-%s", hk, id), Ring: ring})
		}
		if err := r.st.RecordComputeHeartbeat(ctx, 3, hk, "", beats); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.st.PutComputeRings(ctx, 3, rings); err != nil {
		b.Fatal(err)
	}
	// addRounds adds rounds from..to-1 back from the newest, verified.
	addRounds := func(from, to int) {
		for k := from; k < to; k++ {
			var cs []store.ComputeChallenge
			for m := range miners {
				for w := range workers {
					cs = append(cs, store.ComputeChallenge{Netuid: 3, ID: fmt.Sprintf("%d-%d-%d", k, m, w), Hotkey: hotkeys[m],
						WorkerID: fmt.Sprintf("w%03d", w), Kind: "gpu_matrix", Data: []byte(`{}`)})
				}
			}
			if err := r.st.CreateComputeChallenges(ctx, cs); err != nil {
				b.Fatal(err)
			}
			created := end.Add(-time.Duration(k)*240*time.Second - time.Minute).UTC()
			if _, err := r.st.DB().ExecContext(ctx, `UPDATE compute_challenges SET status = 'verified', is_success = TRUE, success_count = 1,
				computation_time_ms = 20000 + (rowid % 977) * 13.5, commitments = '{"GPU-' || hotkey || '-' || worker_id || '":"ab"}', created_at = ?
				WHERE status = 'created'`, created); err != nil {
				b.Fatal(err)
			}
		}
	}
	return r, mg, addRounds
}

// BenchmarkConsolePages serves the console's pages of a compute subnet of
// 256 miners × 100 workers (a weight pass run, three rounds of challenges
// with a failure each round for one miner in eight) through the console's
// handler: the subnet's page (256 miners, the 16 heaviest miners'
// availability over 169 hours, the latest outcomes), a miner's page (100
// workers with their availability), the weights page and the overview.
func BenchmarkConsolePages(b *testing.B) {
	const miners, workers = 256, 100
	r, mg, addRounds := benchFleet(b, miners, workers, 3)
	ctx := context.Background()
	addRounds(0, 3)
	if _, err := r.st.DB().ExecContext(ctx, `UPDATE compute_challenges SET status = 'failed', is_success = FALSE, verification_notes = 'row_hash mismatch'
		WHERE worker_id = 'w000' AND (rowid % 8) = 0`); err != nil {
		b.Fatal(err)
	}
	if _, err := r.m.Scores(ctx, mg); err != nil {
		b.Fatal(err)
	}
	for i := range mg.Neurons {
		mg.Neurons[i].Incentive = subtensor.Proportion(65535 / miners)
	}
	uids := make([]uint16, miners)
	ws := make([]uint16, miners)
	for i := range uids {
		uids[i], ws[i] = uint16(i), uint16(1000+i)
	}
	for k := range 64 {
		if err := r.st.RecordWeightSubmission(ctx, &store.WeightSubmission{Netuid: 3, Block: uint64(100 + 10*k), Mode: store.ModeSet,
			UIDs: uids, Weights: ws, Outcome: store.OutcomeIncluded}); err != nil {
			b.Fatal(err)
		}
	}
	health := api.NewHealth(time.Second)
	health.Register("database", r.st.Health)
	// The console's own clock moves on between requests, so each one
	// builds its page instead of reading the last one kept.
	cclk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	c, err := console.New(console.Options{Listen: "127.0.0.1:9100", Store: r.st, Health: health, Clock: cclk, Subnets: []console.Subnet{{Netuid: 3, Mechanism: r.m,
		Status: func() validator.Status { return validator.Status{Netuid: 3, Block: 800, Registered: true} }, Metagraph: func() *subtensor.Metagraph { return mg }}}})
	if err != nil {
		b.Fatal(err)
	}
	for range 40 {
		mg.Block++
		c.Sample()
	}
	mux := http.NewServeMux()
	c.Mount(func(p string, h http.Handler) { mux.Handle(p, h) })
	hk, _ := keys.SS58Encode(mg.Neurons[7].Hotkey[:], keys.SS58PrefixBittensor)
	for _, page := range []struct{ name, path string }{
		{"subnet", "/ui/subnet/3"}, {"miner", "/ui/subnet/3/miner/" + hk}, {"weights", "/ui/subnet/3/weights"}, {"overview", "/ui/"},
		{"subnet-json", "/ui/api/subnet/3"},
	} {
		b.Run(page.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				cclk.Advance(2 * time.Second)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest("GET", page.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", page.path, rec.Code, rec.Body)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size)/1024, "KiB/page")
		})
	}
}
