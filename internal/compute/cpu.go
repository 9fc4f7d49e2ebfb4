package compute

import (
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
)

// CPUResult is a computed CPU challenge: its row hashes, the tree over
// them, and the time the computation took on this machine.
type CPUResult struct {
	Size      int
	RowHashes []string
	Tree      *challenge.Tree
	Elapsed   time.Duration
}

// ComputeCPU computes a CPU challenge as a worker does: A and B from the
// seed, C = A·B (iterated) exactly in int64, the row hashes and the tree.
func ComputeCPU(seed []byte, n, iterations int) (*CPUResult, error) {
	start := time.Now()
	a, b, err := challenge.CPUMatrices(seed, n)
	if err != nil {
		return nil, err
	}
	c, err := challenge.CPUProduct(a, b, n, iterations)
	if err != nil {
		return nil, err
	}
	hashes := challenge.RowHashes(c, n)
	tree, err := challenge.NewTree(hashes)
	if err != nil {
		return nil, err
	}
	return &CPUResult{Size: n, RowHashes: hashes, Tree: tree, Elapsed: time.Since(start)}, nil
}

// Root is the Merkle root the worker commits to, with uuid "-1", sig_ver 0
// and an empty signature.
func (r *CPUResult) Root() string { return r.Tree.Root() }

// Prove returns the requested rows' hashes and proofs, in order.
func (r *CPUResult) Prove(rows []int) (challenge.CPUProof, error) {
	hashes, proofs, err := r.Tree.Prove(rows)
	return challenge.CPUProof{RowHashes: hashes, Proofs: proofs}, err
}
