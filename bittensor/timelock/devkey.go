package timelock

import (
	"crypto/sha256"
	"errors"
	"math/big"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// DevKey is a beacon's secret key held by one party: what a drand network
// holds as a threshold key, for development chains and tests that must
// publish pulses themselves. Its signatures are those of the
// bls-unchained-g1-rfc9380 scheme, so Decrypt and VerifySignature accept
// them under DevKey.Beacon.
type DevKey struct {
	sk     big.Int
	beacon Beacon
}

// NewDevKey derives a key from seed (sha256, reduced modulo the group
// order) for a beacon whose round 1 is at genesis and whose rounds are
// period apart.
func NewDevKey(seed []byte, genesis time.Time, period time.Duration) (*DevKey, error) {
	if period <= 0 {
		return nil, errors.New("timelock: dev beacon period must be positive")
	}
	h := sha256.Sum256(seed)
	k := &DevKey{}
	k.sk.SetBytes(h[:])
	k.sk.Mod(&k.sk, fr.Modulus())
	if k.sk.Sign() == 0 {
		return nil, errors.New("timelock: seed gives a zero key")
	}
	_, _, _, g2 := bls.Generators()
	var pk bls.G2Affine
	pk.ScalarMultiplication(&g2, &k.sk)
	pkb := pk.Bytes()
	k.beacon = Beacon{PublicKey: pkb[:], GenesisTime: genesis.Unix(), Period: period}
	return k, nil
}

// Beacon returns the public description of the key's beacon.
func (k *DevKey) Beacon() Beacon {
	b := k.beacon
	b.PublicKey = append([]byte(nil), b.PublicKey...)
	return b
}

// Sign returns the round's signature (48-byte compressed G1), the pulse a
// chain stores and Decrypt takes.
func (k *DevKey) Sign(round uint64) ([]byte, error) {
	q, err := identity(round)
	if err != nil {
		return nil, err
	}
	var s bls.G1Affine
	s.ScalarMultiplication(&q, &k.sk)
	b := s.Bytes()
	return b[:], nil
}
