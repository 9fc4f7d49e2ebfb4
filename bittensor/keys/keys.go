// Package keys implements the sr25519 (schnorrkel) key handling that
// Bittensor shares with Substrate: substrate-style BIP39 mnemonics, secret
// URIs with hard and soft junctions, SS58 addresses, and signing and
// verification with the "substrate" signing context.
//
// A KeyPair never prints or marshals its secret: fmt, slog and encoding/json
// see only its SS58 address. The only way to read secret material back out
// is KeyPair.Seed, which exists for writing keyfiles.
package keys

import (
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"log/slog"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
)

// SigningContext is the schnorrkel signing context used by Substrate.
const SigningContext = "substrate"

// SignatureSize is the length of an sr25519 signature.
const SignatureSize = 64

// SecretKeySize is the length of a schnorrkel secret key (scalar ‖ nonce).
const SecretKeySize = 64

// ErrKeyMismatch is returned when a secret does not produce the public key it
// is expected to produce.
var ErrKeyMismatch = errors.New("secret key does not match the expected public key")

// KeyPair is an sr25519 key pair. The zero value is not usable; build one with
// FromSeed, FromMnemonic, FromURI, FromSecretKey or FromSecretKeyMatching.
//
// Formatting a KeyPair (fmt with any verb, slog, encoding/json) shows only its
// SS58 address.
type KeyPair struct {
	pub PublicKey
	sec *secret // behind a pointer so that reflection-based printing shows only an address
}

type secret struct {
	scalar  [32]byte // canonical schnorrkel scalar (little endian)
	nonce   [32]byte
	seed    [32]byte // mini secret, valid when hasSeed
	hasSeed bool
}

func (s *secret) schnorrkel() *schnorrkel.SecretKey {
	return schnorrkel.NewSecretKey(s.scalar, s.nonce)
}

// PublicKey returns the 32-byte public key.
func (kp *KeyPair) PublicKey() PublicKey {
	if kp == nil {
		return PublicKey{}
	}
	return kp.pub
}

// SS58 returns the address with the Bittensor prefix (42).
func (kp *KeyPair) SS58() string { return kp.PublicKey().SS58() }

// Seed returns the 32-byte mini secret this key pair was expanded from, when
// it is known (keys from a seed, a mnemonic, or a URI with only hard
// junctions). It exists for writing keyfiles (the "secretSeed" field); keep
// the result out of logs and error messages.
func (kp *KeyPair) Seed() ([32]byte, bool) {
	if kp == nil || kp.sec == nil || !kp.sec.hasSeed {
		return [32]byte{}, false
	}
	return kp.sec.seed, true
}

// CanSign reports whether the key pair holds a secret key.
func (kp *KeyPair) CanSign() bool { return kp != nil && kp.sec != nil }

// Sign signs msg as is (no <Bytes> wrapping) with the "substrate" signing
// context. Signatures are randomized.
func (kp *KeyPair) Sign(msg []byte) ([SignatureSize]byte, error) {
	if !kp.CanSign() {
		return [SignatureSize]byte{}, errors.New("keys: key pair has no secret key")
	}
	t := schnorrkel.NewSigningContext([]byte(SigningContext), msg)
	sig, err := kp.sec.schnorrkel().Sign(t)
	if err != nil {
		return [SignatureSize]byte{}, fmt.Errorf("keys: sign: %w", err)
	}
	return sig.Encode(), nil
}

// Verify verifies sig over msg with this key pair's public key (see Verify).
func (kp *KeyPair) Verify(msg, sig []byte) bool { return Verify(kp.PublicKey(), msg, sig) }

// String returns the SS58 address.
func (kp KeyPair) String() string { return kp.pub.SS58() }

// GoString returns a Go-syntax-like form showing only the address.
func (kp KeyPair) GoString() string { return fmt.Sprintf("keys.KeyPair{SS58: %q}", kp.pub.SS58()) }

// Format implements fmt.Formatter so that no verb prints the secret.
func (kp KeyPair) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			_, _ = io.WriteString(f, kp.GoString())
			return
		}
		_, _ = io.WriteString(f, kp.String())
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", kp.String())
	default:
		_, _ = io.WriteString(f, kp.String())
	}
}

// LogValue implements slog.LogValuer.
func (kp KeyPair) LogValue() slog.Value { return slog.StringValue(kp.String()) }

// MarshalText encodes the key pair as its SS58 address (so encoding/json and
// friends never see the secret).
func (kp KeyPair) MarshalText() ([]byte, error) { return []byte(kp.String()), nil }

// expandEd25519 is schnorrkel's MiniSecretKey::expand(ExpansionMode::Ed25519):
// SHA-512 of the mini secret, ed25519 clamping of the low half, the scalar
// divided by the cofactor, the high half as nonce.
func expandEd25519(seed [32]byte) (scalar, nonce [32]byte) {
	h := sha512.Sum512(seed[:])
	copy(scalar[:], h[:32])
	scalar[0] &= 248
	scalar[31] &= 63
	scalar[31] |= 64
	divideByCofactor(scalar[:])
	copy(nonce[:], h[32:])
	for i := range h {
		h[i] = 0
	}
	return scalar, nonce
}

