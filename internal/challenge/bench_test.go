package challenge

import (
	"crypto/rand"
	"testing"
)

// The figures, measured with `make bench`: a validator checking 50
// rows of an n = 2000 CPU challenge, a worker's n = 2000 product, and the
// Merkle root over 32768 row hashes.

func benchSeed(b *testing.B) []byte {
	seed := make([]byte, 16)
	if _, err := rand.Read(seed); err != nil {
		b.Fatal(err)
	}
	return seed
}

func BenchmarkCPUVerifyRows2000x50(b *testing.B) {
	seed := benchSeed(b)
	rows := make([]int, 50)
	for i := range rows {
		rows[i] = i * 40
	}
	for b.Loop() {
		if _, err := CPURows(seed, 2000, 1, rows); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCPUProduct2000(b *testing.B) {
	a, m, err := CPUMatrices(benchSeed(b), 2000)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := CPUProduct(a, m, 2000, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMerkleRoot32768(b *testing.B) {
	ls := leaves(32768)
	for b.Loop() {
		if _, err := NewTree(ls); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGPUVerify32768: one GPU proof of the reference's size, 25 cells
// and 2 rows with 33 secret columns each, on one core. The rows hold the
// true values at the secret columns; the rest only has to hash to the
// committed leaves, which costs the verifier the same.
func BenchmarkGPUVerify32768(b *testing.B) {
	check, proof := gpuBenchCase(b, 32768)
	tol := DefaultTolerance()
	b.ResetTimer()
	for b.Loop() {
		if v := VerifyGPU(check, tol, proof); !v.Passed {
			b.Fatal(v)
		}
	}
}

func gpuBenchCase(b *testing.B, n int) (GPUCheck, GPUProof) {
	check := GPUCheck{SeedHex: "00112233445566778899aabbccddeeff", UUID: "GPU-bench", Size: n, Iterations: 1, Rows: []int{7, n - 3}}
	for i := range 25 {
		check.Cells = append(check.Cells, Cell{i * 1000 % n, (i*7919 + 11) % n})
	}
	for i := range 33 {
		check.Columns = append(check.Columns, (i*997+5)%n)
	}
	sh := SeedHash(check.SeedHex, check.UUID)
	cell := func(r, c int) float64 {
		v, err := GPUCell(sh, n, r, c, 1)
		if err != nil {
			b.Fatal(err)
		}
		return FP16Value(mustFP16(b, v))
	}
	var p GPUProof
	for _, c := range check.Cells {
		p.Values = append(p.Values, cell(c.Row, c.Col))
	}
	hashes := make([]string, n)
	for i := range hashes {
		hashes[i] = "0000000000000000"
	}
	rows := make([][]float64, len(check.Rows))
	for i, r := range check.Rows {
		rows[i] = make([]float64, n)
		for _, c := range check.Columns {
			rows[i][c] = cell(r, c)
		}
		hashes[r], _ = FP16RowHash(rows[i])
		p.Values = append(p.Values, rows[i]...)
	}
	tree, err := NewTree(hashes)
	if err != nil {
		b.Fatal(err)
	}
	check.Root = tree.Root()
	for _, r := range check.Rows {
		pr, _ := tree.Proof(r)
		p.RowHashes, p.Proofs = append(p.RowHashes, hashes[r]), append(p.Proofs, pr)
	}
	return check, p
}
