package gemm

import (
	"math/rand/v2"
	"testing"
)

func randSmall(r *rand.Rand, n int, bound int) []int16 {
	row := make([]int16, n)
	for j := range row {
		row[j] = int16(r.IntN(2*bound+1) - bound)
	}
	return row
}

// naive is the textbook product in int64.
func naive(a [][]int16, b [][]int16) [][]int64 {
	n := len(b)
	out := make([][]int64, len(a))
	for r := range a {
		out[r] = make([]int64, n)
		for k := range n {
			for j := range n {
				out[r][j] += int64(a[r][k]) * int64(b[k][j])
			}
		}
	}
	return out
}

func check(t *testing.T, rows, n, bound int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	a := make([][]int16, rows)
	for i := range a {
		a[i] = randSmall(r, n, bound)
	}
	b := make([][]int16, n)
	p := NewPacked(n)
	for k := range b {
		b[k] = randSmall(r, n, bound)
		p.SetRow(k, b[k])
	}
	want := naive(a, b)
	got := make([][]int64, rows)
	for i := range got {
		got[i] = make([]int64, n)
		got[i][0] = 12345 // MulSmall overwrites
	}
	MulSmall(got, a, p)
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("rows %d n %d: C[%d][%d] = %d, want %d", rows, n, i, j, got[i][j], want[i][j])
			}
		}
	}
	// The wide kernel agrees on the same input.
	in := make([][]int64, rows)
	wide := make([][]int64, rows)
	bw := make([]int32, 0, n*n)
	for k := range b {
		for _, v := range b[k] {
			bw = append(bw, int32(v))
		}
	}
	for i := range a {
		in[i] = make([]int64, n)
		for j, v := range a[i] {
			in[i][j] = int64(v)
		}
		wide[i] = make([]int64, n)
	}
	MulWide(wide, in, bw, n)
	for i := range want {
		for j := range want[i] {
			if wide[i][j] != want[i][j] {
				t.Fatalf("wide rows %d n %d: C[%d][%d] = %d, want %d", rows, n, i, j, wide[i][j], want[i][j])
			}
		}
	}
}

// TestMulSmallExact: odd sizes, sizes that are not whole panels or groups,
// row counts across the chunk boundary, k across blocks, and elements at
// ±MaxSmall where the int32 sums come closest to overflowing.
func TestMulSmallExact(t *testing.T) {
	t.Run("machine", testMulSmallExact)
	t.Run("go", func(t *testing.T) {
		saved := kernel
		kernel = kernelGo
		defer func() { kernel = saved }()
		testMulSmallExact(t)
	})
}

func testMulSmallExact(t *testing.T) {
	for _, c := range []struct{ rows, n, bound int }{
		{1, 1, 500}, {1, 2, 500}, {3, 3, 500}, {5, 17, 500}, {4, 16, 500}, {7, 33, 500},
		{9, 100, 500}, {2, 513, 500}, {chunkRows + 5, 40, 500}, {6, 1100, MaxSmall},
	} {
		check(t, c.rows, c.n, c.bound, uint64(c.rows*1000+c.n))
	}
}

// TestKernelsAgree holds the assembly kernel (where the CPU has one) to the
// Go kernel on full-range int16 pairs, overflow and wrap-around included.
func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k2 := range []int{1, 2, 7, 256} {
		lda := k2 + 3
		a := make([]int32, 3*lda+k2)
		for i := range a {
			a[i] = int32(r.Uint32()) | 1 // no (-32768, -32768) pair: VPMADDWD saturates there
		}
		b := make([]int16, 32*k2)
		for i := range b {
			b[i] = int16(r.IntN(65535) - 32767)
		}
		var want, got [groupRows * panelWidth]int32
		kernelGo(a, lda, b, k2, &want)
		got[0] = 99
		kernel(a, lda, b, k2, &got)
		if got != want {
			t.Fatalf("k2 %d: kernels differ\n%v\n%v", k2, got, want)
		}
	}
}

func BenchmarkMulSmall2000(b *testing.B) {
	benchMul(b, 2000, 2000)
}

func BenchmarkMulSmall2000x50(b *testing.B) {
	benchMul(b, 50, 2000)
}

func benchMul(b *testing.B, rows, n int) {
	r := rand.New(rand.NewPCG(3, 4))
	a := make([][]int16, rows)
	out := make([][]int64, rows)
	for i := range a {
		a[i] = randSmall(r, n, 500)
		out[i] = make([]int64, n)
	}
	p := NewPacked(n)
	for k := range n {
		p.SetRow(k, randSmall(r, n, 500))
	}
	for b.Loop() {
		MulSmall(out, a, p)
	}
}
