package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
)

const (
	abandon12 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	abandon24 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	pjsDoc12    = "seed sock milk update focus rotate barely fade car face mechanic mercy"
	legalWinner = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage " +
		"worth useful legal winner thank year wave sausage worth title"
)

func mustHex32(t testing.TB, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 {
		t.Fatalf("bad test hex %q", s)
	}
	var out [32]byte
	copy(out[:], b)
	return out
}

func mustURI(t testing.TB, uri string) *KeyPair {
	t.Helper()
	kp, err := FromURI(uri)
	if err != nil {
		t.Fatalf("FromURI(%q): %v", uri, err)
	}
	return kp
}

// checkKey compares a key pair's public key (hex, optional) and address.
func checkKey(t *testing.T, name string, kp *KeyPair, pubHex, ss58 string) {
	t.Helper()
	if pubHex != "" {
		if got := hex.EncodeToString(kp.PublicKey().Bytes()); got != pubHex {
			t.Errorf("%s: public key %s, want %s", name, got, pubHex)
		}
	}
	if ss58 != "" {
		if got := kp.SS58(); got != ss58 {
			t.Errorf("%s: address %s, want %s", name, got, ss58)
		}
	}
}

// Published or cross-checked vectors (sp-core tests, subkey, polkadot.js,
// substrate-interface).
func TestKnownURIs(t *testing.T) {
	cases := []struct {
		uri, pub, ss58 string
	}{
		{DevPhrase, "46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a", "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"},
		{"//Alice", "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"},
		{DevPhrase + "//Alice", "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"},
		{"//Bob", "8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"},
		{"//Alice//stash", "", "5GNJqTPyNqANBkUVMN1LPPrxXnFouWXoe2wNSmmEoLctxiZY"},
		{"//0", "2afba9278e30ccf6a6ceb3a8b6e336b70068f045c666f2e7f4f9cc5f47db8972", "5D34dL5prEUaGNQtPPZ3yN5Y6BnkfXunKXXz6fo7ZJbLwRRH"},
		// sp-core derive_soft_known_pair_should_work / subkey inspect /Alice.
		{"/Alice", "d6c71059dbbe9ad2b0ed3f289738b800836eb425544ce694825285b958ca755e", "5GvKEoc787uDV8etY1AM8vF385edu2iyqD1WfCjDugzLUiAL"},
		{abandon12, "66933bd1f37070ef87bd1198af3dacceb095237f803f3d32b173e6b425ed7972", "5EPCUjPxiHAcNooYipQFWr9NmmXJKpNG5RhcntXwbtUySrgH"},
		{abandon24, "66933bd1f37070ef87bd1198af3dacceb095237f803f3d32b173e6b425ed7972", "5EPCUjPxiHAcNooYipQFWr9NmmXJKpNG5RhcntXwbtUySrgH"},
		{abandon12 + "//0", "5244eb2b8a9f975c603485c5a76eeec41fdad88aa6ef204b7c56691940ad1671", "5DvaFrBesD6jTWd3GEefcM72BSXaFRHqQuZtwBSZii1VMnuP"},
		{abandon12 + "//1", "", "5DJ8y4CAHnmjt4rdoZpR1wgXnQDnKDksskx7JTphZhMxthiG"},
		{abandon12 + "///TREZOR", "baa4036a6b212012c67b91fd47c2e3e64b65bbd538969544c71b2f905227374c", "5GHRV8fpuNjWCxfoRjCBc1BqY33ddAHs9DVdkhwccAjY71pN"},
		{pjsDoc12, "9c25e4a0d216aa8b1b2f4d3a2eb9dc85c16272438ab81fc73e20b7603ed22531", "5FbSap4BsWfjyRhCchoVdZHkDnmDm3NEgLZ25mesq4aw2WvX"},
		{pjsDoc12 + "//0", "e27ed800d359cd3b336d97b637056d05c499102870ae784d94a89164abb2d626", "5HBgMorR1xrFgoabcF898oBsY7YG9XPZtyQpDUrZUoaKJuEa"},
		{legalWinner, "5294e5a4859a235bed10b8a38cf5e832f1a2b560c36533a36200fc4cba1ad171", "5Dvz1qwrSmKZkD82LgS7mrsgJSQMExLp3eZHHwfm7MqKs3nd"},
		{legalWinner + "///TREZOR", "dc30aeb76d66f32c20fa33e5e8d8894d095e281be79dcce85385f0aae67e702c", "5H3QrTUbPZncGwkgUeTGXWerJnzRXJGbw1Rz3XYT4APTNT51"},
		// sp-core sr_test_vector_should_work, as a URI seed.
		{"0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "44a996beb1eef7bdcab976ab6d2ca26104834164ecf28fb375600576fcc6eb0f", ""},
	}
	for _, c := range cases {
		checkKey(t, c.uri, mustURI(t, c.uri), c.pub, c.ss58)
	}
}

func TestFromMnemonicAndMiniSecret(t *testing.T) {
	cases := []struct {
		phrase, password, mini, pub string
	}{
		{abandon12, "", "4ed8d4b17698ddeaa1f1559f152f87b5d472f725ca86d341bd0276f1b61197e2", "66933bd1f37070ef87bd1198af3dacceb095237f803f3d32b173e6b425ed7972"},
		{abandon12, "TREZOR", "b43c67f1b354a8c17e73d8b483f349f3a3549a4ee730ef08fbbd577d4decf064", "baa4036a6b212012c67b91fd47c2e3e64b65bbd538969544c71b2f905227374c"},
		{legalWinner, "", "f02cdc109954e34cd3f0c60fdb0c97ffb3a934ad1cc9a4df87b8417024b8bdbe", "5294e5a4859a235bed10b8a38cf5e832f1a2b560c36533a36200fc4cba1ad171"},
		{legalWinner, "TREZOR", "bbaf46f044dfca3560712240253ce26eabd7f4996bb241409697a292c673e3a7", "dc30aeb76d66f32c20fa33e5e8d8894d095e281be79dcce85385f0aae67e702c"},
		// Extra white space is collapsed, as the Rust bip39 crate does.
		{"  " + strings.ReplaceAll(abandon12, " ", " \t "), "", "4ed8d4b17698ddeaa1f1559f152f87b5d472f725ca86d341bd0276f1b61197e2", "66933bd1f37070ef87bd1198af3dacceb095237f803f3d32b173e6b425ed7972"},
	}
	for _, c := range cases {
		mini, err := MiniSecretFromMnemonic(c.phrase, c.password)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(mini[:]); got != c.mini {
			t.Errorf("mini secret %s, want %s", got, c.mini)
		}
		kp, err := FromMnemonic(c.phrase, c.password)
		if err != nil {
			t.Fatal(err)
		}
		checkKey(t, "FromMnemonic", kp, c.pub, "")
		seed, ok := kp.Seed()
		if !ok || seed != mini {
			t.Errorf("Seed() = %x, %v; want the mini secret", seed, ok)
		}
		// go-schnorrkel's own substrate-bip39 route agrees.
		msk, err := schnorrkel.MiniSecretKeyFromMnemonic(normalizePhrase(c.phrase), c.password)
		if err != nil {
			t.Fatal(err)
		}
		if msk.Encode() != mini {
			t.Errorf("go-schnorrkel mini secret differs")
		}
	}
}

func TestFromSeedVectors(t *testing.T) {
	// sp-core sr_test_vector_should_work and seeded_pair_should_work.
	kp, err := FromSeed(mustHex32(t, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
	if err != nil {
		t.Fatal(err)
	}
	checkKey(t, "sr_test_vector", kp, "44a996beb1eef7bdcab976ab6d2ca26104834164ecf28fb375600576fcc6eb0f", "")
	var seed [32]byte
	copy(seed[:], "12345678901234567890123456789012")
	kp, err = FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	checkKey(t, "seeded_pair", kp, "741c08a06f41c596608f6774259bd9043304adfa5d3eea62760bd9be97634d63", "")
}

// The local Ed25519-mode expansion agrees with go-schnorrkel's.
func TestExpandMatchesSchnorrkel(t *testing.T) {
	for i := 0; i < 64; i++ {
		var seed [32]byte
		if _, err := rand.Read(seed[:]); err != nil {
			t.Fatal(err)
		}
		msk, err := schnorrkel.NewMiniSecretKeyFromRaw(seed)
		if err != nil {
			t.Fatal(err)
		}
		want := msk.ExpandEd25519().Encode()
		got := ExpandSeed(seed)
		if !bytes.Equal(got[:32], want[:]) {
			t.Fatalf("scalar %x, go-schnorrkel %x", got[:32], want)
		}
		kp, err := FromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		if kp.PublicKey() != PublicKey(msk.Public().Encode()) {
			t.Fatalf("public key differs from go-schnorrkel's")
		}
	}
}

func TestDerivationSeeds(t *testing.T) {
	alice := mustURI(t, "//Alice")
	if _, ok := alice.Seed(); !ok {
		t.Error("hard-derived key has no seed")
	}
	// The seed of a hard-derived key reproduces it.
	seed, _ := alice.Seed()
	again, err := FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	if again.PublicKey() != alice.PublicKey() {
		t.Error("FromSeed(alice.Seed()) differs")
	}
	soft := mustURI(t, "//Alice/soft")
	if _, ok := soft.Seed(); ok {
		t.Error("soft-derived key reports a seed")
	}
	// Soft derivation commutes with the public key: the derived key signs
	// for its own public key.
	sig, err := soft.Sign([]byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyRaw(soft.PublicKey(), []byte("m"), sig[:]) {
		t.Error("soft-derived key's signature does not verify")
	}
	// Soft derivation is deterministic in the public key.
	if mustURI(t, "//Alice/soft").PublicKey() != soft.PublicKey() {
		t.Error("soft derivation not deterministic")
	}
	// Derive on a key without a secret fails cleanly.
	var empty KeyPair
	if _, err := empty.Derive([]Junction{ParseJunction("x", true)}); err == nil {
		t.Error("Derive without a secret succeeded")
	}
}

func TestParseJunction(t *testing.T) {
	num := func(n uint64) [32]byte {
		var cc [32]byte
		for i := 0; i < 8; i++ {
			cc[i] = byte(n >> (8 * i))
		}
		return cc
	}
	str := func(s string) [32]byte {
		var cc [32]byte
		cc[0] = byte(len(s) << 2)
		copy(cc[1:], s)
		return cc
	}
	cases := []struct {
		code string
		want [32]byte
	}{
		{"0", num(0)},
		{"1", num(1)},
		{"+7", num(7)},
		{"18446744073709551615", num(1<<64 - 1)},
		{"18446744073709551616", str("18446744073709551616")}, // overflows u64: a string
		{"-1", str("-1")},
		{"1_000", str("1_000")},
		{" 1", str(" 1")},
		{"Alice", str("Alice")},
		{"", str("")},
	}
	for _, c := range cases {
		if got := ParseJunction(c.code, true).ChainCode; got != c.want {
			t.Errorf("ParseJunction(%q) = %x, want %x", c.code, got, c.want)
		}
	}
	// 31 bytes fit (1-byte compact length); 32 bytes + 1 do not and are hashed.
	long := strings.Repeat("a", 31)
	if got := ParseJunction(long, false).ChainCode; got != str(long) {
		t.Errorf("31-byte junction not padded")
	}
	long = strings.Repeat("a", 32)
	got := ParseJunction(long, false).ChainCode
	if got == str(long[:31]) || bytes.Contains(got[:], []byte("aaaa")) {
		t.Errorf("33-byte encoding not hashed: %x", got)
	}
	// A 64+ byte string uses the two-byte compact length.
	enc := appendCompact(nil, 64)
	if !bytes.Equal(enc, []byte{0x01, 0x01}) {
		t.Errorf("compact(64) = %x", enc)
	}
	for _, c := range []struct {
		n    uint64
		want string
	}{{0, "00"}, {63, "fc"}, {16383, "fdff"}, {16384, "02000100"}, {1<<30 - 1, "feffffff"}, {1 << 30, "0300000040"}, {1<<64 - 1, "13ffffffffffffffff"}} {
		if got := hex.EncodeToString(appendCompact(nil, c.n)); got != c.want {
			t.Errorf("compact(%d) = %s, want %s", c.n, got, c.want)
		}
	}
}

func TestFromURIErrors(t *testing.T) {
	secretish := "0x" + strings.Repeat("ab", 31)
	cases := []string{
		"",
		secretish, // 31 bytes
		"0x" + strings.Repeat("zz", 32),
		"0x" + strings.Repeat("ab", 33),
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon", // bad checksum
		"abandon abandon abandon", // too short
		"notaword " + strings.Repeat("abandon ", 10) + "about",
		"bottom-drive", // not in the grammar
		"bottom drive\nobey",
	}
	for _, uri := range cases {
		kp, err := FromURI(uri)
		if err == nil {
			t.Errorf("FromURI(%q) = %v, want error", uri, kp)
			continue
		}
		msg := err.Error()
		for _, w := range strings.Fields(uri) {
			if len(w) > 3 && strings.Contains(msg, w) {
				t.Errorf("error %q repeats part of the URI (%q)", msg, w)
			}
		}
	}
}

func TestMnemonics(t *testing.T) {
	for _, words := range []int{0, 12, 15, 18, 21, 24} {
		m, err := NewMnemonic(words)
		if err != nil {
			t.Fatal(err)
		}
		want := words
		if want == 0 {
			want = 12
		}
		if n := len(strings.Fields(m)); n != want {
			t.Errorf("NewMnemonic(%d) has %d words", words, n)
		}
		if err := ValidateMnemonic(m); err != nil {
			t.Errorf("fresh mnemonic invalid: %v", err)
		}
		if _, err := FromMnemonic(m, ""); err != nil {
			t.Error(err)
		}
	}
	for _, words := range []int{-1, 1, 11, 13, 25} {
		if _, err := NewMnemonic(words); err == nil {
			t.Errorf("NewMnemonic(%d) succeeded", words)
		}
	}
	bad := strings.Replace(DevPhrase, "walk", "wall", 1) // valid words, bad checksum
	if err := ValidateMnemonic(bad); !errors.Is(err, ErrInvalidMnemonic) {
		t.Errorf("bad checksum: %v", err)
	}
	if _, err := FromMnemonic(bad, ""); err == nil || strings.Contains(err.Error(), "wall") {
		t.Errorf("FromMnemonic(bad) = %v", err)
	}
	if err := ValidateMnemonic(strings.ToUpper(DevPhrase)); err == nil {
		t.Error("upper-case phrase accepted")
	}
}

// edBytes returns a 64-byte secret in the "ed25519-expanded" form.
func edBytes(canonical [SecretKeySize]byte) []byte {
	out := canonical
	high := byte(0)
	for i := 0; i < 32; i++ {
		r := out[i] & 0xe0
		out[i] = out[i]<<3 + high
		high = r >> 5
	}
	return out[:]
}

func TestSecretKeyForms(t *testing.T) {
	seed := mustHex32(t, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	ref, err := FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	canon := ExpandSeed(seed)
	ed := edBytes(canon)

	for name, b := range map[string][]byte{"canonical": canon[:], "ed25519": ed} {
		kp, err := FromSecretKey(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if kp.PublicKey() != ref.PublicKey() {
			t.Errorf("%s: FromSecretKey public key differs", name)
		}
		if _, ok := kp.Seed(); ok {
			t.Errorf("%s: a key from secret bytes reports a seed", name)
		}
		kp, err = FromSecretKeyMatching(b, ref.PublicKey())
		if err != nil || kp.PublicKey() != ref.PublicKey() {
			t.Errorf("%s: FromSecretKeyMatching: %v", name, err)
		}
		sig, err := kp.Sign([]byte("x"))
		if err != nil || !ref.Verify([]byte("x"), sig[:]) {
			t.Errorf("%s: signature by the loaded key does not verify (%v)", name, err)
		}
		other := mustURI(t, "//Bob").PublicKey()
		if _, err := FromSecretKeyMatching(b, other); !errors.Is(err, ErrKeyMismatch) {
			t.Errorf("%s: mismatch: %v", name, err)
		}
	}

	// A small scalar is canonical in both readings; the public key decides.
	var amb [SecretKeySize]byte
	amb[0] = 40 // canonical scalar 40, or 40/8 = 5 read as ed25519-expanded
	var s5 [SecretKeySize]byte
	s5[0] = 5
	k40, err := FromSecretKey(amb[:])
	if err != nil {
		t.Fatal(err)
	}
	k5, err := FromSecretKey(s5[:])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := FromSecretKeyMatching(amb[:], k5.PublicKey()); err != nil || got.PublicKey() != k5.PublicKey() {
		t.Errorf("ambiguous, ed25519 reading: %v", err)
	}
	if got, err := FromSecretKeyMatching(amb[:], k40.PublicKey()); err != nil || got.PublicKey() != k40.PublicKey() {
		t.Errorf("ambiguous, canonical reading: %v", err)
	}

	// Malformed secrets.
	var zero64 [SecretKeySize]byte
	var allFF [SecretKeySize]byte
	for i := range allFF {
		allFF[i] = 0xff
	}
	for name, b := range map[string][]byte{
		"short": canon[:63], "long": append(canon[:], 0), "nil": nil,
		"zero": zero64[:], "non-canonical, low bits set": allFF[:],
	} {
		if kp, err := FromSecretKey(b); err == nil {
			t.Errorf("%s: FromSecretKey accepted %v", name, kp)
		} else if strings.Contains(err.Error(), hex.EncodeToString(canon[:8])) {
			t.Errorf("%s: error repeats the secret", name)
		}
		if _, err := FromSecretKeyMatching(b, ref.PublicKey()); err == nil {
			t.Errorf("%s: FromSecretKeyMatching accepted", name)
		}
	}
}

func TestSignVerify(t *testing.T) {
	kp := mustURI(t, "//Alice")
	msg := []byte("hello bittensor")
	sig, err := kp.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if sig[63]&0x80 == 0 {
		t.Error("schnorrkel marker bit not set")
	}
	pub := kp.PublicKey()
	if !Verify(pub, msg, sig[:]) || !VerifyRaw(pub, msg, sig[:]) || !kp.Verify(msg, sig[:]) || !pub.Verify(msg, sig[:]) {
		t.Fatal("round trip does not verify")
	}
	sig2, _ := kp.Sign(msg)
	if sig == sig2 {
		t.Error("signatures are not randomized")
	}

	// A signature over the <Bytes> wrapping (polkadot.js signRaw).
	wsig, err := kp.Sign(WrapBytes(msg))
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(pub, msg, wsig[:]) {
		t.Error("wrapped signature rejected by Verify")
	}
	if VerifyRaw(pub, msg, wsig[:]) {
		t.Error("wrapped signature accepted by VerifyRaw")
	}
	if got := string(WrapBytes([]byte("ab"))); got != "<Bytes>ab</Bytes>" {
		t.Errorf("WrapBytes = %q", got)
	}

	// Tampering.
	if Verify(pub, []byte("hello bittensoR"), sig[:]) {
		t.Error("tampered message verified")
	}
	if Verify(mustURI(t, "//Bob").PublicKey(), msg, sig[:]) {
		t.Error("wrong key verified")
	}
	for i := 0; i < SignatureSize; i++ {
		bad := sig
		bad[i] ^= 0x01
		if Verify(pub, msg, bad[:]) {
			t.Errorf("signature with byte %d flipped verified", i)
		}
	}

	// Malformed: never panic, always false.
	noMarker := sig
	noMarker[63] &^= 0x80
	var ones [64]byte
	for i := range ones {
		ones[i] = 0xff
	}
	malformed := map[string][]byte{
		"nil": nil, "empty": {}, "63 bytes": sig[:63], "65 bytes": append(sig[:], 0),
		"marker clear": noMarker[:], "all ones": ones[:], "zeros with marker": append(make([]byte, 63), 0x80),
	}
	for name, s := range malformed {
		if Verify(pub, msg, s) || VerifyRaw(pub, msg, s) {
			t.Errorf("%s: malformed signature verified", name)
		}
	}
	// Invalid public keys.
	var notPoint PublicKey
	for i := range notPoint {
		notPoint[i] = 0xff
	}
	if Verify(notPoint, msg, sig[:]) || Verify(PublicKey{}, msg, sig[:]) {
		t.Error("invalid public key verified")
	}

	// A key pair without a secret cannot sign.
	var empty *KeyPair
	if _, err := empty.Sign(msg); err == nil {
		t.Error("nil key pair signed")
	}
	if empty.CanSign() || empty.PublicKey() != (PublicKey{}) {
		t.Error("nil key pair misbehaves")
	}
}

// A signature produced by polkadot.js (sr25519, abandon-12 root) over an
// extrinsic signing payload, recorded with the payload.
func TestVerifyForeignSignature(t *testing.T) {
	pub := mustHex32(t, "66933bd1f37070ef87bd1198af3dacceb095237f803f3d32b173e6b425ed7972")
	payload, _ := hex.DecodeString("0503005244eb2b8a9f975c603485c5a76eeec41fdad88aa6ef204b7c56691940ad167102093d0045001c1400d6010000010000002f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c030648bc120c2cd5d818f442481dc500adfce8fdd57afc448181362623f129429f00")
	sig, _ := hex.DecodeString("f0ce803151838122782b9e25ddafc6336b9150d05f634620584c80d61126ca2daf3e508d71acffb5da16b99a30b35edc4b93a03c491be1a89b1f4898f11c6b87")
	if !VerifyRaw(pub, payload, sig) {
		t.Fatal("polkadot.js signature does not verify")
	}
	payload[0] ^= 1
	if Verify(pub, payload, sig) {
		t.Fatal("polkadot.js signature verifies over a changed payload")
	}
	if mustURI(t, abandon12).PublicKey() != PublicKey(pub) {
		t.Fatal("abandon-12 public key differs")
	}
}

func TestNoSecretInFormatting(t *testing.T) {
	phrase, err := NewMnemonic(12)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := FromMnemonic(phrase, "")
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	priv := ExpandSeed(seed)
	secrets := []string{
		hex.EncodeToString(seed[:]), hex.EncodeToString(priv[:32]), hex.EncodeToString(priv[32:]),
		fmt.Sprintf("%v", seed[:8]), fmt.Sprintf("%d", seed[0:4]), phrase,
	}
	type holder struct {
		K  KeyPair
		P  *KeyPair
		k  KeyPair
		kp *KeyPair
	}
	h := holder{K: *kp, P: kp, k: *kp, kp: kp}
	outputs := []string{
		fmt.Sprintf("%v %+v %#v %s %q %x %X %d", kp, kp, kp, kp, kp, kp, kp, kp),
		fmt.Sprintf("%v %+v %#v %s %q %x %X %d", *kp, *kp, *kp, *kp, *kp, *kp, *kp, *kp),
		fmt.Sprintf("%v %+v %#v", h, h, h),
		fmt.Sprintf("%v %+v %#v", []*KeyPair{kp}, []KeyPair{*kp}, map[string]*KeyPair{"a": kp}),
		fmt.Sprint(kp), fmt.Sprintln(*kp),
	}
	if b, err := kp.MarshalText(); err != nil || string(b) != kp.SS58() {
		t.Errorf("MarshalText = %q, %v", b, err)
	}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("formatting leaks secret material: %q", out)
			}
		}
		if !strings.Contains(out, kp.SS58()) {
			t.Errorf("formatting does not show the address: %q", out)
		}
	}
	if got := fmt.Sprintf("%v", kp); got != kp.SS58() {
		t.Errorf("%%v = %q", got)
	}
	if got := fmt.Sprintf("%#v", kp); got != `keys.KeyPair{SS58: "`+kp.SS58()+`"}` {
		t.Errorf("%%#v = %q", got)
	}
	if got := kp.LogValue().String(); got != kp.SS58() {
		t.Errorf("LogValue = %q", got)
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if a.PublicKey() == b.PublicKey() {
		t.Error("two generated keys are equal")
	}
	seed, ok := a.Seed()
	if !ok {
		t.Fatal("generated key has no seed")
	}
	again, _ := FromSeed(seed)
	if again.PublicKey() != a.PublicKey() {
		t.Error("seed does not reproduce the generated key")
	}
}
