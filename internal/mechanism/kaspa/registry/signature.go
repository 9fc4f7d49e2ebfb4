package registry

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/vigil-validator/vigil/bittensor/keys"
)

// Errors of signature checks, for errors.Is.
var (
	ErrInvalidHotkey    = errors.New("invalid ss58 address")
	ErrInvalidSignature = errors.New("invalid signature")
)

// ParseHotkey decodes an SS58 hotkey of any network prefix, as the
// reference's Keypair(ss58_address=…) does.
func ParseHotkey(hotkey string) (keys.PublicKey, error) {
	pub, _, err := keys.SS58Decode(hotkey)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("%w %q: %w", ErrInvalidHotkey, truncate(hotkey, 64), err)
	}
	return pub, nil
}

// ParseSignature decodes an X-Signature value: the hex of a 64-byte sr25519
// signature, without a 0x prefix (Python's bytes.fromhex refuses one too).
// Upper-case digits are accepted, as bytes.fromhex accepts them.
func ParseSignature(s string) ([]byte, error) {
	if len(s) != 2*keys.SignatureSize {
		return nil, fmt.Errorf("%w: %d hex digits, want %d", ErrInvalidSignature, len(s), 2*keys.SignatureSize)
	}
	sig, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return sig, nil
}

// VerifySignature checks sigHex (see ParseSignature) as hotkey's sr25519
// signature, context "substrate", over msg or over <Bytes>msg</Bytes>, the
// two forms the reference accepts. It returns nil or an error wrapping
// ErrInvalidHotkey or ErrInvalidSignature.
func VerifySignature(hotkey string, msg []byte, sigHex string) error {
	pub, err := ParseHotkey(hotkey)
	if err != nil {
		return err
	}
	sig, err := ParseSignature(sigHex)
	if err != nil {
		return err
	}
	if !keys.Verify(pub, msg, sig) {
		return ErrInvalidSignature
	}
	return nil
}

// truncate shortens untrusted text quoted in errors and logs.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
