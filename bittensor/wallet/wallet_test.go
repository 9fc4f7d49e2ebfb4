package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
)

func TestValidateName(t *testing.T) {
	for _, good := range []string{"default", "my-wallet", "a", "x.y", ".hidden", "…ünïcode", "with space", strings.Repeat("n", 248)} {
		if err := ValidateName(good); err != nil {
			t.Errorf("ValidateName(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "/abs", "a\\b", "nul\x00", "../up", strings.Repeat("n", 249)} {
		if err := ValidateName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v", bad, err)
		}
	}
	for _, w := range []Wallet{{Name: "", Hotkey: "h"}, {Name: "w", Hotkey: ".."}, {Name: "w/x", Hotkey: "h"}} {
		if err := w.Validate(); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%v: %v", w, err)
		}
		if _, err := w.HotkeyPath(); err == nil {
			t.Errorf("%v: HotkeyPath succeeded", w)
		}
		if _, _, err := CreateHotkey(Wallet{Path: t.TempDir(), Name: w.Name, Hotkey: w.Hotkey}, 12, false); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CreateHotkey(%v): %v", w, err)
		}
	}
}

func TestPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	w := Default()
	if w != (Wallet{Path: "~/.bittensor/wallets", Name: "default", Hotkey: "default"}) {
		t.Errorf("Default() = %+v", w)
	}
	check := func(name string, got string, err error, want string) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	base := filepath.Join(home, ".bittensor", "wallets", "default")
	d, err := w.Dir()
	check("Dir", d, err, base)
	p, err := w.ColdkeyPath()
	check("ColdkeyPath", p, err, filepath.Join(base, "coldkey"))
	p, err = w.ColdkeyPubPath()
	check("ColdkeyPubPath", p, err, filepath.Join(base, "coldkeypub.txt"))
	p, err = w.HotkeysDir()
	check("HotkeysDir", p, err, filepath.Join(base, "hotkeys"))
	p, err = w.HotkeyPath()
	check("HotkeyPath", p, err, filepath.Join(base, "hotkeys", "default"))
	p, err = w.HotkeyPubPath()
	check("HotkeyPubPath", p, err, filepath.Join(base, "hotkeys", "defaultpub.txt"))
	p, err = Wallet{Name: "n", Hotkey: "h"}.HotkeyPath() // empty Path: the default
	check("empty Path", p, err, filepath.Join(home, ".bittensor", "wallets", "n", "hotkeys", "h"))

	for in, want := range map[string]string{
		"~": home, "~/": home, "~/x/../y": filepath.Join(home, "y"), "/abs/./p/": "/abs/p", "rel/p": "rel/p",
	} {
		got, err := ExpandPath(in)
		check("ExpandPath("+in+")", got, err, want)
	}
	for _, bad := range []string{"", "~root/x", "~x"} {
		if _, err := ExpandPath(bad); err == nil {
			t.Errorf("ExpandPath(%q) succeeded", bad)
		}
	}

	t.Setenv(EnvName, "envname")
	t.Setenv(EnvHotkey, "")
	t.Setenv(EnvPath, "/env/path")
	got := Wallet{Path: "p", Name: "n", Hotkey: "h"}.WithEnv()
	if got != (Wallet{Path: "/env/path", Name: "envname", Hotkey: "h"}) {
		t.Errorf("WithEnv() = %+v", got)
	}
	if s := got.String(); !strings.Contains(s, "envname") || !strings.Contains(s, "/env/path") {
		t.Errorf("String() = %q", s)
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".vigil-") || strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestCreateAndLoadHotkey(t *testing.T) {
	w := Wallet{Path: filepath.Join(t.TempDir(), "wallets"), Name: "w1", Hotkey: "h1"}
	kp, mnemonic, err := CreateHotkey(w, 12, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(mnemonic)); n != 12 {
		t.Fatalf("mnemonic of %d words", n)
	}
	again, err := keys.FromMnemonic(mnemonic, "")
	if err != nil || again.PublicKey() != kp.PublicKey() {
		t.Fatalf("mnemonic does not reproduce the key: %v", err)
	}
	loaded, err := LoadHotkey(w)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.SS58() != kp.SS58() {
		t.Fatalf("LoadHotkey %s, created %s", loaded, kp)
	}
	if seed, ok := loaded.Seed(); !ok {
		t.Error("loaded hotkey has no seed")
	} else if s2, _ := kp.Seed(); seed != s2 {
		t.Error("loaded seed differs")
	}
	pub, err := LoadHotkeyPub(w)
	if err != nil || pub != kp.PublicKey() {
		t.Errorf("LoadHotkeyPub: %s, %v", pub, err)
	}
	// A signature by the loaded key verifies under the created one.
	sig, err := loaded.Sign([]byte("weights"))
	if err != nil || !kp.Verify([]byte("weights"), sig[:]) {
		t.Errorf("signature: %v", err)
	}

	path, _ := w.HotkeyPath()
	pubPath, _ := w.HotkeyPubPath()
	m := readJSON(t, path)
	for _, f := range []string{"accountId", "publicKey", "privateKey", "secretPhrase", "secretSeed", "ss58Address"} {
		if s, _ := m[f].(string); s == "" {
			t.Errorf("hotkey field %s missing", f)
		}
	}
	if m["secretPhrase"] != mnemonic || m["ss58Address"] != kp.SS58() || m["publicKey"] != kp.PublicKey().Hex() {
		t.Errorf("hotkey file %v", m)
	}
	pm := readJSON(t, pubPath)
	if len(pm) != 3 || pm["ss58Address"] != kp.SS58() || pm["accountId"] != kp.PublicKey().Hex() {
		t.Errorf("pub file %v", pm)
	}
	noTempFiles(t, filepath.Dir(path))

	// Overwrite refused, files untouched.
	before, _ := os.ReadFile(path)
	_, _, err = CreateHotkey(w, 12, false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second CreateHotkey: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("refused overwrite changed the hotkey")
	}
	// Also when only the pub file is there.
	w2 := w
	w2.Hotkey = "h2"
	p2, _ := w2.HotkeyPubPath()
	if err := os.WriteFile(p2, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := CreateHotkey(w2, 12, false); !errors.Is(err, ErrExists) {
		t.Errorf("pub file only: %v", err)
	}
	if ok, _ := exists(filepath.Join(filepath.Dir(path), "h2")); ok {
		t.Error("hotkey written though its pub file exists")
	}

	// Overwrite allowed.
	kp2, m2, err := CreateHotkey(w, 24, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.Fields(m2)) != 24 || kp2.PublicKey() == kp.PublicKey() {
		t.Fatal("overwrite did not create a new key")
	}
	loaded, err = LoadHotkey(w)
	if err != nil || loaded.PublicKey() != kp2.PublicKey() {
		t.Fatalf("after overwrite: %v, %v", loaded, err)
	}
	if pub, _ := LoadHotkeyPub(w); pub != kp2.PublicKey() {
		t.Error("pub file not replaced")
	}
	noTempFiles(t, filepath.Dir(path))

	// The longest valid hotkey name (its pub file name is 255 bytes).
	wl := w
	wl.Hotkey = strings.Repeat("n", 248)
	if _, _, err := CreateHotkey(wl, 12, false); err != nil {
		t.Fatalf("longest name: %v", err)
	}
	if _, err := LoadHotkeyPub(wl); err != nil {
		t.Fatalf("longest name: %v", err)
	}

	// WriteHotkey with a derived key and no mnemonic.
	alice, _ := keys.FromURI("//Alice")
	w3 := w
	w3.Hotkey = "alice"
	if err := WriteHotkey(w3, alice, "", false); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadHotkey(w3); err != nil || got.SS58() != alice.SS58() {
		t.Errorf("alice: %v, %v", got, err)
	}
	if m := readJSON(t, filepath.Join(filepath.Dir(path), "alice")); m["secretPhrase"] != nil {
		t.Errorf("secretPhrase %v, want null", m["secretPhrase"])
	}
	soft, _ := keys.FromURI("//Alice/soft")
	w3.Hotkey = "soft"
	if err := WriteHotkey(w3, soft, "", false); !errors.Is(err, ErrNoSeed) {
		t.Errorf("soft-derived hotkey: %v", err)
	}
	if ok, _ := exists(filepath.Join(filepath.Dir(path), "soft")); ok {
		t.Error("file written for a key that cannot be encoded")
	}
}

func TestLoadHotkeyErrors(t *testing.T) {
	root := t.TempDir()
	w := Wallet{Path: root, Name: "w", Hotkey: "h"}
	if _, err := LoadHotkey(w); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := LoadHotkeyPub(w); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing pub: %v", err)
	}
	if _, err := LoadColdkeyPub(w); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing coldkeypub: %v", err)
	}
	hk, _ := w.HotkeysDir()
	if err := mkdirPrivate(hk); err != nil {
		t.Fatal(err)
	}
	path, _ := w.HotkeyPath()
	alice := newTestKey(t, "//Alice")
	secretish := obj("secretSeed", alice.seedHex, "publicKey", "0x1234")
	cases := []struct {
		name    string
		content []byte
		want    error
	}{
		{"encrypted", append([]byte("$NACL"), make([]byte, 60)...), ErrEncrypted},
		{"ansible", []byte("$ANSIBLE_VAULT;1.1;AES256\n"), ErrLegacyFormat},
		{"fernet", []byte("gAAAAABk"), ErrLegacyFormat},
		{"public only", EncodePublicKeyfile(alice.kp.PublicKey()), ErrNoSecret},
		{"bad public key", secretish, nil},
		{"mismatch", obj("secretSeed", alice.seedHex, "ss58Address", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"), keys.ErrKeyMismatch},
		{"too large", append(obj("secretSeed", alice.seedHex), bytes.Repeat([]byte(" "), MaxKeyfileSize)...), nil},
		{"not JSON", []byte(alice.seedHex), nil},
	}
	for _, c := range cases {
		if err := os.WriteFile(path, c.content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadHotkey(w)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), alice.seedHex[2:14]) {
			t.Errorf("%s: error quotes the seed: %v", c.name, err)
		}
	}
	// Exactly MaxKeyfileSize is still read.
	ok := obj("secretSeed", alice.seedHex)
	ok = append(ok, bytes.Repeat([]byte(" "), MaxKeyfileSize-len(ok))...)
	if err := os.WriteFile(path, ok, 0o600); err != nil {
		t.Fatal(err)
	}
	if kp, err := LoadHotkey(w); err != nil || kp.SS58() != alice.ss58 {
		t.Errorf("64 KiB keyfile: %v", err)
	}
	// A directory where the hotkey should be.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadHotkey(w); err == nil {
		t.Error("directory loaded as a hotkey")
	}
	// DecryptHotkey reads a plaintext hotkey too.
	w.Hotkey = "plain"
	if err := WriteHotkey(w, alice.kp, "", false); err != nil {
		t.Fatal(err)
	}
	if kp, err := DecryptHotkey(w, "unused"); err != nil || kp.SS58() != alice.ss58 {
		t.Errorf("DecryptHotkey(plaintext): %v", err)
	}
	// LoadHotkeyPub falls back to the hotkey file.
	pp, _ := w.HotkeyPubPath()
	if err := os.Remove(pp); err != nil {
		t.Fatal(err)
	}
	if pub, err := LoadHotkeyPub(w); err != nil || pub != alice.kp.PublicKey() {
		t.Errorf("LoadHotkeyPub fallback: %v", err)
	}
}

