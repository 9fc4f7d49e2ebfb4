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
			if m.Neurons[1].AxonIP != "0.0.0.0" || m.Neurons[1].AxonPort != 0 {
				t.Fatalf("an unserved axon reads %q:%d, want 0.0.0.0 as the SDK prints it", m.Neurons[1].AxonIP, m.Neurons[1].AxonPort)
			}
			checkWeightsAndBonds(t, net)
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

// checkWeightsAndBonds reads back what //Alice (uid 0) set and holds.
func checkWeightsAndBonds(t *testing.T, net string) {
	t.Helper()
	type rows struct {
		Kind string `json:"kind"`
		Rows []struct {
			UID     int    `json:"uid"`
			Hotkey  string `json:"hotkey"`
			Entries []struct {
				UID   int `json:"uid"`
				Value int `json:"value"`
			} `json:"entries"`
		} `json:"rows"`
	}
	read := func(args ...string) rows {
		t.Helper()
		r := run(t, nil, append([]string{"chain"}, args...)...)
		var out rows
		if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &out) != nil {
			t.Fatalf("%v: exit %d %s %s", args, r.code, r.stdout, r.stderr)
		}
		return out
	}
	w := read("weights", "--network", net, "--netuid", "1", "--json")
	if w.Kind != "weights" || len(w.Rows) != 5 || len(w.Rows[0].Entries) != 2 ||
		w.Rows[0].Entries[0].UID != 1 || w.Rows[0].Entries[0].Value != 21845 || w.Rows[0].Entries[1].UID != 4 || w.Rows[0].Entries[1].Value != 65535 {
		t.Fatalf("weights: %+v", w)
	}
	one := read("weights", "--network", net, "--netuid", "1", "--uid", "0", "--json")
	if len(one.Rows) != 1 || one.Rows[0].UID != 0 || !strings.HasPrefix(one.Rows[0].Hotkey, "5GrwvaEF") {
		t.Fatalf("weights of uid 0: %+v", one)
	}
	b := read("bonds", "--network", net, "--netuid", "1", "--uid", "0", "--json")
	if b.Kind != "bonds" || len(b.Rows) != 1 || len(b.Rows[0].Entries) == 0 {
		t.Fatalf("bonds of uid 0 after an epoch: %+v", b)
	}
	r := run(t, nil, "chain", "weights", "--network", net, "--netuid", "1")
	if r.code != exitOK || !strings.Contains(r.stdout, "1:21845 4:65535") {
		t.Fatalf("weights table: %+v", r)
	}
	if r := run(t, nil, "chain", "weights", "--network", net, "--netuid", "1", "--uid", "99"); r.code != exitFailure || !strings.Contains(r.stderr, "--uid 99") {
		t.Fatalf("an unknown uid: %+v", r)
	}
	// A block the node does not know (or has pruned) is said to be so.
	unknown := "0x" + strings.Repeat("ab", 32)
	if r := run(t, nil, "chain", "metagraph", "--network", net, "--netuid", "1", "--block", unknown); r.code != exitFailure ||
		!strings.Contains(r.stderr, "block not found: "+unknown) || !strings.Contains(r.stderr, "archive node") {
		t.Fatalf("an unknown block: %+v", r)
	}
}

// TestMechanismCommands: on a subnet with two incentive mechanisms,
// set-weights --mechanism 1 sets the second one's row, which chain weights
// --mechanism 1 reads back; mechanism 0 is untouched.
func TestMechanismCommands(t *testing.T) {
	g := localnet.DefaultGenesis()
	g.Subnets[0].Hyperparameters = map[string]any{"mechanism_count": 2}
	_, net := localnettest.Start(t, g, 50*time.Millisecond)
	if r := run(t, nil, "chain", "set-weights", "--network", net, "--netuid", "1", "--uri", "//Alice", "--uids", "1,2", "--weights", "1,3", "--mechanism", "16"); r.code != exitUsage || !strings.Contains(r.stderr, "--mechanism: 0-15") {
		t.Fatalf("--mechanism 16: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "chain", "set-weights", "--network", net, "--netuid", "1", "--uri", "//Alice", "--uids", "1,2", "--weights", "1,3", "--mechanism", "2"); r.code != exitFailure || !strings.Contains(r.stderr, "no mechanism 2") {
		t.Fatalf("--mechanism 2 of 2: exit %d %s", r.code, r.stderr)
	}
	r := run(t, nil, "chain", "set-weights", "--network", net, "--netuid", "1", "--uri", "//Alice", "--uids", "1,2", "--weights", "1,3", "--mechanism", "1", "--json")
	var out struct {
		Mechanism int  `json:"mechanism"`
		Submitted bool `json:"submitted"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &out) != nil || !out.Submitted || out.Mechanism != 1 {
		t.Fatalf("set-weights --mechanism 1: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	read := func(mech string) string {
		r := run(t, nil, "chain", "weights", "--network", net, "--netuid", "1", "--uid", "0", "--mechanism", mech, "--json")
		if r.code != exitOK {
			t.Fatalf("weights --mechanism %s: exit %d %s", mech, r.code, r.stderr)
		}
		return r.stdout
	}
	if got := read("1"); !strings.Contains(got, `"mechanism":1`) || !strings.Contains(got, `"entries":[{"uid":1,"value":21845},{"uid":2,"value":65535}]`) {
		t.Fatalf("mechanism 1 row: %s", got)
	}
	if got := read("0"); !strings.Contains(got, `"entries":[]`) {
		t.Fatalf("mechanism 0 row: %s", got)
	}
}