// divideByCofactor shifts a little-endian 256-bit number right by 3 bits.
func divideByCofactor(s []byte) {
	low := byte(0)
	for i := len(s) - 1; i >= 0; i-- {
		r := s[i] & 0x07
		s[i] >>= 3
		s[i] += low
		low = r << 5
	}
}

// ExpandSeed returns the 64-byte schnorrkel secret key (canonical scalar ‖
// nonce, schnorrkel's SecretKey::to_bytes, the "privateKey" keyfile field as
// btwallet writes it) that the mini secret seed expands to in Substrate's
// Ed25519 mode. It is for writing keyfiles.
func ExpandSeed(seed [32]byte) [SecretKeySize]byte {
	scalar, nonce := expandEd25519(seed)
	var out [SecretKeySize]byte
	copy(out[:32], scalar[:])
	copy(out[32:], nonce[:])
	return out
}

// newKeyPair computes the public key of a scalar and checks it is usable.
func newKeyPair(sec *secret) (*KeyPair, error) {
	if _, err := schnorrkel.ScalarFromBytes(sec.scalar); err != nil {
		return nil, errors.New("keys: secret scalar is not canonical")
	}
	pub, err := sec.schnorrkel().Public()
	if err != nil {
		return nil, errors.New("keys: invalid secret key")
	}
	kp := &KeyPair{pub: pub.Encode(), sec: sec}
	if kp.pub.IsZero() {
		return nil, errors.New("keys: secret scalar is zero")
	}
	return kp, nil
}

// FromSeed expands a 32-byte mini secret as Substrate does
// (MiniSecretKey::expand_to_keypair(ExpansionMode::Ed25519)).
func FromSeed(seed [32]byte) (*KeyPair, error) {
	scalar, nonce := expandEd25519(seed)
	return newKeyPair(&secret{scalar: scalar, nonce: nonce, seed: seed, hasSeed: true})
}

// secretFromBytes interprets b as schnorrkel SecretKey::to_bytes (canonical
// scalar ‖ nonce) when ed25519 is false, or as SecretKey::to_ed25519_bytes
// (scalar × 8 ‖ nonce) when it is true.
func secretFromBytes(b []byte, ed25519 bool) (*KeyPair, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("keys: secret key is %d bytes, want %d", len(b), SecretKeySize)
	}
	sec := &secret{}
	copy(sec.scalar[:], b[:32])
	copy(sec.nonce[:], b[32:])
	if ed25519 {
		// SecretKey::to_ed25519_bytes is the scalar times the cofactor, so
		// its low three bits are always clear; anything else is not that
		// form (schnorrkel's from_ed25519_bytes would silently drop them).
		if sec.scalar[0]&0x07 != 0 {
			return nil, errors.New("keys: secret key is not in the ed25519-expanded form")
		}
		divideByCofactor(sec.scalar[:])
	}
	return newKeyPair(sec)
}

// FromSecretKey builds a key pair from a 64-byte schnorrkel secret key. The
// canonical form (32-byte scalar ‖ 32-byte nonce, what btwallet writes as
// "privateKey") is tried first; if its scalar is not canonical, the
// "ed25519-expanded" form (scalar × 8 ‖ nonce) that older substrate-interface
// based SDKs wrote is tried. When the expected public key is known, use
// FromSecretKeyMatching instead, which resolves the ambiguity.
func FromSecretKey(b []byte) (*KeyPair, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("keys: secret key is %d bytes, want %d", len(b), SecretKeySize)
	}
	kp, err := secretFromBytes(b, false)
	if err == nil {
		return kp, nil
	}
	kp, err2 := secretFromBytes(b, true)
	if err2 == nil {
		return kp, nil
	}
	return nil, err
}

// FromSecretKeyMatching tries both interpretations of a 64-byte secret key
// (canonical and ed25519-expanded, see FromSecretKey) and returns the one
// whose public key is pub, or an error wrapping ErrKeyMismatch.
func FromSecretKeyMatching(b []byte, pub [32]byte) (*KeyPair, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("keys: secret key is %d bytes, want %d", len(b), SecretKeySize)
	}
	for _, ed := range []bool{false, true} {
		kp, err := secretFromBytes(b, ed)
		if err == nil && kp.pub == PublicKey(pub) {
			return kp, nil
		}
	}
	return nil, fmt.Errorf("keys: %w (tried the canonical and the ed25519-expanded forms)", ErrKeyMismatch)
}

// Generate returns a key pair from a random mini secret.
func Generate() (*KeyPair, error) {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("keys: random seed: %w", err)
	}
	return FromSeed(seed)
}
