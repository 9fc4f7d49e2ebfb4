package challenge

import (
	"fmt"
	"math"
	"math/bits"
)

// Rule names the verification rule a proof broke, for the mechanism to
// store beside the challenge.
type Rule string

const (
	RuleParameters  Rule = "parameters"    // the challenge itself is out of bounds
	RuleShape       Rule = "shape"         // counts of hashes, proofs or values
	RuleMerkle      Rule = "merkle_proof"  // a proof does not bind its row to the root
	RuleRowHash     Rule = "row_hash"      // a CPU row hash differs from the recomputed row
	RuleFP16Hash    Rule = "fp16_row_hash" // a GPU row's values do not hash to its row hash
	RuleCells       Rule = "cells"         // too few sampled GPU cells within tolerance
	RuleRowSample   Rule = "row_sample"    // a GPU row's secret columns are off
	RuleCommitment  Rule = "commitment"    // the commitment's signature
	RuleUnavailable Rule = "unavailable"   // nothing to verify against
)

// Verdict is the outcome of checking one committed unit (the CPU, or one
// GPU): Rule is the first rule that failed, empty when it passed.
type Verdict struct {
	UUID   string `json:"uuid"`
	Passed bool   `json:"passed"`
	Rule   Rule   `json:"rule,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Rows checked against the root; for GPU units also the sampled cells
	// and the rows whose secret columns passed.
	Rows        int `json:"rows"`
	Cells       int `json:"cells,omitempty"`
	CellsPassed int `json:"cells_passed,omitempty"`
	RowsPassed  int `json:"rows_passed,omitempty"`
}

func (v Verdict) fail(rule Rule, format string, args ...any) Verdict {
	v.Passed, v.Rule, v.Detail = false, rule, fmt.Sprintf(format, args...)
	return v
}

// Error makes a failed verdict usable as an error.
func (v Verdict) Error() string {
	if v.Passed {
		return "passed"
	}
	return fmt.Sprintf("%s: %s", v.Rule, v.Detail)
}

// CPUProof is what a worker returns for a CPU challenge: the requested
// rows' hashes and their proofs, in the order of the rows.
type CPUProof struct {
	RowHashes []string
	Proofs    []Proof
}

// VerifyCPU checks a CPU proof for the requested rows against the
// committed root without computing the product: the proofs first (hashes
// only), then the sampled rows recomputed from the seed and compared in
// order.
func VerifyCPU(seed []byte, n, iterations int, rows []int, root string, p CPUProof) Verdict {
	v := Verdict{UUID: CPUUnit, Rows: len(rows)}
	if len(rows) == 0 || len(p.RowHashes) != len(rows) || len(p.Proofs) != len(rows) {
		return v.fail(RuleShape, "%d row hashes and %d proofs for %d requested rows", len(p.RowHashes), len(p.Proofs), len(rows))
	}
	for i, r := range rows {
		if err := VerifyProof(p.Proofs[i], r, p.RowHashes[i], root); err != nil {
			return v.fail(RuleMerkle, "row %d: %v", r, err)
		}
	}
	c, err := CPURows(seed, n, iterations, rows)
	if err != nil {
		return v.fail(RuleParameters, "%v", err)
	}
	for i, r := range rows {
		if h := RowHash(c[r]); h != p.RowHashes[i] {
			return v.fail(RuleRowHash, "row %d hashes to %s, the proof says %s", r, h, p.RowHashes[i])
		}
	}
	v.Passed = true
	return v
}

// CPUUnit is the uuid a CPU commitment carries.
const CPUUnit = "-1"

// Tolerance is how close a GPU's values must be to the expected ones: a
// value passes within Abs, or within Rel of the expected magnitude; a
// sample passes when at least ceil(Threshold·count) of its values pass.
// RowSampleRate sets the secret columns per row. The defaults are the
// reference validator's.
type Tolerance struct {
	Abs           float64 `yaml:"abs_tolerance"`
	Rel           float64 `yaml:"rel_tolerance"`
	Threshold     float64 `yaml:"success_rate_threshold"`
	RowSampleRate float64 `yaml:"row_sample_rate"`
}

// DefaultTolerance is 0.02 absolute, 0.5 % relative, 85 % of a sample,
// one column in a thousand.
func DefaultTolerance() Tolerance {
	return Tolerance{Abs: 0.02, Rel: 0.005, Threshold: 0.85, RowSampleRate: 0.001}
}

// Validate holds every figure to 0..1, and the threshold and rate above 0.
func (t Tolerance) Validate() error {
	for _, x := range []float64{t.Abs, t.Rel, t.Threshold, t.RowSampleRate} {
		if !(x >= 0 && x <= 1) {
			return fmt.Errorf("%w: tolerance %v (0-1)", ErrBadChallenge, x)
		}
	}
	if t.Threshold == 0 || t.RowSampleRate == 0 {
		return fmt.Errorf("%w: a zero success threshold or row sample rate checks nothing", ErrBadChallenge)
	}
	return nil
}

func (t Tolerance) close(want, got float64) bool {
	d := math.Abs(want - got)
	return d <= t.Abs || d/(math.Abs(want)+1e-10) <= t.Rel
}

func (t Tolerance) needed(count int) int { return int(math.Ceil(t.Threshold * float64(count))) }

// GPUProof is what a worker returns for one GPU: the requested cells'
// values followed by each requested row in full, and the rows' FP16
// hashes with their proofs.
type GPUProof struct {
	Values    []float64
	RowHashes []string
	Proofs    []Proof
}

// GPUCheck is one GPU's part of a GPU challenge as the validator asked it.
type GPUCheck struct {
	SeedHex    string
	UUID       string
	Size       int
	Iterations int
	Root       string
	Cells      []Cell
	Rows       []int
	// Columns are the secret columns checked in each row (SecretColumns).
	Columns []int
}

// VerifyGPU checks one GPU's proof: the shape, each row's FP16 hash and
// its proof against the root, then the sampled cells and the rows' secret
// columns against values computed from the seed, never the product.
func VerifyGPU(c GPUCheck, tol Tolerance, p GPUProof) Verdict {
	v := Verdict{UUID: c.UUID, Rows: len(c.Rows), Cells: len(c.Cells)}
	n := c.Size
	if err := checkGPUSize(n); err != nil {
		return v.fail(RuleParameters, "%v", err)
	}
	if c.Iterations < 1 || c.Iterations > MaxIterations || len(c.Rows) == 0 || len(c.Columns) == 0 {
		return v.fail(RuleParameters, "%d iterations, %d rows, %d secret columns", c.Iterations, len(c.Rows), len(c.Columns))
	}
	for _, cell := range c.Cells {
		if cell.Row < 0 || cell.Row >= n || cell.Col < 0 || cell.Col >= n {
			return v.fail(RuleParameters, "cell (%d, %d) of size %d", cell.Row, cell.Col, n)
		}
	}
	for _, r := range c.Rows {
		if r < 0 || r >= n {
			return v.fail(RuleParameters, "row %d of size %d", r, n)
		}
	}
	for _, col := range c.Columns {
		if col < 0 || col >= n {
			return v.fail(RuleParameters, "column %d of size %d", col, n)
		}
	}
	// Longer is accepted, as the reference does; the tail is never read.
	if want := len(c.Cells) + len(c.Rows)*n; len(p.Values) < want {
		return v.fail(RuleShape, "%d values for %d cells and %d rows of %d", len(p.Values), len(c.Cells), len(c.Rows), n)
	}
	if len(p.RowHashes) != len(c.Rows) || len(p.Proofs) != len(c.Rows) {
		return v.fail(RuleShape, "%d row hashes and %d proofs for %d rows", len(p.RowHashes), len(p.Proofs), len(c.Rows))
	}
	rowValues := func(i int) []float64 { s := len(c.Cells) + i*n; return p.Values[s : s+n] }
	for i, r := range c.Rows {
		h, err := FP16RowHash(rowValues(i))
		if err != nil {
			return v.fail(RuleFP16Hash, "row %d: %v", r, err)
		}
		if h != p.RowHashes[i] {
			return v.fail(RuleFP16Hash, "row %d hashes to %s, the proof says %s", r, h, p.RowHashes[i])
		}
		if err := VerifyProof(p.Proofs[i], r, h, c.Root); err != nil {
			return v.fail(RuleMerkle, "row %d: %v", r, err)
		}
	}
	g := newGPUGen(SeedHash(c.SeedHex, c.UUID), n, float64(c.Iterations))
	for i, cell := range c.Cells {
		if tol.close(g.cell(cell.Row, cell.Col), p.Values[i]) {
			v.CellsPassed++
		}
	}
	if need := tol.needed(len(c.Cells)); v.CellsPassed < need {
		return v.fail(RuleCells, "%d of %d cells within tolerance, %d needed", v.CellsPassed, len(c.Cells), need)
	}
	// Each secret column of B once, against every requested row.
	hits := make([]int, len(c.Rows))
	arows := make([][]int32, len(c.Rows))
	for i, r := range c.Rows {
		arows[i] = g.rowA(r)
	}
	sums := make([]int64, len(c.Rows))
	for _, j := range c.Columns {
		g.colDots(sums, arows, j)
		for i := range c.Rows {
			if tol.close(g.value(sums[i]), rowValues(i)[j]) {
				hits[i]++
			}
		}
	}
	need := tol.needed(len(c.Columns))
	for i, r := range c.Rows {
		if hits[i] < need {
			return v.fail(RuleRowSample, "row %d: %d of %d secret columns within tolerance, %d needed", r, hits[i], len(c.Columns), need)
		}
		v.RowsPassed++
	}
	v.Passed = true
	return v
}

// gpuGen generates a GPU challenge's A rows and B columns as integers:
// element = (h & 0xFFFF) − 32768 in units of 2^-15, so a dot product is an
// exact int64 in units of 2^-30, the same number NumPy's float64 dot gives
// (every partial sum is exact in float64 too).
//
// The generator's 64-bit word folds to 32 bits before mixing: for A(r, k)
// it is base ^ r ^ rotl32(k, 16), for B(k, c) base ^ rotl32(c, 16) ^ 1 ^ k,
// with base the two halves of the seed hash (indices below 2^17, so the
// shifted index's two halves never overlap). One constant per row or
// column leaves a few 32-bit operations per element.
type gpuGen struct {
	base     uint32
	n        int
	scale    float64 // iterations
	row, col []int32 // scratch
}

func newGPUGen(seedHash uint64, n int, iterations float64) *gpuGen {
	return &gpuGen{base: uint32(seedHash) ^ uint32(seedHash>>32), n: n, scale: iterations}
}

func mix(h uint32) int32 {
	h = h*0x9E3779B9 + 0x85EBCA6B
	h ^= h >> 16
	h *= 0x85EBCA6B
	return int32(h&0xFFFF) - 32768
}

func (g *gpuGen) rowKey(r int) uint32 { return g.base ^ uint32(r) }
func (g *gpuGen) colKey(c int) uint32 { return g.base ^ bits.RotateLeft32(uint32(c), 16) ^ 1 }

func (g *gpuGen) rowA(r int) []int32 {
	out := make([]int32, g.n)
	genElements(out, g.rowKey(r), true)
	return out
}

// colDots sets sums[i] = rows[i]·B[:, c] for every row, making B's column
// once.
func (g *gpuGen) colDots(sums []int64, rows [][]int32, c int) {
	g.col = grow(g.col, g.n)
	genElements(g.col, g.colKey(c), false)
	for i, a := range rows {
		sums[i] = dotElements(a, g.col)
	}
}

func (g *gpuGen) cell(r, c int) float64 {
	g.row, g.col = grow(g.row, g.n), grow(g.col, g.n)
	genElements(g.row, g.rowKey(r), true)
	genElements(g.col, g.colKey(c), false)
	return g.value(dotElements(g.row, g.col))
}

func grow(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// genElements sets dst[k] = mix(key ^ rotl32(k, 16)) for A's rows (rot) or
// mix(key ^ k) for B's columns; the machine's vector unit where it has one.
var genElements = genElementsGo

func genElementsGo(dst []int32, key uint32, rot bool) {
	if rot {
		for k := range dst {
			dst[k] = mix(key ^ bits.RotateLeft32(uint32(k), 16))
		}
		return
	}
	for k := range dst {
		dst[k] = mix(key ^ uint32(k))
	}
}

// dotElements is Σ a[k]·b[k] in int64 (every product fits in 31 bits).
var dotElements = dotElementsGo

func dotElementsGo(a, b []int32) int64 {
	b = b[:len(a)]
	var s0, s1 int64
	k := 0
	for ; k+2 <= len(a); k += 2 {
		s0 += int64(a[k]) * int64(b[k])
		s1 += int64(a[k+1]) * int64(b[k+1])
	}
	if k < len(a) {
		s0 += int64(a[k]) * int64(b[k])
	}
	return s0 + s1
}

// value is a dot product in units of 2^-30 as the expected float64, times
// iterations as the reference scales it.
func (g *gpuGen) value(units int64) float64 { return float64(units) / (1 << 30) * g.scale }