func TestList(t *testing.T) {
	root := t.TempDir()
	if got, err := List(filepath.Join(root, "missing")); err != nil || got != nil {
		t.Fatalf("missing path: %v, %v", got, err)
	}
	alice := newTestKey(t, "//Alice")
	bob := newTestKey(t, "//Bob")

	// Wallet "a": coldkeypub, coldkey, hotkeys h1 (with pub) and h2 (no pub),
	// an encrypted hotkey, an orphan pub file and a temporary file.
	wa := Wallet{Path: root, Name: "a", Hotkey: "h1"}
	if err := WriteHotkey(wa, alice.kp, "", false); err != nil {
		t.Fatal(err)
	}
	wa.Hotkey = "h2"
	if err := WriteHotkey(wa, bob.kp, "", false); err != nil {
		t.Fatal(err)
	}
	p, _ := wa.HotkeyPubPath()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	hk, _ := wa.HotkeysDir()
	mustWrite := func(path string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(filepath.Join(hk, "enc"), []byte("$NACL"+strings.Repeat("x", 60)))
	mustWrite(filepath.Join(hk, "orphanpub.txt"), EncodePublicKeyfile(bob.kp.PublicKey()))
	mustWrite(filepath.Join(hk, ".vigil-123.tmp"), []byte("{}"))
	cp, _ := wa.ColdkeyPubPath()
	mustWrite(cp, EncodePublicKeyfile(bob.kp.PublicKey()))
	ck, _ := wa.ColdkeyPath()
	mustWrite(ck, []byte("$NACL"+strings.Repeat("y", 60)))

	// Wallet "b": only a coldkeypub. "c": empty directory (not a wallet).
	// ".hidden": skipped. A plain file at the top level: skipped.
	for _, d := range []string{"b", "c", ".hidden/hotkeys"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(filepath.Join(root, "b", "coldkeypub.txt"), EncodePublicKeyfile(alice.kp.PublicKey()))
	mustWrite(filepath.Join(root, "file"), []byte("x"))

	got, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("List = %+v", got)
	}
	a := got[0]
	if a.ColdkeyPub != bob.ss58 || !a.HasColdkey || a.Dir != filepath.Join(root, "a") {
		t.Errorf("wallet a: %+v", a)
	}
	want := []HotkeyInfo{
		{Name: "enc", Encrypted: true},
		{Name: "h1", SS58: alice.ss58},
		{Name: "h2", SS58: bob.ss58},
		{Name: "orphanpub.txt", SS58: bob.ss58},
	}
	if len(a.Hotkeys) != len(want) {
		t.Fatalf("hotkeys %+v", a.Hotkeys)
	}
	for i := range want {
		if a.Hotkeys[i] != want[i] {
			t.Errorf("hotkey %d: %+v, want %+v", i, a.Hotkeys[i], want[i])
		}
	}
	if b := got[1]; b.ColdkeyPub != alice.ss58 || b.HasColdkey || len(b.Hotkeys) != 0 {
		t.Errorf("wallet b: %+v", b)
	}
	if pub, err := LoadColdkeyPub(Wallet{Path: root, Name: "b", Hotkey: "x"}); err != nil || pub != alice.kp.PublicKey() {
		t.Errorf("LoadColdkeyPub: %v", err)
	}
}
