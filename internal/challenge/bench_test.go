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
// and 2 rows with 33 secret columns each, on one core (GPUBenchCase).
func BenchmarkGPUVerify32768(b *testing.B) {
	check, proof, err := GPUBenchCase(32768)
	if err != nil {
		b.Fatal(err)
	}
	tol := DefaultTolerance()
	for b.Loop() {
		if v := VerifyGPU(check, tol, proof); !v.Passed {
			b.Fatal(v)
		}
	}
}
