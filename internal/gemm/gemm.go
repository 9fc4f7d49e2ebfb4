// Package gemm holds the exact integer matrix products of the compute
// subnet's challenges. Small elements (|x| ≤ MaxSmall) go through a packed
// kernel that multiplies pairs of int16 and adds them in int32, with AVX2
// where the CPU has it; the sums move to int64 often enough that no int32
// ever overflows, so the result is exact for any size. Larger elements
// (C·B from the second iteration on) go through an int64 kernel that wraps
// around as NumPy's int64 dot does.
package gemm

import (
	"fmt"
	"runtime"
	"sync"
)

// MaxSmall bounds the elements MulSmall takes: |x| ≤ 1024 gives products
// of at most 2^20, pairs of 2^21, and blockPairs of them at most 2^30.
const MaxSmall = 1024

const (
	panelWidth = 16  // columns of B per packed panel, two AVX2 registers
	groupRows  = 4   // rows of A per kernel call
	blockPairs = 256 // pairs of k per kernel call: a 16 KiB slice of a panel
	chunkRows  = 256 // rows of A in flight: bounds the scratch to 256·n·4 bytes
)

// Packed is B (n×n) laid out for the small kernel: columns in panels of
// 16, rows of B taken in pairs (k, k+1) so that each column's two elements
// sit side by side, as VPMADDWD multiplies them.
type Packed struct {
	n, pairs, panels int
	d                []int16 // panels × pairs × 32
}

// NewPacked returns an all-zero n×n B to fill with SetRow.
func NewPacked(n int) *Packed {
	pairs, panels := (n+1)/2, (n+panelWidth-1)/panelWidth
	return &Packed{n: n, pairs: pairs, panels: panels, d: make([]int16, panels*pairs*2*panelWidth)}
}

// N is B's size.
func (p *Packed) N() int { return p.n }

// SetRow stores row k of B; its elements must lie in [-MaxSmall, MaxSmall].
func (p *Packed) SetRow(k int, row []int16) {
	if k < 0 || k >= p.n || len(row) != p.n {
		panic(fmt.Sprintf("gemm: row %d of %d elements for size %d", k, len(row), p.n))
	}
	stride := p.pairs * 2 * panelWidth
	d := p.d[(k/2)*2*panelWidth+k%2:]
	j := 0
	for ; j+panelWidth <= p.n; j += panelWidth {
		dst := d[(j/panelWidth)*stride:]
		dst = dst[:2*panelWidth-1]
		src := row[j : j+panelWidth]
		for c, v := range src {
			dst[2*c] = v
		}
	}
	for ; j < p.n; j++ {
		d[(j/panelWidth)*stride+2*(j%panelWidth)] = row[j]
	}
}

// MulSmall sets out[r] = a[r]·B, exactly, for rows of n elements in
// [-MaxSmall, MaxSmall], on every core. Workers take separate panels
// (column ranges), so they never write the same cell.
func MulSmall(out [][]int64, a [][]int16, b *Packed) {
	n := b.n
	if len(out) != len(a) {
		panic(fmt.Sprintf("gemm: %d output rows for %d input rows", len(out), len(a)))
	}
	for r := range a {
		if len(a[r]) != n || len(out[r]) != n {
			panic(fmt.Sprintf("gemm: row %d has %d and %d elements for size %d", r, len(a[r]), len(out[r]), n))
		}
		clear(out[r])
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), b.panels))
	var ap []int32
	for c0 := 0; c0 < len(a); c0 += chunkRows {
		c1 := min(c0+chunkRows, len(a))
		groups := (c1 - c0 + groupRows - 1) / groupRows
		// A's rows as pairs, padded with zero rows to whole groups.
		ap = append(ap[:0], make([]int32, groups*groupRows*b.pairs)...)
		for r := c0; r < c1; r++ {
			packPairs(ap[(r-c0)*b.pairs:(r-c0+1)*b.pairs], a[r])
		}
		var wg sync.WaitGroup
		for w := range workers {
			p0, p1 := b.panels*w/workers, b.panels*(w+1)/workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				mulPanels(out[c0:c1], ap, b, groups, p0, p1)
			}()
		}
		wg.Wait()
	}
}

// mulPanels computes columns of panels p0..p1 for the rows of a chunk:
// k in blocks, so the panel's slice stays in L1 while every row group
// passes over it, and the block's int32 sums go to int64 at once.
func mulPanels(out [][]int64, ap []int32, b *Packed, groups, p0, p1 int) {
	var tile [groupRows * panelWidth]int32
	stride := b.pairs * 2 * panelWidth
	for k0 := 0; k0 < b.pairs; k0 += blockPairs {
		kn := min(blockPairs, b.pairs-k0)
		for p := p0; p < p1; p++ {
			bp := b.d[p*stride+k0*2*panelWidth : p*stride+(k0+kn)*2*panelWidth]
			j0 := p * panelWidth
			cols := min(panelWidth, b.n-j0)
			for g := range groups {
				a0 := g * groupRows * b.pairs
				kernel(ap[a0+k0:a0+(groupRows-1)*b.pairs+k0+kn], b.pairs, bp, kn, &tile)
				for i := range groupRows {
					r := g*groupRows + i
					if r >= len(out) {
						break
					}
					o, t := out[r][j0:j0+cols], tile[i*panelWidth:i*panelWidth+cols]
					for j, v := range t {
						o[j] += int64(v)
					}
				}
			}
		}
	}
}

// packPairs stores row's elements two by two as (low, high) int16 halves of
// int32s; an odd last element pairs with zero.
func packPairs(dst []int32, row []int16) {
	for kp := range dst {
		lo := uint32(uint16(row[2*kp]))
		var hi uint32
		if 2*kp+1 < len(row) {
			hi = uint32(uint16(row[2*kp+1]))
		}
		dst[kp] = int32(lo | hi<<16)
	}
}

// kernel sets tile[i·16+j] = Σ_{kp<k2} pair products of A row i (a[i·lda:])
// and panel column j (b[kp·32+2j:]), in int32.
var kernel = kernelGo

func kernelGo(a []int32, lda int, b []int16, k2 int, tile *[groupRows * panelWidth]int32) {
	clear(tile[:])
	for i := range groupRows {
		ar := a[i*lda : i*lda+k2]
		t := tile[i*panelWidth : (i+1)*panelWidth]
		for kp, pair := range ar {
			x0, x1 := int32(int16(pair)), int32(pair>>16)
			bk := b[kp*2*panelWidth : (kp+1)*2*panelWidth]
			for j := range t {
				t[j] += x0*int32(bk[2*j]) + x1*int32(bk[2*j+1])
			}
		}
	}
}
