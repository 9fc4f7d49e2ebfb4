package timelock

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// hashDST is the RFC 9380 domain separation tag drand's
// bls-unchained-g1-rfc9380 scheme signs with.
const hashDST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"

const (
	keySize   = 32 // AES-256 key, the IBE plaintext
	nonceSize = 12 // AES-GCM nonce
	tagSize   = 16 // AES-GCM tag
	sigSize   = bls.SizeOfG1AffineCompressed
	pointSize = bls.SizeOfG2AffineCompressed
)

// cipherSuite names the body's cipher in the ciphertext, as tle writes it.
const cipherSuite = "AES_GCM_"

// identity returns Q_id, the G1 point drand signs for round: the RFC 9380
// hash of sha256(round as 8-byte big-endian).
func identity(round uint64) (bls.G1Affine, error) {
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], round)
	msg := sha256.Sum256(be[:])
	return bls.HashToG1(msg[:], []byte(hashDST))
}

// publicKey decodes a beacon key, checking it is on the curve and in G2.
func publicKey(b Beacon) (bls.G2Affine, error) {
	var pk bls.G2Affine
	if len(b.PublicKey) != pointSize {
		return pk, fmt.Errorf("%w: %d bytes, want %d", ErrPublicKey, len(b.PublicKey), pointSize)
	}
	if _, err := pk.SetBytes(b.PublicKey); err != nil {
		return pk, fmt.Errorf("%w: %v", ErrPublicKey, err)
	}
	if pk.IsInfinity() {
		return pk, fmt.Errorf("%w: point at infinity", ErrPublicKey)
	}
	return pk, nil
}

// signature decodes a 48-byte compressed G1 signature, checking it is on the
// curve and in G1. The identity element is refused: it is never a real
// signature.
func signature(sig []byte) (bls.G1Affine, error) {
	var s bls.G1Affine
	if len(sig) != sigSize {
		return s, fmt.Errorf("%w: %d bytes, want %d", ErrSignature, len(sig), sigSize)
	}
	if _, err := s.SetBytes(sig); err != nil {
		return s, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if s.IsInfinity() {
		return s, fmt.Errorf("%w: point at infinity", ErrSignature)
	}
	return s, nil
}

// VerifySignature checks that sig is b's signature for round:
// e(sig, −G2) · e(Q_id, pk) = 1.
func VerifySignature(b Beacon, round uint64, sig []byte) error {
	pk, err := publicKey(b)
	if err != nil {
		return err
	}
	s, err := signature(sig)
	if err != nil {
		return err
	}
	return verify(pk, round, &s)
}

func verify(pk bls.G2Affine, round uint64, s *bls.G1Affine) error {
	q, err := identity(round)
	if err != nil {
		return fmt.Errorf("timelock: hash to G1: %w", err)
	}
	_, _, _, g2 := bls.Generators()
	var negG2 bls.G2Affine
	negG2.Neg(&g2)
	ok, err := bls.PairingCheck([]bls.G1Affine{*s, q}, []bls.G2Affine{negG2, pk})
	if err != nil {
		return fmt.Errorf("timelock: pairing: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: not the beacon's signature for round %d", ErrSignature, round)
	}
	return nil
}

// gtHash returns sha256 of g serialized as arkworks does: the twelve Fp
// coefficients c0.c0.c0, c0.c0.c1, …, c1.c2.c1, each 48 bytes little-endian.
// gnark's Bytes writes the same coefficients big-endian in the reverse
// order, so the arkworks form is its byte reversal.
func gtHash(g *bls.GT) [32]byte {
	b := g.Bytes()
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return sha256.Sum256(b[:])
}

// scalarR derives the IBE randomness r = sha256(sigma ‖ key) mod q, read as
// a big-endian integer, which decryption recomputes to authenticate U.
func scalarR(sigma, key []byte) *big.Int {
	h := sha256.New()
	h.Write(sigma)
	h.Write(key)
	var r fr.Element
	r.SetBytes(h.Sum(nil))
	return r.BigInt(new(big.Int))
}

func xor32(a, b []byte) []byte {
	out := make([]byte, 32)
	subtle.XORBytes(out, a, b)
	return out
}

// Encrypt encrypts plaintext so that it can be decrypted with b's signature
// for round. rng supplies the AES key, the IBE randomness and the nonce; nil
// means crypto/rand. The result is CiphertextSize(len(plaintext)) bytes;
// subtensor refuses commits over MaxCommitSize, so check the payload against
// MaxPayloadSize first.
func Encrypt(b Beacon, round uint64, plaintext []byte, rng io.Reader) ([]byte, error) {
	if round == 0 {
		return nil, errors.New("timelock: round 0 does not exist; drand starts at 1")
	}
	if rng == nil {
		rng = rand.Reader
	}
	pk, err := publicKey(b)
	if err != nil {
		return nil, err
	}
	q, err := identity(round)
	if err != nil {
		return nil, fmt.Errorf("timelock: hash to G1: %w", err)
	}

	// Randomness: the AES key, a scalar t whose hash is sigma (64 bytes
	// reduced mod q, so t is close to uniform), and the nonce.
	var random [keySize + 64 + nonceSize]byte
	if _, err := io.ReadFull(rng, random[:]); err != nil {
		return nil, fmt.Errorf("timelock: reading randomness: %w", err)
	}
	key := random[:keySize]
	var t fr.Element
	t.SetBytes(random[keySize : keySize+64])
	nonce := random[keySize+64:]

	// sigma = sha256(t serialized as arkworks does: 32 bytes little-endian).
	tb := t.Bytes()
	for i, j := 0, len(tb)-1; i < j; i, j = i+1, j-1 {
		tb[i], tb[j] = tb[j], tb[i]
	}
	sigma := sha256.Sum256(tb[:])

	// U = r·G2; the shared secret e(Q_id, r·pk) is computed as e(r·Q_id, pk),
	// the same GT element with the cheaper scalar multiplication.
	r := scalarR(sigma[:], key)
	var u bls.G2Affine
	u.ScalarMultiplicationBase(r)
	var rq bls.G1Affine
	rq.ScalarMultiplication(&q, r)
	g, err := bls.Pair([]bls.G1Affine{rq}, []bls.G2Affine{pk})
	if err != nil {
		return nil, fmt.Errorf("timelock: pairing: %w", err)
	}
	gh := gtHash(&g)
	sh := sha256.Sum256(sigma[:])
	v := xor32(sigma[:], gh[:])
	w := xor32(key, sh[:])

	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, CiphertextSize(len(plaintext)))
	ub := u.Bytes()
	out = append(out, ub[:]...)
	out = appendVec(out, v)
	out = appendVec(out, w)
	sealed := len(plaintext) + tagSize
	out = binary.LittleEndian.AppendUint64(out, uint64(8+sealed+8+nonceSize)) // body
	out = binary.LittleEndian.AppendUint64(out, uint64(sealed))
	out = aead.Seal(out, nonce, plaintext, nil)
	out = appendVec(out, nonce)
	out = appendVec(out, []byte(cipherSuite))
	return out, nil
}

