package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
)

// BinaryServer serves the reference GPU binary's socket protocol for any
// Backend: a reference worker pointed at its socket runs its GPU
// challenges on that backend (vigil's CPU implementation, say), and tests
// get a binary that speaks the real framing over a real socket.
type BinaryServer struct {
	Backend Backend
	// Timeout bounds one connection: the request, the work, the answer.
	Timeout time.Duration

	// misbehave, in tests, answers a command with raw bytes instead.
	misbehave func(command string) []byte

	mu sync.Mutex
	ln net.Listener
	wg sync.WaitGroup
}

// Serve accepts connections on ln until Close.
func (s *BinaryServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.handle(conn)
		}()
	}
}

// Close stops accepting and waits for the connections being served.
func (s *BinaryServer) Close() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	var err error
	if ln != nil {
		err = ln.Close()
	}
	s.wg.Wait()
	return err
}

type binaryRequest struct {
	Command    string   `json:"command"`
	UUID       string   `json:"gpu_uuid"`
	Queries    [][2]int `json:"queries"`
	RowIndices []int    `json:"row_indices"`
	Task       *struct {
		Seed       string `json:"seed"`
		TargetGPU  int    `json:"target_gpu_id"`
		Size       int    `json:"matrix_size"`
		Mode       int    `json:"mode"`
		Iterations int    `json:"matrix_iterations"`
	} `json:"task"`
}

func (s *BinaryServer) handle(conn net.Conn) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	body, err := ReadFrame(conn, 1<<20) // requests are small
	if err != nil {
		return
	}
	var req binaryRequest
	if err := json.Unmarshal(body, &req); err != nil {
		_ = writeFrameJSON(conn, binaryFailure(fmt.Errorf("request is not JSON: %v", err)))
		return
	}
	if s.misbehave != nil {
		if raw := s.misbehave(req.Command); raw != nil {
			_, _ = conn.Write(raw)
			return
		}
	}
	_ = writeFrameJSON(conn, s.answer(ctx, req))
}

func binaryFailure(err error) map[string]any {
	return map[string]any{"success": false, "error": err.Error()}
}

func writeFrameJSON(conn net.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFrame(conn, b)
}

func (s *BinaryServer) answer(ctx context.Context, req binaryRequest) any {
	b := s.Backend
	switch req.Command {
	case "ping":
		return map[string]any{"pong": true}
	case "get_gpu_info":
		ds, err := b.Devices(ctx)
		if err != nil {
			return binaryFailure(err)
		}
		gpus := []map[string]any{}
		for _, d := range ds {
			gpus = append(gpus, map[string]any{"uuid": d.UUID, "name": d.Name, "memory_total": d.MemoryTotal, "memory_free": d.MemoryFree,
				"compute_capability": d.ComputeCapability, "multiprocessor_count": d.Multiprocessors, "clock_rate": d.ClockRate})
		}
		return map[string]any{"success": true, "gpu_count": len(gpus), "gpus": gpus}
	case "submit_challenge":
		t := req.Task
		if t == nil || t.TargetGPU != -1 || t.Mode != 0 {
			return binaryFailure(errors.New("only target_gpu_id -1 and mode 0 are served"))
		}
		res, err := b.Submit(ctx, Task{SeedHex: t.Seed, Size: t.Size, Iterations: t.Iterations})
		if err != nil {
			return binaryFailure(err)
		}
		return map[string]any{"success": true, "results": res}
	case "get_result_coords":
		cells := make([]challenge.Cell, len(req.Queries))
		for i, q := range req.Queries {
			cells[i] = challenge.Cell{Row: q[0], Col: q[1]}
		}
		vals, err := b.Cells(ctx, req.UUID, cells)
		if err != nil {
			return binaryFailure(err)
		}
		return map[string]any{"success": true, "values": vals}
	case "get_result_rows":
		rows, err := b.Rows(ctx, req.UUID, req.RowIndices)
		if err != nil {
			return binaryFailure(err)
		}
		out := map[string][]float64{}
		n := 0
		for i, r := range rows {
			out[strconv.Itoa(i)] = r
			n = len(r)
		}
		return map[string]any{"success": true, "matrix_size": n, "rows": out}
	case "clear_result_cache":
		c, err := b.Clear(ctx, req.UUID)
		if err != nil {
			return binaryFailure(err)
		}
		return map[string]any{"success": true, "cleared_count": c}
	}
	return binaryFailure(fmt.Errorf("unknown command %q", printable(req.Command)))
}
