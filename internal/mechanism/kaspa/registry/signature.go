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
	// ErrNotCanonical: a valid SS58 address, but not the subnet's form of
	// its key (another network prefix). The reference compares hotkeys as
	// strings, so such an address is never on the subnet there either.
	ErrNotCanonical = errors.New("not the subnet's ss58 form of the key")
)

// CanonicalHotkey decodes hotkey and checks that it is the key's one
// spelling on the subnet: SS58 with Bittensor's prefix 42, as the metagraph
// prints it. Every binding is stored and compared under that string, so a
// key cannot appear twice under two spellings.
func CanonicalHotkey(hotkey string) (keys.PublicKey, error) {
	pub, prefix, err := keys.SS58Decode(hotkey)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("%w %q: %w", ErrInvalidHotkey, truncate(hotkey, 64), err)
	}
	if prefix != keys.SS58PrefixBittensor {
		return keys.PublicKey{}, fmt.Errorf("%w: %q has prefix %d, want %d", ErrNotCanonical, truncate(hotkey, 64), prefix, keys.SS58PrefixBittensor)
	}
	if s, _ := keys.SS58Encode(pub[:], keys.SS58PrefixBittensor); s != hotkey {
		return keys.PublicKey{}, fmt.Errorf("%w: %q", ErrNotCanonical, truncate(hotkey, 64))
	}
	return pub, nil
}

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
