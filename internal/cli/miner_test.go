package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
)

// TestMinerRefusesAnUnregisteredHotkey: as the reference miner, vigil's
// stops at start when its hotkey is not on the subnet.
func TestMinerRefusesAnUnregisteredHotkey(t *testing.T) {
	_, net := localnettest.Start(t, localnet.DefaultGenesis(), 50*time.Millisecond)

	r := run(t, nil, "miner", "--chain-network", net, "--chain-netuid", "1", "--wallet-uri", "//Ferdie",
		"--ops-listen", "127.0.0.1:0", "--worker-hub-listen", "127.0.0.1:0", "--log-level", "error")
	if r.code != exitFailure || !strings.Contains(r.stderr, "is not registered on subnet 1") {
		t.Fatalf("%+v", r)
	}

}

// TestGPUKeyFile: the cpu backend's key is written once, 0600, and read
// back the same.
func TestGPUKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gpu.pem")
	k1, err := loadOrCreateGPUKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	k2, err := loadOrCreateGPUKey(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("the key read back differs: %v", err)
	}
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateGPUKey(path); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Fatalf("a junk key file: %v", err)
	}
}
