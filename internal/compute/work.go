package compute

import (
	"encoding/hex"
	"fmt"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

// Work is a challenge as a worker runs it, checked against the bounds of
// its kind before anything is allocated.
type Work struct {
	Type       string // computeproto.ChallengeCPUMatrix or ChallengeGPUMatrix
	SeedHex    string
	Seed       []byte
	Size       int
	Iterations int
}

// WorkFrom reads a challenge's data; challengeType is the type the
// challenge carries outside its data, which the data may repeat but not
// contradict.
func WorkFrom(challengeType string, d computeproto.ChallengeData) (Work, error) {
	if err := d.Validate(); err != nil {
		return Work{}, fmt.Errorf("%w: %v", challenge.ErrBadChallenge, err)
	}
	if d.ChallengeType != "" && d.ChallengeType != challengeType {
		return Work{}, fmt.Errorf("%w: a %s challenge whose data says %s", challenge.ErrBadChallenge, challengeType, d.ChallengeType)
	}
	seed, err := hex.DecodeString(d.Seed)
	if err != nil || !isLowerHex(d.Seed) {
		return Work{}, fmt.Errorf("%w: seed is not lowercase hex", challenge.ErrBadChallenge)
	}
	w := Work{Type: challengeType, SeedHex: d.Seed, Seed: seed, Size: int(d.MatrixSize), Iterations: int(d.Iterations)}
	if w.Iterations < 1 || w.Iterations > challenge.MaxIterations {
		return Work{}, fmt.Errorf("%w: %d iterations (1-%d)", challenge.ErrBadChallenge, w.Iterations, challenge.MaxIterations)
	}
	switch challengeType {
	case computeproto.ChallengeCPUMatrix:
		if w.Size < 1 || w.Size > challenge.MaxSize {
			return Work{}, fmt.Errorf("%w: CPU matrix size %d (1-%d)", challenge.ErrBadChallenge, w.Size, challenge.MaxSize)
		}
	case computeproto.ChallengeGPUMatrix:
		if err := (Task{SeedHex: w.SeedHex, Size: w.Size, Iterations: w.Iterations}).Validate(); err != nil {
			return Work{}, err
		}
		if d.TargetGPUID != nil && *d.TargetGPUID != -1 {
			return Work{}, fmt.Errorf("%w: target GPU %d (only -1, every GPU, is run)", challenge.ErrBadChallenge, *d.TargetGPUID)
		}
	default:
		return Work{}, fmt.Errorf("%w: challenge type %q", challenge.ErrBadChallenge, challengeType)
	}
	return w, nil
}

// MerkleProofs are proofs in the wire's form.
func MerkleProofs(ps []challenge.Proof) []computeproto.MerkleProof {
	out := make([]computeproto.MerkleProof, len(ps))
	for i, p := range ps {
		out[i] = computeproto.MerkleProof{LeafIndex: int64(p.LeafIndex), LeafHash: p.LeafHash, ProofHashes: p.ProofHashes, ProofDirections: p.ProofDirections}
	}
	return out
}

// ChallengeProofs are wire proofs in the verifier's form.
func ChallengeProofs(ms []computeproto.MerkleProof) []challenge.Proof {
	out := make([]challenge.Proof, len(ms))
	for i, m := range ms {
		out[i] = challenge.Proof{LeafIndex: int(m.LeafIndex), LeafHash: m.LeafHash, ProofHashes: m.ProofHashes, ProofDirections: m.ProofDirections}
	}
	return out
}
