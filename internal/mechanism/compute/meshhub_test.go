package compute_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/mechanism"
	mechcompute "github.com/vigil-validator/vigil/internal/mechanism/compute"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/meshhub"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestMeshHubFeed: with meshhub.ws_url set, the mechanism keeps a session
// with the hub; published lease scores reach the store's workers (known
// ones only), a config update changes the settings in force, and
// heartbeats and resource reports carry the validator's miners.
func TestMeshHubFeed(t *testing.T) {
	sim := meshhub.NewSim("5Hub", "tok")
	srv := httptest.NewServer(sim)
	defer srv.Close()
	clk := clock.NewFake(time.Now().UTC())
	st := storetest.Open(t, "sqlite", clk)
	s := mechcompute.DefaultSettings()
	s.MeshHub.WSURL, s.MeshHub.AccessToken = "ws"+strings.TrimPrefix(srv.URL, "http"), "tok"
	s.MeshHub.HeartbeatIntervalSeconds, s.MeshHub.ResourceReportIntervalSeconds = 1, 5
	s.Validation.ChallengeType, s.Validation.CPU.MatrixSize, s.Validation.CPU.SizeVariance = "cpu_matrix", 100, 0
	var self subtensor.AccountID
	self[0] = 1
	m, err := mechcompute.New(s, mechanism.Deps{Netuid: 3, Store: st, Clock: clk, Self: self, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, clk: clk, m: m}
	r.beat(t, "5Bob", "w1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the session", func() bool { return sim.Sessions() == 1 })
	waitFor(t, "a resource report", func() bool { return len(sim.Messages(meshhub.TypeResourceReport)) > 0 })
	var report meshhub.ResourceReport
	_ = json.Unmarshal(sim.Messages(meshhub.TypeResourceReport)[0].Body, &report)
	if len(report.Miners) != 1 || report.Miners[0].Workers[0].WorkerKey != "5Bob:w1" {
		t.Fatalf("report %+v", report)
	}
	if err := sim.PublishLeases(ctx, []meshhub.WorkerScore{{WorkerKey: "5Bob:w1", Score: 0.6}, {WorkerKey: "5Ghost:w9", Score: 1}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lease stored", func() bool {
		var lease float64
		_ = st.DB().QueryRowContext(ctx, "SELECT lease_score FROM compute_workers WHERE worker_id = 'w1'").Scan(&lease)
		return lease == 0.6
	})
	if err := sim.Publish(ctx, meshhub.TypeConfigUpdate, map[string]any{"payload": map[string]any{"validation": map[string]any{"challenge_timeout": 90}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the update acknowledged", func() bool { return len(sim.Messages(meshhub.TypeAck)) == 2 })
	// The new timeout is what a pull now sends.
	if err := m.Issue(ctx); err != nil {
		t.Fatal(err)
	}
	if chs := r.pull(t, "5Bob"); len(chs) != 1 || chs[0].Timeout != 90 {
		t.Fatalf("after the update: %+v", chs)
	}
	// An invalid update is refused and changes nothing.
	_ = sim.Publish(ctx, meshhub.TypeConfigUpdate, map[string]any{"payload": map[string]any{"validation": map[string]any{"challenge_timeout": 9000}}})
	waitFor(t, "the refusal acknowledged", func() bool { return len(sim.Messages(meshhub.TypeAck)) == 3 })
	var ack meshhub.Ack
	_ = json.Unmarshal(sim.Messages(meshhub.TypeAck)[2].Body, &ack)
	if ack.Status != "failed" {
		t.Fatalf("an invalid update: %+v", ack)
	}
	var hb meshhub.Heartbeat
	_ = json.Unmarshal(sim.Messages(meshhub.TypeHeartbeat)[0].Body, &hb)
	if hb.Statistics.ActiveMiners != 1 {
		t.Fatalf("heartbeat %+v", hb)
	}
}
