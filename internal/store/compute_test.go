package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

func countRows(t *testing.T, s *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), s.Rebind(query), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestComputeHeartbeats: a heartbeat's miner, workers, GPUs, bucket and IP
// run; a second heartbeat in the bucket unions the GPUs; a changed IP
// starts a run, an empty one does not.
func TestComputeHeartbeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		s := storetest.Open(t, engine, clk)
		ctx := context.Background()
		beat := func(ip string, gpus ...store.ComputeGPU) {
			t.Helper()
			err := s.RecordComputeHeartbeat(ctx, 7, "5Miner", "v1", []store.ComputeWorkerBeat{
				{WorkerID: "w1", Name: "rig", Version: "0.0.3", Capabilities: []string{"cpu_matrix", "gpu_matrix"}, Status: "online",
					SystemInfo: json.RawMessage(`{"cpu_count":8}`), PublicIP: ip, GPUs: gpus},
				{WorkerID: "w2", Status: "busy"},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		beat("203.0.113.1", store.ComputeGPU{UUID: "GPU-a", Model: "RTX 4090"}, store.ComputeGPU{UUID: "-1"})
		clk.Advance(time.Minute)
		beat("203.0.113.1", store.ComputeGPU{UUID: "GPU-b", Model: "RTX 4090"})
		clk.Advance(time.Minute)
		beat("")
		clk.Advance(time.Minute)
		beat("203.0.113.2")
		if n := countRows(t, s, "SELECT COUNT(*) FROM compute_workers WHERE netuid = ? AND hotkey = ?", 7, "5Miner"); n != 2 {
			t.Fatalf("%d workers", n)
		}
		gpus, err := s.ComputeWorkerGPUs(ctx, 7, "5Miner", "w1")
		if err != nil || len(gpus) != 2 || gpus["GPU-a"] != "RTX 4090" {
			t.Fatalf("gpus %v %v", gpus, err)
		}
		var raw string
		if err := s.DB().QueryRowContext(ctx, s.Rebind("SELECT gpu_uuids FROM compute_heartbeat_buckets WHERE worker_id = ? AND bucket = ?"),
			"w1", store.ComputeBucket(t0)).Scan(&raw); err != nil || raw != `["GPU-a","GPU-b"]` {
			t.Fatalf("bucket gpus %s %v", raw, err)
		}
		if n := countRows(t, s, "SELECT COUNT(*) FROM compute_ip_runs WHERE worker_id = ?", "w1"); n != 2 {
			t.Fatalf("%d IP runs, want 2", n)
		}
		if n := countRows(t, s, "SELECT COUNT(*) FROM compute_ip_runs WHERE worker_id = ?", "w2"); n != 0 {
			t.Fatalf("runs for a worker without an IP: %d", n)
		}
		// Leases reach known workers only, in range.
		n, err := s.SetComputeLeases(ctx, 7, map[[2]string]float64{{"5Miner", "w1"}: 0.75, {"5Miner", "ghost"}: 1}, false)
		if err != nil || n != 1 {
			t.Fatalf("leases: %d %v", n, err)
		}
		if _, err := s.SetComputeLeases(ctx, 7, map[[2]string]float64{{"5Miner", "w1"}: 2}, false); err == nil {
			t.Fatal("a lease above 1 was stored")
		}
		lease := func(w string) float64 {
			var l float64
			if err := s.DB().QueryRowContext(ctx, s.Rebind("SELECT lease_score FROM compute_workers WHERE worker_id = ?"), w).Scan(&l); err != nil {
				t.Fatal(err)
			}
			return l
		}
		// A publication that omits w1 keeps its lease (the reference's
		// way), or, replacing, zeroes it (fixes.lease_publish_replaces).
		if _, err := s.SetComputeLeases(ctx, 7, map[[2]string]float64{{"5Miner", "w2"}: 0.5}, false); err != nil || lease("w1") != 0.75 || lease("w2") != 0.5 {
			t.Fatalf("a publication without w1: %v %v %v", lease("w1"), lease("w2"), err)
		}
		if _, err := s.SetComputeLeases(ctx, 7, map[[2]string]float64{{"5Miner", "w2"}: 0.25}, true); err != nil || lease("w1") != 0 || lease("w2") != 0.25 {
			t.Fatalf("a replacing publication without w1: %v %v %v", lease("w1"), lease("w2"), err)
		}
		// Every worker counts for the lease average, or only the recent
		// ones (fixes.lease_current_workers).
		all, err := s.ComputeScoringRows(ctx, 7, t0, time.Time{})
		if err != nil || all.WorkerCounts["5Miner"] != 2 || len(all.Workers) != 1 {
			t.Fatalf("scoring rows: %+v %v", all, err)
		}
		recent, err := s.ComputeScoringRows(ctx, 7, t0, clk.Now().Add(time.Second))
		if err != nil || recent.WorkerCounts["5Miner"] != 0 || len(recent.Workers) != 0 {
			t.Fatalf("scoring rows of workers heard from since a second from now: %+v %v", recent, err)
		}
	})
}

