package e2e

import (
	"context"
	"encoding/hex"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestTwoValidatorsSyncTheirRegistries runs two validators on one
// localnet: each finds the other through the metagraph (its served axon
// and stake), takes its registrations, refuses a forged one and applies
// an unbind.
func TestTwoValidatorsSyncTheirRegistries(t *testing.T) {
	g := localnet.DefaultGenesis()
	g.Subnets[0].Validators = append(g.Subnets[0].Validators, localnet.GenesisNeuron{Hotkey: "//Eve", Stake: 2000e9})
	_, chainURL := localnettest.Start(t, g, 50*time.Millisecond)
	client := localnettest.Client(t, chainURL)
	ctx := context.Background()
	var err error

	type node struct {
		kp   *keys.KeyPair
		st   *store.Store
		mech *kaspa.Mechanism
		api  *httptest.Server
		mg   mechanism.Metagraph
	}
	mk := func(uri string) *node {
		kp, _ := keys.FromURI(uri)
		n := &node{kp: kp, st: storetest.Open(t, "sqlite", clock.Real())}
		// The pool is not consulted when syncing: an unused Prometheus URL.
		settings := kaspa.DefaultSettings()
		settings.PrometheusEndpoint = "http://127.0.0.1:9"
		n.mech, err = kaspa.New(settings, mechanism.Deps{Store: n.st, Metagraph: &n.mg, Self: subtensor.AccountID(kp.PublicKey())})
		if err != nil {
			t.Fatal(err)
		}
		n.api = httptest.NewServer(n.mech.API())
		t.Cleanup(n.api.Close)
		// Publish the API as the validator's axon.
		u, _ := url.Parse(n.api.URL)
		call, err := subtensor.ServeAxon(1, 1, netip.MustParseAddrPort(u.Host), 4)
		if err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		defer scancel()
		if _, err := client.Submit(sctx, kp, call, subtensor.SubmitOptions{}); err != nil {
			t.Fatalf("serve_axon for %s: %v", uri, err)
		}
		return n
	}
	a, b := mk("//Alice"), mk("//Eve")
	mg, err := client.Metagraph(ctx, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	a.mg.Store(mg)
	b.mg.Store(mg)
	if peers := b.mech.Peers(); len(peers) != 2 {
		t.Fatalf("peers from the metagraph: %+v", peers)
	}

	// A miner's registration accepted by A (signed by its hotkey); B
	// takes it from A.
	bob, _ := keys.FromURI("//Bob")
	worker := bob.SS58() + ".rig1"
	addSigned(t, a.st, bob, bob, worker)
	b.mech.SyncOnce(ctx)
	if m, err := b.st.ActiveKaspaMappings(ctx); err != nil || m[worker] != bob.SS58() {
		t.Fatalf("B after sync: %v %v", m, err)
	}
	// And the other way round.
	charlie, _ := keys.FromURI("//Charlie")
	other := charlie.SS58() + ".rig1"
	addSigned(t, b.st, charlie, charlie, other)
	a.mech.SyncOnce(ctx)
	if m, _ := a.st.ActiveKaspaMappings(ctx); m[other] != charlie.SS58() {
		t.Fatalf("A after sync: %v", m)
	}
	// The miner unbinds on A; B applies the signed tombstone.
	usig, _ := bob.Sign(registry.UnbindMessage(bob.SS58(), worker))
	if err := a.st.UnbindKaspaWorker(ctx, bob.SS58(), worker, hexSig(usig), store.KaspaSourceLocal); err != nil {
		t.Fatal(err)
	}
	b.mech.SyncOnce(ctx)
	if m, _ := b.st.ActiveKaspaMappings(ctx); m[worker] != "" {
		t.Fatalf("B still has the unbound worker: %v", m)
	}
	if got, err := b.st.KaspaMapping(ctx, worker); err != nil || got.Active() {
		t.Fatalf("B's row for the unbound worker: %+v %v", got, err)
	}
	// A row forged into A's database (signed by another key) is refused.
	mallory, _ := keys.FromURI("//Mallory")
	forged := bob.SS58() + ".rig2"
	addSigned(t, a.st, mallory, bob, forged)
	b.mech.SyncOnce(ctx)
	if _, err := b.st.KaspaMapping(ctx, forged); err == nil {
		t.Fatal("B took a forged registration")
	}
}

// addSigned stores a registration of worker to hotkey's key, signed by
// signer, as a validator stores what it accepted.
func addSigned(t *testing.T, st *store.Store, signer, hotkey *keys.KeyPair, worker string) {
	t.Helper()
	ts := float64(time.Now().UnixNano()/1e3) / 1e6
	sig, err := signer.Sign(registry.RegistrationMessage(hotkey.SS58(), worker, ts))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddKaspaMapping(context.Background(), &store.KaspaMapping{Worker: worker, Hotkey: hotkey.SS58(), RegistrationTime: ts,
		RegistrationTimeInt: registry.Micros(ts), Signature: hexSig(sig), Source: store.KaspaSourceLocal}, 30); err != nil {
		t.Fatal(err)
	}
}

func hexSig(sig [64]byte) string { return hex.EncodeToString(sig[:]) }
