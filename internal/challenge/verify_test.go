package challenge

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// cpuWorker computes a CPU challenge as an honest worker: all of C, its
// row hashes and the tree.
func cpuWorker(t testing.TB, seed []byte, n, iters int) (*Tree, []string) {
	t.Helper()
	a, b, err := CPUMatrices(seed, n)
	if err != nil {
		t.Fatal(err)
	}
	c, err := CPUProduct(a, b, n, iters)
	if err != nil {
		t.Fatal(err)
	}
	hashes := RowHashes(c, n)
	tree, err := NewTree(hashes)
	if err != nil {
		t.Fatal(err)
	}
	return tree, hashes
}

func cpuProofFor(t testing.TB, tree *Tree, rows []int) CPUProof {
	t.Helper()
	hashes, proofs, err := tree.Prove(rows)
	if err != nil {
		t.Fatal(err)
	}
	return CPUProof{RowHashes: hashes, Proofs: proofs}
}

func TestVerifyCPU(t *testing.T) {
	seed := mustSeed(t, "5eed5eed000000000000000000000001")
	const n, iters = 150, 2
	tree, _ := cpuWorker(t, seed, n, iters)
	rows := DefaultSampling().CPURowsToCheck(n)
	if len(rows) < 25 || len(rows) > 75 || !slices.IsSorted(rows) {
		t.Fatalf("rows to check %v: want 25..75 sorted", rows)
	}
	good := cpuProofFor(t, tree, rows)
	if v := VerifyCPU(seed, n, iters, rows, tree.Root(), good); !v.Passed || v.Rule != "" || v.Rows != len(rows) {
		t.Fatalf("an honest proof: %+v", v)
	}

	// A worker that computed another challenge commits consistently to the
	// wrong rows: every proof holds, the recomputed rows do not.
	otherTree, _ := cpuWorker(t, mustSeed(t, "5eed5eee000000000000000000000001"), n, iters)
	wrong := cpuProofFor(t, otherTree, rows)
	cases := []struct {
		name  string
		root  string
		rows  []int
		proof CPUProof
		rule  Rule
	}{
		{"wrong product", otherTree.Root(), rows, wrong, RuleRowHash},
		{"one iteration short", tree.Root(), rows, good, RuleRowHash},
		{"another root", otherTree.Root(), rows, good, RuleMerkle},
		{"a proof missing", tree.Root(), rows, CPUProof{good.RowHashes, good.Proofs[1:]}, RuleShape},
		{"rows shifted", tree.Root(), rows, CPUProof{append(good.RowHashes[1:], good.RowHashes[0]), append(good.Proofs[1:], good.Proofs[0])}, RuleMerkle},
		{"nothing asked", tree.Root(), nil, CPUProof{}, RuleShape},
	}
	for _, c := range cases {
		it := iters
		if c.name == "one iteration short" {
			it = 1
		}
		v := VerifyCPU(seed, n, it, c.rows, c.root, c.proof)
		if v.Passed || v.Rule != c.rule {
			t.Errorf("%s: %+v, want rule %s", c.name, v, c.rule)
		}
	}
	if v := VerifyCPU(seed, MaxSize+1, 1, rows, tree.Root(), good); v.Rule != RuleParameters {
		t.Errorf("size out of bounds: %+v", v)
	}
}

// gpuWorker computes rows of a GPU challenge's C as the reference binary
// serves them: exact cells stored as binary16.
func gpuRows(t testing.TB, seedHex, uuid string, n, iters int, rows []int, only []int) [][]float64 {
	t.Helper()
	sh := SeedHash(seedHex, uuid)
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, n)
		cols := only
		if cols == nil {
			cols = make([]int, n)
			for c := range cols {
				cols[c] = c
			}
		}
		for _, c := range cols {
			v, err := GPUCell(sh, n, r, c, iters)
			if err != nil {
				t.Fatal(err)
			}
			b, err := FP16Bits(v)
			if err != nil {
				t.Fatal(err)
			}
			out[i][c] = FP16Value(b)
		}
	}
	return out
}

type gpuCase struct {
	check GPUCheck
	proof GPUProof
	all   [][]float64 // every row of C (FP16), for trees
}

