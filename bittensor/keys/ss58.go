package keys

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
	"golang.org/x/crypto/blake2b"
)

// SS58PrefixBittensor is the SS58 address format used by Bittensor (the
// generic Substrate format).
const SS58PrefixBittensor uint16 = 42

// MaxSS58Prefix is the largest SS58 address format that can be encoded (the
// two-byte form covers 64..16383).
const MaxSS58Prefix uint16 = 16383

// Errors returned (wrapped) by SS58Decode and ParsePublicKey.
var (
	ErrSS58Base58   = errors.New("ss58: invalid base58")
	ErrSS58Length   = errors.New("ss58: invalid length")
	ErrSS58Checksum = errors.New("ss58: invalid checksum")
	ErrSS58Prefix   = errors.New("ss58: invalid address format prefix")
)

const (
	ss58ChecksumLen = 2
	// maxSS58Chars bounds the input handed to the base58 decoder (a 36-byte
	// payload is at most 50 characters).
	maxSS58Chars = 64
)

var ss58Pre = []byte("SS58PRE")

// PublicKey is a 32-byte sr25519 public key (a Substrate AccountId32).
// It is not validated as a curve point: any 32 bytes form an account id.
type PublicKey [32]byte

// SS58 returns the address in the Bittensor format (prefix 42).
func (p PublicKey) SS58() string {
	s, _ := SS58Encode(p[:], SS58PrefixBittensor)
	return s
}

// SS58WithPrefix returns the address in the given SS58 format.
func (p PublicKey) SS58WithPrefix(prefix uint16) (string, error) {
	return SS58Encode(p[:], prefix)
}

// Bytes returns a copy of the key as a slice.
func (p PublicKey) Bytes() []byte { return append([]byte(nil), p[:]...) }

// Hex returns "0x" followed by the lower-case hex of the key.
func (p PublicKey) Hex() string { return "0x" + hex.EncodeToString(p[:]) }

// String returns the SS58 address (prefix 42).
func (p PublicKey) String() string { return p.SS58() }

// IsZero reports whether the key is all zero bytes.
func (p PublicKey) IsZero() bool { return p == PublicKey{} }

// MarshalText encodes the key as its SS58 address (prefix 42).
func (p PublicKey) MarshalText() ([]byte, error) { return []byte(p.SS58()), nil }

// UnmarshalText accepts what ParsePublicKey accepts.
func (p *PublicKey) UnmarshalText(b []byte) error {
	k, err := ParsePublicKey(string(b))
	if err != nil {
		return err
	}
	*p = k
	return nil
}

// Verify is Verify(p, msg, sig).
func (p PublicKey) Verify(msg, sig []byte) bool { return Verify(p, msg, sig) }

// ParsePublicKey accepts an SS58 address (any valid prefix) or "0x" followed
// by 64 hex digits.
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		b, err := hex.DecodeString(s[2:])
		if err != nil || len(b) != 32 {
			return PublicKey{}, errors.New("public key: want 0x followed by 64 hex digits")
		}
		var p PublicKey
		copy(p[:], b)
		return p, nil
	}
	p, _, err := SS58Decode(s)
	if err != nil {
		return PublicKey{}, err
	}
	return p, nil
}

// ss58PrefixBytes encodes an address format as substrate does: one byte for
// 0..63, two bytes for 64..16383.
func ss58PrefixBytes(prefix uint16) ([]byte, error) {
	switch {
	case prefix < 64:
		return []byte{byte(prefix)}, nil
	case prefix <= MaxSS58Prefix:
		first := byte((prefix&0x00fc)>>2) | 0x40
		second := byte(prefix>>8) | byte(prefix&0x0003)<<6
		return []byte{first, second}, nil
	default:
		return nil, fmt.Errorf("%w: %d is larger than %d", ErrSS58Prefix, prefix, MaxSS58Prefix)
	}
}

func ss58Checksum(prefixAndBody []byte) [ss58ChecksumLen]byte {
	h, _ := blake2b.New512(nil)
	h.Write(ss58Pre)
	h.Write(prefixAndBody)
	var sum [64]byte
	h.Sum(sum[:0])
	return [ss58ChecksumLen]byte{sum[0], sum[1]}
}

// SS58Encode encodes a 32-byte public key (account id) as an SS58 address
// with the given address format.
func SS58Encode(pub []byte, prefix uint16) (string, error) {
	if len(pub) != 32 {
		return "", fmt.Errorf("%w: public key is %d bytes, want 32", ErrSS58Length, len(pub))
	}
	pre, err := ss58PrefixBytes(prefix)
	if err != nil {
		return "", err
	}
	buf := make([]byte, 0, len(pre)+32+ss58ChecksumLen)
	buf = append(buf, pre...)
	buf = append(buf, pub...)
	sum := ss58Checksum(buf)
	buf = append(buf, sum[:]...)
	return base58.Encode(buf), nil
}

// SS58Decode decodes an SS58 address holding a 32-byte account id and returns
// the key and its address format.
func SS58Decode(addr string) (PublicKey, uint16, error) {
	if addr == "" || len(addr) > maxSS58Chars {
		return PublicKey{}, 0, fmt.Errorf("%w: %d characters", ErrSS58Length, len(addr))
	}
	data, err := base58.Decode(addr)
	if err != nil {
		return PublicKey{}, 0, ErrSS58Base58
	}
	if len(data) < 2 {
		return PublicKey{}, 0, fmt.Errorf("%w: %d bytes", ErrSS58Length, len(data))
	}
	var prefix uint16
	var preLen int
	switch b0 := data[0]; {
	case b0 < 64:
		prefix, preLen = uint16(b0), 1
	case b0 < 128:
		lower := (b0 << 2) | (data[1] >> 6)
		upper := data[1] & 0x3f
		prefix, preLen = uint16(lower)|uint16(upper)<<8, 2
	default:
		return PublicKey{}, 0, fmt.Errorf("%w: first byte %#x", ErrSS58Prefix, b0)
	}
	if len(data) != preLen+32+ss58ChecksumLen {
		return PublicKey{}, 0, fmt.Errorf("%w: %d bytes, want %d", ErrSS58Length, len(data), preLen+32+ss58ChecksumLen)
	}
	body := data[:preLen+32]
	sum := ss58Checksum(body)
	if data[preLen+32] != sum[0] || data[preLen+33] != sum[1] {
		return PublicKey{}, 0, ErrSS58Checksum
	}
	if preLen == 2 && prefix < 64 {
		// The two-byte form of a one-byte format is not canonical; substrate
		// would encode it differently, so a round trip would not hold.
		return PublicKey{}, 0, fmt.Errorf("%w: format %d in the two-byte form", ErrSS58Prefix, prefix)
	}
	var p PublicKey
	copy(p[:], data[preLen:preLen+32])
	return p, prefix, nil
}
