package keys

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

// The oracle is tools/oracle/oracle.mjs: @polkadot/keyring and
// @polkadot/util-crypto at the versions pinned in its package-lock.json,
// installed by scripts/npm-deps.sh (which `make test` runs). It is an
// implementation of sr25519, SS58 and substrate mnemonics we did not write,
// so agreement with it is evidence of interoperability with polkadot.js and,
// through it, with the Python SDK's substrate-interface.

type oracleReq map[string]any

type oracleResp struct {
	Error      string `json:"error"`
	PublicKey  string `json:"publicKey"`
	Address    string `json:"address"`
	MiniSecret string `json:"miniSecret"`
	Signature  string `json:"signature"`
	Valid      *bool  `json:"valid"`
	Raw        *bool  `json:"raw"`
	Wrapped    *bool  `json:"wrapped"`
}

// askOracle sends all requests in one process run and returns the answers in
// order.
func askOracle(t *testing.T, reqs []oracleReq) []oracleResp {
	t.Helper()
	return oracletest.Ask[oracleResp](t, "oracle.mjs", "@polkadot/keyring", reqs)
}

var (
	hex0x     = oracletest.Hex
	unhex0x   = oracletest.Unhex
	randBytes = oracletest.RandBytes
)

// TestOracleDerivation compares mnemonic validation, mini secrets, seeds and
// secret URIs (hard, soft, numeric and long junctions, passwords) with the
// oracle, on fresh random mnemonics and seeds every run.
func TestOracleDerivation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	var phrases []string
	for _, words := range []int{12, 15, 18, 21, 24, 12, 24} {
		p, err := NewMnemonic(words)
		if err != nil {
			t.Fatal(err)
		}
		phrases = append(phrases, p)
	}
	phrases = append(phrases, DevPhrase)

	var reqs []oracleReq
	type check struct {
		what string
		cmp  func(r oracleResp) error
	}
	var checks []check
	add := func(what string, req oracleReq, cmp func(r oracleResp) error) {
		reqs = append(reqs, req)
		checks = append(checks, check{what, cmp})
	}
	samePub := func(goKey PublicKey, goErr error) func(oracleResp) error {
		return func(r oracleResp) error {
			if r.Error != "" || goErr != nil {
				return fmt.Errorf("go error %v, oracle error %q", goErr, r.Error)
			}
			if got := hex0x(goKey[:]); got != r.PublicKey {
				return fmt.Errorf("public key: go %s, oracle %s", got, r.PublicKey)
			}
			if r.Address != "" && goKey.SS58() != r.Address {
				return fmt.Errorf("address: go %s, oracle %s", goKey.SS58(), r.Address)
			}
			return nil
		}
	}
	pubOf := func(kp *KeyPair, err error) (PublicKey, error) {
		if err != nil {
			return PublicKey{}, err
		}
		return kp.PublicKey(), nil
	}

	for i, p := range phrases {
		for _, pw := range []string{"", "hunter2", "pässwörd ✓"} {
			ms, err := MiniSecretFromMnemonic(p, pw)
			add(fmt.Sprintf("mini secret #%d pw %q", i, pw), oracleReq{"op": "miniSecret", "mnemonic": p, "password": pw},
				func(r oracleResp) error {
					if err != nil || r.Error != "" {
						return fmt.Errorf("go error %v, oracle error %q", err, r.Error)
					}
					if hex0x(ms[:]) != r.MiniSecret {
						return fmt.Errorf("go %x, oracle %s", ms, r.MiniSecret)
					}
					return nil
				})
		}
		for _, suffix := range []string{"", "//hotkey", "/soft", "//0", "//1//stash/7", "//hard/soft//42", "///secret",
			"//hotkey///secret", "//" + strings.Repeat("long", 10), "/" + strings.Repeat("x", 33)} {
			// Not "//+5": sp_core (Rust u64::from_str) reads it as the number 5,
			// polkadot.js as the string "+5"; vigil follows sp_core, which the
			// Python SDK's keys come from.
			uri := p + suffix
			k, err := pubOf(FromURI(uri))
			add(fmt.Sprintf("uri #%d%s", i, suffix), oracleReq{"op": "uri", "uri": uri}, samePub(k, err))
		}
	}
	for _, uri := range []string{"//Alice", "//Bob", "//Alice//stash", "//Alice/soft", "//1", "//Alice///pw"} {
		k, err := pubOf(FromURI(uri))
		add("uri "+uri, oracleReq{"op": "uri", "uri": uri}, samePub(k, err))
	}
	for i := 0; i < 8; i++ {
		var seed [32]byte
		copy(seed[:], randBytes(t, 32))
		k, err := pubOf(FromSeed(seed))
		add(fmt.Sprintf("seed #%d", i), oracleReq{"op": "seed", "seed": hex0x(seed[:])}, samePub(k, err))
		uri := hex0x(seed[:]) + "//hard/soft"
		k, err = pubOf(FromURI(uri))
		add(fmt.Sprintf("hex seed uri #%d", i), oracleReq{"op": "uri", "uri": uri}, samePub(k, err))
	}

	// Validation: a valid phrase, a bad checksum (last word swapped), an
	// unknown word, a wrong word count.
	words := strings.Fields(phrases[0])
	badChecksum := strings.Join(append(append([]string{}, words[:11]...), swapWord(words[11])), " ")
	for _, m := range []string{phrases[0], phrases[4], badChecksum, strings.Replace(phrases[0], words[3], "notaword", 1),
		strings.Join(words[:11], " ")} {
		goValid := ValidateMnemonic(m) == nil
		add("validate mnemonic", oracleReq{"op": "validateMnemonic", "mnemonic": m}, func(r oracleResp) error {
			if r.Valid == nil || *r.Valid != goValid {
				return fmt.Errorf("go valid=%v, oracle %+v", goValid, r)
			}
			return nil
		})
	}

	answers := askOracle(t, reqs)
	failed := 0
	for i, c := range checks {
		if err := c.cmp(answers[i]); err != nil {
			t.Errorf("%s: %v", c.what, err)
			failed++
		}
	}
	t.Logf("%d of %d derivations agree with @polkadot", len(checks)-failed, len(checks))
}