// TestComputeChallengeStates: created → sent (with expiry) → committed →
// verifying → verified, each step only from its state; the sweeps fail
// expired, never-pulled and stale challenges; the worker's statistics.
func TestComputeChallengeStates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		s := storetest.Open(t, engine, clk)
		ctx := context.Background()
		if err := s.RecordComputeHeartbeat(ctx, 7, "5M", "", []store.ComputeWorkerBeat{{WorkerID: "w1", Status: "online"}}); err != nil {
			t.Fatal(err)
		}
		data := json.RawMessage(`{"challenge_type":"cpu_matrix","matrix_size":100,"seed":"00112233445566778899aabbccddeeff","iterations":1}`)
		mk := func(id string) store.ComputeChallenge {
			return store.ComputeChallenge{Netuid: 7, ID: id, Hotkey: "5M", WorkerID: "w1", Kind: "cpu_matrix", Data: data}
		}
		if err := s.CreateComputeChallenges(ctx, []store.ComputeChallenge{mk("c1"), mk("c2"), mk("c3")}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateComputeChallenges(ctx, []store.ComputeChallenge{mk("c1")}); err == nil {
			t.Fatal("a challenge id was stored twice")
		}
		clk.Advance(time.Second)
		pulled, err := s.PullComputeChallenges(ctx, 7, "5M", time.Minute)
		if err != nil || len(pulled) != 3 || pulled[0].Status != "sent" || !pulled[0].ExpiresAt.Equal(t0.Add(time.Second+time.Minute)) {
			t.Fatalf("pull: %+v %v", pulled, err)
		}
		if again, err := s.PullComputeChallenges(ctx, 7, "5M", time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("a second pull: %d %v", len(again), err)
		}
		if _, err := s.GetComputeChallenge(ctx, 7, "c1", "5Other"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another miner's challenge: %v", err)
		}
		ms := 1234.5
		if err := s.CommitComputeChallenge(ctx, 7, "c1", map[string]string{"-1": "ab"}, json.RawMessage(`{"rows":[1,2]}`), &ms); err != nil {
			t.Fatal(err)
		}
		if err := s.CommitComputeChallenge(ctx, 7, "c1", map[string]string{"-1": "cd"}, nil, &ms); !errors.Is(err, store.ErrComputeState) {
			t.Fatalf("a second commitment: %v", err)
		}
		if err := s.QueueComputeProof(ctx, 7, "c2", json.RawMessage(`{}`), nil); !errors.Is(err, store.ErrComputeState) {
			t.Fatalf("a proof before the commitment: %v", err)
		}
		if err := s.QueueComputeProof(ctx, 7, "c1", json.RawMessage(`{"challenge_id":"c1","proofs":[]}`), json.RawMessage(`{"timestamps":{}}`)); err != nil {
			t.Fatal(err)
		}
		queue, err := s.ComputeVerifications(ctx, 7, 10)
		if err != nil || len(queue) != 1 || string(queue[0].Proof) != `{"challenge_id":"c1","proofs":[]}` || queue[0].Commitments["-1"] != "ab" ||
			*queue[0].ComputationTimeMS != 1234.5 || string(queue[0].Targets) != `{"rows":[1,2]}` {
			t.Fatalf("queue: %+v %v", queue, err)
		}
		if err := s.FinishComputeVerification(ctx, 7, "c1", true, 1, "", 3*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		c1, err := s.GetComputeChallenge(ctx, 7, "c1", "5M")
		if err != nil || c1.Status != "verified" || !c1.IsSuccess || c1.Proof != nil || c1.SuccessCount != 1 {
			t.Fatalf("verified: %+v %v", c1, err)
		}
		var done int
		var avg float64
		if err := s.DB().QueryRowContext(ctx, s.Rebind("SELECT tasks_completed, avg_task_time_ms FROM compute_workers WHERE worker_id = ?"), "w1").Scan(&done, &avg); err != nil || done != 1 || avg != 1234.5 {
			t.Fatalf("stats: %d %v %v", done, avg, err)
		}
		// c2 expires; c3 is committed and goes stale; c4 is never pulled.
		if err := s.CommitComputeChallenge(ctx, 7, "c3", map[string]string{"-1": "ef"}, json.RawMessage(`{}`), nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateComputeChallenges(ctx, []store.ComputeChallenge{mk("c4")}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Hour)
		swept, err := s.SweepComputeChallenges(ctx, 7, time.Hour, time.Hour)
		if err != nil || swept["expired"] != 1 || swept["stale"] != 1 || swept["never pulled"] != 1 {
			t.Fatalf("sweep: %v %v", swept, err)
		}
		if err := s.FailComputeChallenge(ctx, 7, "c1", "late"); !errors.Is(err, store.ErrComputeState) {
			t.Fatalf("failing a verified challenge: %v", err)
		}
		// The tally: one worker heard from, c1 verified, three failed.
		tallies, err := s.ComputeMinerTallies(ctx, 7, t0)
		if want := (store.ComputeMinerTally{Workers: 1, Verified: 1, Failed: 3, MeanMS: 1234.5}); err != nil || len(tallies) != 1 || tallies["5M"] != want {
			t.Fatalf("tallies %+v %v", tallies, err)
		}
		if tallies, err := s.ComputeMinerTallies(ctx, 7, t0.Add(3*time.Hour)); err != nil || len(tallies) != 0 {
			t.Fatalf("tallies after everything: %+v %v", tallies, err)
		}
		if at, _, err := s.LatestComputeWeightPass(ctx, 7); err != nil || !at.IsZero() {
			t.Fatalf("no pass yet: %v %v", at, err)
		}
		for _, p := range []string{`[{"Hotkey":"5M","Weight":1}]`, `[{"Hotkey":"5M","Weight":0.5}]`} {
			if err := s.SaveComputeWeightPass(ctx, 7, json.RawMessage(p)); err != nil {
				t.Fatal(err)
			}
		}
		if at, miners, err := s.LatestComputeWeightPass(ctx, 7); err != nil || !at.Equal(clk.Now()) || string(miners) != `[{"Hotkey":"5M","Weight":0.5}]` {
			t.Fatalf("the latest pass: %v %s %v", at, miners, err)
		}
	})
}

