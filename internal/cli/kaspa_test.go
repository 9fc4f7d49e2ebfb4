package cli

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// openRegistry says yes to every pool and subnet lookup, so that the
// registry's own checks (time window, worker name, signature) decide.
type openRegistry struct{}

func (openRegistry) WorkerExists(context.Context, string) (bool, error)     { return true, nil }
func (openRegistry) HotkeyRegistered(context.Context, string) (bool, error) { return true, nil }

// TestKaspaRegisterAndUnbind: the miner's commands sign as the reference's
// bind script, so a validator's registry (vigil's, which verifies the
// reference's canonical messages) binds and unbinds the worker, and says
// why when it refuses.
func TestKaspaRegisterAndUnbind(t *testing.T) {
	st := storetest.Open(t, "sqlite", clock.Real())
	h, err := registry.NewHandler(registry.HandlerOpts{Store: st, Workers: openRegistry{}, Hotkeys: openRegistry{},
		PoolWallet: "kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wp"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	bob, err := keys.FromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	worker := "rig1_" + bob.SS58()

	r := run(t, nil, "kaspa", "register", "--validator", srv.URL, "--worker", worker, "--uri", "//Bob")
	if r.code != exitOK || !strings.Contains(r.stdout, "registered worker "+worker) {
		t.Fatalf("register: %+v", r)
	}
	m, err := st.KaspaMapping(context.Background(), worker)
	if err != nil || m.Hotkey != bob.SS58() || !m.Active() {
		t.Fatalf("stored %+v %v", m, err)
	}
	r = run(t, nil, "kaspa", "register", "--validator", srv.URL, "--worker", "rig2", "--uri", "//Bob")
	if r.code != exitFailure || !strings.Contains(r.stderr, registry.MsgHotkeyNotInWorker) {
		t.Fatalf("a name without the hotkey: %+v", r)
	}
	r = run(t, nil, "kaspa", "unbind", "--validator", srv.URL, "--worker", worker, "--uri", "//Bob")
	if r.code != exitOK || !strings.Contains(r.stdout, "unbound worker") {
		t.Fatalf("unbind: %+v", r)
	}
	if m, _ := st.KaspaMapping(context.Background(), worker); m.Active() {
		t.Fatal("still bound after unbind")
	}
	for _, args := range [][]string{
		{"kaspa", "register", "--worker", worker, "--uri", "//Bob"},
		{"kaspa", "register", "--validator", "ftp://x", "--worker", worker, "--uri", "//Bob"},
		{"kaspa", "unbind", "--validator", srv.URL, "--uri", "//Bob"},
	} {
		if r := run(t, nil, args...); r.code != exitUsage {
			t.Errorf("%v: %+v, want a usage error", args, r)
		}
	}
}
