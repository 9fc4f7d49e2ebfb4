// Package timelock encrypts data to a future drand round the way subtensor
// decrypts it for commit-reveal weights (commit_timelocked_weights).
//
// The scheme is the tle construction of ideal-lab5/timelock at the revision
// subtensor pins (tle::<TinyBLS381, AESGCMStreamCipherProvider>): a random
// 32-byte key encrypts the payload with AES-256-GCM, and that key is wrapped
// with Boneh–Franklin "FullIdent" identity-based encryption on BLS12-381 under
// the identity sha256(round as 8-byte big-endian). Once drand publishes the
// round's BLS signature (the IBE secret key for that identity), anyone can
// unwrap the key and open the payload.
//
// It is not byte-compatible with drand's own tlock (Go) or kyber: those hash
// with different domain tags and serialize differently. The wire format here
// is arkworks' compressed CanonicalSerialize of tle's TLECiphertext:
//
//	U (96-byte compressed G2) ‖ vec(V) ‖ vec(W) ‖ vec(body) ‖ vec("AES_GCM_")
//	body = vec(AES-GCM ciphertext ‖ 16-byte tag) ‖ vec(12-byte nonce)
//
// where vec(x) is x's length as a little-endian uint64 followed by x, and V
// and W are 32 bytes each. A ciphertext is therefore Overhead (244) bytes
// longer than its payload.
package timelock

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Beacon describes a drand network running the bls-unchained-g1-rfc9380
// scheme: signatures on G1 (48 bytes), public key on G2 (96 bytes).
type Beacon struct {
	// PublicKey is the network's 96-byte compressed G2 public key.
	PublicKey []byte
	// GenesisTime is the Unix time (seconds) at which round 1 was published.
	GenesisTime int64
	// Period is the time between rounds.
	Period time.Duration
	// ChainHash identifies the network in drand's HTTP API (hex); it is not
	// used by the cryptography.
	ChainHash string
}

// Quicknet is drand's quicknet, the network subtensor's Drand pallet stores
// pulses from. Treat it as read-only: copy it to change a field.
var Quicknet = Beacon{
	PublicKey: mustHex("83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c" +
		"8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb" +
		"5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"),
	GenesisTime: 1692803367,
	Period:      3 * time.Second,
	ChainHash:   "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// RoundAt returns the latest round published at or before t: round r is
// published at genesis + (r−1)·Period. Times before genesis (and a
// non-positive Period) give round 1, the first round there is.
func (b Beacon) RoundAt(t time.Time) uint64 {
	genesis := time.Unix(b.GenesisTime, 0)
	if b.Period <= 0 || t.Before(genesis) {
		return 1
	}
	// t.Sub saturates rather than wrapping for times centuries away.
	return uint64(t.Sub(genesis)/b.Period) + 1
}

// TimeOf returns when round is published: genesis + (round−1)·Period. Round
// 0 does not exist; it is treated as round 1. The result is meaningful for
// rounds within the next couple of centuries (time.Duration's range).
func (b Beacon) TimeOf(round uint64) time.Time {
	if round == 0 {
		round = 1
	}
	return time.Unix(b.GenesisTime, 0).Add(time.Duration(round-1) * b.Period)
}

// Size limits for commit_timelocked_weights.
const (
	// MaxCommitSize is the largest ciphertext subtensor accepts in
	// commit_timelocked_weights.
	MaxCommitSize = 5000
	// Overhead is how many bytes Encrypt adds to a payload.
	Overhead = 96 + (8 + 32) + (8 + 32) + 8 + (8 + 16) + (8 + 12) + (8 + len(cipherSuite))
	// MaxPayloadSize is the largest payload whose ciphertext fits in
	// MaxCommitSize.
	MaxPayloadSize = MaxCommitSize - Overhead
)

// CiphertextSize returns the length of Encrypt's output for a payload of n
// bytes, so callers can refuse payloads over MaxPayloadSize before
// encrypting.
func CiphertextSize(n int) int { return n + Overhead }

// Errors returned by this package; test for them with errors.Is.
var (
	// ErrMalformed means the ciphertext does not parse as a tle ciphertext.
	ErrMalformed = errors.New("timelock: malformed ciphertext")
	// ErrSignature means the signature is not a valid G1 point, or is not
	// the beacon's signature for the round.
	ErrSignature = errors.New("timelock: invalid beacon signature")
	// ErrDecrypt means the ciphertext parsed and the signature is valid, but
	// the ciphertext was not encrypted to that round or was altered.
	ErrDecrypt = errors.New("timelock: decryption failed")
	// ErrPublicKey means the beacon's public key is not a valid G2 point.
	ErrPublicKey = errors.New("timelock: invalid beacon public key")
)

// ParseBeacon reads a beacon as operators write it: "quicknet", or
// "<public key hex>:<genesis unix seconds>:<period>" (period as Go
// durations are written, "3s"), for a development chain's beacon.
func ParseBeacon(s string) (Beacon, error) {
	if s == "quicknet" || s == "" {
		b := Quicknet
		b.PublicKey = append([]byte(nil), Quicknet.PublicKey...)
		return b, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Beacon{}, fmt.Errorf("beacon %q: want quicknet or <public key hex>:<genesis unix seconds>:<period>", s)
	}
	pk, err := hex.DecodeString(strings.TrimPrefix(parts[0], "0x"))
	if err != nil {
		return Beacon{}, fmt.Errorf("beacon public key: %w", err)
	}
	genesis, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || genesis <= 0 {
		return Beacon{}, fmt.Errorf("beacon genesis %q: want Unix seconds", parts[1])
	}
	period, err := time.ParseDuration(parts[2])
	if err != nil || period <= 0 {
		return Beacon{}, fmt.Errorf("beacon period %q: want a positive duration such as 3s", parts[2])
	}
	b := Beacon{PublicKey: pk, GenesisTime: genesis, Period: period}
	if _, err := publicKey(b); err != nil {
		return Beacon{}, err
	}
	return b, nil
}

// String writes b in the form ParseBeacon reads.
func (b Beacon) String() string {
	return fmt.Sprintf("%x:%d:%s", b.PublicKey, b.GenesisTime, b.Period)
}
