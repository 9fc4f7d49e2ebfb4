package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

func recordedNode(t *testing.T, seeds ...string) string {
	return substratetest.RecordedNode(t, seeds...).URL()
}

const apexBlock = "0xdb13c066e2c63969f140164fb3bfe7a0aaa7b71407fc0fe525d68e57329ef9d0"

func TestChainMetagraphJSON(t *testing.T) {
	url := recordedNode(t, "metagraph")
	r := run(t, nil, "chain", "metagraph", "--netuid", "1", "--network", url, "--block", apexBlock, "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Netuid  uint16 `json:"netuid"`
		Block   uint64 `json:"block"`
		Neurons []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if out.Netuid != 1 || out.Block != 6852690 || len(out.Neurons) != 1024 {
		t.Fatalf("netuid %d block %d neurons %d", out.Netuid, out.Block, len(out.Neurons))
	}
	for _, key := range []string{"uid", "hotkey", "coldkey", "active", "validator_permit", "last_update", "axon_ip", "axon_port", "incentive", "dividends", "validator_trust", "stake"} {
		if _, ok := out.Neurons[0][key]; !ok {
			t.Errorf("neuron JSON lacks %q", key)
		}
	}
	for i, n := range out.Neurons {
		hk, _ := n["hotkey"].(string)
		if len(hk) != 48 || hk[0] != '5' {
			t.Fatalf("neuron %d hotkey %q is not an SS58 address", i, hk)
		}
		for _, k := range []string{"incentive", "dividends", "validator_trust"} {
			if v := n[k].(float64); v < 0 || v > 1 {
				t.Fatalf("neuron %d %s = %v outside [0,1]", i, k, v)
			}
		}
	}
}

func TestChainMetagraphTableAndErrors(t *testing.T) {
	url := recordedNode(t, "metagraph")
	r := run(t, nil, "chain", "metagraph", "--netuid", "1", "--network", url, "--block", apexBlock)
	if r.code != exitOK || !strings.Contains(r.stdout, `netuid 1 "Apex" at block 6852690`) || strings.Count(r.stdout, "\n") < 1024 {
		t.Fatalf("table: exit %d, %.300s", r.code, r.stdout)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"chain", "metagraph"}, exitUsage, "--netuid: required"},
		{[]string{"chain", "metagraph", "--netuid", "1", "--block", "0x12"}, exitUsage, "--block"},
		{[]string{"chain", "metagraph", "--netuid", "1", "--network", "http://x"}, exitUsage, "unknown network"},
		{[]string{"chain", "frob"}, exitUsage, `unknown command "frob"`},
		{[]string{"chain", "metagraph", "--netuid", "1", "--network", url, "--block", "0x" + strings.Repeat("ab", 32)}, exitFailure, "chain_getHeader"},
	} {
		r := run(t, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}

func TestChainHyperparams(t *testing.T) {
	url := recordedNode(t, "get_subnet_hyperparameters")
	r := run(t, map[string]string{"VIGIL_CHAIN_NETWORK": url}, "chain", "hyperparams", "--netuid", "23", "--json")
	var h map[string]any
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &h) != nil || h["tempo"] != float64(1000) || h["kappa"] != float64(32767) {
		t.Fatalf("hyperparams: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Every key is snake_case, as the SDK names them.
	for k := range h {
		if strings.ToLower(k) != k || strings.Contains(k, " ") {
			t.Errorf("hyperparams JSON key %q is not snake_case", k)
		}
	}
	if h["runtime_api_version"] != float64(1) {
		t.Errorf("runtime_api_version %v, want 1 (the recording is v1)", h["runtime_api_version"])
	}
	// The table prints integers as integers, however large.
	r = run(t, map[string]string{"VIGIL_CHAIN_NETWORK": url}, "chain", "hyperparams", "--netuid", "23")
	if r.code != exitOK || strings.Contains(r.stdout, "e+") || !regexp.MustCompile(`(?m)^max_burn\s+\d+$`).MatchString(r.stdout) {
		t.Fatalf("hyperparams table:\n%s", r.stdout)
	}
}

// TestChainSubcommandHelp: a subcommand's --help shows its own entry and
// the notes that apply to it, not every command's.
func TestChainSubcommandHelp(t *testing.T) {
	r := run(t, nil, "chain", "metagraph", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "metagraph --netuid N") || strings.Contains(r.stdout, "set-weights --netuid") ||
		strings.Contains(r.stdout, "VIGIL_COLDKEY_PASSWORD") || !strings.Contains(r.stdout, "--network NET") {
		t.Fatalf("metagraph --help:\n%s", r.stdout)
	}
	r = run(t, nil, "chain", "register", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "burning TAO") || strings.Contains(r.stdout, "hyperparams --netuid") ||
		!strings.Contains(r.stdout, "VIGIL_COLDKEY_PASSWORD") {
		t.Fatalf("register --help:\n%s", r.stdout)
	}
}