// swapWord returns a different BIP39 word, which breaks the checksum of a
// 12-word phrase in all but 1/16 of cases; "abandon"/"zoo" keep the phrase
// made of valid words.
func swapWord(w string) string {
	if w == "abandon" {
		return "zoo"
	}
	return "abandon"
}

// TestOracleSS58 compares SS58 encoding (one- and two-byte prefixes) and the
// rejection of corrupted addresses.
func TestOracleSS58(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	type enc struct {
		pub    []byte
		prefix uint16
		addr   string
	}
	var encs []enc
	var reqs []oracleReq
	for i, prefix := range []uint16{42, 0, 2, 63, 64, 255, 1000, 16383, 42, 42} {
		pub := randBytes(t, 32)
		if i == 8 {
			pub = make([]byte, 32)
		}
		addr, err := SS58Encode(pub, prefix)
		if err != nil {
			t.Fatal(err)
		}
		encs = append(encs, enc{pub, prefix, addr})
		reqs = append(reqs, oracleReq{"op": "ss58encode", "publicKey": hex0x(pub), "prefix": prefix})
	}
	// Decoding: every address above, then corrupted ones.
	var decs []string
	for _, e := range encs {
		decs = append(decs, e.addr)
	}
	good := encs[0].addr
	flip := []byte(good)
	if flip[10] == 'A' {
		flip[10] = 'B'
	} else {
		flip[10] = 'A'
	}
	decs = append(decs, string(flip), good[:len(good)-1], good+"1", "0OIl", "")
	for _, a := range decs {
		reqs = append(reqs, oracleReq{"op": "ss58decode", "address": a})
	}

	answers := askOracle(t, reqs)
	for i, e := range encs {
		if r := answers[i]; r.Error != "" || r.Address != e.addr {
			t.Errorf("encode %x prefix %d: go %s, oracle %+v", e.pub, e.prefix, e.addr, r)
		}
	}
	for i, a := range decs {
		r := answers[len(encs)+i]
		pub, _, err := SS58Decode(a)
		switch {
		case (err == nil) != (r.Error == ""):
			t.Errorf("decode %q: go error %v, oracle error %q", a, err, r.Error)
		case err == nil && hex0x(pub[:]) != r.PublicKey:
			t.Errorf("decode %q: go %x, oracle %s", a, pub, r.PublicKey)
		}
	}
}

