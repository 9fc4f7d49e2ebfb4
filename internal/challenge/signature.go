package challenge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ReferenceGPUKey is the public key (uncompressed SEC1, hex) of the
// reference GPU binary, whose commitments validators trust by default.
const ReferenceGPUKey = "045db4dcfa2559220159eba6bb8b7f16e4c4962bb9d862a7df8a1ce4138c01e14533213760877d4eaba3f84a7e1e1b29cb0f3320ff90f01dc206c22cffc0b09afb"

// TrustedKeys are the GPU binaries' keys a validator accepts commitments
// from: the reference binary's by default, others (vigil's own GPU
// backend) added by configuration.
type TrustedKeys []*ecdsa.PublicKey

// ParseTrustedKeys parses uncompressed SEC1 P-256 keys given in hex.
func ParseTrustedKeys(hexKeys ...string) (TrustedKeys, error) {
	var out TrustedKeys
	for _, h := range hexKeys {
		b, err := hex.DecodeString(strings.TrimPrefix(h, "0x"))
		if err != nil {
			return nil, fmt.Errorf("trusted key %.16s…: %w", h, err)
		}
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
		if err != nil {
			return nil, fmt.Errorf("trusted key %.16s…: %w", h, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// CommitmentMessage is what a GPU binary signs for a commitment:
// "0x{sig_ver:x}|{seed}|{gpu_uuid}|{merkle_root}".
func CommitmentMessage(sigVer uint64, seedHex, gpuUUID, root string) []byte {
	return []byte(fmt.Sprintf("0x%x|%s|%s|%s", sigVer, seedHex, gpuUUID, root))
}

// Why a commitment signature is refused.
var (
	ErrSignatureEncoding = errors.New("signature is not 64 bytes of hex or base64")
	ErrSignatureZero     = errors.New("signature is all zero")
	ErrSignatureInvalid  = errors.New("signature verifies under no trusted key")
)

// VerifyCommitment checks sigVal, the raw r‖s of ECDSA P-256 over SHA-256
// of the commitment message, in hex (or base64 when it is not hex), under
// any of keys.
func VerifyCommitment(keys TrustedKeys, sigVer uint64, seedHex, gpuUUID, root, sigVal string) error {
	sig, err := hex.DecodeString(sigVal)
	if err != nil {
		sig, err = base64.StdEncoding.DecodeString(sigVal)
	}
	if err != nil || len(sig) != 64 {
		return ErrSignatureEncoding
	}
	zero := true
	for _, b := range sig {
		zero = zero && b == 0
	}
	if zero {
		return ErrSignatureZero
	}
	digest := sha256.Sum256(CommitmentMessage(sigVer, seedHex, gpuUUID, root))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	for _, k := range keys {
		if ecdsa.Verify(k, digest[:], r, s) {
			return nil
		}
	}
	return ErrSignatureInvalid
}
