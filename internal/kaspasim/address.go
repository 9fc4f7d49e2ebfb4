package kaspasim

import (
	"errors"
	"fmt"
	"strings"
)

// Kaspa addresses are cashaddr-style bech32: "kaspa:" + base32(version byte ||
// payload) + an 8-symbol (40-bit) checksum over the prefix and the data.

// AddressPrefix is the only prefix the bridge puts in its wallet label: its
// CleanWallet regex extracts "kaspa:" addresses only, testnet wallets included.
const AddressPrefix = "kaspa"

// Address versions and their payload lengths.
const (
	AddrPubKey      byte = 0 // schnorr public key, 32 bytes
	AddrPubKeyECDSA byte = 1 // ECDSA public key, 33 bytes
	AddrScriptHash  byte = 8 // script hash, 32 bytes
)

// ErrBadAddress is wrapped by every address error.
var ErrBadAddress = errors.New("not a kaspa address")

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var bech32Rev = func() (r [128]int8) {
	for i := range r {
		r[i] = -1
	}
	for i, c := range bech32Charset {
		r[c] = int8(i)
	}
	return r
}()

func polymod(values []byte) uint64 {
	c := uint64(1)
	for _, v := range values {
		top := c >> 35
		c = ((c & 0x07ffffffff) << 5) ^ uint64(v)
		for i, g := range [5]uint64{0x98f2bc8e61, 0x79b76d99e2, 0xf33e5fb3c4, 0xae2eabe2a8, 0x1e4f43e470} {
			if top>>i&1 != 0 {
				c ^= g
			}
		}
	}
	return c ^ 1
}

// checksumInput is the prefix's low 5 bits, a zero separator and the data.
func checksumInput(prefix string, data []byte) []byte {
	out := make([]byte, 0, len(prefix)+1+len(data)+8)
	for i := 0; i < len(prefix); i++ {
		out = append(out, prefix[i]&31)
	}
	out = append(out, 0)
	return append(out, data...)
}

// convertBits regroups bits; with pad the last group is zero-filled,
// without it leftover bits must be zero padding.
func convertBits(data []byte, from, to uint, pad bool) ([]byte, bool) {
	var acc, bits uint
	maxv := uint(1)<<to - 1
	var out []byte
	for _, v := range data {
		acc = acc<<from | uint(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(to-bits)&maxv))
		}
	} else if bits >= from || acc<<(to-bits)&maxv != 0 {
		return nil, false
	}
	return out, true
}

func payloadLen(version byte) (int, bool) {
	switch version {
	case AddrPubKey, AddrScriptHash:
		return 32, true
	case AddrPubKeyECDSA:
		return 33, true
	}
	return 0, false
}

// EncodeAddress returns the "kaspa:" address of a version and payload.
func EncodeAddress(version byte, payload []byte) (string, error) {
	if n, ok := payloadLen(version); !ok || n != len(payload) {
		return "", fmt.Errorf("%w: version %d with a %d-byte payload", ErrBadAddress, version, len(payload))
	}
	data, _ := convertBits(append([]byte{version}, payload...), 8, 5, true)
	pm := polymod(append(checksumInput(AddressPrefix, data), make([]byte, 8)...))
	var b strings.Builder
	b.WriteString(AddressPrefix + ":")
	for _, v := range data {
		b.WriteByte(bech32Charset[v])
	}
	for i := range 8 {
		b.WriteByte(bech32Charset[pm>>(5*(7-i))&31])
	}
	return b.String(), nil
}

// DecodeAddress checks a "kaspa:" address and returns its version and
// payload.
func DecodeAddress(addr string) (version byte, payload []byte, err error) {
	prefix, body, ok := strings.Cut(addr, ":")
	if !ok || prefix != AddressPrefix {
		return 0, nil, fmt.Errorf("%w: %q: want the %q prefix", ErrBadAddress, addr, AddressPrefix+":")
	}
	// 61 and 63 symbols are the two lengths the bridge's regex accepts.
	if len(body) != 61 && len(body) != 63 {
		return 0, nil, fmt.Errorf("%w: %q: %d symbols after the prefix, want 61 or 63", ErrBadAddress, addr, len(body))
	}
	data := make([]byte, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c >= 128 || bech32Rev[c] < 0 {
			return 0, nil, fmt.Errorf("%w: %q: invalid character %q", ErrBadAddress, addr, c)
		}
		data[i] = byte(bech32Rev[c])
	}
	if polymod(checksumInput(prefix, data)) != 0 {
		return 0, nil, fmt.Errorf("%w: %q: bad checksum", ErrBadAddress, addr)
	}
	raw, ok := convertBits(data[:len(data)-8], 5, 8, false)
	if !ok || len(raw) == 0 {
		return 0, nil, fmt.Errorf("%w: %q: bad padding", ErrBadAddress, addr)
	}
	version, payload = raw[0], raw[1:]
	if n, ok := payloadLen(version); !ok || n != len(payload) {
		return 0, nil, fmt.Errorf("%w: %q: version %d with a %d-byte payload", ErrBadAddress, addr, version, len(payload))
	}
	return version, payload, nil
}

// NormalizeWallet returns addr as the bridge labels it: a missing "kaspa:"
// prefix is added, as the bridge's CleanWallet does, and the address must
// then decode.
func NormalizeWallet(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", fmt.Errorf("%w: empty", ErrBadAddress)
	}
	if !strings.Contains(addr, ":") {
		addr = AddressPrefix + ":" + addr
	}
	if _, _, err := DecodeAddress(addr); err != nil {
		return "", err
	}
	return addr, nil
}