// TestComputePrune: what the availability window and the retention no
// longer cover goes, in every table; the rest stays.
func TestComputePrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		s := storetest.Open(t, engine, clk)
		ctx := context.Background()
		beat := func(worker, ip string, gpus ...string) {
			t.Helper()
			w := store.ComputeWorkerBeat{WorkerID: worker, Status: "online", PublicIP: ip}
			for _, g := range gpus {
				w.GPUs = append(w.GPUs, store.ComputeGPU{UUID: g})
			}
			if err := s.RecordComputeHeartbeat(ctx, 7, "5M", "", []store.ComputeWorkerBeat{w}); err != nil {
				t.Fatal(err)
			}
		}
		beat("old", "203.0.113.1", "GPU-old")
		beat("kept", "203.0.113.2", "GPU-kept")
		if err := s.CreateComputeChallenges(ctx, []store.ComputeChallenge{{Netuid: 7, ID: "c-old", Hotkey: "5M", WorkerID: "old", Kind: "cpu_matrix", Data: json.RawMessage(`{}`)},
			{Netuid: 7, ID: "c-open", Hotkey: "5M", WorkerID: "old", Kind: "cpu_matrix", Data: json.RawMessage(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.FailComputeChallenge(ctx, 7, "c-old", "expired"); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveComputeWeightPass(ctx, 7, json.RawMessage(`[]`)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(8 * 24 * time.Hour)
		beat("kept", "203.0.113.2", "GPU-kept")
		now := clk.Now()
		n, err := s.PruneCompute(ctx, 7, store.ComputeRetention{AvailabilityStart: now.Add(-169 * time.Hour), Before: now.Add(-7 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"compute_heartbeat_buckets": 2, "compute_availability": 2, "compute_ip_runs": 1, "compute_challenges": 1, "compute_weight_passes": 1}
		for table, w := range want {
			if n[table] != w {
				t.Errorf("%s: %d pruned, want %d (%v)", table, n[table], w, n)
			}
		}
		for query, w := range map[string]int{
			"SELECT COUNT(*) FROM compute_heartbeat_buckets":                        1,
			"SELECT COUNT(*) FROM compute_availability WHERE subject LIKE '%kept'":  2,
			"SELECT COUNT(*) FROM compute_availability":                             2,
			"SELECT COUNT(*) FROM compute_ip_runs":                                  1,
			"SELECT COUNT(*) FROM compute_challenges WHERE challenge_id = 'c-open'": 1,
			"SELECT COUNT(*) FROM compute_challenges":                               1,
			"SELECT COUNT(*) FROM compute_weight_passes":                            0,
		} {
			if got := countRows(t, s, query); got != w {
				t.Errorf("%s: %d, want %d", query, got, w)
			}
		}
	})
}

// TestComputeOwnersOldestFirst: a pass reads the GPU reports of its window
// oldest first, so that the latest reporter of a uuid owns it.
func TestComputeOwnersOldestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		s := storetest.Open(t, engine, clk)
		ctx := context.Background()
		for _, hk := range []string{"5B", "5A", "5C"} {
			clk.Advance(time.Minute)
			w := store.ComputeWorkerBeat{WorkerID: "w", Status: "online", GPUs: []store.ComputeGPU{{UUID: "GPU-1"}}}
			if err := s.RecordComputeHeartbeat(ctx, 7, hk, "", []store.ComputeWorkerBeat{w}); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := s.ComputeScoringRows(ctx, 7, t0.Add(90*time.Second), t0)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(rows.Owners); got != "[{GPU-1 5A} {GPU-1 5C}]" {
			t.Errorf("owners %s, want 5A then 5C (5B's report is before the window)", got)
		}
	})
}

// TestComputeImport: an import merges its availability rings with the
// subnet's (a bucket set in either stays set, however far apart their
// newest buckets), keeps rows already present and counts only what it
// wrote, and a rolled-back import leaves nothing.
func TestComputeImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		s := storetest.Open(t, engine, clock.NewFake(t0))
		ctx := context.Background()
		ring := func(bs ...int64) store.BucketRing {
			var r store.BucketRing
			for _, b := range bs {
				r.Add(b)
			}
			return r
		}
		base := store.ComputeBucket(t0)
		put := func(r store.BucketRing, commit bool) int64 {
			t.Helper()
			im, err := s.BeginComputeImport(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Rollback()
			n, err := im.Rings(ctx, []store.ComputeRing{{Hotkey: "5M", Kind: store.RingWorker, Subject: "w", Ring: r}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := im.Miners(ctx, []store.ImportedMiner{{Hotkey: "5M", FirstSeen: t0, LastHeartbeat: t0}}); err != nil {
				t.Fatal(err)
			}
			if commit {
				if err := im.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		if n := put(ring(base-5, base-3), false); n != 1 || countRows(t, s, "SELECT COUNT(*) FROM compute_availability") != 0 ||
			countRows(t, s, "SELECT COUNT(*) FROM compute_miners") != 0 {
			t.Fatalf("a rolled-back import wrote %d rings and left rows", n)
		}
		put(ring(base-5, base-3), true)
		if n := put(ring(base-5), true); n != 0 {
			t.Errorf("a ring already covered was written again (%d)", n)
		}
		put(ring(base-2040, base+10), true)
		rows, err := s.ComputeMinerActivity(ctx, 3, "5M", t0.Add(-169*time.Hour))
		if err != nil || len(rows.Rings) != 1 {
			t.Fatalf("rings %+v, %v", rows.Rings, err)
		}
		r := rows.Rings[0].Ring
		for _, b := range []int64{base - 5, base - 3, base + 10} {
			if !r.Has(b) {
				t.Errorf("bucket %d lost in the merge", b-base)
			}
		}
		if r.Has(base-2040) || r.Has(base-4) || r.Newest != base+10 {
			t.Errorf("merged ring: newest %d, old bucket %v", r.Newest-base, r.Has(base-2040))
		}
		// On SQLite the import drops the index of bucket rows by bucket and
		// builds it again at its commit: after a commit and after a
		// rollback alike, it is there.
		if engine == "sqlite" {
			const q = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'compute_heartbeat_buckets_bucket'"
			if n := countRows(t, s, q); n != 1 {
				t.Errorf("after imports: %d bucket indexes", n)
			}
			im, err := s.BeginComputeImport(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := im.Buckets(ctx, []store.ComputeBucketRow{{Hotkey: "5M", WorkerID: "w", Bucket: base, LatestAt: t0}}); err != nil {
				t.Fatal(err)
			}
			im.Rollback()
			if n := countRows(t, s, q); n != 1 || countRows(t, s, "SELECT COUNT(*) FROM compute_heartbeat_buckets") != 0 {
				t.Errorf("after a rollback: %d bucket indexes", n)
			}
		}
	})
}
