package challenge

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestGPUCellsMatchNumPy: the seed hash, the element generator (in Python
// integers) and the expected cells (NumPy float64 dot), times iterations.
func TestGPUCellsMatchNumPy(t *testing.T) {
	type c struct {
		seed, uuid string
		n, iters   int
		cells      [][2]int
	}
	cases := []c{
		{"00112233445566778899aabbccddeeff", "GPU-1", 1, 1, [][2]int{{0, 0}}},
		{"00112233445566778899aabbccddeeff", "GPU-8f2c1a3e-77b1-4f0e-9d2a-3c5b6a7d8e9f", 7, 3, [][2]int{{0, 0}, {6, 6}, {3, 5}}},
		{"ffffffffffffffffffffffffffffffff", "-1", 257, 1, [][2]int{{0, 256}, {128, 1}, {256, 0}}},
		{"0badc0de0badc0de0badc0de0badc0de", "GPU-a", 2048, 2, [][2]int{{2047, 2047}, {1000, 3}}},
	}
	var reqs []map[string]any
	for _, x := range cases {
		reqs = append(reqs, map[string]any{"op": "gpu", "seed": x.seed, "uuid": x.uuid, "size": x.n, "iterations": x.iters, "cells": x.cells})
	}
	got := numpyAsk[struct {
		SeedHash string    `json:"seed_hash"`
		Cells    []float64 `json:"cells"`
	}](t, reqs)
	for i, x := range cases {
		sh := SeedHash(x.seed, x.uuid)
		if strconv.FormatUint(sh, 10) != got[i].SeedHash {
			t.Fatalf("seed hash %d, the reference's %s", sh, got[i].SeedHash)
		}
		for j, cell := range x.cells {
			v, err := GPUCell(sh, x.n, cell[0], cell[1], x.iters)
			if err != nil || v != got[i].Cells[j] {
				t.Errorf("%s/%s n=%d cell %v: %v (%v), NumPy %v", x.seed, x.uuid, x.n, cell, v, err, got[i].Cells[j])
			}
		}
	}
}

// TestFP16RowHashMatchesPython: binary16 bits (round half to even,
// subnormals, the largest finite value, signed zeros, infinities) as
// Python's struct '<e' and NumPy's float16 give them, and the FNV-1a hash.
func TestFP16RowHashMatchesPython(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []float64{0, 1, -1, 0.1, 1.0 / 3, 65504, -65504, 65519.99, 6.1035e-05, 5.96e-08, 2.98e-08,
		2.9802322387695312e-08, 8.940696716308594e-08, 1e-10, 0.5 + 1.0/4096, 0.5 + 3.0/4096, 1 + 1.0/2048, 1 + 3.0/2048, 2049, 4097,
		3.0517578125e-05, 6.097555160522461e-05}
	for range 300 {
		values = append(values, (r.Float64()*2-1)*math.Pow(2, float64(r.IntN(40)-24)))
	}
	got := numpyAsk[struct {
		Bits      []uint16 `json:"bits"`
		NumPyBits []uint16 `json:"numpy_bits"`
		Hash      string   `json:"hash"`
	}](t, []map[string]any{{"op": "fp16", "values": values}})[0]
	for i, v := range values {
		b, err := FP16Bits(v)
		if err != nil || b != got.Bits[i] || b != got.NumPyBits[i] {
			t.Errorf("%v: %#04x (%v), struct '<e' %#04x, NumPy %#04x", v, b, err, got.Bits[i], got.NumPyBits[i])
		}
	}
	h, err := FP16RowHash(values)
	if err != nil || h != got.Hash {
		t.Errorf("row hash %s (%v), the reference's %s", h, err, got.Hash)
	}
	// What JSON cannot carry to the oracle: IEEE's own patterns.
	for v, want := range map[float64]uint16{math.Copysign(0, -1): 0x8000, math.Inf(1): 0x7c00, math.Inf(-1): 0xfc00} {
		if b, err := FP16Bits(v); err != nil || b != want {
			t.Errorf("%v: %#04x (%v), want %#04x", v, b, err, want)
		}
	}
	if b, _ := FP16Bits(math.NaN()); b&0x7c00 != 0x7c00 || b&0x3ff == 0 {
		t.Errorf("NaN: %#04x", b)
	}
	for _, v := range []float64{65520, -1e6} {
		if _, err := FP16Bits(v); !errors.Is(err, ErrFP16Range) {
			t.Errorf("%v: %v, want ErrFP16Range as struct.pack refuses it", v, err)
		}
	}
}

// TestGPUGeneratorPaths: the folded 32-bit generator, in Go and in the
// vector unit, gives GPUElementA/B (the reference's 64-bit formula) for
// indices up to 2^17, lengths with and without a tail of under eight, and
// the dot products agree.
func TestGPUGeneratorPaths(t *testing.T) {
	paths := []struct {
		name string
		gen  func([]int32, uint32, bool)
		dot  func(a, b []int32) int64
	}{{"go", genElementsGo, dotElementsGo}, {"machine", genElements, dotElements}}
	for _, sh := range []uint64{0, 0xdeadbeefcafebabe, SeedHash("ab", "GPU-1")} {
		g := newGPUGen(sh, 1, 1)
		for _, idx := range []int{0, 1, 7, 65535, 65536, MaxGPUSize - 1} {
			for _, n := range []int{1, 8, 13, 1029, 70001} {
				row, col := g.rowKey(idx), g.colKey(idx)
				var want []int64
				for _, p := range paths {
					a, b := make([]int32, n), make([]int32, n)
					p.gen(a, row, true)
					p.gen(b, col, false)
					for k := range n {
						if ea := GPUElementA(sh, idx, k); float64(a[k])/32768 != ea {
							t.Fatalf("%s: A(%d, %d) = %v, want %v", p.name, idx, k, float64(a[k])/32768, ea)
						}
						if eb := GPUElementB(sh, k, idx); float64(b[k])/32768 != eb {
							t.Fatalf("%s: B(%d, %d) = %v, want %v", p.name, k, idx, float64(b[k])/32768, eb)
						}
					}
					want = append(want, p.dot(a, b))
				}
				if want[0] != want[1] {
					t.Fatalf("dot products differ: %v", want)
				}
			}
		}
	}
}
