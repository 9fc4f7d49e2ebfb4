package challenge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// The Merkle tree of the reference (neurons/shared/utils/merkle_tree.py):
// leaves are the row-hash strings as they are (not hashed again); a parent
// is the lowercase hex SHA-256 of the UTF-8 concatenation left‖right; an odd
// last node is paired with itself; one leaf is its own root.

// MaxLeaves bounds a tree (the GPU challenge's largest matrix has 34406
// rows).
const MaxLeaves = 1 << 20

// Tree keeps every level, leaves first, so that a proof is O(log n).
type Tree struct {
	levels [][]string
}

func parent(left, right string) string {
	sum := sha256.Sum256([]byte(left + right))
	return hex.EncodeToString(sum[:])
}

// NewTree builds the tree over leaves.
func NewTree(leaves []string) (*Tree, error) {
	if len(leaves) == 0 || len(leaves) > MaxLeaves {
		return nil, fmt.Errorf("%w: a tree of %d leaves (1-%d)", ErrBadChallenge, len(leaves), MaxLeaves)
	}
	t := &Tree{levels: [][]string{append([]string(nil), leaves...)}}
	for cur := t.levels[0]; len(cur) > 1; {
		next := make([]string, (len(cur)+1)/2)
		for i := range next {
			l := cur[2*i]
			r := l
			if 2*i+1 < len(cur) {
				r = cur[2*i+1]
			}
			next[i] = parent(l, r)
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	return t, nil
}

// Root is the tree's root.
func (t *Tree) Root() string { return t.levels[len(t.levels)-1][0] }

// Proof is a leaf's path to the root in the reference's serialised form:
// Directions[j] is true when ProofHashes[j] is the right-hand sibling.
type Proof struct {
	LeafIndex       int      `json:"leaf_index"`
	LeafHash        string   `json:"leaf_hash"`
	ProofHashes     []string `json:"proof_hashes"`
	ProofDirections []bool   `json:"proof_directions"`
}

// Proof is leaf i's proof; a self-paired node is its own sibling, on the
// right, as in the reference.
func (t *Tree) Proof(i int) (Proof, error) {
	if i < 0 || i >= len(t.levels[0]) {
		return Proof{}, fmt.Errorf("%w: leaf %d of %d", ErrBadChallenge, i, len(t.levels[0]))
	}
	// Empty, not nil: a one-leaf proof serialises as [] like the reference.
	p := Proof{LeafIndex: i, LeafHash: t.levels[0][i], ProofHashes: []string{}, ProofDirections: []bool{}}
	idx := i
	for _, level := range t.levels[:len(t.levels)-1] {
		if idx%2 == 0 {
			sib := level[idx]
			if idx+1 < len(level) {
				sib = level[idx+1]
			}
			p.ProofHashes = append(p.ProofHashes, sib)
			p.ProofDirections = append(p.ProofDirections, true)
		} else {
			p.ProofHashes = append(p.ProofHashes, level[idx-1])
			p.ProofDirections = append(p.ProofDirections, false)
		}
		idx /= 2
	}
	return p, nil
}

// Why a proof fails.
var (
	ErrProofShape     = errors.New("proof hashes and directions differ in length")
	ErrProofTooLong   = errors.New("proof longer than any tree of MaxLeaves")
	ErrProofLeaf      = errors.New("proof is for another leaf hash")
	ErrProofIndex     = errors.New("proof is for another row")
	ErrProofPosition  = errors.New("proof directions do not match the leaf's position")
	ErrProofRoot      = errors.New("proof does not lead to the committed root")
	ErrProofMalformed = errors.New("proof holds a hash that is not lowercase hex")
)

// maxProofLen is the depth of a tree of MaxLeaves.
const maxProofLen = 21

// VerifyProof checks that p proves leaf hash for row under root. Beyond the
// reference's fold, it binds the position: going up, a sibling is on the
// right exactly when the node's index is even, and the fold must end at
// index 0, which every proof the reference builds satisfies.
func VerifyProof(p Proof, row int, leaf, root string) error {
	switch {
	case len(p.ProofHashes) != len(p.ProofDirections):
		return ErrProofShape
	case len(p.ProofHashes) > maxProofLen:
		return ErrProofTooLong
	case p.LeafIndex != row:
		return ErrProofIndex
	case p.LeafHash != leaf:
		return ErrProofLeaf
	}
	for _, h := range p.ProofHashes {
		if !isLowerHex(h) {
			return ErrProofMalformed
		}
	}
	cur, idx := leaf, row
	for j, sib := range p.ProofHashes {
		if p.ProofDirections[j] != (idx%2 == 0) {
			return ErrProofPosition
		}
		if p.ProofDirections[j] {
			cur = parent(cur, sib)
		} else {
			cur = parent(sib, cur)
		}
		idx /= 2
	}
	if idx != 0 {
		return ErrProofPosition
	}
	if cur != root {
		return ErrProofRoot
	}
	return nil
}

func isLowerHex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
