package wallet

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
)

type testKey struct {
	kp      *keys.KeyPair
	seedHex string
	privHex string // canonical
	edHex   string // ed25519-expanded
	pubHex  string
	ss58    string
}

func newTestKey(t testing.TB, uri string) testKey {
	t.Helper()
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	seed, ok := kp.Seed()
	if !ok {
		t.Fatalf("%s has no seed", uri)
	}
	priv := keys.ExpandSeed(seed)
	ed := priv
	high := byte(0)
	for i := 0; i < 32; i++ { // scalar × 8, little endian
		r := ed[i] & 0xe0
		ed[i] = ed[i]<<3 + high
		high = r >> 5
	}
	return testKey{
		kp:      kp,
		seedHex: "0x" + hex.EncodeToString(seed[:]),
		privHex: "0x" + hex.EncodeToString(priv[:]),
		edHex:   "0x" + hex.EncodeToString(ed[:]),
		pubHex:  kp.PublicKey().Hex(),
		ss58:    kp.SS58(),
	}
}

// obj builds a JSON object with the fields in the given order; a nil value
// is written as null.
func obj(kv ...any) []byte {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		fmt.Fprintf(&b, "%s: %s", k, v)
	}
	b.WriteString("}")
	return []byte(b.String())
}

func TestEncodeParseRoundTrip(t *testing.T) {
	alice := newTestKey(t, "//Alice")
	data, err := EncodeKeyfile(alice.kp, "")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"accountId": alice.pubHex, "publicKey": alice.pubHex, "privateKey": alice.privHex,
		"secretPhrase": nil, "secretSeed": alice.seedHex, "ss58Address": alice.ss58,
	}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("keyfile\n%v\nwant\n%v", m, want)
	}
	k, err := ParseKeyfile(data)
	if err != nil {
		t.Fatal(err)
	}
	if k.Pair == nil || k.Public != alice.kp.PublicKey() || k.Pair.PublicKey() != k.Public {
		t.Fatalf("parsed %+v", k)
	}
	if s, _ := k.Pair.Seed(); "0x"+hex.EncodeToString(s[:]) != alice.seedHex {
		t.Error("seed not preserved")
	}

	// With a mnemonic.
	kp, err := keys.FromMnemonic(keys.DevPhrase, "")
	if err != nil {
		t.Fatal(err)
	}
	data, err = EncodeKeyfile(kp, "  "+strings.ReplaceAll(keys.DevPhrase, " ", "  ")+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"secretPhrase":"`+keys.DevPhrase+`"`) {
		t.Errorf("phrase not normalised in %s", data)
	}
	k, err = ParseKeyfile(data)
	if err != nil || k.Pair == nil || k.Public != kp.PublicKey() {
		t.Fatalf("mnemonic keyfile: %+v, %v", k, err)
	}

	// Public keyfile.
	pub := EncodePublicKeyfile(alice.kp.PublicKey())
	wantPub := `{"accountId":"` + alice.pubHex + `","publicKey":"` + alice.pubHex + `","ss58Address":"` + alice.ss58 + `"}`
	if string(pub) != wantPub {
		t.Errorf("public keyfile %s", pub)
	}
	k, err = ParseKeyfile(pub)
	if err != nil || k.Pair != nil || k.Public != alice.kp.PublicKey() {
		t.Errorf("public keyfile parse: %+v, %v", k, err)
	}
}

func TestEncodeKeyfileErrors(t *testing.T) {
	if _, err := EncodeKeyfile(nil, ""); !errors.Is(err, ErrNoSecret) {
		t.Errorf("nil: %v", err)
	}
	soft, err := keys.FromURI("//Alice/soft")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EncodeKeyfile(soft, ""); !errors.Is(err, ErrNoSeed) {
		t.Errorf("soft-derived: %v", err)
	}
	alice := newTestKey(t, "//Alice")
	b, _ := hex.DecodeString(alice.privHex[2:])
	fromPriv, err := keys.FromSecretKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EncodeKeyfile(fromPriv, ""); !errors.Is(err, ErrNoSeed) {
		t.Errorf("from private key: %v", err)
	}
	// A mnemonic must belong to the key pair.
	if _, err := EncodeKeyfile(alice.kp, keys.DevPhrase); !errors.Is(err, keys.ErrKeyMismatch) {
		t.Errorf("foreign mnemonic: %v", err)
	}
	_, err = EncodeKeyfile(alice.kp, "these are not the words you are looking for at all ok")
	if err == nil || strings.Contains(err.Error(), "looking") {
		t.Errorf("invalid mnemonic: %v", err)
	}
}

func TestParseKeyfileOrdersAndNulls(t *testing.T) {
	a := newTestKey(t, "//Alice")
	fields := [][2]any{
		{"accountId", a.pubHex}, {"publicKey", a.pubHex}, {"privateKey", a.privHex},
		{"secretPhrase", nil}, {"secretSeed", a.seedHex}, {"ss58Address", a.ss58},
	}
	// Every order of the six fields, in the Python (", " / ": ") style.
	var perm func(k int)
	n := 0
	perm = func(k int) {
		if k == len(fields) {
			var kv []any
			for _, f := range fields {
				kv = append(kv, f[0], f[1])
			}
			data := obj(kv...)
			k, err := ParseKeyfile(data)
			if err != nil || k.Pair == nil || k.Public != a.kp.PublicKey() {
				t.Fatalf("%s: %+v, %v", data, k, err)
			}
			n++
			return
		}
		for i := k; i < len(fields); i++ {
			fields[k], fields[i] = fields[i], fields[k]
			perm(k + 1)
			fields[k], fields[i] = fields[i], fields[k]
		}
	}
	perm(0)
	if n != 720 {
		t.Fatalf("%d orders", n)
	}

	for _, data := range []string{
		// Rust style, compact, nulls.
		`{"accountId":"` + a.pubHex + `","publicKey":"` + a.pubHex + `","secretPhrase":null,"secretSeed":"` + a.seedHex + `","ss58Address":null}`,
		// All nulls but the seed; white space and unknown fields.
		"\n{ \"ss58Address\" : null ,\n\"privateKey\": null, \"secretSeed\":\t\"" + a.seedHex + "\", \"publicKey\": null, \"accountId\": null, \"secretPhrase\": null, \"extra\": [1, {\"x\": 2}] }\n",
		// Empty strings read as absent; hex without 0x; upper-case hex.
		`{"secretPhrase": "", "secretSeed": "` + a.seedHex[2:] + `", "publicKey": "0X` + strings.ToUpper(a.pubHex[2:]) + `"}`,
		// Only a private key, canonical or ed25519-expanded, with or without a public key.
		`{"privateKey": "` + a.privHex + `"}`,
		`{"privateKey": "` + a.privHex + `", "publicKey": "` + a.pubHex + `"}`,
		`{"privateKey": "` + a.edHex + `", "publicKey": "` + a.pubHex + `"}`,
		`{"privateKey": "` + a.edHex + `", "ss58Address": "` + a.ss58 + `"}`,
		`{"privateKey": "` + a.edHex + `"}`,
	} {
		k, err := ParseKeyfile([]byte(data))
		if err != nil || k.Pair == nil || k.Public != a.kp.PublicKey() {
			t.Errorf("%s: %+v, %v", data, k, err)
		}
	}
}

func TestParseKeyfilePriority(t *testing.T) {
	a := newTestKey(t, "//Alice")
	b := newTestKey(t, "//Bob")
	dev, err := keys.FromMnemonic(keys.DevPhrase, "")
	if err != nil {
		t.Fatal(err)
	}
	devSeed, _ := dev.Seed()
	devSeedHex := "0x" + hex.EncodeToString(devSeed[:])
	cases := []struct {
		name string
		data []byte
		want keys.PublicKey
		pair bool
	}{
		{"phrase over seed", obj("secretSeed", devSeedHex, "secretPhrase", keys.DevPhrase, "privateKey", b.privHex), dev.PublicKey(), true},
		{"seed over private key", obj("privateKey", b.privHex, "secretSeed", a.seedHex), a.kp.PublicKey(), true},
		{"private key over public", obj("ss58Address", b.ss58, "privateKey", b.privHex, "secretSeed", nil), b.kp.PublicKey(), true},
		{"ss58Address only", obj("ss58Address", a.ss58, "secretSeed", nil, "privateKey", nil, "secretPhrase", nil), a.kp.PublicKey(), false},
		{"publicKey only", obj("publicKey", b.pubHex), b.kp.PublicKey(), false},
		{"accountId only", obj("accountId", b.pubHex), b.kp.PublicKey(), false},
		{"all public fields", obj("accountId", b.pubHex, "publicKey", b.pubHex, "ss58Address", b.ss58), b.kp.PublicKey(), false},
		{"other prefix", obj("ss58Address", "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"), a.kp.PublicKey(), false},
	}
	for _, c := range cases {
		k, err := ParseKeyfile(c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if k.Public != c.want || (k.Pair != nil) != c.pair || (k.Pair != nil && k.Pair.PublicKey() != c.want) {
			t.Errorf("%s: got %s (pair %v)", c.name, k.Public, k.Pair != nil)
		}
	}
}

func TestParseKeyfileMismatch(t *testing.T) {
	a := newTestKey(t, "//Alice")
	b := newTestKey(t, "//Bob")
	cases := map[string][]byte{
		"seed vs publicKey":        obj("secretSeed", a.seedHex, "publicKey", b.pubHex),
		"seed vs accountId":        obj("secretSeed", a.seedHex, "accountId", b.pubHex),
		"seed vs ss58Address":      obj("secretSeed", a.seedHex, "ss58Address", b.ss58),
		"seed vs one of two":       obj("secretSeed", a.seedHex, "publicKey", a.pubHex, "accountId", b.pubHex),
		"phrase vs publicKey":      obj("secretPhrase", keys.DevPhrase, "publicKey", a.pubHex),
		"phrase vs secretSeed":     obj("secretPhrase", keys.DevPhrase, "secretSeed", a.seedHex),
		"privateKey vs publicKey":  obj("privateKey", a.privHex, "publicKey", b.pubHex),
		"ed25519 form vs ss58":     obj("privateKey", a.edHex, "ss58Address", b.ss58),
		"public fields disagree":   obj("publicKey", a.pubHex, "ss58Address", b.ss58),
		"publicKey vs accountId":   obj("publicKey", a.pubHex, "accountId", b.pubHex),
		"mismatch, all fields set": obj("accountId", b.pubHex, "publicKey", b.pubHex, "privateKey", a.privHex, "secretPhrase", nil, "secretSeed", a.seedHex, "ss58Address", b.ss58),
	}
	for name, data := range cases {
		k, err := ParseKeyfile(data)
		if !errors.Is(err, keys.ErrKeyMismatch) {
			t.Errorf("%s: %+v, %v", name, k, err)
			continue
		}
		checkNoSecret(t, err, data)
	}
}

func TestParseKeyfileErrors(t *testing.T) {
	a := newTestKey(t, "//Alice")
	cases := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", nil},
		{"truncated JSON", `{"secretSeed": "` + a.seedHex, nil},
		{"array", `["` + a.seedHex + `"]`, nil},
		{"null", "null", nil},
		{"string", `"` + a.seedHex + `"`, nil},
		{"number", "42", nil},
		{"no key fields", "{}", ErrNoKey},
		{"unknown fields only", `{"foo": "bar", "secretseed": "` + a.seedHex + `"}`, ErrNoKey},
		{"case-sensitive names", `{"SecretSeed": "` + a.seedHex + `"}`, ErrNoKey},
		{"all null", `{"accountId": null, "publicKey": null, "privateKey": null, "secretPhrase": null, "secretSeed": null, "ss58Address": null}`, ErrNoKey},
		{"seed is a number", `{"secretSeed": 123456789012345678901234567890}`, nil},
		{"seed is an object", `{"secretSeed": {"x": "` + a.seedHex + `"}}`, nil},
		{"seed too short", `{"secretSeed": "` + a.seedHex[:64] + `"}`, nil},
		{"seed too long", `{"secretSeed": "` + a.seedHex + `00"}`, nil},
		{"seed not hex", `{"secretSeed": "0x` + strings.Repeat("g", 64) + `"}`, nil},
		{"private key short", `{"privateKey": "` + a.privHex[:128] + `"}`, nil},
		{"private key not hex", `{"privateKey": "` + a.privHex[:120] + `zzzzzzzzzz"}`, nil},
		{"private key invalid", `{"privateKey": "0x` + strings.Repeat("ff", 64) + `"}`, nil},
		{"phrase invalid", `{"secretPhrase": "bottom drive obey lake curtain smoke basket hold race lonely fit fit"}`, keys.ErrInvalidMnemonic},
		{"phrase not words", `{"secretPhrase": "` + a.seedHex + `"}`, keys.ErrInvalidMnemonic},
		{"phrase with bad seed", `{"secretPhrase": "` + keys.DevPhrase + `", "secretSeed": "0x12"}`, nil},
		{"publicKey bad", `{"publicKey": "0x1234"}`, nil},
		{"ss58Address bad", `{"ss58Address": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"}`, keys.ErrSS58Checksum},
		{"$NACL", "$NACL" + strings.Repeat("\x00", 60), ErrEncrypted},
		{"ansible", "$ANSIBLE_VAULT;1.1;AES256\n", ErrLegacyFormat},
		{"fernet", "gAAAAABhbGxv", ErrLegacyFormat},
		{"too large", `{"secretSeed": "` + a.seedHex + `", "pad": "` + strings.Repeat("x", MaxKeyfileSize) + `"}`, nil},
	}
	for _, c := range cases {
		k, err := ParseKeyfile([]byte(c.data))
		if err == nil {
			t.Errorf("%s: accepted (%+v)", c.name, k)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		checkNoSecret(t, err, []byte(c.data))
	}
}

var hexRun = regexp.MustCompile(`[0-9a-fA-F]{12,}`)

// checkNoSecret fails if err quotes a secret field of data (or a long hex
// run from any field), or the words of a phrase.
func checkNoSecret(t *testing.T, err error, data []byte) {
	t.Helper()
	msg := err.Error()
	for _, h := range hexRun.FindAllString(msg, -1) {
		if strings.Contains(string(data), h) && !isPublicHex(h, data) {
			t.Errorf("error %q quotes hex from the keyfile", msg)
		}
	}
	var m map[string]any
	if json.Unmarshal(data, &m) == nil {
		for _, f := range []string{fieldPrivateKey, fieldSecretPhrase, fieldSecretSeed} {
			s, _ := m[f].(string)
			if len(s) >= 8 && strings.Contains(msg, s) {
				t.Errorf("error %q contains %s", msg, f)
			}
			for _, w := range strings.Fields(s) {
				if len(w) >= 5 && strings.Contains(msg, w) && !strings.Contains("keyfile secretPhrase secretSeed privateKey mnemonic", w) {
					t.Errorf("error %q contains a word of %s", msg, f)
				}
			}
		}
	}
}

// isPublicHex reports whether h is part of a public field's value.
func isPublicHex(h string, data []byte) bool {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	for _, f := range []string{fieldPublicKey, fieldAccountID} {
		if s, _ := m[f].(string); strings.Contains(strings.ToLower(s), strings.ToLower(h)) {
			return true
		}
	}
	return false
}

func TestKeyNeverPrintsSecrets(t *testing.T) {
	a := newTestKey(t, "//Alice")
	data, _ := EncodeKeyfile(a.kp, "")
	k, err := ParseKeyfile(data)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %s", k, k, k, &k)
	for _, s := range []string{a.seedHex[2:], a.privHex[2:66], a.privHex[66:]} {
		if strings.Contains(out, s) {
			t.Fatalf("Key formatting leaks a secret: %s", out)
		}
	}
}

func FuzzKeyfile(f *testing.F) {
	a := newTestKey(f, "//Alice")
	b := newTestKey(f, "//Bob")
	full, _ := EncodeKeyfile(a.kp, "")
	dev, _ := keys.FromMnemonic(keys.DevPhrase, "")
	withPhrase, _ := EncodeKeyfile(dev, keys.DevPhrase)
	for _, seed := range [][]byte{
		full, withPhrase,
		EncodePublicKeyfile(b.kp.PublicKey()),
		obj("accountId", a.pubHex, "publicKey", a.pubHex, "secretPhrase", nil, "secretSeed", a.seedHex, "ss58Address", nil),
		obj("privateKey", a.edHex, "publicKey", a.pubHex),
		obj("privateKey", a.privHex),
		obj("secretSeed", a.seedHex, "publicKey", b.pubHex),
		obj("ss58Address", b.ss58),
		[]byte(`{}`), []byte(`null`), []byte(`{"secretSeed": 1}`), []byte("$NACL"), []byte("gAAAAA"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKeyfile(data)
		if err != nil {
			if k != (Key{}) {
				t.Fatalf("error with a non-zero key: %v", err)
			}
			checkNoSecret(t, err, data)
			return
		}
		if k.Pair != nil {
			if k.Pair.PublicKey() != k.Public {
				t.Fatalf("pair %s, public %s", k.Pair, k.Public)
			}
			// What loads can be written back and loads the same.
			if _, ok := k.Pair.Seed(); ok {
				again, err := EncodeKeyfile(k.Pair, "")
				if err != nil {
					t.Fatal(err)
				}
				k2, err := ParseKeyfile(again)
				if err != nil || k2.Public != k.Public {
					t.Fatalf("re-encoded keyfile: %v", err)
				}
			}
		}
		k3, err := ParseKeyfile(EncodePublicKeyfile(k.Public))
		if err != nil || k3.Public != k.Public || k3.Pair != nil {
			t.Fatalf("public keyfile round trip: %v", err)
		}
	})
}
