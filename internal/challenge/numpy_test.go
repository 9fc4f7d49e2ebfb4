package challenge

import (
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

// numpyAsk runs tools/pyoracle/challenge.py (NumPy's RandomState and int64
// dot, the reference's Merkle rules transcribed in Python) on reqs.
func numpyAsk[Resp any](t *testing.T, reqs []map[string]any) []Resp {
	t.Helper()
	python := oracletest.Python(t, "numpy", "cryptography.hazmat.primitives.asymmetric.ec")
	dir := oracletest.ToolsDir("pyoracle")
	var out []Resp
	oracletest.RunWith(t, python, dir+"/challenge.py", reqs, &out)
	if len(out) != len(reqs) {
		t.Fatalf("the oracle answered %d of %d requests", len(out), len(reqs))
	}
	return out
}

func mustSeed(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMT19937MatchesNumPy: RandomState(seed)'s raw 32-bit stream, across
// twists, for seeds at the edges of the 32 bits.
func TestMT19937MatchesNumPy(t *testing.T) {
	seeds := []string{"00000000", "00000001", "deadbeef", "ffffffff", "7fffffff01020304"}
	var reqs []map[string]any
	for _, s := range seeds {
		reqs = append(reqs, map[string]any{"op": "stream", "seed": s, "count": 2000})
	}
	got := numpyAsk[struct {
		Uint32 []uint32 `json:"uint32"`
	}](t, reqs)
	for i, s := range seeds {
		seed, _ := SeedInt(mustSeed(t, s))
		m := newMT19937(seed)
		for j, want := range got[i].Uint32 {
			if v := m.Uint32(); v != want {
				t.Fatalf("seed %s output %d: %d, NumPy %d", s, j, v, want)
			}
		}
	}
}

// TestCPUSizeMatchesNumPy: the matrix size from the seed, by NumPy's
// legacy randint over the base and variance.
func TestCPUSizeMatchesNumPy(t *testing.T) {
	type c struct {
		seed     string
		base     int
		variance float64
	}
	cases := []c{{"00000000", 2000, 0.1}, {"ffffffff", 2000, 0.1}, {"0a1b2c3d4e5f", 2000, 0.1}, {"12345678", 100, 0},
		{"12345678", 100, 0.5}, {"87654321", 10000, 0.5}, {"cafebabe", 5000, 0.01}, {"00000001", 150, 0.33}}
	for i := range 20 {
		cases = append(cases, c{fmt.Sprintf("%08x", uint32(i)*2654435761), 2000, 0.1})
	}
	var reqs []map[string]any
	for _, x := range cases {
		reqs = append(reqs, map[string]any{"op": "size", "seed": x.seed, "base": x.base, "variance": x.variance})
	}
	got := numpyAsk[struct {
		Size int `json:"size"`
	}](t, reqs)
	for i, x := range cases {
		n, err := CPUSize(mustSeed(t, x.seed), x.base, x.variance)
		if err != nil || n != got[i].Size {
			t.Errorf("%+v: size %d (%v), NumPy %d", x, n, err, got[i].Size)
		}
	}
}

type cpuAnswer struct {
	A          []int16            `json:"a"`
	B          []int16            `json:"b"`
	CRows      map[string][]int64 `json:"c_rows"`
	RowHashes  []string           `json:"row_hashes"`
	MerkleRoot string             `json:"merkle_root"`
	Proofs     map[string]Proof   `json:"proofs"`
}

// TestCPUChallengeMatchesNumPy: A and B, the product (iterated, with
// int64 wrap-around), the row hashes, the Merkle root and proofs, and the
// sampled rows a validator computes alone, for odd sizes, size 1, and
// several iterations.
// TestGPUSizeMatchesNumPy: the GPU challenge's size rule.
func TestGPUSizeMatchesNumPy(t *testing.T) {
	type c struct {
		seed     string
		base     int
		variance float64
	}
	cases := []c{{"00000000", 32768, 0.05}, {"ffffffff", 32768, 0.05}, {"12345678", 64, 0}, {"87654321", 1, 0.5}, {"cafebabe", 100, 1}}
	for i := range 10 {
		cases = append(cases, c{fmt.Sprintf("%08x", uint32(i)*2246822519), 32768, 0.05})
	}
	var reqs []map[string]any
	for _, x := range cases {
		reqs = append(reqs, map[string]any{"op": "gpu_size", "seed": x.seed, "base": x.base, "variance": x.variance})
	}
	got := numpyAsk[struct {
		Size int `json:"size"`
	}](t, reqs)
	for i, x := range cases {
		n, err := GPUSize(mustSeed(t, x.seed), x.base, x.variance)
		if err != nil || n != got[i].Size {
			t.Errorf("seed %s base %d variance %v: %d (%v), NumPy %d", x.seed, x.base, x.variance, n, err, got[i].Size)
		}
	}
	if _, err := GPUSize(mustSeed(t, "00000000"), MaxGPUSize, 0.5); err == nil {
		t.Error("sizes beyond MaxGPUSize were allowed")
	}
}

func TestCPUChallengeMatchesNumPy(t *testing.T) {
	type c struct {
		seed       string
		n, iters   int
		proofs     []int
		full, wrap bool
	}
	cases := []c{
		{"00000000000000000000000000000000", 1, 1, []int{0}, true, false},
		{"0102030405060708090a0b0c0d0e0f10", 2, 1, []int{0, 1}, true, false},
		{"deadbeefdeadbeefdeadbeefdeadbeef", 3, 2, []int{0, 2}, true, false},
		{"ffffffff000000000000000000000000", 7, 3, []int{0, 5, 6}, true, false},
		{"13579bdf2468ace013579bdf2468ace0", 16, 1, []int{0, 7, 15}, true, false},
		{"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5", 64, 8, []int{0, 33, 63}, false, true},
		{"0badc0de0badc0de0badc0de0badc0de", 101, 1, []int{0, 50, 99, 100}, false, false},
		{"7e57ab1e7e57ab1e7e57ab1e7e57ab1e", 257, 3, []int{0, 128, 255, 256}, false, false},
		// k spans several of the packed kernel's blocks.
		{"c0ffee00c0ffee00c0ffee00c0ffee00", 1100, 1, []int{0, 3, 549, 1099}, false, false},
	}
	var reqs []map[string]any
	for _, x := range cases {
		reqs = append(reqs, map[string]any{"op": "cpu", "seed": x.seed, "size": x.n, "iterations": x.iters, "proofs": x.proofs, "full": x.full})
	}
	got := numpyAsk[cpuAnswer](t, reqs)
	for i, x := range cases {
		t.Run(fmt.Sprintf("n=%d,iterations=%d", x.n, x.iters), func(t *testing.T) {
			want := got[i]
			seed := mustSeed(t, x.seed)
			a, b, err := CPUMatrices(seed, x.n)
			if err != nil {
				t.Fatal(err)
			}
			if x.full && (!reflect.DeepEqual(a, want.A) || !reflect.DeepEqual(b, want.B)) {
				t.Fatalf("A %v B %v, NumPy A %v B %v", a, b, want.A, want.B)
			}
			cm, err := CPUProduct(a, b, x.n, x.iters)
			if err != nil {
				t.Fatal(err)
			}
			hashes := RowHashes(cm, x.n)
			if !reflect.DeepEqual(hashes, want.RowHashes) {
				t.Fatalf("row hashes differ from NumPy's")
			}
			tree, err := NewTree(hashes)
			if err != nil || tree.Root() != want.MerkleRoot {
				t.Fatalf("root %s (%v), the reference rules give %s", tree.Root(), err, want.MerkleRoot)
			}
			rows, err := CPURows(seed, x.n, x.iters, x.proofs)
			if err != nil {
				t.Fatal(err)
			}
			big := false
			for _, r := range x.proofs {
				key := strconv.Itoa(r)
				if !reflect.DeepEqual(rows[r], want.CRows[key]) || !reflect.DeepEqual(cm[r*x.n:r*x.n+x.n], want.CRows[key]) {
					t.Fatalf("row %d differs from NumPy's", r)
				}
				for _, v := range rows[r] {
					big = big || math.Abs(float64(v)) > 1<<62
				}
				p, err := tree.Proof(r)
				if err != nil || !reflect.DeepEqual(p, want.Proofs[key]) {
					t.Fatalf("proof of row %d: %+v (%v), the reference's %+v", r, p, err, want.Proofs[key])
				}
				// The reference's proof verifies, position bound.
				if err := VerifyProof(want.Proofs[key], r, RowHash(rows[r]), want.MerkleRoot); err != nil {
					t.Fatalf("the reference's proof of row %d: %v", r, err)
				}
			}
			if x.wrap && !big {
				t.Errorf("no value beyond 2^62: the case does not reach int64 wrap-around")
			}
		})
	}
}
