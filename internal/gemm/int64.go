package gemm

import (
	"runtime"
	"sync"
)

// The wide kernel: out rows = in rows · B, exact in int64 with wrap-around
// as NumPy's int64 dot, B held as int32. Rows go
// in blocks of rowBlock and columns in tiles of colTile, so that a tile of
// B is read once per block of rows instead of once per row: the product is
// bound by arithmetic, not by streaming B from memory. Workers take
// separate column ranges, so they never write the same cell.
const (
	rowBlock = 8
	colTile  = 512
)

// MulWide sets out[r] = in[r]·B for every r, in int64 with wrap-around, on
// every core; in rows and out rows have n elements, b is n×n row-major.
func MulWide(out, in [][]int64, b []int32, n int) {
	for _, o := range out {
		clear(o)
	}
	workers := min(runtime.GOMAXPROCS(0), (n+colTile-1)/colTile)
	// Column ranges in whole tiles, one per worker.
	tiles := (n + colTile - 1) / colTile
	var wg sync.WaitGroup
	for w := range workers {
		t0, t1 := tiles*w/workers, tiles*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := t0; t < t1; t++ {
				j0, j1 := t*colTile, min((t+1)*colTile, n)
				for r0 := 0; r0 < len(in); r0 += rowBlock {
					r1 := min(r0+rowBlock, len(in))
					mulTile(out[r0:r1], in[r0:r1], b, n, j0, j1)
				}
			}
		}()
	}
	wg.Wait()
}

// mulTile adds in[r][k]·B[k][j0:j1] over every k to out[r][j0:j1], four
// rows at a time so that each element of B is loaded once for four
// products.
func mulTile(out, in [][]int64, b []int32, n, j0, j1 int) {
	w := j1 - j0
	r := 0
	for ; r+4 <= len(in); r += 4 {
		o0, o1, o2, o3 := out[r][j0:j1], out[r+1][j0:j1], out[r+2][j0:j1], out[r+3][j0:j1]
		o0, o1, o2, o3 = o0[:w], o1[:w], o2[:w], o3[:w]
		a0, a1, a2, a3 := in[r], in[r+1], in[r+2], in[r+3]
		for k := range n {
			x0, x1, x2, x3 := a0[k], a1[k], a2[k], a3[k]
			bk := b[k*n+j0 : k*n+j1]
			bk = bk[:w]
			for j, y := range bk {
				v := int64(y)
				o0[j] += x0 * v
				o1[j] += x1 * v
				o2[j] += x2 * v
				o3[j] += x3 * v
			}
		}
	}
	for ; r < len(in); r++ {
		o, a := out[r][j0:j1], in[r]
		o = o[:w]
		for k := range n {
			x := a[k]
			bk := b[k*n+j0 : k*n+j1]
			bk = bk[:w]
			for j, y := range bk {
				o[j] += x * int64(y)
			}
		}
	}
}

// Narrow returns B as int32, for elements that fit.
func Narrow(b []int64) []int32 {
	out := make([]int32, len(b))
	for i, v := range b {
		out[i] = int32(v)
	}
	return out
}
