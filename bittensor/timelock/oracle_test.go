package timelock

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

// The oracle is tools/oracle/timelock.mjs over @ideallabs/timelock_wasm_wrapper
// (pinned in tools/oracle/package-lock.json, installed by
// scripts/npm-deps.sh): ideal-lab5's tle crate compiled to wasm, the same
// construction subtensor decrypts commits with. Agreement in both directions
// with the real quicknet round-1000 pulse exercises everything a shared
// secret depends on, including how GT elements are serialized before
// hashing, which a round trip through this package alone cannot show.
//
// Layout: the pinned 1.0.0 release writes the same layout as subtensor's
// revision, with V and W as length-prefixed vectors (payload + 244 bytes);
// TestOracleLayout pins that down so a change of release is noticed.

type oracleReq map[string]any

type oracleResp struct {
	Error      string `json:"error"`
	Ciphertext string `json:"ciphertext"`
	Plaintext  string `json:"plaintext"`
}

// askOracle sends all requests in one process run and returns the answers in
// order.
func askOracle(t *testing.T, reqs []oracleReq) []oracleResp {
	t.Helper()
	return oracletest.Ask[oracleResp](t, "timelock.mjs", "@ideallabs/timelock_wasm_wrapper", reqs)
}

var (
	hex0x     = oracletest.Hex
	randBytes = oracletest.RandBytes
)

// oraclePayloads are the payload sizes both directions are checked with:
// empty, tiny, a block boundary, weight payloads, and the largest allowed.
func oraclePayloads(t *testing.T) [][]byte {
	var out [][]byte
	for _, n := range []int{0, 1, 16, 45 + 4*1, 45 + 4*256, MaxPayloadSize} {
		out = append(out, randBytes(t, n))
	}
	return out
}

func encryptReq(round uint64, msg, key []byte) oracleReq {
	return oracleReq{"op": "encrypt", "round": round, "message": hex0x(msg),
		"publicKey": hex0x(Quicknet.PublicKey), "key": hex0x(key)}
}

// skeleton zeroes the random parts of a ciphertext for a payload of n
// bytes (U, V, W, the AES output and the nonce), leaving the length
// prefixes and the cipher suite to compare.
func skeleton(ct []byte, n int) []byte {
	s := bytes.Clone(ct)
	zero := func(off, l int) {
		if off+l <= len(s) {
			clear(s[off : off+l])
		}
	}
	zero(0, 96)                // U
	zero(96+8, 32)             // V
	zero(96+40+8, 32)          // W
	zero(96+80+8+8, n+16)      // AES ciphertext ‖ tag
	zero(96+80+8+8+n+16+8, 12) // nonce
	return s
}

// TestOracleLayout checks that the wasm writes exactly the layout Encrypt
// writes: same size and byte-identical length prefixes and cipher suite.
func TestOracleLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	msgs := oraclePayloads(t)
	var reqs []oracleReq
	for _, m := range msgs {
		reqs = append(reqs, encryptReq(pulseRound, m, randBytes(t, 32)))
	}
	answers := askOracle(t, reqs)
	for i, m := range msgs {
		if answers[i].Error != "" {
			t.Fatalf("oracle encrypt %d bytes: %s", len(m), answers[i].Error)
		}
		theirs := unhex(t, answers[i].Ciphertext)
		ours, err := Encrypt(Quicknet, pulseRound, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(theirs) != len(ours) {
			t.Fatalf("%d-byte payload: wasm ciphertext %d bytes, ours %d (V/W layout differs?)", len(m), len(theirs), len(ours))
		}
		if a, b := skeleton(theirs, len(m)), skeleton(ours, len(m)); !bytes.Equal(a, b) {
			t.Fatalf("%d-byte payload: framing differs\nwasm %x\nours %x", len(m), a, b)
		}
	}
}

