package compute

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/vigil-validator/vigil/internal/challenge"
)

// fakeBinary speaks the reference GPU binary's socket protocol over a real
// Unix socket, computing with a CPUBackend; misbehave, when set, answers
// a command instead.
type fakeBinary struct {
	path     string
	backend  *CPUBackend
	ln       net.Listener
	mu       sync.Mutex
	commands []string
	// misbehave writes raw bytes for a command, or returns nil to answer
	// normally.
	misbehave func(command string) []byte
	wg        sync.WaitGroup
}

func startFake(t *testing.T, backend *CPUBackend) *fakeBinary {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gpu.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBinary{path: path, backend: backend, ln: ln}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return f
}

func (f *fakeBinary) serve() {
	defer f.wg.Done()
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer conn.Close()
			f.handle(conn)
		}()
	}
}

func (f *fakeBinary) handle(conn net.Conn) {
	body, err := ReadFrame(conn, MaxFrame)
	if err != nil {
		return
	}
	var req struct {
		Command    string    `json:"command"`
		UUID       string    `json:"gpu_uuid"`
		Queries    [][2]int  `json:"queries"`
		RowIndices []int     `json:"row_indices"`
		Task       *fakeTask `json:"task"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return
	}
	f.mu.Lock()
	f.commands = append(f.commands, req.Command)
	mis := f.misbehave
	f.mu.Unlock()
	if mis != nil {
		if raw := mis(req.Command); raw != nil {
			_, _ = conn.Write(raw)
			return
		}
	}
	ctx := context.Background()
	var resp any
	fail := func(err error) any { return map[string]any{"success": false, "error": err.Error()} }
	switch req.Command {
	case "ping":
		resp = map[string]any{"pong": true}
	case "get_gpu_info":
		ds, _ := f.backend.Devices(ctx)
		gpus := []map[string]any{}
		for _, d := range ds {
			gpus = append(gpus, map[string]any{"uuid": d.UUID, "name": d.Name, "memory_total": d.MemoryTotal,
				"memory_free": d.MemoryFree, "compute_capability": 8.9, "multiprocessor_count": d.Multiprocessors, "clock_rate": 1980000})
		}
		resp = map[string]any{"success": true, "gpu_count": len(gpus), "gpus": gpus}
	case "submit_challenge":
		if req.Task == nil || req.Task.TargetGPU != -1 || req.Task.Mode != 0 {
			resp = fail(errors.New("bad task"))
			break
		}
		res, err := f.backend.Submit(ctx, Task{SeedHex: req.Task.Seed, Size: req.Task.Size, Iterations: req.Task.Iterations})
		if err != nil {
			resp = fail(err)
			break
		}
		resp = map[string]any{"success": true, "results": res}
	case "get_result_coords":
		cells := make([]challenge.Cell, len(req.Queries))
		for i, q := range req.Queries {
			cells[i] = challenge.Cell{Row: q[0], Col: q[1]}
		}
		vals, err := f.backend.Cells(ctx, req.UUID, cells)
		if err != nil {
			resp = fail(err)
			break
		}
		resp = map[string]any{"success": true, "values": vals}
	case "get_result_rows":
		rows, err := f.backend.Rows(ctx, req.UUID, req.RowIndices)
		if err != nil {
			resp = fail(err)
			break
		}
		out := map[string][]float64{}
		n := 0
		for i, r := range rows {
			out[strconv.Itoa(i)] = r
			n = len(r)
		}
		resp = map[string]any{"success": true, "matrix_size": n, "rows": out}
	case "clear_result_cache":
		c, _ := f.backend.Clear(ctx, req.UUID)
		resp = map[string]any{"success": true, "cleared_count": c}
	default:
		resp = fail(errors.New("unknown command"))
	}
	b, _ := json.Marshal(resp)
	_ = WriteFrame(conn, b)
}

type fakeTask struct {
	Seed       string `json:"seed"`
	TargetGPU  int    `json:"target_gpu_id"`
	Size       int    `json:"matrix_size"`
	Mode       int    `json:"mode"`
	Iterations int    `json:"matrix_iterations"`
}

// rawFrame is a frame header announcing n bytes, then body.
func rawFrame(n uint32, body string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, n)
	return append(b, body...)
}
