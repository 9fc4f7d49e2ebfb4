package challenge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// The Merkle tree of the reference (neurons/shared/utils/merkle_tree.py):
// leaves are the row-hash strings as they are (not hashed again); a parent
// is the lowercase hex SHA-256 of the UTF-8 concatenation left‖right; an odd
// last node is paired with itself; one leaf is its own root.

// MaxLeaves bounds a tree (the GPU challenge's largest matrix has 34406
// rows).
const MaxLeaves = 1 << 20

// Tree keeps every level so that a proof is O(log n): the leaves as given,
// and above them each level as one buffer of 64-character hex hashes. All
// of it is bytes without pointers, which the garbage collector never scans.
type Tree struct {
	leafData []byte
	leafEnd  []int32  // leaf i is leafData[leafEnd[i-1]:leafEnd[i]]
	levels   [][]byte // levels[0] is the leaves' parents
}

func (t *Tree) leaf(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = t.leafEnd[i-1]
	}
	return t.leafData[start:t.leafEnd[i]]
}

func (t *Tree) leafCount() int { return len(t.leafEnd) }

// hexPairs[b] is byte b as two lowercase hex digits.
var hexPairs = func() (t [256][2]byte) {
	const digits = "0123456789abcdef"
	for b := range t {
		t[b] = [2]byte{digits[b>>4], digits[b&15]}
	}
	return t
}()

func encodeHex(dst []byte, sum *[sha256.Size]byte) {
	dst = dst[:hashHex]
	for i, b := range sum {
		p := hexPairs[b]
		dst[2*i], dst[2*i+1] = p[0], p[1]
	}
}

const hashHex = 2 * sha256.Size

func parent(left, right string) string {
	sum := sha256.Sum256([]byte(left + right))
	return hex.EncodeToString(sum[:])
}

// parallelLevel is the level size from which a level is hashed on every
// core.
const parallelLevel = 1024

// NewTree builds the tree over leaves.
func NewTree(leaves []string) (*Tree, error) {
	if len(leaves) == 0 || len(leaves) > MaxLeaves {
		return nil, fmt.Errorf("%w: a tree of %d leaves (1-%d)", ErrBadChallenge, len(leaves), MaxLeaves)
	}
	size := 0
	for _, l := range leaves {
		size += len(l)
	}
	if size > math.MaxInt32 {
		return nil, fmt.Errorf("%w: leaves of %d bytes", ErrBadChallenge, size)
	}
	t := &Tree{leafData: make([]byte, 0, size), leafEnd: make([]int32, len(leaves))}
	for i, l := range leaves {
		t.leafData = append(t.leafData, l...)
		t.leafEnd[i] = int32(len(t.leafData))
	}
	if len(leaves) == 1 {
		return t, nil
	}
	// The first level hashes pairs of leaf strings.
	first := make([]byte, (len(leaves)+1)/2*hashHex)
	fill(first, len(leaves), func(buf []byte, i int) []byte {
		r := i + 1
		if r == len(leaves) {
			r = i
		}
		return append(append(buf, t.leaf(i)...), t.leaf(r)...)
	})
	t.levels = append(t.levels, first)
	for cur := first; len(cur) > hashHex; {
		nodes := len(cur) / hashHex
		next := make([]byte, (nodes+1)/2*hashHex)
		fill(next, nodes, func(buf []byte, i int) []byte {
			r := i + 1
			if r == nodes {
				r = i
			}
			return append(append(buf, cur[i*hashHex:(i+1)*hashHex]...), cur[r*hashHex:(r+1)*hashHex]...)
		})
		t.levels = append(t.levels, next)
		cur = next
	}
	return t, nil
}

// fill writes the hex SHA-256 of pair(i) for every even i < nodes into
// dst, one 64-character slot per pair, on every core for a large level.
func fill(dst []byte, nodes int, pair func(buf []byte, i int) []byte) {
	pairs := (nodes + 1) / 2
	work := func(p0, p1 int) {
		buf := make([]byte, 0, 2*hashHex)
		for p := p0; p < p1; p++ {
			buf = pair(buf[:0], 2*p)
			sum := sha256.Sum256(buf)
			encodeHex(dst[p*hashHex:], &sum)
		}
	}
	workers := 1
	if pairs >= parallelLevel {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(pairs*w/workers, pairs*(w+1)/workers)
		}()
	}
	wg.Wait()
}

// node is node i of level l, where level -1 is the leaves.
func (t *Tree) node(l, i int) string {
	if l < 0 {
		return string(t.leaf(i))
	}
	return string(t.levels[l][i*hashHex : (i+1)*hashHex])
}

// size is the number of nodes of level l (-1: the leaves).
func (t *Tree) size(l int) int {
	if l < 0 {
		return t.leafCount()
	}
	return len(t.levels[l]) / hashHex
}

// Root is the tree's root.
func (t *Tree) Root() string {
	if len(t.levels) == 0 {
		return string(t.leaf(0))
	}
	return string(t.levels[len(t.levels)-1])
}

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
	if i < 0 || i >= t.leafCount() {
		return Proof{}, fmt.Errorf("%w: leaf %d of %d", ErrBadChallenge, i, t.leafCount())
	}
	// Empty, not nil: a one-leaf proof serialises as [] like the reference.
	p := Proof{LeafIndex: i, LeafHash: string(t.leaf(i)), ProofHashes: []string{}, ProofDirections: []bool{}}
	idx := i
	for l := -1; l < len(t.levels)-1; l++ {
		if idx%2 == 0 {
			sib := idx
			if idx+1 < t.size(l) {
				sib = idx + 1
			}
			p.ProofHashes = append(p.ProofHashes, t.node(l, sib))
			p.ProofDirections = append(p.ProofDirections, true)
		} else {
			p.ProofHashes = append(p.ProofHashes, t.node(l, idx-1))
			p.ProofDirections = append(p.ProofDirections, false)
		}
		idx /= 2
	}
	return p, nil
}

// Prove returns the leaves at rows and their proofs, in the order of rows:
// what a worker answers a proof request with.
func (t *Tree) Prove(rows []int) (leaves []string, proofs []Proof, err error) {
	for _, r := range rows {
		p, err := t.Proof(r)
		if err != nil {
			return nil, nil, err
		}
		leaves, proofs = append(leaves, p.LeafHash), append(proofs, p)
	}
	return leaves, proofs, nil
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
