package challenge

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestCommitmentSignatures: a commitment signed by Python's cryptography
// (ECDSA P-256 over SHA-256, raw r‖s) verifies under its key, in hex and in
// base64; a changed field, another key, an all-zero or malformed signature
// are refused with their reason. The reference binary's key parses.
func TestCommitmentSignatures(t *testing.T) {
	const seed, uuid, root = "00112233445566778899aabbccddeeff", "GPU-8f2c1a3e", "c07d8479cbaaf05051d4d47dca3a8b3769b9378ad245b5c98b37a7aacfef4148"
	msg := string(CommitmentMessage(1, seed, uuid, root))
	if msg != "0x1|"+seed+"|"+uuid+"|"+root {
		t.Fatalf("message %q", msg)
	}
	got := numpyAsk[struct {
		PublicKey string `json:"public_key"`
		Signature string `json:"signature"`
	}](t, []map[string]any{
		{"op": "sign", "scalar": "123456789012345678901234567890", "message": msg},
		{"op": "sign", "scalar": "987654321098765432109876543210", "message": msg},
	})
	ref, err := ParseTrustedKeys(ReferenceGPUKey)
	if err != nil {
		t.Fatalf("the reference key: %v", err)
	}
	mine, err := ParseTrustedKeys(got[0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	trusted := append(append(TrustedKeys{}, ref...), mine...)
	sig := got[0].Signature
	raw, _ := hex.DecodeString(sig)
	for _, c := range []struct {
		name          string
		keys          TrustedKeys
		ver           uint64
		seed, uuid, r string
		sig           string
		want          error
	}{
		{"hex", trusted, 1, seed, uuid, root, sig, nil},
		{"base64", trusted, 1, seed, uuid, root, base64.StdEncoding.EncodeToString(raw), nil},
		{"only the reference key trusted", ref, 1, seed, uuid, root, sig, ErrSignatureInvalid},
		{"another key's signature", trusted, 1, seed, uuid, root, got[1].Signature, ErrSignatureInvalid},
		{"another root", trusted, 1, seed, uuid, strings.Repeat("0", 64), sig, ErrSignatureInvalid},
		{"another GPU", trusted, 1, seed, "GPU-other", root, sig, ErrSignatureInvalid},
		{"another version", trusted, 2, seed, uuid, root, sig, ErrSignatureInvalid},
		{"all zero", trusted, 1, seed, uuid, root, strings.Repeat("00", 64), ErrSignatureZero},
		{"short", trusted, 1, seed, uuid, root, sig[:126], ErrSignatureEncoding},
		{"not hex or base64", trusted, 1, seed, uuid, root, "!!", ErrSignatureEncoding},
	} {
		if err := VerifyCommitment(c.keys, c.ver, c.seed, c.uuid, c.r, c.sig); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := ParseTrustedKeys("04" + strings.Repeat("11", 64)); err == nil {
		t.Error("a point off the curve parsed")
	}
}
