package miner

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
)

func neuron(t *testing.T, uid uint16, uri string, permit bool, stakeTAO uint64, addr string) subtensor.Neuron {
	t.Helper()
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	n := subtensor.Neuron{UID: uid, ValidatorPermit: permit, Stake: stakeTAO * 1_000_000_000}
	pub := kp.PublicKey()
	copy(n.Hotkey[:], pub[:])
	if addr != "" {
		ap := netip.MustParseAddrPort(addr)
		v4 := ap.Addr().As4()
		n.Axon = subtensor.AxonInfo{IP: scale.Uint128{Lo: uint64(v4[0])<<24 | uint64(v4[1])<<16 | uint64(v4[2])<<8 | uint64(v4[3])}, Port: ap.Port(), IPType: 4}
	}
	return n
}

// TestSelection: the reference's filter — permit and stake, or the
// whitelist (which may override the address); never 0.0.0.0 or an unset
// axon; never a blacklisted endpoint until its time is up.
func TestSelection(t *testing.T) {
	mg := &subtensor.Metagraph{Neurons: []subtensor.Neuron{
		neuron(t, 0, "//Alice", true, 20000, "10.0.0.1:9091"),    // permit and stake
		neuron(t, 1, "//Bob", true, 50, "10.0.0.2:9091"),         // too little stake
		neuron(t, 2, "//Charlie", false, 90000, "10.0.0.3:9091"), // no permit
		neuron(t, 3, "//Dave", false, 0, ""),                     // whitelisted, overridden
		neuron(t, 4, "//Eve", true, 20000, "0.0.0.0:9091"),       // unspecified address
		neuron(t, 5, "//Ferdie", false, 0, "10.0.0.6:8000"),      // whitelisted, its own address
	}}
	dave, _ := keys.FromURI("//Dave")
	ferdie, _ := keys.FromURI("//Ferdie")
	s := Selection{MinStakeRao: 10_000 * 1_000_000_000, Whitelist: map[string]string{dave.SS58(): "10.9.9.9:7000", ferdie.SS58(): ""}}
	bl := NewBlacklist(5, 600*time.Second)
	now := time.Now()
	got := s.Select(mg, bl, now)
	want := []string{"0:10.0.0.1:9091", "3:10.9.9.9:7000", "5:10.0.0.6:8000"}
	if len(got) != len(want) {
		t.Fatalf("selected %+v", got)
	}
	for i, v := range got {
		if s := fmt.Sprintf("%d:%s", v.UID, v.Endpoint()); s != want[i] {
			t.Fatalf("selected %s, want %s", s, want[i])
		}
	}
	// Five failures in a row blacklist an endpoint for the TTL; a success
	// in between starts the count again.
	for range 4 {
		bl.Failure("10.0.0.1:9091", now)
	}
	bl.Success("10.0.0.1:9091")
	for i := range 5 {
		if blocked := bl.Failure("10.0.0.1:9091", now); blocked != (i == 4) {
			t.Fatalf("failure %d: blocked %v", i+1, blocked)
		}
	}
	if got := s.Select(mg, bl, now); len(got) != 2 || got[0].UID != 3 {
		t.Fatalf("with uid 0 blacklisted: %+v", got)
	}
	if got := s.Select(mg, bl, now.Add(601*time.Second)); len(got) != 3 {
		t.Fatalf("after the TTL: %+v", got)
	}
}

// TestHeartbeatQueue: one heartbeat per worker (the newest), stale ones
// gone, and the oldest tenth dropped when full.
func TestHeartbeatQueue(t *testing.T) {
	q := &heartbeatQueue{max: 20, maxAge: 300 * time.Second}
	now := time.Now()
	old := computeproto.WorkerInfo{WorkerID: "stale"}
	q.push(old, now.Add(-400*time.Second))
	for i := range 6 {
		q.push(computeproto.WorkerInfo{WorkerID: fmt.Sprintf("w%d", i%3), Status: fmt.Sprint(i)}, now)
	}
	got := q.drain(now)
	if len(got) != 3 || got[0].WorkerID != "w0" || got[0].Status != "3" || got[2].Status != "5" || q.len() != 0 {
		t.Fatalf("drained %+v", got)
	}
	for i := range 25 {
		q.push(computeproto.WorkerInfo{WorkerID: fmt.Sprint(i)}, now)
	}
	if q.len() > 20 || q.dropped == 0 {
		t.Fatalf("a full queue holds %d, dropped %d", q.len(), q.dropped)
	}
	if got := q.drain(now); got[0].WorkerID == "0" {
		t.Fatalf("the oldest were kept: first %s", got[0].WorkerID)
	}
}

type oneValidator struct{ mg *subtensor.Metagraph }

func (c oneValidator) Metagraph(context.Context, uint16, string) (*subtensor.Metagraph, error) {
	return c.mg, nil
}

// TestGarbageValidatorIsBlacklistedAndRetried: a validator whose axon
// answers garbage fails every call; after five in a row it is skipped for
// the blacklist's TTL, then polled again.
func TestGarbageValidatorIsBlacklistedAndRetried(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte("<html>not a synapse</html>"))
	}))
	defer srv.Close()
	addr := netip.MustParseAddrPort(srv.Listener.Addr().String())
	chain := oneValidator{&subtensor.Metagraph{Neurons: []subtensor.Neuron{neuron(t, 0, "//Alice", true, 20000, addr.String())}}}
	bob, err := keys.FromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	rpc, err := computerpc.NewClient(bob)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Hotkey, cfg.BlacklistTTL, cfg.TaskTimeout = bob, 500*time.Millisecond, 2*time.Second
	m := New(cfg, slog.New(slog.DiscardHandler), chain, rpc, nil)
	defer m.Hub().Close()
	ctx := context.Background()
	if err := m.SyncValidators(ctx); err != nil || len(m.Validators()) != 1 {
		t.Fatalf("sync: %v %+v", err, m.Validators())
	}
	v := m.Validators()[0]
	for i := range 5 {
		err := m.call(ctx, v, "task", cfg.TaskTimeout, func(ctx context.Context) error {
			_, err := rpc.Task(ctx, v.Target, computeproto.NewTaskRequest(bob.SS58(), time.Now()))
			return err
		})
		if err == nil {
			t.Fatalf("call %d to a garbage validator succeeded", i+1)
		}
	}
	if calls.Load() == 0 {
		t.Fatal("the validator was never called")
	}
	if err := m.SyncValidators(ctx); err != nil || len(m.Validators()) != 0 {
		t.Fatalf("after five failures: %+v", m.Validators())
	}
	time.Sleep(600 * time.Millisecond)
	if err := m.SyncValidators(ctx); err != nil || len(m.Validators()) != 1 {
		t.Fatalf("after the TTL: %+v", m.Validators())
	}
}
