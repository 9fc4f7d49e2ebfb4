package challenge

// GPUBenchCase is a GPU check of size n as a validator asks it (25 cells,
// 2 rows, 33 secret columns) with a proof that passes it: true at every
// cell and secret column the check reads, and arbitrary elsewhere in the
// rows, which only have to hash to the committed leaves. It costs the
// verifier exactly what an honest proof does, without computing whole
// rows of C (n² work each) to set it up.
func GPUBenchCase(n int) (GPUCheck, GPUProof, error) {
	if err := checkGPUSize(n); err != nil {
		return GPUCheck{}, GPUProof{}, err
	}
	check := GPUCheck{SeedHex: "00112233445566778899aabbccddeeff", UUID: "GPU-bench", Size: n, Iterations: 1, Rows: []int{7 % n, (n - 3 + n) % n}}
	if check.Rows[0] >= check.Rows[1] {
		check.Rows = check.Rows[:1]
	}
	for i := range 25 {
		check.Cells = append(check.Cells, Cell{i * 1000 % n, (i*7919 + 11) % n})
	}
	for i := range min(33, n) {
		check.Columns = append(check.Columns, (i*997+5)%n)
	}
	g := newGPUGen(SeedHash(check.SeedHex, check.UUID), n, 1)
	fp16 := func(x float64) (float64, error) {
		b, err := FP16Bits(x)
		return FP16Value(b), err
	}
	var p GPUProof
	for _, c := range check.Cells {
		v, err := fp16(g.cell(c.Row, c.Col))
		if err != nil {
			return check, p, err
		}
		p.Values = append(p.Values, v)
	}
	hashes := make([]string, n)
	for i := range hashes {
		hashes[i] = "0000000000000000"
	}
	for _, r := range check.Rows {
		row := make([]float64, n)
		for _, c := range check.Columns {
			v, err := fp16(g.cell(r, c))
			if err != nil {
				return check, p, err
			}
			row[c] = v
		}
		h, err := FP16RowHash(row)
		if err != nil {
			return check, p, err
		}
		hashes[r] = h
		p.Values = append(p.Values, row...)
	}
	tree, err := NewTree(hashes)
	if err != nil {
		return check, p, err
	}
	check.Root = tree.Root()
	for _, r := range check.Rows {
		pr, err := tree.Proof(r)
		if err != nil {
			return check, p, err
		}
		p.RowHashes, p.Proofs = append(p.RowHashes, hashes[r]), append(p.Proofs, pr)
	}
	return check, p, nil
}
