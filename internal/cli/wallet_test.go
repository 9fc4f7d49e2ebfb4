package cli

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/wallet"
)

var mnemonicLine = regexp.MustCompile(`(?m)^    ([a-z]+(?: [a-z]+){11,23})$`)

// TestWalletNewHotkeyShowList creates a hotkey through the CLI and checks
// that the printed mnemonic is the key that was written, that the files are
// private, that show and list report it, and that no secret is printed
// after creation.
func TestWalletNewHotkeyShowList(t *testing.T) {
	dir := t.TempDir()
	created := run(t, nil, "wallet", "new-hotkey", "--wallet-path", dir, "--wallet-name", "ops", "--wallet-hotkey", "v1", "--words", "24")
	if created.code != exitOK || created.stderr != "" {
		t.Fatalf("new-hotkey: %+v", created)
	}
	m := mnemonicLine.FindStringSubmatch(created.stdout)
	if m == nil || len(strings.Fields(m[1])) != 24 {
		t.Fatalf("no 24-word mnemonic in:\n%s", created.stdout)
	}
	fromMnemonic, err := keys.FromMnemonic(m[1], "")
	if err != nil {
		t.Fatal(err)
	}
	addr := fromMnemonic.SS58()
	if !hasField(created.stdout, "ss58 address", addr) {
		t.Fatalf("printed address is not the mnemonic's %s:\n%s", addr, created.stdout)
	}
	w := wallet.Wallet{Path: dir, Name: "ops", Hotkey: "v1"}
	loaded, err := wallet.LoadHotkey(w)
	if err != nil || loaded.PublicKey() != fromMnemonic.PublicKey() {
		t.Fatalf("written hotkey %v (%v), want %s", loaded, err, addr)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(dir, "ops"):                         0o700 | os.ModeDir,
		filepath.Join(dir, "ops", "hotkeys"):              0o700 | os.ModeDir,
		filepath.Join(dir, "ops", "hotkeys", "v1"):        0o600,
		filepath.Join(dir, "ops", "hotkeys", "v1pub.txt"): 0o600,
	} {
		st, err := os.Stat(path)
		if err != nil || st.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode(), err, want)
		}
	}
	keyfile, err := os.ReadFile(filepath.Join(dir, "ops", "hotkeys", "v1"))
	if err != nil {
		t.Fatal(err)
	}
	var kf struct {
		PrivateKey string `json:"privateKey"`
		SecretSeed string `json:"secretSeed"`
	}
	if err := json.Unmarshal(keyfile, &kf); err != nil || kf.PrivateKey == "" || kf.SecretSeed == "" {
		t.Fatalf("keyfile: %v %+v", err, kf)
	}
	secrets := []string{m[1], strings.TrimPrefix(kf.PrivateKey, "0x"), strings.TrimPrefix(kf.SecretSeed, "0x")}

	// A coldkeypub.txt makes show and list report the coldkey too.
	cold, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ops", "coldkeypub.txt"), wallet.EncodePublicKeyfile(cold.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"VIGIL_WALLET_PATH": dir, "BT_WALLET_NAME": "ops", "BT_WALLET_HOTKEY": "v1"}
	show := run(t, env, "wallet", "show")
	pub := fromMnemonic.PublicKey()
	if show.code != exitOK || !hasField(show.stdout, "ss58 address", addr) ||
		!hasField(show.stdout, "coldkey", cold.SS58()) || !hasField(show.stdout, "public key", "0x"+hex.EncodeToString(pub[:])) {
		t.Fatalf("show: %+v", show)
	}
	showJSON := run(t, env, "wallet", "show", "--json")
	var sj struct {
		SS58, Coldkey, Wallet, Hotkey string
		PublicKey                     string `json:"public_key"`
	}
	if err := json.Unmarshal([]byte(showJSON.stdout), &sj); err != nil || sj.SS58 != addr || sj.Coldkey != cold.SS58() ||
		sj.PublicKey != "0x"+hex.EncodeToString(pub[:]) || sj.Wallet != "ops" || sj.Hotkey != "v1" {
		t.Fatalf("show --json: %v %+v", err, showJSON)
	}

	// A second hotkey, then list both.
	if r := run(t, nil, "wallet", "new-hotkey", "--wallet-path", dir, "--wallet-name", "ops", "--wallet-hotkey", "v2"); r.code != exitOK {
		t.Fatalf("second hotkey: %+v", r)
	}
	v2, err := wallet.LoadHotkeyPub(wallet.Wallet{Path: dir, Name: "ops", Hotkey: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	list := run(t, nil, "wallet", "list", "--wallet-path", dir)
	if list.code != exitOK || !hasField(list.stdout, "hotkey v1", addr) || !hasField(list.stdout, "hotkey v2", v2.SS58()) ||
		!hasField(list.stdout, "ops coldkey", cold.SS58()) {
		t.Fatalf("list:\n%s%s", list.stdout, list.stderr)
	}
	listJSON := run(t, nil, "wallet", "list", "--wallet-path", dir, "--json")
	var lj struct {
		Wallets []struct {
			Name, Coldkey string
			Hotkeys       []struct{ Name, SS58 string }
		}
	}
	if err := json.Unmarshal([]byte(listJSON.stdout), &lj); err != nil || len(lj.Wallets) != 1 || lj.Wallets[0].Coldkey != cold.SS58() ||
		len(lj.Wallets[0].Hotkeys) != 2 || lj.Wallets[0].Hotkeys[0].SS58 != addr || lj.Wallets[0].Hotkeys[1].SS58 != v2.SS58() {
		t.Fatalf("list --json: %v\n%s", err, listJSON.stdout)
	}

	for _, r := range []result{show, showJSON, list, listJSON} {
		for _, s := range secrets {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Fatalf("a secret was printed after creation:\n%s%s", r.stdout, r.stderr)
			}
		}
	}
}

