package computeproto

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// worstCaseProof builds the largest proof the reference validator asks of
// an 8-GPU worker: 30 cells and 3 full rows of the largest default size per
// GPU, with values spread like FP16 results of a 34406-long dot product.
func worstCaseProof() ProofData {
	const gpus, coords, rows, n = 8, 30, 3, 34406
	rng := rand.New(rand.NewPCG(1, 2))
	p := NewProofData("3f1c7f0e-8a3b-4d1e-9c55-0b7d2a6e4f11", nil)
	for g := 0; g < gpus; g++ {
		vals := make([]PyFloat, coords+rows*n)
		for i := range vals {
			x := rng.NormFloat64() * 60
			// Keep 11 significant bits, as an FP16 value has.
			e := math.Ilogb(x) - 10
			vals[i] = PyFloat(math.Round(math.Ldexp(x, -e)) * math.Ldexp(1, e))
		}
		pr := ProofResponse{UUID: "GPU-" + strconv.Itoa(g), CoordinateValues: vals}
		for r := 0; r < rows; r++ {
			mp := MerkleProof{LeafIndex: int64(r * 1000), LeafHash: "cbf29ce484222325"}
			for d := 0; d < 16; d++ {
				mp.ProofHashes = append(mp.ProofHashes, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
				mp.ProofDirections = append(mp.ProofDirections, d%2 == 0)
			}
			pr.RowHashes = append(pr.RowHashes, mp.LeafHash)
			pr.MerkleProofs = append(pr.MerkleProofs, mp)
		}
		p.Proofs = append(p.Proofs, pr)
	}
	return p
}

func TestWorstCaseProofFits(t *testing.T) {
	if testing.Short() {
		t.Skip("large payload")
	}
	p := worstCaseProof()
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("8-GPU proof: %d bytes", len(b))
	if len(b) > MaxProofDataSize {
		t.Fatalf("honest proof of %d bytes exceeds MaxProofDataSize", len(b))
	}
	q, err := DecodeProofData(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Proofs) != 8 || len(q.Proofs[7].CoordinateValues) != 30+3*34406 || q.Proofs[3].CoordinateValues[100] != p.Proofs[3].CoordinateValues[100] {
		t.Fatal("proof changed")
	}
}

func BenchmarkDecodeProofData(b *testing.B) {
	data, err := Marshal(worstCaseProof())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeProofData(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalProofData(b *testing.B) {
	p := worstCaseProof()
	for b.Loop() {
		if _, err := Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}
