package yuma

// entry is one cell of a sparse row: column j and its I32F32 value. Rows keep
// the order they were stored in on chain; only the liquid-alpha lookup
// (alphaRow) depends on that order, and it replicates the chain's walk.
type entry struct {
	j uint16
	v fx
}

// rowBuf carves the rows of one sparse matrix out of a single backing array,
// so building a matrix costs one allocation instead of one per row. Rows are
// returned with their capacity capped, so they never grow into each other.
type rowBuf struct {
	buf   []entry
	start int
}

func newRowBuf(capacity int) rowBuf { return rowBuf{buf: make([]entry, 0, capacity)} }

func (b *rowBuf) push(e entry) { b.buf = append(b.buf, e) }

// row ends the current row and returns it.
func (b *rowBuf) row() []entry {
	r := b.buf[b.start:len(b.buf):len(b.buf)]
	b.start = len(b.buf)
	return r
}

// cells counts the cells of a matrix, the capacity its filtered or clipped
// copies need.
func cells[T any](m [][]T) int {
	c := 0
	for _, r := range m {
		c += len(r)
	}
	return c
}

// sum adds plainly, like Rust's Sum for fixed types; the vectors summed here
// hold proportions, far from the I32F32 range.
func sum(x []fx) fx {
	var s fx
	for _, v := range x {
		s += v
	}
	return s
}

// normalize is math.rs inplace_normalize: x/Σx unless Σx is 0.
func normalize(x []fx) {
	s := sum(x)
	if s == 0 {
		return
	}
	for i, v := range x {
		x[i] = safeDiv(v, s)
	}
}

// rowNormalize is inplace_row_normalize_sparse: rows with a positive sum are
// divided by it.
func rowNormalize(m [][]entry) {
	for _, row := range m {
		var s fx
		for _, e := range row {
			s += e.v
		}
		if s > 0 {
			for k := range row {
				row[k].v = safeDiv(row[k].v, s)
			}
		}
	}
}

// colNormalize is inplace_col_normalize_sparse: each column with a non-zero
// (saturating) sum is divided by it. colSum is scratch of length columns.
func colNormalize(m [][]entry, colSum []fx) {
	clear(colSum)
	for _, row := range m {
		for _, e := range row {
			if int(e.j) < len(colSum) {
				colSum[e.j] = satAdd(colSum[e.j], e.v)
			}
		}
	}
	for _, row := range m {
		for k, e := range row {
			if int(e.j) < len(colSum) && colSum[e.j] != 0 {
				row[k].v = safeDiv(e.v, colSum[e.j])
			}
		}
	}
}

// colMaxUpscale is inplace_col_max_upscale_sparse: each column is divided by
// its maximum, so the largest bond to every miner becomes 1.
func colMaxUpscale(m [][]entry, colMax []fx) {
	clear(colMax)
	for _, row := range m {
		for _, e := range row {
			if int(e.j) < len(colMax) && colMax[e.j] < e.v {
				colMax[e.j] = e.v
			}
		}
	}
	for _, row := range m {
		for k, e := range row {
			if int(e.j) < len(colMax) && colMax[e.j] != 0 {
				row[k].v = safeDiv(e.v, colMax[e.j])
			}
		}
	}
}

// colClip is col_clip_sparse: values above the column threshold are lowered
// to it, or dropped when the threshold is not positive.
func colClip(m [][]entry, threshold []fx) [][]entry {
	out := make([][]entry, len(m))
	buf := newRowBuf(cells(m))
	for i, row := range m {
		for _, e := range row {
			var th fx
			if int(e.j) < len(threshold) {
				th = threshold[e.j]
			}
			if th < e.v {
				if th > 0 {
					buf.push(entry{e.j, th})
				}
			} else {
				buf.push(e)
			}
		}
		out[i] = buf.row()
	}
	return out
}

// interpolate is interpolate_sparse: A + ratio·(B − A), returning A or B
// themselves for ratio 0 or 1 (zeros included) and otherwise only the
// positive cells, in column order.
func interpolate(a, b [][]entry, columns int, ratio fx) [][]entry {
	if ratio == 0 {
		return a
	}
	if ratio == fxOne || len(a) != len(b) {
		return b
	}
	out := make([][]entry, len(a))
	buf := newRowBuf(cells(a) + cells(b))
	r1 := make([]fx, columns)
	r2 := make([]fx, columns)
	for i := range a {
		clear(r1)
		clear(r2)
		for _, e := range a[i] {
			if int(e.j) < columns {
				r1[e.j] = e.v
			}
		}
		for _, e := range b[i] {
			if int(e.j) < columns {
				r2[e.j] = e.v
			}
		}
		for j := range columns {
			v := satAdd(r1[j], satMul(ratio, satSub(r2[j], r1[j])))
			if v > 0 {
				buf.push(entry{uint16(j), v})
			}
		}
		out[i] = buf.row()
	}
	return out
}

// emaSparse is mat_ema_sparse: alpha·new + (1−alpha)·old over the union of
// cells, keeping positive results in column order. acc is scratch of length
// len(next) (the chain sizes it by the row count, the matrix being square).
func emaSparse(next, old [][]entry, alpha fx, acc []fx) [][]entry {
	n := len(next)
	oneMinus := satSub(fxOne, alpha)
	out := make([][]entry, n)
	buf := newRowBuf(cells(next) + cells(old))
	for i := range next {
		clear(acc)
		for _, e := range next[i] {
			if int(e.j) < n {
				acc[e.j] = satAdd(acc[e.j], satMul(alpha, e.v))
			}
		}
		if i < len(old) {
			for _, e := range old[i] {
				if int(e.j) < n {
					acc[e.j] = satAdd(acc[e.j], satMul(oneMinus, e.v))
				}
			}
		}
		for j, v := range acc {
			if v > 0 {
				buf.push(entry{uint16(j), v})
			}
		}
		out[i] = buf.row()
	}
	return out
}
