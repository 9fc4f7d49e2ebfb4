package cli

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/subtensor/subtensortest"
	"github.com/vigil-validator/vigil/bittensor/wallet"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/localnet/meta"
)

// txChain is subnet 1 at block 1000 with //Alice as uid 3 of 8, able to
// set weights now (commit-reveal as given), and //Bob unregistered.
func txChain(t *testing.T, commitReveal bool) (*substratetest.Chain, *substrate.Metadata, string) {
	t.Helper()
	ch, md := subtensortest.NewChain(t, 1000)
	alice, _ := keys.FromURI("//Alice")
	subtensortest.Subnet{
		Netuid: 1, N: 8, Tempo: 99, RateLimit: 100, MinAllowedWeights: 1, VersionKey: 7, CommitReveal: commitReveal,
		Hotkeys: map[[32]byte]uint16{alice.PublicKey(): 3}, LastUpdate: []uint64{0, 0, 0, 800, 0, 0, 0, 0},
		Timestamp: time.UnixMilli(1_763_800_000_000), LastStoredRound: 100, Burn: 2_500_000_000,
	}.Install(t, ch)
	return ch, md, ch.Start(t)
}

func TestSetWeightsDryRun(t *testing.T) {
	for _, cr := range []bool{false, true} {
		ch, _, url := txChain(t, cr)
		r := run(t, nil, "chain", "set-weights", "--network", url, "--netuid", "1", "--uri", "//Alice",
			"--uids", "0,5,6,7", "--weights", "3,1,2,0", "--dry-run", "--json")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var out struct {
			Registered         bool     `json:"registered"`
			UID                uint16   `json:"uid"`
			Mode               string   `json:"mode"`
			VersionKey         uint64   `json:"version_key"`
			BlocksUntilAllowed uint64   `json:"blocks_until_allowed"`
			UIDs               []uint16 `json:"uids"`
			Weights            []uint16 `json:"weights"`
			Submitted          bool     `json:"submitted"`
			RevealRound        uint64   `json:"reveal_round"`
			CiphertextLen      int      `json:"ciphertext_len"`
			Reveal             *struct {
				Scheduler   string `json:"scheduler"`
				CommitBlock uint64 `json:"commit_block"`
				CommitEpoch uint64 `json:"commit_epoch"`
				RevealEpoch uint64 `json:"reveal_epoch"`
				RevealBlock uint64 `json:"reveal_block"`
			} `json:"reveal"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		wantMode := map[bool]string{false: "set", true: "timelock"}[cr]
		if !out.Registered || out.UID != 3 || out.Mode != wantMode || out.VersionKey != 7 || out.BlocksUntilAllowed != 0 || out.Submitted ||
			!slices.Equal(out.UIDs, []uint16{0, 5, 6}) || !slices.Equal(out.Weights, []uint16{65535, 21845, 43690}) {
			t.Fatalf("commit-reveal %v: %+v", cr, out)
		}
		if n := len(ch.Submitted()); n != 0 {
			t.Fatalf("dry run submitted %d extrinsics", n)
		}
		// A timelocked commit's dry run says where it lands, when it is
		// revealed, its round and its size; a set_weights one has none.
		if cr && (out.Reveal == nil || out.Reveal.Scheduler != "legacy" || out.Reveal.CommitBlock != 1001 ||
			out.Reveal.RevealBlock <= out.Reveal.CommitBlock || out.Reveal.RevealEpoch != out.Reveal.CommitEpoch+1 ||
			out.RevealRound == 0 || out.CiphertextLen < 200) {
			t.Fatalf("timelock dry run: %+v %+v", out, out.Reveal)
		}
		if !cr && (out.Reveal != nil || out.RevealRound != 0) {
			t.Fatalf("set_weights dry run names a reveal: %+v", out)
		}
	}
	// The version key is a u64, all of it.
	_, _, url0 := txChain(t, false)
	r0 := run(t, nil, "chain", "set-weights", "--network", url0, "--netuid", "1", "--uri", "//Alice", "--uids", "1", "--weights", "1",
		"--version-key", "18446744073709551615", "--dry-run", "--json")
	if r0.code != exitOK || !strings.Contains(r0.stdout, `"version_key":18446744073709551615`) {
		t.Fatalf("u64 version key: %+v", r0)
	}
	if r0 := run(t, nil, "chain", "set-weights", "--network", url0, "--netuid", "1", "--uri", "//Alice", "--uids", "1", "--weights", "1",
		"--version-key", "-1", "--dry-run"); r0.code != exitUsage {
		t.Fatalf("a negative version key: %+v", r0)
	}
	// The text form names the mode and prints the vector.
	_, _, url := txChain(t, true)
	r := run(t, nil, "chain", "set-weights", "--network", url, "--netuid", "1", "--uri", "//Alice", "--uids", "0,1", "--weights", "1,1", "--dry-run")
	for _, want := range []string{"is uid 3 of 8", "mode timelock (commit-reveal on)", "version key 7", "65535", "dry run: nothing submitted"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestSetWeightsSubmitsWithTheWalletHotkey(t *testing.T) {
	ch, md, url := txChain(t, false)
	dir := t.TempDir()
	w := wallet.Wallet{Path: dir, Name: "op", Hotkey: "v"}
	kp, mnemonic, err := wallet.CreateHotkey(w, 12, false)
	if err != nil {
		t.Fatal(err)
	}
	subtensortest.Put(t, ch, "SubtensorModule", "Uids", subtensortest.U16(4), subtensortest.ByNetuid(1),
		substrate.MapKey{Hasher: substrate.Blake2_128Concat, Key: kp.PublicKey().Bytes()})
	r := run(t, map[string]string{"BT_WALLET_PATH": dir, "BT_WALLET_NAME": "op", "BT_WALLET_HOTKEY": "v"},
		"chain", "set-weights", "--network", url, "--netuid", "1", "--uids", "1,2", "--weights", "0.25,0.75", "--version-key", "12")
	if r.code != exitOK || !strings.Contains(r.stdout, "submitted in block "+substratetest.ChainInBlock) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	c := subtensortest.Submitted(t, ch, md, 0)
	want, _ := subtensor.SetWeights(1, []uint16{1, 2}, []uint16{21845, 65535}, 12)
	if c.Signer != kp.PublicKey() || c.Name != "set_weights" || string(c.Args) != string(want.Args) {
		t.Fatalf("submitted %s(%x) by %x", c.Name, c.Args, c.Signer)
	}
	for _, secret := range []string{mnemonic, strings.Fields(mnemonic)[0] + " " + strings.Fields(mnemonic)[1]} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatal("output contains the mnemonic")
		}
	}
}

func TestSetWeightsRefusals(t *testing.T) {
	ch, _, url := txChain(t, false)
	base := []string{"chain", "set-weights", "--network", url, "--netuid", "1"}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unregistered", []string{"--uri", "//Bob", "--uids", "1", "--weights", "1"}, exitFailure, "not registered"},
		{"negative", []string{"--uri", "//Alice", "--uids", "1,2", "--weights", "1,-1"}, exitFailure, "negative"},
		{"NaN", []string{"--uri", "//Alice", "--uids", "1", "--weights", "NaN"}, exitFailure, "NaN"},
		{"uid outside", []string{"--uri", "//Alice", "--uids", "8", "--weights", "1"}, exitFailure, "uid 8 is not on netuid 1"},
		{"lengths", []string{"--uri", "//Alice", "--uids", "1,2", "--weights", "1"}, exitFailure, "2 uids and 1 weights"},
		{"not a uid", []string{"--uri", "//Alice", "--uids", "x", "--weights", "1"}, exitFailure, "--uids: item 1"},
		{"no uids", []string{"--uri", "//Alice", "--weights", "1"}, exitUsage, "--uids and --weights are required"},
		{"bad mode", []string{"--uri", "//Alice", "--uids", "1", "--weights", "1", "--mode", "fast"}, exitUsage, "--mode"},
		{"bad beacon", []string{"--uri", "//Alice", "--uids", "1", "--weights", "1", "--beacon", "nope"}, exitFailure, "--beacon"},
	}
	for _, c := range cases {
		r := run(t, nil, append(slices.Clone(base), c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", c.name, r.code, r.stderr, c.code, c.want)
		}
	}
	// Inside the rate limit: refused before signing.
	subtensortest.Put(t, ch, "SubtensorModule", "LastUpdate", subtensortest.VecU64(0, 0, 0, 950), subtensortest.ByNetuid(1))
	r := run(t, nil, append(slices.Clone(base), "--uri", "//Alice", "--uids", "1", "--weights", "1")...)
	if r.code != exitFailure || !strings.Contains(r.stderr, "wait 50 more") {
		t.Errorf("inside the rate limit: exit %d, %s", r.code, r.stderr)
	}
	if n := len(ch.Submitted()); n != 0 {
		t.Fatalf("%d extrinsics submitted by refused commands", n)
	}
}

func TestHashCommitAndRevealCommands(t *testing.T) {
	ch, md, url := txChain(t, true)
	dir := filepath.Join(t.TempDir(), "commits")
	r := run(t, nil, "chain", "set-weights", "--network", url, "--netuid", "1", "--uri", "//Alice", "--uids", "1,2", "--weights", "1,2",
		"--mode", "hash-commit", "--commit-dir", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, "reveal-weights --netuid 1") {
		t.Fatalf("commit: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	c := subtensortest.Submitted(t, ch, md, 0)
	if c.Name != "commit_weights" || len(c.Args) != 34 {
		t.Fatalf("submitted %s(%x)", c.Name, c.Args)
	}
	alice, _ := keys.FromURI("//Alice")
	var commit [32]byte
	copy(commit[:], c.Args[2:])
	// The chain records it in epoch 10 (block 1000, tempo 99): not due yet.
	e := scale.NewEncoder(0)
	e.VecLen(1)
	e.Fixed(commit[:])
	e.U64(10)
	e.U64(1000)
	e.U64(0)
	subtensortest.Put(t, ch, "SubtensorModule", "WeightCommits", e.Bytes(),
		substrate.MapKey{Hasher: substrate.Twox64Concat, Key: subtensortest.U16(1)},
		substrate.MapKey{Hasher: substrate.Twox64Concat, Key: alice.PublicKey().Bytes()})
	reveal := []string{"chain", "reveal-weights", "--network", url, "--netuid", "1", "--uri", "//Alice", "--commit-dir", dir}
	r = run(t, nil, reveal...)
	if r.code != exitOK || !strings.Contains(r.stdout, "waiting (98 blocks to the reveal epoch)") || len(ch.Submitted()) != 1 {
		t.Fatalf("early reveal: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// In epoch 11 it is revealed and forgotten.
	ch.SetNumber(1100)
	r = run(t, nil, reveal...)
	if r.code != exitOK || !strings.Contains(r.stdout, "revealed in block") {
		t.Fatalf("reveal: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if c := subtensortest.Submitted(t, ch, md, 1); c.Name != "reveal_weights" {
		t.Fatalf("submitted %s", c.Name)
	}
	r = run(t, nil, reveal...)
	if r.code != exitOK || !strings.Contains(r.stdout, "no pending commits") {
		t.Fatalf("after the reveal: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestServeAxonCommand(t *testing.T) {
	ch, md, url := txChain(t, false)
	r := run(t, nil, "chain", "serve-axon", "--network", url, "--netuid", "1", "--uri", "//Alice", "--ip", "203.0.113.7", "--port", "8091")
	if r.code != exitOK || !strings.Contains(r.stdout, "203.0.113.7:8091") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	want, _ := subtensor.ServeAxon(1, 0, netip.MustParseAddrPort("203.0.113.7:8091"), 4)
	if c := subtensortest.Submitted(t, ch, md, 0); c.Name != "serve_axon" || string(c.Args) != string(want.Args) {
		t.Fatalf("submitted %s(%x), want serve_axon(%x)", c.Name, c.Args, want.Args)
	}
	for _, bad := range [][]string{
		{"--uri", "//Bob", "--ip", "203.0.113.7", "--port", "8091"},  // not registered
		{"--uri", "//Alice", "--ip", "0.0.0.0", "--port", "8091"},    // unroutable
		{"--uri", "//Alice", "--ip", "203.0.113", "--port", "8091"},  // not an address
		{"--uri", "//Alice", "--ip", "203.0.113.7", "--port", "0"},   // no port
		{"--uri", "//Alice", "--ip", "203.0.113.7", "--port", "1e6"}, // not a port
	} {
		r := run(t, nil, append([]string{"chain", "serve-axon", "--network", url, "--netuid", "1"}, bad...)...)
		if r.code == exitOK {
			t.Errorf("serve-axon %v succeeded", bad)
		}
	}
	if n := len(ch.Submitted()); n != 1 {
		t.Fatalf("%d extrinsics submitted, want 1", n)
	}
}

func TestRegisterCommand(t *testing.T) {
	ch, md, url := txChain(t, false)
	r := run(t, nil, "chain", "register", "--network", url, "--netuid", "1", "--uri", "//Bob")
	// Without --yes it is a dry run: the cost, nothing sent, success.
	if r.code != exitOK || !strings.Contains(r.stdout, "burns 2.500000000 TAO") || !strings.Contains(r.stdout, "nothing sent: pass --yes") {
		t.Fatalf("without --yes: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(ch.Submitted()); n != 0 {
		t.Fatalf("registered without --yes")
	}
	r = run(t, nil, "chain", "register", "--network", url, "--netuid", "1", "--uri", "//Alice", "--yes")
	if r.code != exitOK || !strings.Contains(r.stdout, "already uid 3") || len(ch.Submitted()) != 0 {
		t.Fatalf("registered hotkey: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "chain", "register", "--network", url, "--netuid", "1", "--uri", "//Bob", "--yes")
	if r.code != exitOK || !strings.Contains(r.stdout, "registered") {
		t.Fatalf("--yes: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	bob, _ := keys.FromURI("//Bob")
	want := subtensor.BurnedRegister(1, subtensor.AccountID(bob.PublicKey()))
	if c := subtensortest.Submitted(t, ch, md, 0); c.Name != "burned_register" || c.Signer != bob.PublicKey() || string(c.Args) != string(want.Args) {
		t.Fatalf("submitted %s(%x) by %x", c.Name, c.Args, c.Signer)
	}
}

// TestRegisterMaxCost: --max-cost refuses a cost above it before sending;
// on a runtime with register_limit (the localnet) the chain enforces the
// ceiling in the including block, and a runtime without it (the recorded
// spec 343 here) gets burned_register after the check, with a note.
func TestRegisterMaxCost(t *testing.T) {
	for _, bad := range []string{"x", "-1", "1.0000000001", ".", "1e3"} {
		if r := run(t, nil, "chain", "register", "--network", "ws://127.0.0.1:1", "--netuid", "1", "--uri", "//Bob", "--max-cost", bad, "--yes"); r.code != exitUsage || !strings.Contains(r.stderr, "--max-cost") {
			t.Errorf("--max-cost %s: exit %d %s", bad, r.code, r.stderr)
		}
	}
	ch, md, url := txChain(t, false) // burn 2.5 TAO
	r := run(t, nil, "chain", "register", "--network", url, "--netuid", "1", "--uri", "//Bob", "--max-cost", "2.4999", "--yes")
	if r.code != exitFailure || !strings.Contains(r.stderr, "costs 2.500000000 TAO now, above --max-cost 2.499900000") || len(ch.Submitted()) != 0 {
		t.Fatalf("cost above the ceiling: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "chain", "register", "--network", url, "--netuid", "1", "--uri", "//Bob", "--max-cost", "2.5", "--yes")
	if r.code != exitOK || !strings.Contains(r.stderr, "no register_limit") {
		t.Fatalf("at the ceiling, old runtime: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if c := subtensortest.Submitted(t, ch, md, 0); c.Name != "burned_register" {
		t.Fatalf("submitted %s", c.Name)
	}

	lch, net := localnettest.Start(t, localnet.DefaultGenesis(), 50*time.Millisecond)
	burn := lch.Head().State.Subnets[1].Burn
	r = run(t, nil, "chain", "register", "--network", net, "--netuid", "1", "--uri", "//Eve", "--max-cost", rao(burn), "--yes")
	if r.code != exitOK || strings.Contains(r.stderr, "no register_limit") || !strings.Contains(r.stdout, "registered") {
		t.Fatalf("localnet: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The including block holds SubtensorModule call 134, register_limit.
	_, hash, _ := strings.Cut(strings.TrimSpace(r.stdout), "in block ")
	h, err := substrate.ParseHash(hash)
	if err != nil {
		t.Fatal(err)
	}
	blk, ok := lch.BlockByHash(h)
	if !ok {
		t.Fatalf("no block %s", hash)
	}
	xs, err := meta.Decoded().TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, raw := range blk.Extrinsics {
		if x, err := xs.DecodeExtrinsic(raw); err == nil && len(x.Call) > 2 && x.Call[0] == meta.PalletSubtensor && x.Call[1] == 134 {
			found = true
		}
	}
	if !found {
		t.Fatal("no register_limit in the including block")
	}
}