func honestGPU(t testing.TB, n, iters int) gpuCase {
	t.Helper()
	seedHex, uuid := "00112233445566778899aabbccddeeff", "GPU-0f0e0d0c"
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	c := gpuRows(t, seedHex, uuid, n, iters, all, nil)
	hashes := make([]string, n)
	for i, row := range c {
		h, err := FP16RowHash(row)
		if err != nil {
			t.Fatal(err)
		}
		hashes[i] = h
	}
	tree, err := NewTree(hashes)
	if err != nil {
		t.Fatal(err)
	}
	cells, rows := DefaultSampling().GPUTargets(n)
	check := GPUCheck{SeedHex: seedHex, UUID: uuid, Size: n, Iterations: iters, Root: tree.Root(), Cells: cells, Rows: rows,
		Columns: SecretColumns(n, 0.1)}
	var p GPUProof
	for _, cell := range cells {
		p.Values = append(p.Values, c[cell.Row][cell.Col])
	}
	for _, r := range rows {
		p.Values = append(p.Values, c[r]...)
		pr, _ := tree.Proof(r)
		p.RowHashes = append(p.RowHashes, hashes[r])
		p.Proofs = append(p.Proofs, pr)
	}
	return gpuCase{check, p, c}
}

func TestVerifyGPU(t *testing.T) {
	const n, iters = 48, 3
	h := honestGPU(t, n, iters)
	tol := DefaultTolerance()
	if len(h.check.Cells) < 20 || len(h.check.Cells) > 30 || len(h.check.Rows) < 1 || len(h.check.Rows) > 3 {
		t.Fatalf("targets: %d cells, %d rows", len(h.check.Cells), len(h.check.Rows))
	}
	if v := VerifyGPU(h.check, tol, h.proof); !v.Passed || v.CellsPassed != len(h.check.Cells) || v.RowsPassed != len(h.check.Rows) {
		t.Fatalf("an honest proof: %+v", v)
	}
	clone := func() GPUProof {
		return GPUProof{slices.Clone(h.proof.Values), slices.Clone(h.proof.RowHashes), slices.Clone(h.proof.Proofs)}
	}
	need := tol.needed(len(h.check.Cells))
	spare := len(h.check.Cells) - need

	// Cells may miss up to the threshold, not one more.
	p := clone()
	for i := range spare {
		p.Values[i] += 1
	}
	if v := VerifyGPU(h.check, tol, p); !v.Passed || v.CellsPassed != need {
		t.Fatalf("%d cells off of %d: %+v", spare, len(h.check.Cells), v)
	}
	p.Values[spare] += 1
	if v := VerifyGPU(h.check, tol, p); v.Passed || v.Rule != RuleCells {
		t.Fatalf("%d cells off: %+v", spare+1, v)
	}

	// A changed row value breaks its FP16 hash.
	p = clone()
	p.Values[len(h.check.Cells)+1] += 0.5
	if v := VerifyGPU(h.check, tol, p); v.Rule != RuleFP16Hash {
		t.Fatalf("a row value changed: %+v", v)
	}

	// A worker committing to wrong rows, consistently: hashes and proofs
	// hold, the secret columns do not.
	bad := make([][]float64, n)
	hashes := make([]string, n)
	for i := range bad {
		bad[i] = slices.Clone(h.all[i])
		for j := range bad[i] {
			bad[i][j] = FP16Value(mustFP16(t, bad[i][j]*1.5))
		}
		hashes[i], _ = FP16RowHash(bad[i])
	}
	tree, _ := NewTree(hashes)
	check := h.check
	check.Root = tree.Root()
	p = GPUProof{Values: slices.Clone(h.proof.Values[:len(h.check.Cells)])}
	for _, r := range check.Rows {
		p.Values = append(p.Values, bad[r]...)
		pr, _ := tree.Proof(r)
		p.RowHashes, p.Proofs = append(p.RowHashes, hashes[r]), append(p.Proofs, pr)
	}
	if v := VerifyGPU(check, tol, p); v.Rule != RuleRowSample {
		t.Fatalf("consistently wrong rows: %+v", v)
	}

	// Another root; too few values; a proof missing; an FP16 overflow.
	other := h.check
	other.Root = tree.Root()
	if v := VerifyGPU(other, tol, h.proof); v.Rule != RuleMerkle {
		t.Fatalf("another root: %+v", v)
	}
	p = clone()
	p.Values = p.Values[:len(p.Values)-1]
	if v := VerifyGPU(h.check, tol, p); v.Rule != RuleShape {
		t.Fatalf("a value short: %+v", v)
	}
	p = clone()
	p.Proofs = p.Proofs[1:]
	if v := VerifyGPU(h.check, tol, p); v.Rule != RuleShape {
		t.Fatalf("a proof short: %+v", v)
	}
	p = clone()
	p.Values[len(h.check.Cells)] = 1e6
	if v := VerifyGPU(h.check, tol, p); v.Rule != RuleFP16Hash || !strings.Contains(v.Detail, "binary16") {
		t.Fatalf("a value beyond binary16: %+v", v)
	}
	// The seed binds the unit: the same proof under another GPU's uuid.
	other = h.check
	other.UUID = "GPU-other"
	if v := VerifyGPU(other, tol, h.proof); v.Passed {
		t.Fatalf("another GPU's uuid passed: %+v", v)
	}
	bounds := h.check
	bounds.Cells = append(slices.Clone(bounds.Cells), Cell{n, 0})
	if v := VerifyGPU(bounds, tol, h.proof); v.Rule != RuleParameters {
		t.Fatalf("a cell out of bounds: %+v", v)
	}
}

