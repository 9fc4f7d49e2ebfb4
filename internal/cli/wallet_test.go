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
		{[]string{"wallet"}, exitUsage, "want 'new-hotkey', 'new-coldkey', 'regen-coldkey', 'regen-hotkey', 'list' or 'show'"},
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

// devPhrase is Substrate's development mnemonic; its public key (no
// derivation path) is published with subkey: 0x46ebddef…b47a, address
// 5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV.
const (
	devPhrase  = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
	devPhrase0 = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
)

// TestWalletNewColdkeyEncrypted: the coldkey is written as btcli writes it —
// $NACL-encrypted with the password, 0600, coldkeypub.txt beside it — and
// decrypts to the key of the printed mnemonic.
func TestWalletNewColdkeyEncrypted(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VIGIL_COLDKEY_PASSWORD": "correct horse"}
	r := run(t, env, "wallet", "new-coldkey", "--wallet-path", dir, "--wallet-name", "owner")
	if r.code != exitOK || !strings.Contains(r.stdout, "encrypted ($NACL)") {
		t.Fatalf("new-coldkey: %+v", r)
	}
	m := mnemonicLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no mnemonic in:\n%s", r.stdout)
	}
	want, err := keys.FromMnemonic(m[1], "")
	if err != nil {
		t.Fatal(err)
	}
	w := wallet.Wallet{Path: dir, Name: "owner"}
	path, _ := w.ColdkeyPath()
	data, err := os.ReadFile(path)
	if err != nil || !wallet.IsEncrypted(data) || !strings.HasPrefix(string(data), "$NACL") {
		t.Fatalf("coldkey file %q %v: want $NACL", data[:min(len(data), 8)], err)
	}
	for _, p := range []string{path, filepath.Join(dir, "owner", "coldkeypub.txt")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", p, fi.Mode(), err)
		}
	}
	kp, err := wallet.DecryptColdkey(w, "correct horse")
	if err != nil || kp.SS58() != want.SS58() {
		t.Fatalf("decrypted %v %v, want %s", kp, err, want.SS58())
	}
	if pub, err := wallet.LoadColdkeyPub(w); err != nil || pub.SS58() != want.SS58() {
		t.Fatalf("coldkeypub.txt: %v %v", pub, err)
	}
	// No password and no --no-password: refused before anything is made.
	r = run(t, nil, "wallet", "new-coldkey", "--wallet-path", dir, "--wallet-name", "other")
	if r.code != exitUsage || !strings.Contains(r.stderr, "VIGIL_COLDKEY_PASSWORD") {
		t.Fatalf("without a password: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); !os.IsNotExist(err) {
		t.Errorf("a refused new-coldkey left %v", err)
	}
}

// TestWalletRegenFromMnemonicAndSeed restores keys from Substrate's
// published development phrase and from its seed, and holds the addresses
// to the published one.
func TestWalletRegenFromMnemonicAndSeed(t *testing.T) {
	dir := t.TempDir()
	phraseFile := filepath.Join(t.TempDir(), "phrase")
	if err := os.WriteFile(phraseFile, []byte("  "+strings.ReplaceAll(devPhrase, " ", "\n ")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "wallet", "regen-coldkey", "--wallet-path", dir, "--wallet-name", "dev", "--mnemonic-file", phraseFile, "--no-password")
	if r.code != exitOK || !hasField(r.stdout, "ss58 address", devPhrase0) || !strings.Contains(r.stdout, "NOT encrypted") {
		t.Fatalf("regen-coldkey: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, "obey") {
		t.Error("the mnemonic was printed back")
	}
	r = run(t, nil, "wallet", "regen-hotkey", "--wallet-path", dir, "--wallet-name", "dev", "--wallet-hotkey", "h", "--mnemonic", devPhrase)
	if r.code != exitOK || !hasField(r.stdout, "ss58 address", devPhrase0) {
		t.Fatalf("regen-hotkey: %+v", r)
	}
	kp, err := wallet.LoadHotkey(wallet.Wallet{Path: dir, Name: "dev", Hotkey: "h"})
	if err != nil || kp.SS58() != devPhrase0 {
		t.Fatalf("hotkey file: %v %v", kp, err)
	}
	seed, ok := kp.Seed()
	if !ok {
		t.Fatal("no seed")
	}
	r = run(t, nil, "wallet", "regen-hotkey", "--wallet-path", dir, "--wallet-name", "dev", "--wallet-hotkey", "h2", "--seed", "0x"+hex.EncodeToString(seed[:]))
	if r.code != exitOK || !hasField(r.stdout, "ss58 address", devPhrase0) {
		t.Fatalf("regen-hotkey --seed: %+v", r)
	}
	// An existing key is kept unless --overwrite; a bad phrase is refused
	// without being quoted.
	r = run(t, nil, "wallet", "regen-hotkey", "--wallet-path", dir, "--wallet-name", "dev", "--wallet-hotkey", "h", "--seed", "0x"+hex.EncodeToString(seed[:]))
	if r.code != exitFailure || !strings.Contains(r.stderr, "--overwrite") {
		t.Fatalf("over an existing hotkey: %+v", r)
	}
	r = run(t, nil, "wallet", "regen-hotkey", "--wallet-path", dir, "--wallet-name", "dev", "--wallet-hotkey", "h3", "--mnemonic", "obey "+devPhrase)
	if r.code != exitFailure || strings.Contains(r.stderr, "bottom") {
		t.Fatalf("a bad phrase: %+v", r)
	}
	for _, args := range [][]string{
		{"wallet", "regen-hotkey", "--wallet-path", dir, "--wallet-name", "dev", "--wallet-hotkey", "h4"},
		{"wallet", "regen-hotkey", "--wallet-path", dir, "--wallet-name", "dev", "--wallet-hotkey", "h4", "--mnemonic", devPhrase, "--seed", "0x00"},
	} {
		if r := run(t, nil, args...); r.code != exitUsage {
			t.Errorf("%v: %+v, want a usage error", args[1:], r)
		}
	}
}
