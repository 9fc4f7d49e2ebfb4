package compute

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"

	"github.com/vigil-validator/vigil/internal/challenge"
)

// CPUBackend runs GPU challenges on the CPU, exactly: C = A·B from the
// element generator in exact integers, stored as binary16 as the reference
// binary stores it, hashed, committed and signed with the backend's own
// key. A validator accepts its commitments once that key is among its
// trusted keys. It is for tests, the demo and workers without a GPU
// binary: the work grows as n³ and the result takes 2n² bytes per device.
type CPUBackend struct {
	key     *ecdsa.PrivateKey
	devices []Device
	maxSize int

	mu      sync.Mutex
	results map[string]*fp16Matrix
}

type fp16Matrix struct {
	n    int
	bits []uint16
}

// DefaultCPUMaxSize is the largest challenge a CPUBackend takes by default:
// about 6.9·10^10 multiply-adds and 32 MiB a device.
const DefaultCPUMaxSize = 4096

// NewCPUBackend returns a backend of count devices signing with key.
// Device uuids derive from the key, so they stay the same across runs.
func NewCPUBackend(key *ecdsa.PrivateKey, count, maxSize int) (*CPUBackend, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: a CPU backend needs a P-256 signing key", ErrBackend)
	}
	if count < 1 || count > MaxDevices || maxSize < 1 || maxSize > challenge.MaxGPUSize {
		return nil, fmt.Errorf("%w: %d devices (1-%d), largest size %d (1-%d)", ErrBackend, count, MaxDevices, maxSize, challenge.MaxGPUSize)
	}
	id := sha256.Sum256([]byte(PublicKeyHex(&key.PublicKey)))
	b := &CPUBackend{key: key, maxSize: maxSize, results: map[string]*fp16Matrix{}}
	for i := range count {
		b.devices = append(b.devices, Device{
			UUID: fmt.Sprintf("CPU-%x-%d", id[:8], i), Name: "vigil CPU backend",
			MemoryTotal: int64(2 * maxSize * maxSize), MemoryFree: int64(2 * maxSize * maxSize),
			Multiprocessors: runtime.NumCPU(),
		})
	}
	return b, nil
}

// GenerateSigningKey makes a new P-256 key for a CPU backend.
func GenerateSigningKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// PublicKeyHex is the key in the form validators list trusted keys:
// uncompressed SEC1, hex.
func PublicKeyHex(pub *ecdsa.PublicKey) string {
	b, err := pub.Bytes()
	if err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// Ping always succeeds: the backend is in process.
func (b *CPUBackend) Ping(context.Context) error { return nil }

// Devices lists the backend's devices.
func (b *CPUBackend) Devices(context.Context) ([]Device, error) {
	return append([]Device(nil), b.devices...), nil
}

// Submit computes the task on every device, one after the other (each uses
// every core).
func (b *CPUBackend) Submit(ctx context.Context, t Task) ([]GPUResult, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.Size > b.maxSize {
		return nil, fmt.Errorf("%w: matrix size %d beyond this CPU backend's %d", ErrBackend, t.Size, b.maxSize)
	}
	var out []GPUResult
	for _, d := range b.devices {
		m, err := computeFP16(ctx, challenge.SeedHash(t.SeedHex, d.UUID), t.Size, t.Iterations)
		if err != nil {
			return nil, err
		}
		hashes := make([]string, t.Size)
		for i := range hashes {
			hashes[i] = challenge.FP16BitsRowHash(m.bits[i*t.Size : (i+1)*t.Size])
		}
		tree, err := challenge.NewTree(hashes)
		if err != nil {
			return nil, err
		}
		root := tree.Root()
		sig, err := b.sign(challenge.CommitmentMessage(1, t.SeedHex, d.UUID, root))
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.results[d.UUID] = m
		b.mu.Unlock()
		out = append(out, GPUResult{UUID: d.UUID, MerkleRoot: root, SigVer: 1, SigVal: sig, RowHashes: hashes})
	}
	return out, nil
}

// sign is ECDSA P-256 over SHA-256 of msg, as raw r‖s in hex.
func (b *CPUBackend) sign(msg []byte) (string, error) {
	sum := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, b.key, sum[:])
	if err != nil {
		return "", err
	}
	var raw [64]byte
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	return hex.EncodeToString(raw[:]), nil
}

// computeFP16 is C = A·B times iterations, each cell exact before its one
// rounding to binary16; rows are shared out over the cores.
func computeFP16(ctx context.Context, seedHash uint64, n, iterations int) (*fp16Matrix, error) {
	cols := make([]int32, n*n) // B's columns, each contiguous
	for c := range n {
		challenge.GPUColUnits(seedHash, c, cols[c*n:(c+1)*n])
	}
	m := &fp16Matrix{n: n, bits: make([]uint16, n*n)}
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := make([]int32, n)
			for r := w; r < n; r += workers {
				if ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				challenge.GPURowUnits(seedHash, r, row)
				out := m.bits[r*n : (r+1)*n]
				for c := range n {
					v, err := challenge.FP16Bits(challenge.UnitsValue(challenge.DotUnits(row, cols[c*n:(c+1)*n]), iterations))
					if err != nil {
						errs[w] = fmt.Errorf("%w: cell (%d, %d): %v", ErrBackend, r, c, err)
						return
					}
					out[c] = v
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (b *CPUBackend) result(uuid string) (*fp16Matrix, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.results[uuid]
	if !ok {
		return nil, fmt.Errorf("%w: no result kept for %q", ErrBackend, uuid)
	}
	return m, nil
}

// Cells returns the kept values at cells.
func (b *CPUBackend) Cells(_ context.Context, uuid string, cells []challenge.Cell) ([]float64, error) {
	m, err := b.result(uuid)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(cells))
	for i, c := range cells {
		if c.Row < 0 || c.Row >= m.n || c.Col < 0 || c.Col >= m.n {
			return nil, fmt.Errorf("%w: cell (%d, %d) of size %d", challenge.ErrBadChallenge, c.Row, c.Col, m.n)
		}
		out[i] = challenge.FP16Value(m.bits[c.Row*m.n+c.Col])
	}
	return out, nil
}

// Rows returns the kept rows in full.
func (b *CPUBackend) Rows(_ context.Context, uuid string, rows []int) (map[int][]float64, error) {
	m, err := b.result(uuid)
	if err != nil {
		return nil, err
	}
	out := make(map[int][]float64, len(rows))
	for _, r := range rows {
		if r < 0 || r >= m.n {
			return nil, fmt.Errorf("%w: row %d of size %d", challenge.ErrBadChallenge, r, m.n)
		}
		row := make([]float64, m.n)
		for c, v := range m.bits[r*m.n : (r+1)*m.n] {
			row[c] = challenge.FP16Value(v)
		}
		out[r] = row
	}
	return out, nil
}

// Clear drops kept results.
func (b *CPUBackend) Clear(_ context.Context, uuid string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if uuid == "" {
		n := len(b.results)
		clear(b.results)
		return n, nil
	}
	if _, ok := b.results[uuid]; !ok {
		return 0, nil
	}
	delete(b.results, uuid)
	return 1, nil
}