func mustFP16(t testing.TB, x float64) uint16 {
	t.Helper()
	b, err := FP16Bits(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFP16ValueRoundTrips: every finite binary16 pattern back to itself.
func TestFP16ValueRoundTrips(t *testing.T) {
	for b := range 1 << 16 {
		v := FP16Value(uint16(b))
		if math.IsNaN(v) {
			continue
		}
		if got := mustFP16(t, v); got != uint16(b) {
			t.Fatalf("%#04x → %v → %#04x", b, v, got)
		}
	}
}

func TestSampling(t *testing.T) {
	s := DefaultSampling()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultTolerance().Validate(); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for range 400 {
		rows := s.CPURowsToCheck(2000)
		seen[len(rows)] = true
		cells, grows := s.GPUTargets(32768)
		if len(cells) < 20 || len(cells) > 30 || len(grows) < 1 || len(grows) > 3 || !slices.IsSorted(grows) {
			t.Fatalf("GPU targets: %d cells, rows %v", len(cells), grows)
		}
	}
	if !seen[25] || !seen[75] || len(seen) < 40 {
		t.Fatalf("CPU row counts drawn: %d distinct, ends %v %v", len(seen), seen[25], seen[75])
	}
	// Small matrices: never more rows than there are, all distinct.
	if rows := s.CPURowsToCheck(3); !slices.Equal(rows, []int{0, 1, 2}) {
		t.Fatalf("rows of a 3-row matrix: %v", rows)
	}
	if cells, _ := s.GPUTargets(1); len(cells) != 1 {
		t.Fatalf("cells of a 1×1 matrix: %v", cells)
	}
	if cols := SecretColumns(32768, 0.001); len(cols) != 32 {
		t.Fatalf("%d secret columns for 32768", len(cols))
	}
	if cols := SecretColumns(10, 0.001); len(cols) != 1 {
		t.Fatalf("%d secret columns for 10", len(cols))
	}
	for _, bad := range []Sampling{{}, {CPURows: 1, GPURows: 1, CPURowVariance: 2}, {CPURows: 1, GPURows: 0}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

// TestGPUBenchCasePasses: the benchmark's proof is one VerifyGPU accepts,
// at the benchmark's size and at edge sizes, and a changed cell fails it.
func TestGPUBenchCasePasses(t *testing.T) {
	for _, n := range []int{1, 2, 40, 32768} {
		check, p, err := GPUBenchCase(n)
		if err != nil {
			t.Fatal(err)
		}
		if v := VerifyGPU(check, DefaultTolerance(), p); !v.Passed {
			t.Fatalf("n=%d: %+v", n, v)
		}
	}
	check, p, _ := GPUBenchCase(64)
	for i := range p.Values[:len(check.Cells)] {
		p.Values[i] += 1
	}
	if v := VerifyGPU(check, DefaultTolerance(), p); v.Passed {
		t.Fatal("cells all off passed")
	}
}
