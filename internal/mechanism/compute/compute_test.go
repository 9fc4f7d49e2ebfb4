package compute_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/mechanism"
	mechcompute "github.com/vigil-validator/vigil/internal/mechanism/compute"
	"github.com/vigil-validator/vigil/internal/miner"
	"github.com/vigil-validator/vigil/internal/securesession"
	"github.com/vigil-validator/vigil/internal/store/storetest"
	"github.com/vigil-validator/vigil/internal/worker"
)

func key(t *testing.T, uri string) *keys.KeyPair {
	t.Helper()
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func neuron(kp *keys.KeyPair, uid uint16, addr netip.AddrPort, permit bool) subtensor.Neuron {
	n := subtensor.Neuron{UID: uid, ValidatorPermit: permit, Stake: 1 << 60}
	pub := kp.PublicKey()
	copy(n.Hotkey[:], pub[:])
	if addr.IsValid() {
		v4 := addr.Addr().As4()
		n.Axon = subtensor.AxonInfo{IP: scale.Uint128{Lo: uint64(v4[0])<<24 | uint64(v4[1])<<16 | uint64(v4[2])<<8 | uint64(v4[3])}, Port: addr.Port(), IPType: 4}
	}
	return n
}

type fixedChain struct{ mg *subtensor.Metagraph }

func (c fixedChain) Metagraph(context.Context, uint16, string) (*subtensor.Metagraph, error) {
	return c.mg, nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMechanismEndToEnd: the compute mechanism behind a validator's axon,
// a vigil miner and its workers: heartbeats stored, challenges issued to
// the eligible workers, pulled, committed, proved, verified from the
// store's queue, and a weight pass that gives the miner the weight. Once
// with CPU challenges, once with GPU ones on a CPU backend the validator
// trusts.
func TestMechanismEndToEnd(t *testing.T) {
	for _, kind := range []string{computeproto.ChallengeCPUMatrix, computeproto.ChallengeGPUMatrix} {
		t.Run(kind, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, engine string) { run(t, engine, kind) })
		})
	}
}

func run(t *testing.T, engine, kind string) {
	quiet := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alice, bob := key(t, "//Alice"), key(t, "//Bob")
	st := storetest.Open(t, engine, nil)
	gpuKey, err := compute.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	s := mechcompute.DefaultSettings()
	s.Validation.ChallengeType = kind
	s.Validation.CPU.MatrixSize, s.Validation.CPU.SizeVariance = 100, 0
	s.Validation.GPU.MatrixSize, s.Validation.GPU.SizeVariance = 48, 0
	s.Validation.GPU.ModelAllowlist = "vigil CPU backend"
	s.Validation.GPU.Verification.RowSampleRate = 0.1
	s.TrustedGPUKeys = compute.PublicKeyHex(&gpuKey.PublicKey)
	holder := &mechanism.Metagraph{}
	m, err := mechcompute.New(s, mechanism.Deps{Netuid: 5, Store: st, Metagraph: holder, Clock: clock.Real(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ax, err := axon.New(axon.Config{Hotkey: alice})
	if err != nil {
		t.Fatal(err)
	}
	if err := computerpc.Serve(ax, computerpc.ServerConfig{Sessions: securesession.NewServer(alice.SS58())}, m.Handlers()); err != nil {
		t.Fatal(err)
	}
	axSrv := httptest.NewServer(ax)
	defer axSrv.Close()
	addr := netip.MustParseAddrPort(axSrv.Listener.Addr().String())
	mg := &subtensor.Metagraph{Netuid: 5, Neurons: []subtensor.Neuron{neuron(alice, 0, addr, true), neuron(bob, 1, netip.AddrPort{}, false)}}
	holder.Store(mg)

	rpc, err := computerpc.NewClient(bob)
	if err != nil {
		t.Fatal(err)
	}
	mc := miner.DefaultConfig()
	mc.Netuid, mc.Hotkey = 5, bob
	mc.Hub.MinHeartbeatGap = 0
	mn := miner.New(mc, quiet, fixedChain{mg}, rpc, nil)
	defer mn.Hub().Close()
	hub := httptest.NewServer(mn.Hub())
	defer hub.Close()
	var gpu compute.Backend
	if kind == computeproto.ChallengeGPUMatrix {
		if gpu, err = compute.NewCPUBackend(gpuKey, 1, 64); err != nil {
			t.Fatal(err)
		}
	}
	wc := worker.DefaultConfig()
	wc.MinerURL, wc.WorkerID, wc.GPU = "ws"+strings.TrimPrefix(hub.URL, "http"), "w-"+kind, gpu
	wc.HeartbeatInterval = 50 * time.Millisecond
	w, err := worker.New(wc, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.Run(ctx) }()
	if err := mn.SyncValidators(ctx); err != nil || len(mn.Validators()) != 1 {
		t.Fatalf("validators %v %v", mn.Validators(), err)
	}
	waitFor(t, "the worker at the miner", func() bool { return len(mn.Hub().Workers()) == 1 })
	time.Sleep(150 * time.Millisecond) // a heartbeat with the inventory
	mn.SendHeartbeats(ctx)

	if err := m.Issue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Issue(ctx); err != nil { // the worker has one pending: nothing more
		t.Fatal(err)
	}
	mn.PollOnce(ctx)
	var verified int
	waitFor(t, "the verification", func() bool {
		n, err := m.VerifyQueued(ctx)
		if err != nil {
			t.Fatal(err)
		}
		verified += n
		return verified == 1
	})
	var status string
	var success bool
	if err := st.DB().QueryRowContext(ctx, st.Rebind("SELECT status, is_success FROM compute_challenges WHERE netuid = 5")).Scan(&status, &success); err != nil ||
		status != "verified" || !success {
		t.Fatalf("challenge %s %v %v", status, success, err)
	}
	scores, err := m.Scores(ctx, mg)
	if err != nil {
		t.Fatal(err)
	}
	var bobAcc subtensor.AccountID
	pub := bob.PublicKey()
	copy(bobAcc[:], pub[:])
	if scores[bobAcc] != 1 || len(scores) != 1 {
		t.Fatalf("scores %v", scores)
	}
}
