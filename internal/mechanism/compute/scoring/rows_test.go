package scoring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestPassFromTheStore: heartbeats and verified challenges recorded in the
// store, over a week and across the window's edge, score exactly as the
// same heartbeats fed one by one into an in-memory history.
func TestPassFromTheStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		start := time.Date(2026, 11, 1, 0, 3, 17, 0, time.UTC)
		clk := clock.NewFake(start)
		s := storetest.Open(t, engine, clk)
		ctx := context.Background()
		mem := scoring.NewActivity()
		ips := []string{"203.0.113.1", "203.0.113.1", "", "203.0.113.2"}
		now := start.Add(170*time.Hour + 90*time.Second)
		var cs []store.ComputeChallenge
		var created time.Time
		step := 0
		// 170 hours of heartbeats every 10 minutes: two workers of one miner,
		// one reporting two GPUs, the other changing its IP; 60 challenges
		// created within the ranking window.
		for at := start; at.Before(start.Add(170 * time.Hour)); at = at.Add(10 * time.Minute) {
			clk.Set(at)
			if cs == nil && !at.Before(now.Add(-170*time.Minute)) {
				for i := range 30 {
					for _, w := range []string{"gpu", "cpu"} {
						cs = append(cs, store.ComputeChallenge{Netuid: 9, ID: fmt.Sprintf("%s-%d", w, i), Hotkey: "5M", WorkerID: w, Kind: "cpu_matrix", Data: json.RawMessage(`{}`)})
					}
				}
				if err := s.CreateComputeChallenges(ctx, cs); err != nil {
					t.Fatal(err)
				}
				if _, err := s.PullComputeChallenges(ctx, 9, "5M", time.Hour); err != nil {
					t.Fatal(err)
				}
				created = at
			}
			ip := ips[(step/200)%len(ips)]
			step++
			beats := []store.ComputeWorkerBeat{
				{WorkerID: "gpu", Status: "online", GPUs: []store.ComputeGPU{{UUID: "GPU-1"}, {UUID: "GPU-2"}}},
				{WorkerID: "cpu", Status: "online", PublicIP: ip},
			}
			if err := s.RecordComputeHeartbeat(ctx, 9, "5M", "", beats); err != nil {
				t.Fatal(err)
			}
			mem.Add(scoring.WorkerKey{Hotkey: "5M", WorkerID: "gpu"}, at, "", []string{"GPU-1", "GPU-2"})
			mem.Add(scoring.WorkerKey{Hotkey: "5M", WorkerID: "cpu"}, at, ip, nil)
		}
		var want []scoring.Challenge
		for i, c := range cs {
			ms := 900 + float64(i)*7.5
			units := map[string]string{"-1": "ab"}
			gpus := []string{"-1"}
			if c.WorkerID == "gpu" {
				units, gpus = map[string]string{"GPU-1": "ab", "GPU-2": "cd"}, []string{"GPU-1", "GPU-2"}
			}
			if err := s.CommitComputeChallenge(ctx, 9, c.ID, units, json.RawMessage(`{}`), &ms); err != nil {
				t.Fatal(err)
			}
			if err := s.QueueComputeProof(ctx, 9, c.ID, json.RawMessage(`{}`), nil); err != nil {
				t.Fatal(err)
			}
			n := len(gpus)
			if c.WorkerID == "cpu" {
				n = 1
			}
			if err := s.FinishComputeVerification(ctx, 9, c.ID, true, n, "", time.Millisecond); err != nil {
				t.Fatal(err)
			}
			want = append(want, scoring.Challenge{Worker: scoring.WorkerKey{Hotkey: "5M", WorkerID: c.WorkerID}, CreatedAt: created,
				IsSuccess: true, VerificationResult: true, ComputationTimeMS: &ms, SuccessCount: n, GPUs: gpus})
		}
		cfg := scoring.DefaultConfig()
		rows, err := s.ComputeScoringRows(ctx, 9, now.Add(-cfg.RankingWindow), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		pass := func() scoring.Result {
			in := scoring.FromRows(cfg, now, rows, map[string]uint16{"5M": 3}, func(hotkey string) *scoring.Activity {
				rows, err := s.ComputeMinerActivity(ctx, 9, hotkey, now.Add(-time.Duration(cfg.AvailabilityHours)*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				return scoring.MinerActivity(cfg, now, rows)
			})
			if err := s.ComputeScoredChallenges(ctx, 9, now.Add(-cfg.RankingWindow), in.Tallies.AddRow); err != nil {
				t.Fatal(err)
			}
			return scoring.Score(cfg, in)
		}
		got := pass()
		// A database from before the rings gets them from its bucket rows,
		// and scores the same.
		if _, err := s.DB().ExecContext(ctx, "DELETE FROM compute_availability"); err != nil {
			t.Fatal(err)
		}
		if n, err := s.RebuildComputeAvailability(ctx, 9); err != nil || n != 4 {
			t.Fatalf("rebuilt %d rings: %v", n, err)
		}
		if n, err := s.RebuildComputeAvailability(ctx, 9); err != nil || n != 0 {
			t.Fatalf("rebuilt again: %d %v", n, err)
		}
		if again := pass(); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Errorf("rebuilt rings: %+v, want %+v", again, got)
		}
		exact := scoring.Score(cfg, scoring.Input{Now: now, Challenges: want, Activity: mem,
			Owners: []scoring.GPUOwner{{UUID: "GPU-1", Hotkey: "5M", LastSeen: now}, {UUID: "GPU-2", Hotkey: "5M", LastSeen: now}},
			Miners: []scoring.Miner{{Hotkey: "5M", UID: 3, Online: true, Leases: []float64{0, 0}}}})
		if len(got.Miners) != 1 || len(got.Miners[0].Workers) != 2 {
			t.Fatalf("from the store: %+v", got)
		}
		for i, w := range got.Miners[0].Workers {
			e := exact.Miners[0].Workers[i]
			if w.Availability != e.Availability || w.Successes != e.Successes || w.AvgTimeMS != e.AvgTimeMS {
				t.Errorf("%s: from the store %+v, in memory %+v", w.Key.WorkerID, w, e)
			}
			if w.Availability <= 0 || w.Availability >= 1 {
				t.Errorf("%s: availability %v", w.Key.WorkerID, w.Availability)
			}
		}
	})
}
