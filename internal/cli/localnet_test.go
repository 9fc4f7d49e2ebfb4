package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
)

// TestLocalnetEndToEnd drives a running localnet with the operator
// commands: register, serve an axon, set weights, and after an epoch the
// incentive, dividends and trust show in 'vigil chain metagraph'.
func TestLocalnetEndToEnd(t *testing.T) {
	_, net := localnettest.Start(t, localnet.DefaultGenesis(), 50*time.Millisecond)

	steps := [][]string{
		{"chain", "register", "--network", net, "--netuid", "1", "--uri", "//Eve", "--yes"},
		{"chain", "serve-axon", "--network", net, "--netuid", "1", "--uri", "//Eve", "--ip", "127.0.0.1", "--port", "8091"},
		{"chain", "set-weights", "--network", net, "--netuid", "1", "--uri", "//Alice", "--uids", "1,4", "--weights", "1,3"},
	}
	for _, args := range steps {
		if r := run(t, nil, args...); r.code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", args[1], r.code, r.stdout, r.stderr)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := run(t, nil, "chain", "metagraph", "--network", net, "--netuid", "1", "--json")
		if r.code != exitOK {
			t.Fatalf("metagraph: exit %d %s", r.code, r.stderr)
		}
		var m struct {
			Neurons []struct {
				UID            int     `json:"uid"`
				AxonIP         string  `json:"axon_ip"`
				AxonPort       int     `json:"axon_port"`
				Incentive      float64 `json:"incentive"`
				Dividends      float64 `json:"dividends"`
				ValidatorTrust float64 `json:"validator_trust"`
			} `json:"neurons"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Neurons) == 5 && m.Neurons[4].Incentive > 0 {
			eve, alice := m.Neurons[4], m.Neurons[0]
			if eve.AxonIP != "127.0.0.1" || eve.AxonPort != 8091 || eve.Incentive < 0.74 || eve.Incentive > 0.76 ||
				m.Neurons[1].Incentive < 0.24 || alice.Dividends < 0.99 || alice.ValidatorTrust < 0.99 {
				t.Fatalf("after the epoch: %+v", m.Neurons)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incentive within 20 s: %+v", m.Neurons)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestLocalnetCommandRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/genesis.yaml"
	if err := os.WriteFile(bad, []byte("subnets:\n  - netuid: 1\n    owner: //Alice\n    tempoo: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--block-time", "1ms"}, exitUsage, "--block-time"},
		{[]string{"--log-level", "loud"}, exitUsage, "--log-level"},
		{[]string{"--log-level", "info+2"}, exitUsage, `--log-level: unsupported level "info+2"`},
		{[]string{"extra"}, exitUsage, "unexpected argument"},
		{[]string{"--genesis", dir + "/missing.yaml", "--listen", "127.0.0.1:0"}, exitFailure, "missing.yaml"},
		{[]string{"--genesis", bad, "--listen", "127.0.0.1:0"}, exitFailure, "tempoo"},
		{[]string{"--listen", "256.0.0.1:1"}, exitFailure, "256.0.0.1"},
	} {
		r := run(t, nil, append([]string{"localnet"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("localnet %v: exit %d, stderr %q", c.args, r.code, r.stderr)
		}
	}
}