// TestOracleSignatures checks that signatures made here verify in
// @polkadot, and the other way round, raw and <Bytes>-wrapped, and that a
// tampered signature or message fails on both sides.
func TestOracleSignatures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	phrase, err := NewMnemonic(12)
	if err != nil {
		t.Fatal(err)
	}
	uris := []string{"//Alice", phrase + "//hotkey", phrase + "/soft"}
	var msgs [][]byte
	for _, n := range []int{0, 1, 32, 255, 256, 1000} {
		msgs = append(msgs, randBytes(t, n))
	}
	msgs = append(msgs, []byte("vigil.validator.epoch 123"))

	type goSig struct {
		pub       PublicKey
		msg, sig  []byte
		wrapped   bool
		tampered  bool
		wantRaw   bool
		wantWrapd bool
	}
	var reqs []oracleReq
	var sigs []goSig
	type jsSig struct {
		pub      PublicKey
		msg      []byte
		wrapped  bool
		reqIndex int
	}
	var jsSigs []jsSig
	for _, uri := range uris {
		kp, err := FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			raw, err := kp.Sign(m)
			if err != nil {
				t.Fatal(err)
			}
			wrapped, err := kp.Sign(WrapBytes(m))
			if err != nil {
				t.Fatal(err)
			}
			bad := raw
			bad[5] ^= 0x40
			sigs = append(sigs,
				goSig{pub: kp.PublicKey(), msg: m, sig: raw[:], wantRaw: true, wantWrapd: true},
				goSig{pub: kp.PublicKey(), msg: m, sig: wrapped[:], wrapped: true, wantRaw: false, wantWrapd: true},
				goSig{pub: kp.PublicKey(), msg: m, sig: bad[:], tampered: true})
			for _, w := range []bool{false, true} {
				signed := m
				if w {
					signed = WrapBytes(m)
				}
				jsSigs = append(jsSigs, jsSig{pub: kp.PublicKey(), msg: m, wrapped: w, reqIndex: len(reqs)})
				reqs = append(reqs, oracleReq{"op": "sign", "uri": uri, "message": hex0x(signed)})
			}
		}
	}
	verifyStart := len(reqs)
	for _, s := range sigs {
		reqs = append(reqs, oracleReq{"op": "verify", "publicKey": hex0x(s.pub[:]), "message": hex0x(s.msg), "signature": hex0x(s.sig)})
	}

	answers := askOracle(t, reqs)
	for i, s := range sigs {
		r := answers[verifyStart+i]
		if r.Error != "" || r.Raw == nil || r.Wrapped == nil {
			t.Fatalf("oracle verify: %+v", r)
		}
		if *r.Raw != s.wantRaw || *r.Wrapped != s.wantWrapd {
			t.Errorf("go signature (len(msg)=%d wrapped=%v tampered=%v) in oracle: raw=%v wrapped=%v, want %v %v",
				len(s.msg), s.wrapped, s.tampered, *r.Raw, *r.Wrapped, s.wantRaw, s.wantWrapd)
		}
	}
	for _, s := range jsSigs {
		r := answers[s.reqIndex]
		if r.Error != "" {
			t.Fatalf("oracle sign: %s", r.Error)
		}
		sig := unhex0x(t, r.Signature)
		if !Verify(s.pub, s.msg, sig) {
			t.Errorf("oracle signature (len(msg)=%d wrapped=%v) rejected by Verify", len(s.msg), s.wrapped)
		}
		if VerifyRaw(s.pub, s.msg, sig) == s.wrapped {
			t.Errorf("oracle signature (len(msg)=%d wrapped=%v): VerifyRaw=%v", len(s.msg), s.wrapped, !s.wrapped)
		}
		other := append(append([]byte{}, s.msg...), 0)
		if Verify(s.pub, other, sig) {
			t.Errorf("oracle signature accepted for a different message")
		}
		sig[40] ^= 1
		if Verify(s.pub, s.msg, sig) {
			t.Errorf("tampered oracle signature accepted")
		}
	}
	t.Logf("%d go signatures checked by @polkadot, %d @polkadot signatures checked here", len(sigs), len(jsSigs))
}
