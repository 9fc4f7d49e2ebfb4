// Package compute is the worker's side of the compute subnet's
// challenges: the CPU challenge computed in full with its commitment and
// proofs, and GPU challenges run by a Backend — the reference's GPU binary
// over its Unix socket, or a CPU implementation for sizes that fit in
// memory — with the proofs a validator asks for.
package compute

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/vigil-validator/vigil/internal/challenge"
)

// Backend runs GPU challenges and keeps each device's result until it is
// cleared, so that cells and rows can be served for proofs.
type Backend interface {
	Ping(ctx context.Context) error
	Devices(ctx context.Context) ([]Device, error)
	// Submit runs the task on every device and returns one committed
	// result per device.
	Submit(ctx context.Context, t Task) ([]GPUResult, error)
	// Cells returns C's values at the cells, in order.
	Cells(ctx context.Context, uuid string, cells []challenge.Cell) ([]float64, error)
	// Rows returns C's rows in full.
	Rows(ctx context.Context, uuid string, rows []int) (map[int][]float64, error)
	// Clear drops a device's kept result, every device's for uuid "".
	Clear(ctx context.Context, uuid string) (int, error)
}

// Device is one GPU as the binary's get_gpu_info describes it.
type Device struct {
	UUID              string `json:"uuid"`
	Name              string `json:"name"`
	MemoryTotal       int64  `json:"memory_total"`
	MemoryFree        int64  `json:"memory_free"`
	ComputeCapability string `json:"compute_capability"`
	Multiprocessors   int    `json:"multiprocessor_count"`
	ClockRate         int64  `json:"clock_rate"`
}

// Task is a GPU challenge as a worker receives it.
type Task struct {
	SeedHex    string
	Size       int
	Iterations int
}

// Validate bounds the task before any device is asked to run it.
func (t Task) Validate() error {
	if len(t.SeedHex) < 8 || len(t.SeedHex)%2 != 0 || len(t.SeedHex) > 128 {
		return fmt.Errorf("%w: seed of %d hex digits (an even number, 8-128)", challenge.ErrBadChallenge, len(t.SeedHex))
	}
	if _, err := hex.DecodeString(t.SeedHex); err != nil || !isLowerHex(t.SeedHex) {
		return fmt.Errorf("%w: seed is not lowercase hex", challenge.ErrBadChallenge)
	}
	if t.Size < 1 || t.Size > challenge.MaxGPUSize {
		return fmt.Errorf("%w: matrix size %d (1-%d)", challenge.ErrBadChallenge, t.Size, challenge.MaxGPUSize)
	}
	if t.Iterations < 1 || t.Iterations > challenge.MaxIterations {
		return fmt.Errorf("%w: %d iterations (1-%d)", challenge.ErrBadChallenge, t.Iterations, challenge.MaxIterations)
	}
	return nil
}

// GPUResult is one device's commitment and the row hashes it commits to.
type GPUResult struct {
	UUID       string   `json:"gpu_uuid"`
	MerkleRoot string   `json:"merkle_root"`
	SigVer     uint64   `json:"sig_ver"`
	SigVal     string   `json:"sig_val"`
	RowHashes  []string `json:"row_hashes"`
}

// ErrBackend is wrapped by errors a backend reports about itself or its
// answers.
var ErrBackend = errors.New("GPU backend")

// check holds a result to the task: a row hash per row, each 16 hex
// digits, and the root they build.
func (r GPUResult) check(t Task) error {
	if r.UUID == "" || len(r.UUID) > 128 {
		return fmt.Errorf("%w: a result with a uuid of %d characters", ErrBackend, len(r.UUID))
	}
	if len(r.RowHashes) != t.Size {
		return fmt.Errorf("%w: %s: %d row hashes for %d rows", ErrBackend, r.UUID, len(r.RowHashes), t.Size)
	}
	for i, h := range r.RowHashes {
		if len(h) != 16 || !isLowerHex(h) {
			return fmt.Errorf("%w: %s: row hash %d is not 16 lowercase hex digits", ErrBackend, r.UUID, i)
		}
	}
	return nil
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// Committed is a device's result with its Merkle tree, ready for proofs.
type Committed struct {
	GPUResult
	Tree *challenge.Tree
}

// Commit builds the tree over a result's row hashes and checks that it
// gives the root the device reported.
func Commit(r GPUResult) (*Committed, error) {
	tree, err := challenge.NewTree(r.RowHashes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBackend, r.UUID, err)
	}
	if tree.Root() != r.MerkleRoot {
		return nil, fmt.Errorf("%w: %s: the row hashes build root %s, the device reported %s", ErrBackend, r.UUID, tree.Root(), r.MerkleRoot)
	}
	return &Committed{GPUResult: r, Tree: tree}, nil
}

// Prove answers a validator's proof request for one device: the cells'
// values followed by each row in full, and the rows' hashes with their
// proofs. Rows are fetched whether or not cells were asked for.
func (c *Committed) Prove(ctx context.Context, b Backend, cells []challenge.Cell, rows []int) (challenge.GPUProof, error) {
	var p challenge.GPUProof
	n := len(c.RowHashes)
	for _, cell := range cells {
		if cell.Row < 0 || cell.Row >= n || cell.Col < 0 || cell.Col >= n {
			return p, fmt.Errorf("%w: cell (%d, %d) of size %d", challenge.ErrBadChallenge, cell.Row, cell.Col, n)
		}
	}
	for _, r := range rows {
		if r < 0 || r >= n {
			return p, fmt.Errorf("%w: row %d of size %d", challenge.ErrBadChallenge, r, n)
		}
	}
	if len(cells) > 0 {
		vals, err := b.Cells(ctx, c.UUID, cells)
		if err != nil {
			return p, err
		}
		p.Values = append(p.Values, vals...)
	}
	if len(rows) > 0 {
		got, err := b.Rows(ctx, c.UUID, rows)
		if err != nil {
			return p, err
		}
		for _, r := range rows {
			p.Values = append(p.Values, got[r]...)
		}
	}
	var err error
	p.RowHashes, p.Proofs, err = c.Tree.Prove(rows)
	return p, err
}