// Decrypt opens a ciphertext made by Encrypt (or by tle) for round, given
// b's signature for that round (48-byte compressed G1, as drand and
// subtensor's Drand.Pulses store it). It checks the signature against the
// beacon first, so a wrong round or pulse gives ErrSignature; a ciphertext
// that does not parse gives ErrMalformed, and one encrypted to another round
// or altered gives ErrDecrypt.
func Decrypt(b Beacon, ciphertext []byte, round uint64, sig []byte) ([]byte, error) {
	c, err := parse(ciphertext)
	if err != nil {
		return nil, err
	}
	pk, err := publicKey(b)
	if err != nil {
		return nil, err
	}
	s, err := signature(sig)
	if err != nil {
		return nil, err
	}
	if err := verify(pk, round, &s); err != nil {
		return nil, err
	}

	key, err := c.unwrapKey(&s)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, c.nonce, c.body, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, nil
}

// unwrapKey recovers the AES key from the IBE header with the round's
// signature: sigma = V ⊕ H(e(sig, U)), key = W ⊕ H(sigma). U must then equal
// r·G2 for the r derived from both, which binds U, V and W together and
// catches a signature for another round.
func (c *ciphertext) unwrapKey(s *bls.G1Affine) ([]byte, error) {
	g, err := bls.Pair([]bls.G1Affine{*s}, []bls.G2Affine{c.u})
	if err != nil {
		return nil, fmt.Errorf("timelock: pairing: %w", err)
	}
	gh := gtHash(&g)
	sigma := xor32(c.v, gh[:])
	sh := sha256.Sum256(sigma)
	key := xor32(c.w, sh[:])
	var u bls.G2Affine
	u.ScalarMultiplicationBase(scalarR(sigma, key))
	if !u.Equal(&c.u) {
		return nil, fmt.Errorf("%w: not encrypted to this round, or altered", ErrDecrypt)
	}
	return key, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("timelock: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("timelock: %w", err)
	}
	return aead, nil
}