// hasField reports whether out has a line whose words are label's words
// followed by value (tabwriter pads with a varying number of spaces).
func hasField(out, label, value string) bool {
	want := strings.Join(append(strings.Fields(label), value), " ")
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == want {
			return true
		}
	}
	return false
}

// TestWalletNewHotkeyKeepsExisting checks that an existing hotkey is never
// replaced without --overwrite.
func TestWalletNewHotkeyKeepsExisting(t *testing.T) {
	dir := t.TempDir()
	args := []string{"wallet", "new-hotkey", "--wallet-path", dir}
	if r := run(t, nil, args...); r.code != exitOK {
		t.Fatalf("first: %+v", r)
	}
	path := filepath.Join(dir, "default", "hotkeys", "default")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	again := run(t, nil, args...)
	if again.code != exitFailure || !strings.Contains(again.stderr, "already exists") || !strings.Contains(again.stderr, "--overwrite") ||
		again.stdout != "" {
		t.Fatalf("second without --overwrite: %+v", again)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("hotkey changed without --overwrite")
	}
	if r := run(t, nil, append(args, "--overwrite")...); r.code != exitOK {
		t.Fatalf("--overwrite: %+v", r)
	}
	if after, _ := os.ReadFile(path); string(after) == string(before) {
		t.Fatal("--overwrite kept the old hotkey")
	}
}

func TestWalletErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"wallet"}, exitUsage, "want 'new-hotkey', 'list' or 'show'"},
		{[]string{"wallet", "rotate"}, exitUsage, `unknown command "rotate"`},
		{[]string{"wallet", "new-hotkey", "--wallet-path", dir, "--wallet-name", "../x"}, exitUsage, "--wallet-name"},
		{[]string{"wallet", "new-hotkey", "--wallet-path", dir, "--wallet-hotkey", "a/b"}, exitUsage, "--wallet-hotkey"},
		{[]string{"wallet", "new-hotkey", "--wallet-path", dir, "--words", "13"}, exitUsage, "--words: 13"},
		{[]string{"wallet", "show", "--wallet-path", dir, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"wallet", "show", "--wallet-path", dir, "--wallet-name", "nope"}, exitFailure, `no hotkey "default" in wallet "nope"`},
	} {
		r := run(t, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: %+v, want exit %d with %q", c.args, r, c.code, c.msg)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed commands wrote %d entries", len(entries))
	}
	empty := run(t, nil, "wallet", "list", "--wallet-path", filepath.Join(dir, "none"))
	if empty.code != exitOK || !strings.Contains(empty.stdout, "no wallets under") {
		t.Errorf("list of a missing directory: %+v", empty)
	}
	help := run(t, nil, "wallet", "show", "--help")
	if help.code != exitOK || !strings.Contains(help.stdout, "-wallet-hotkey") || !strings.Contains(help.stdout, "BT_WALLET_HOTKEY") {
		t.Errorf("help: %+v", help)
	}
}
