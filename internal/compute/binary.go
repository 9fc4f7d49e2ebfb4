package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-validator/vigil/internal/challenge"
)

// Binary is a client of the reference GPU binary's Unix socket: a framed
// JSON request per connection, every call bounded in time and every answer
// in size and shape before it is used.
type Binary struct {
	Path string
	// Timeout bounds each query; SubmitTimeout bounds a challenge's run.
	Timeout, SubmitTimeout time.Duration
}

// NewBinary returns a client for the socket at path with the default
// timeouts: 10 s per query, 120 s per challenge.
func NewBinary(path string) *Binary {
	return &Binary{Path: path, Timeout: 10 * time.Second, SubmitTimeout: 120 * time.Second}
}

// reply is what every answer carries.
type reply struct {
	Success *bool  `json:"success"`
	Error   string `json:"error"`
}

func (r reply) check(command string) error {
	if r.Success != nil && !*r.Success {
		return fmt.Errorf("%w: %s failed: %s", ErrBackend, command, printable(r.Error))
	}
	return nil
}

// printable keeps a peer's message short and free of control characters,
// so it can go into a log line as it is.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "no reason given"
	}
	return s
}

func (b *Binary) call(ctx context.Context, timeout time.Duration, req map[string]any, resp any) error {
	command, _ := req["command"].(string)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", b.Path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBackend, command, err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// A cancelled context unblocks the read at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := WriteFrame(conn, body); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBackend, command, err)
	}
	answer, err := ReadFrame(conn, MaxFrame)
	if err != nil {
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("%w: %s: no answer within %v", ErrBackend, command, timeout)
		}
		return fmt.Errorf("%w: %s: %v", ErrBackend, command, err)
	}
	var r reply
	if err := json.Unmarshal(answer, &r); err != nil {
		return fmt.Errorf("%w: %s: the answer is not a JSON object: %v", ErrBackend, command, err)
	}
	if err := r.check(command); err != nil {
		return err
	}
	if err := json.Unmarshal(answer, resp); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBackend, command, err)
	}
	return nil
}

// Ping asks the binary whether it is up.
func (b *Binary) Ping(ctx context.Context) error {
	var r struct {
		Pong bool `json:"pong"`
	}
	if err := b.call(ctx, b.Timeout, map[string]any{"command": "ping"}, &r); err != nil {
		return err
	}
	if !r.Pong {
		return fmt.Errorf("%w: ping answered without pong", ErrBackend)
	}
	return nil
}

// looseString takes a JSON string or number, as compute capabilities come
// either way.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		err := json.Unmarshal(b, &v)
		*s = looseString(v)
		return err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = looseString(n.String())
	return nil
}

// MaxDevices bounds the devices one binary may report.
const MaxDevices = 64

// Devices lists the binary's GPUs.
func (b *Binary) Devices(ctx context.Context) ([]Device, error) {
	var r struct {
		GPUs []struct {
			Device
			ComputeCapability looseString `json:"compute_capability"`
		} `json:"gpus"`
	}
	if err := b.call(ctx, b.Timeout, map[string]any{"command": "get_gpu_info"}, &r); err != nil {
		return nil, err
	}
	if len(r.GPUs) > MaxDevices {
		return nil, fmt.Errorf("%w: %d GPUs reported (at most %d)", ErrBackend, len(r.GPUs), MaxDevices)
	}
	out := make([]Device, 0, len(r.GPUs))
	for _, g := range r.GPUs {
		d := g.Device
		d.ComputeCapability = string(g.ComputeCapability)
		if d.UUID == "" || len(d.UUID) > 128 {
			return nil, fmt.Errorf("%w: a GPU with a uuid of %d characters", ErrBackend, len(d.UUID))
		}
		out = append(out, d)
	}
	return out, nil
}

// Submit runs the task on every GPU (target_gpu_id −1, mode 0).
func (b *Binary) Submit(ctx context.Context, t Task) ([]GPUResult, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	req := map[string]any{"command": "submit_challenge", "task": map[string]any{
		"seed": t.SeedHex, "target_gpu_id": -1, "matrix_size": t.Size, "mode": 0, "matrix_iterations": t.Iterations}}
	var r struct {
		Results []GPUResult `json:"results"`
	}
	if err := b.call(ctx, b.SubmitTimeout, req, &r); err != nil {
		return nil, err
	}
	if len(r.Results) == 0 || len(r.Results) > MaxDevices {
		return nil, fmt.Errorf("%w: %d results (1-%d)", ErrBackend, len(r.Results), MaxDevices)
	}
	for _, res := range r.Results {
		if err := res.check(t); err != nil {
			return nil, err
		}
	}
	return r.Results, nil
}

// Cells asks get_result_coords for the values at cells.
func (b *Binary) Cells(ctx context.Context, uuid string, cells []challenge.Cell) ([]float64, error) {
	q := make([][2]int, len(cells))
	for i, c := range cells {
		q[i] = [2]int{c.Row, c.Col}
	}
	var r struct {
		Values []float64 `json:"values"`
	}
	if err := b.call(ctx, b.Timeout, map[string]any{"command": "get_result_coords", "gpu_uuid": uuid, "queries": q}, &r); err != nil {
		return nil, err
	}
	if len(r.Values) != len(cells) {
		return nil, fmt.Errorf("%w: %d values for %d cells", ErrBackend, len(r.Values), len(cells))
	}
	return r.Values, nil
}

// Rows asks get_result_rows for rows in full; every row must come back,
// all of the matrix's size.
func (b *Binary) Rows(ctx context.Context, uuid string, rows []int) (map[int][]float64, error) {
	var r struct {
		MatrixSize int                  `json:"matrix_size"`
		Rows       map[string][]float64 `json:"rows"`
	}
	if err := b.call(ctx, b.Timeout, map[string]any{"command": "get_result_rows", "gpu_uuid": uuid, "row_indices": rows}, &r); err != nil {
		return nil, err
	}
	out := make(map[int][]float64, len(rows))
	for _, i := range rows {
		row, ok := r.Rows[strconv.Itoa(i)]
		if !ok {
			return nil, fmt.Errorf("%w: row %d missing from the answer", ErrBackend, i)
		}
		if len(row) != r.MatrixSize || r.MatrixSize < 1 {
			return nil, fmt.Errorf("%w: row %d has %d values for size %d", ErrBackend, i, len(row), r.MatrixSize)
		}
		out[i] = row
	}
	return out, nil
}

// Clear asks clear_result_cache to drop a GPU's result, every GPU's for
// uuid "".
func (b *Binary) Clear(ctx context.Context, uuid string) (int, error) {
	req := map[string]any{"command": "clear_result_cache"}
	if uuid != "" {
		req["gpu_uuid"] = uuid
	}
	var r struct {
		Cleared int `json:"cleared_count"`
	}
	if err := b.call(ctx, b.Timeout, req, &r); err != nil {
		return 0, err
	}
	return r.Cleared, nil
}
