package registry

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

type oracleResp struct {
	Error     string `json:"error"`
	PublicKey string `json:"publicKey"`
	Address   string `json:"address"`
	Signature string `json:"signature"`
}

// TestSignaturesFromPolkadot verifies, in Go, registration and unbind
// messages signed by @polkadot/util-crypto (tools/oracle/oracle.mjs), raw
// and <Bytes>-wrapped as polkadot.js extensions sign, and checks that
// tampering with the signature, the message or the hotkey fails.
func TestSignaturesFromPolkadot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	uris := []string{"//Alice", "//Bob", "//Kaspa//miner", keys.DevPhrase + "//hotkey"}
	var reqs []map[string]any
	for _, u := range uris {
		reqs = append(reqs, map[string]any{"op": "uri", "uri": u})
	}
	addrs := oracletest.Ask[oracleResp](t, "oracle.mjs", "@polkadot/keyring", reqs)

	type signed struct {
		hotkey string
		msg    []byte
		wrap   bool
	}
	var cases []signed
	reqs = nil
	for i, a := range addrs {
		if a.Error != "" {
			t.Fatalf("oracle uri %s: %s", uris[i], a.Error)
		}
		workers := []string{"rig_" + a.Address, a.Address + "_é/<gpu>&1", a.Address}
		for j, w := range workers {
			msgs := [][]byte{
				RegistrationMessage(a.Address, w, 1721812345+float64(j)),
				RegistrationMessage(a.Address, w, 1721812345.123456),
				UnbindMessage(a.Address, w),
			}
			for _, m := range msgs {
				for _, wrap := range []bool{false, true} {
					signedBytes := m
					if wrap {
						signedBytes = keys.WrapBytes(m)
					}
					cases = append(cases, signed{a.Address, m, wrap})
					reqs = append(reqs, map[string]any{"op": "sign", "uri": uris[i], "message": oracletest.Hex(signedBytes)})
				}
			}
		}
	}
	sigs := oracletest.Ask[oracleResp](t, "oracle.mjs", "@polkadot/keyring", reqs)
	for i, c := range cases {
		what := fmt.Sprintf("%s wrapped=%v", c.msg, c.wrap)
		if sigs[i].Error != "" {
			t.Fatalf("oracle sign %s: %s", what, sigs[i].Error)
		}
		sig := strings.TrimPrefix(sigs[i].Signature, "0x")
		if err := VerifySignature(c.hotkey, c.msg, sig); err != nil {
			t.Errorf("%s: polkadot signature rejected: %v", what, err)
		}
		if err := VerifySignature(c.hotkey, c.msg, strings.ToUpper(sig)); err != nil {
			t.Errorf("%s: upper-case hex rejected (bytes.fromhex accepts it): %v", what, err)
		}
		raw, _ := hex.DecodeString(sig)
		raw[i%64] ^= 1 << (i % 8)
		if err := VerifySignature(c.hotkey, c.msg, hex.EncodeToString(raw)); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: tampered signature: %v", what, err)
		}
		tampered := append([]byte(nil), c.msg...)
		tampered[len(tampered)-3] ^= 1
		if err := VerifySignature(c.hotkey, tampered, sig); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: tampered message: %v", what, err)
		}
		other := addrs[(i+1)%len(addrs)].Address
		if other != c.hotkey {
			if err := VerifySignature(other, c.msg, sig); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("%s: another hotkey: %v", what, err)
			}
		}
		if err := VerifySignature(c.hotkey, c.msg, "0x"+sig); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: 0x prefix accepted", what)
		}
	}
}

// TestSignatureAnyPrefix: the hotkey may be written in any SS58 format, as
// the reference decodes it without a format check.
func TestSignatureAnyPrefix(t *testing.T) {
	kp, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []uint16{0, 2, 42, 1000} {
		addr, err := keys.SS58Encode(kp.PublicKey().Bytes(), prefix)
		if err != nil {
			t.Fatal(err)
		}
		msg := RegistrationMessage(addr, "w"+addr, 1.5)
		sig, _ := kp.Sign(msg)
		if err := VerifySignature(addr, msg, hex.EncodeToString(sig[:])); err != nil {
			t.Errorf("prefix %d: %v", prefix, err)
		}
	}
	for _, bad := range []string{"", "5Grw", aliceSS58[:47] + "Z", strings.ToLower(aliceSS58)} {
		if err := VerifySignature(bad, []byte("m"), strings.Repeat("00", 64)); !errors.Is(err, ErrInvalidHotkey) {
			t.Errorf("hotkey %q: %v, want ErrInvalidHotkey", bad, err)
		}
	}
	for _, bad := range []string{"", "00", strings.Repeat("0", 127), strings.Repeat("zz", 64), "0x" + strings.Repeat("00", 63)} {
		if err := VerifySignature(aliceSS58, []byte("m"), bad); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("signature %q: %v, want ErrInvalidSignature", bad, err)
		}
	}
}