// TestOracleWasmToGo has the wasm encrypt to round 1000 and decrypts here
// with the real pulse, checking that the recovered AES key is the one the
// wasm was given.
func TestOracleWasmToGo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	sig := unhex(t, pulseSignature)
	s, err := signature(sig)
	if err != nil {
		t.Fatal(err)
	}
	msgs := oraclePayloads(t)
	var keys [][]byte
	var reqs []oracleReq
	for _, m := range msgs {
		k := randBytes(t, 32)
		keys = append(keys, k)
		reqs = append(reqs, encryptReq(pulseRound, m, k))
	}
	// One more to round 999: the round-1000 pulse must not open it.
	reqs = append(reqs, encryptReq(999, msgs[3], keys[3]))
	answers := askOracle(t, reqs)

	for i, m := range msgs {
		if answers[i].Error != "" {
			t.Fatalf("oracle encrypt %d bytes: %s", len(m), answers[i].Error)
		}
		ct := unhex(t, answers[i].Ciphertext)
		got, err := Decrypt(Quicknet, ct, pulseRound, sig)
		if err != nil {
			t.Fatalf("wasm ciphertext (%d-byte payload): %v", len(m), err)
		}
		if !bytes.Equal(got, m) {
			t.Fatalf("wasm ciphertext (%d-byte payload) decrypted to a different payload", len(m))
		}
		c, err := parse(ct)
		if err != nil {
			t.Fatal(err)
		}
		key, err := c.unwrapKey(&s)
		if err != nil || !bytes.Equal(key, keys[i]) {
			t.Fatalf("recovered key %x (%v), wasm was given %x", key, err, keys[i])
		}
		bad := bytes.Clone(ct)
		bad[96+8+5] ^= 0x80 // inside V
		if _, err := Decrypt(Quicknet, bad, pulseRound, sig); !errors.Is(err, ErrDecrypt) {
			t.Errorf("wasm ciphertext with V altered: %v, want ErrDecrypt", err)
		}
	}
	last := answers[len(msgs)]
	if last.Error != "" {
		t.Fatalf("oracle encrypt to round 999: %s", last.Error)
	}
	if _, err := Decrypt(Quicknet, unhex(t, last.Ciphertext), pulseRound, sig); !errors.Is(err, ErrDecrypt) {
		t.Errorf("wasm ciphertext for round 999 opened with the round-1000 pulse: %v, want ErrDecrypt", err)
	}
	t.Logf("%d wasm ciphertexts decrypted here", len(msgs))
}

// TestOracleGoToWasm has the wasm decrypt Encrypt's output with the real
// pulse (tld), and open the AES body alone with the key (decrypt), and
// checks that it refuses a wrong signature, a wrong round and tampering.
func TestOracleGoToWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	sig := unhex(t, pulseSignature)
	s, err := signature(sig)
	if err != nil {
		t.Fatal(err)
	}
	msgs := oraclePayloads(t)
	type want struct {
		what string
		msg  []byte // nil: the wasm must refuse
	}
	var reqs []oracleReq
	var wants []want
	ask := func(w want, req oracleReq) {
		reqs = append(reqs, req)
		wants = append(wants, w)
	}
	for _, m := range msgs {
		ct, err := Encrypt(Quicknet, pulseRound, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parse(ct)
		if err != nil {
			t.Fatal(err)
		}
		key, err := c.unwrapKey(&s)
		if err != nil {
			t.Fatal(err)
		}
		n := len(m)
		ask(want{fmt.Sprintf("tld %d bytes", n), m},
			oracleReq{"op": "decrypt", "ciphertext": hex0x(ct), "signature": pulseSignature0x})
		ask(want{fmt.Sprintf("body with key, %d bytes", n), m},
			oracleReq{"op": "decryptWithKey", "ciphertext": hex0x(ct), "key": hex0x(key)})
		ask(want{fmt.Sprintf("tld %d bytes, other G1 point", n), nil},
			oracleReq{"op": "decrypt", "ciphertext": hex0x(ct), "signature": hex0x(otherG1(t))})
		// A byte of V, of W, the tag's last byte, a nonce byte.
		for _, off := range []int{96 + 8 + 1, 96 + 40 + 8 + 1, len(ct) - 37, len(ct) - 20} {
			bad := bytes.Clone(ct)
			bad[off] ^= 0x04
			ask(want{fmt.Sprintf("tld %d bytes, byte %d altered", n, off), nil},
				oracleReq{"op": "decrypt", "ciphertext": hex0x(bad), "signature": pulseSignature0x})
		}
	}
	ct999, err := Encrypt(Quicknet, 999, msgs[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	ask(want{"tld of a round-999 ciphertext with the round-1000 pulse", nil},
		oracleReq{"op": "decrypt", "ciphertext": hex0x(ct999), "signature": pulseSignature0x})

	answers := askOracle(t, reqs)
	for i, w := range wants {
		r := answers[i]
		switch {
		case w.msg == nil && r.Error == "":
			t.Errorf("%s: wasm accepted it, plaintext %s", w.what, r.Plaintext)
		case w.msg != nil && r.Error != "":
			t.Errorf("%s: wasm error %s", w.what, r.Error)
		case w.msg != nil && !bytes.Equal(unhex(t, r.Plaintext), w.msg):
			t.Errorf("%s: wasm plaintext differs", w.what)
		}
	}
	t.Logf("%d checks of Go ciphertexts by the wasm", len(wants))
}

const pulseSignature0x = "0x" + pulseSignature
