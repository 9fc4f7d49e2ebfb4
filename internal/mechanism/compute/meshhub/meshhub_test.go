package meshhub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu      sync.Mutex
	leases  [][]Lease
	configs []map[string]json.RawMessage
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, token string, resources func() []ResourceMiner) (*Sim, *Client, *recorder) {
	t.Helper()
	sim := NewSim("5HubHotkey", "t0ken")
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	cfg := DefaultConfig()
	cfg.URL, cfg.ValidatorHotkey, cfg.AccessToken = "ws"+strings.TrimPrefix(srv.URL, "http"), "5Validator", token
	cfg.HeartbeatInterval, cfg.ReportInterval, cfg.ReconnectDelay = 50*time.Millisecond, 5*time.Second, 50*time.Millisecond
	c := New(cfg, Handlers{
		Leases: func(_ context.Context, l []Lease) error {
			rec.mu.Lock()
			rec.leases = append(rec.leases, l)
			rec.mu.Unlock()
			return nil
		},
		Config: func(_ context.Context, r map[string]json.RawMessage) error {
			rec.mu.Lock()
			rec.configs = append(rec.configs, r)
			rec.mu.Unlock()
			return nil
		},
		Stats:     func() Statistics { return Statistics{ActiveMiners: 3, ActiveWorkers: 7} },
		Resources: func(context.Context) []ResourceMiner { return resources() },
	}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return sim, c, rec
}

func workers(n int, lease float64) []ResourceMiner {
	var ws []ResourceWorker
	for i := range n {
		ws = append(ws, ResourceWorker{WorkerKey: fmt.Sprintf("5M:w%d", i), WorkerID: fmt.Sprintf("w%d", i), Status: "online", LeaseScore: lease})
	}
	return []ResourceMiner{{Hotkey: "5M", Status: "ACTIVE", Workers: ws}}
}

// TestSessionAndMessages: the encrypted session both ways; heartbeats;
// the first report full and chunked by 50 workers; leases and config
// updates reach the validator, range- and root-checked, each acknowledged.
func TestSessionAndMessages(t *testing.T) {
	var mu sync.Mutex
	lease := 0.0
	sim, c, rec := start(t, "t0ken", func() []ResourceMiner { mu.Lock(); defer mu.Unlock(); return workers(120, lease) })
	waitFor(t, "the session", func() bool { return sim.Sessions() == 1 && c.Connected() })
	waitFor(t, "heartbeats", func() bool { return len(sim.Messages(TypeHeartbeat)) >= 2 })
	var hb Heartbeat
	if err := json.Unmarshal(sim.Messages(TypeHeartbeat)[0].Body, &hb); err != nil || hb.Statistics.ActiveWorkers != 7 {
		t.Fatalf("heartbeat %+v %v", hb, err)
	}
	waitFor(t, "the full report", func() bool { return len(sim.Messages(TypeResourceReport)) == 3 })
	total := 0
	for _, m := range sim.Messages(TypeResourceReport) {
		var r ResourceReport
		if err := json.Unmarshal(m.Body, &r); err != nil || r.Mode != "full" {
			t.Fatalf("report %s: %v", m.Body, err)
		}
		for _, mm := range r.Miners {
			total += len(mm.Workers)
			if len(mm.Workers) > ReportChunk {
				t.Fatalf("a chunk of %d workers", len(mm.Workers))
			}
		}
	}
	if total != 120 {
		t.Fatalf("%d workers reported, want 120", total)
	}
	ctx := context.Background()
	if err := sim.PublishLeases(ctx, []WorkerScore{{WorkerKey: "5M:w1", Score: 0.8}, {WorkerKey: "5M:w2", Score: 0}}); err != nil {
		t.Fatal(err)
	}
	// Out of range, and a malformed key: refused whole, acknowledged failed.
	_ = sim.PublishLeases(ctx, []WorkerScore{{WorkerKey: "5M:w1", Score: 3}})
	_ = sim.PublishLeases(ctx, []WorkerScore{{WorkerKey: "nokey", Score: 0.5}})
	_ = sim.Publish(ctx, TypeConfigUpdate, map[string]any{"payload": map[string]any{"validation": map[string]any{"challenge_interval": 300}}})
	_ = sim.Publish(ctx, TypeConfigUpdate, map[string]any{"payload": map[string]any{"database": map[string]any{"url": "x"}}})
	waitFor(t, "five acks", func() bool { return len(sim.Messages(TypeAck)) == 5 })
	statuses := []string{}
	for _, m := range sim.Messages(TypeAck) {
		var a Ack
		_ = json.Unmarshal(m.Body, &a)
		statuses = append(statuses, a.MessageType+":"+a.Status)
	}
	want := "[MESH_LEASE_PUBLISH_V1:accepted MESH_LEASE_PUBLISH_V1:failed MESH_LEASE_PUBLISH_V1:failed MESH_CONFIG_UPDATE_V1:accepted MESH_CONFIG_UPDATE_V1:failed]"
	if fmt.Sprint(statuses) != want {
		t.Fatalf("acks %v", statuses)
	}
	rec.mu.Lock()
	if len(rec.leases) != 1 || len(rec.leases[0]) != 2 || rec.leases[0][0] != (Lease{Hotkey: "5M", WorkerID: "w1", Score: 0.8}) ||
		len(rec.configs) != 1 || string(rec.configs[0]["validation"]) != `{"challenge_interval":300}` {
		t.Fatalf("leases %+v configs %v", rec.leases, rec.configs)
	}
	rec.mu.Unlock()
	// A changed worker goes in a delta report.
	mu.Lock()
	lease = 0.5
	mu.Unlock()
	if err := c.report(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delta report", func() bool { return len(sim.Messages(TypeResourceReport)) == 6 })
	reports := sim.Messages(TypeResourceReport)
	var last ResourceReport
	_ = json.Unmarshal(reports[len(reports)-1].Body, &last)
	if last.Mode != "delta" || last.Since == "" {
		t.Fatalf("after a change: %+v", last)
	}
	if err := c.report(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(sim.Messages(TypeResourceReport)); n != len(reports) {
		t.Fatalf("an unchanged state was reported again: %d reports", n)
	}
	if err := c.ReportScores(ctx, []MinerWeight{{Hotkey: "5M", Weight: 1}}, []json.RawMessage{json.RawMessage(`{"workerKey":"5M:w1","score":0.5}`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the score report", func() bool { return len(sim.Messages(TypeScoreReport)) == 2 })
}

// TestBadTokenAndReplay: a wrong access token ends the handshake; a
// replayed record is refused by both sides.
func TestBadTokenAndReplay(t *testing.T) {
	sim, c, _ := start(t, "wrong", func() []ResourceMiner { return nil })
	time.Sleep(200 * time.Millisecond)
	if sim.Sessions() != 0 || c.Connected() {
		t.Fatal("a wrong token got a session")
	}
	s := newSession("sid", "5A", "5B", [32]byte{1}, [32]byte{2})
	peer := newSession("sid", "5B", "5A", [32]byte{2}, [32]byte{1})
	b, err := s.seal(TypeHeartbeat, map[string]int{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	var f frame
	_ = json.Unmarshal(b, &f)
	if pt, err := peer.open(f); err != nil || string(pt) != `{"x":1}` {
		t.Fatalf("open: %s %v", pt, err)
	}
	if _, err := peer.open(f); err != ErrReplay {
		t.Fatalf("replay: %v", err)
	}
	f.Encrypted.Sender = "5C"
	if _, err := peer.open(f); err != ErrEnvelope {
		t.Fatalf("another sender: %v", err)
	}
}

func TestParseLeases(t *testing.T) {
	got, err := ParseLeases("5A:w1=0.5, 5B:w2=1")
	if err != nil || len(got) != 2 || got[1] != (WorkerScore{WorkerKey: "5B:w2", Score: 1}) {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"5A=0.5", "5A:w1=x", "5A:w1=2"} {
		if _, err := ParseLeases(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
