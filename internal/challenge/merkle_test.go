package challenge

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func leaves(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
	}
	return out
}

// TestMerkleProofsVerify: every leaf's proof verifies, for tree sizes with
// odd levels; one leaf is its own root.
func TestMerkleProofsVerify(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 13, 100, 1025} {
		ls := leaves(n)
		tree, err := NewTree(ls)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && tree.Root() != ls[0] {
			t.Errorf("one leaf: root %s", tree.Root())
		}
		for i := range n {
			p, err := tree.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyProof(p, i, ls[i], tree.Root()); err != nil {
				t.Fatalf("n=%d leaf %d: %v", n, i, err)
			}
		}
	}
	if _, err := NewTree(nil); !errors.Is(err, ErrBadChallenge) {
		t.Errorf("an empty tree: %v", err)
	}
}

// TestMerkleProofFailures: each way of bending a proof fails with its rule
// named.
func TestMerkleProofFailures(t *testing.T) {
	ls := leaves(13)
	tree, _ := NewTree(ls)
	root := tree.Root()
	other, _ := NewTree(leaves(12))
	good, _ := tree.Proof(6)
	edit := func(f func(p *Proof)) Proof {
		p := good
		p.ProofHashes = slices.Clone(good.ProofHashes)
		p.ProofDirections = slices.Clone(good.ProofDirections)
		f(&p)
		return p
	}
	for _, c := range []struct {
		name     string
		p        Proof
		row      int
		leaf, rt string
		want     error
	}{
		{"a tampered row", good, 6, "ffffffffffffffff", root, ErrProofLeaf},
		{"another row's proof", good, 7, ls[6], root, ErrProofIndex},
		{"a wrong position", edit(func(p *Proof) { p.LeafIndex = 4 }), 4, ls[6], root, ErrProofPosition},
		{"a truncated proof", edit(func(p *Proof) {
			p.ProofHashes, p.ProofDirections = p.ProofHashes[:2], p.ProofDirections[:2]
		}), 6, ls[6], root, ErrProofPosition},
		{"a swapped direction", edit(func(p *Proof) { p.ProofDirections[0] = !p.ProofDirections[0] }), 6, ls[6], root, ErrProofPosition},
		{"a proof for another root", good, 6, ls[6], other.Root(), ErrProofRoot},
		{"hashes and directions of different lengths", edit(func(p *Proof) { p.ProofDirections = p.ProofDirections[1:] }), 6, ls[6], root, ErrProofShape},
		{"a sibling that is not hex", edit(func(p *Proof) { p.ProofHashes[1] = "XYZ" }), 6, ls[6], root, ErrProofMalformed},
		{"a proof too long for any tree", edit(func(p *Proof) {
			for range 30 {
				p.ProofHashes, p.ProofDirections = append(p.ProofHashes, root), append(p.ProofDirections, true)
			}
		}), 6, ls[6], root, ErrProofTooLong},
	} {
		if err := VerifyProof(c.p, c.row, c.leaf, c.rt); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func FuzzVerifyProof(f *testing.F) {
	tree, _ := NewTree(leaves(13))
	p, _ := tree.Proof(6)
	f.Add(6, p.LeafHash, p.ProofHashes[0], p.ProofHashes[1], true, false, tree.Root())
	f.Fuzz(func(t *testing.T, row int, leaf, h1, h2 string, d1, d2 bool, root string) {
		pr := Proof{LeafIndex: row, LeafHash: leaf, ProofHashes: []string{h1, h2}, ProofDirections: []bool{d1, d2}}
		_ = VerifyProof(pr, row, leaf, root)
	})
}
