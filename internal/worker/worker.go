// Package worker is the compute subnet's worker: it dials its miner's
// WebSocket, registers, heartbeats its inventory, runs the challenges it
// is given (the CPU challenge in process, GPU challenges on a
// compute.Backend), keeps each validator's last result for its proofs as
// the reference worker does, and answers proof requests.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

// Version is the worker_version vigil's worker registers with.
const Version = "vigil-1"

// Config is a worker's settings; DefaultConfig has the reference's timing.
type Config struct {
	MinerURL   string
	Token      string // sent as a bearer token when set
	WorkerID   string // "" derives it from the host (FingerprintID)
	WorkerName string
	// GPU runs gpu_matrix challenges; nil offers only cpu_matrix.
	GPU compute.Backend
	// PublicIP is reported as is when set.
	PublicIP string
	// CPU computes cpu_matrix challenges; nil is compute.ComputeCPU. The
	// demo substitutes a slow one and a wrong one.
	CPU func(seed []byte, size, iterations int) (*compute.CPUResult, error)

	HeartbeatInterval   time.Duration // 30 s
	RegistrationTimeout time.Duration // 30 s
	ReconnectMin        time.Duration // 5 s, doubled per failure...
	ReconnectMax        time.Duration // ...up to 60 s
	MaxConcurrentTasks  int           // 2: one CPU and one GPU computation
	WriteTimeout        time.Duration // 10 s
}

// DefaultConfig is the reference worker's timing.
func DefaultConfig() Config {
	return Config{HeartbeatInterval: 30 * time.Second, RegistrationTimeout: 30 * time.Second, ReconnectMin: 5 * time.Second,
		ReconnectMax: 60 * time.Second, MaxConcurrentTasks: 2, WriteTimeout: 10 * time.Second}
}

// Worker is one worker process.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	inv     *Inventory
	metrics *Metrics

	cpuSlot, gpuSlot chan struct{}

	mu     sync.Mutex
	active int
	// cache holds each validator's last result, by unit uuid: a new task
	// from the validator replaces it, its first proof request clears it.
	cache     map[string]map[string]unit
	connected bool
}

// unit is one committed result: the CPU's or one GPU's.
type unit struct {
	cpu *compute.CPUResult
	gpu *compute.Committed
}

// New checks the config and returns a worker.
func New(cfg Config, log *slog.Logger, metrics *Metrics) (*Worker, error) {
	u, err := url.Parse(cfg.MinerURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("worker: miner url %q: want ws://host:port or wss://…", cfg.MinerURL)
	}
	if cfg.WorkerID == "" {
		cfg.WorkerID = FingerprintID(Fingerprint())
	}
	if len(cfg.WorkerID) > computeproto.MaxIDLength || strings.TrimSpace(cfg.WorkerID) == "" {
		return nil, fmt.Errorf("worker: worker_id %q: 1-%d characters", cfg.WorkerID, computeproto.MaxIDLength)
	}
	if cfg.WorkerName == "" {
		cfg.WorkerName = cfg.WorkerID
	}
	if cfg.MaxConcurrentTasks < 1 {
		cfg.MaxConcurrentTasks = 1
	}
	if cfg.CPU == nil {
		cfg.CPU = compute.ComputeCPU
	}
	if metrics == nil {
		metrics = NewMetrics()
	}
	return &Worker{cfg: cfg, log: log, metrics: metrics, inv: &Inventory{PublicIP: cfg.PublicIP, Probe: u.Host, Backend: cfg.GPU},
		cpuSlot: make(chan struct{}, 1), gpuSlot: make(chan struct{}, 1), cache: map[string]map[string]unit{}}, nil
}

// ID is the worker id it registers with.
func (w *Worker) ID() string { return w.cfg.WorkerID }

// Connected reports whether the worker is registered with its miner now.
func (w *Worker) Connected() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.connected
}

// Capabilities are cpu_matrix, and gpu_matrix while the backend reports a
// GPU.
func (w *Worker) Capabilities(ctx context.Context) []string {
	caps := []string{computeproto.ChallengeCPUMatrix}
	if w.cfg.GPU != nil && len(w.inv.staticParts(ctx).gpuPlugin) > 0 {
		caps = append(caps, computeproto.ChallengeGPUMatrix)
	}
	return caps
}

// Run connects, and reconnects with a capped backoff, until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	delay := w.cfg.ReconnectMin
	for {
		start := time.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > w.cfg.ReconnectMax {
			delay = w.cfg.ReconnectMin // it had been up a while
		}
		w.metrics.reconnects.Inc()
		w.log.Warn("miner connection ended; reconnecting", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, w.cfg.ReconnectMax)
	}
}

// session is one connection: register, then heartbeats and messages until
// it ends.
func (w *Worker) session(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var hdr http.Header
	if w.cfg.Token != "" {
		hdr = http.Header{"Authorization": {"Bearer " + w.cfg.Token}}
	}
	dctx, dcancel := context.WithTimeout(ctx, w.cfg.RegistrationTimeout)
	ws, _, err := websocket.Dial(dctx, w.cfg.MinerURL, &websocket.DialOptions{HTTPHeader: hdr})
	dcancel()
	if err != nil {
		return fmt.Errorf("dial %s: %w", w.cfg.MinerURL, err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(computeproto.MaxWSMessage)
	if err := w.register(ctx, ws); err != nil {
		return err
	}
	w.setConnected(true)
	defer w.setConnected(false)
	w.log.Info("registered with the miner", "miner", w.cfg.MinerURL, "worker", w.cfg.WorkerID)
	go w.heartbeats(ctx, ws)
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		w.handle(ctx, ws, b)
	}
}

func (w *Worker) setConnected(v bool) {
	w.mu.Lock()
	w.connected = v
	w.mu.Unlock()
}

func (w *Worker) register(ctx context.Context, ws *websocket.Conn) error {
	si := w.inv.SystemInfo(ctx)
	name := w.cfg.WorkerName
	reg := computeproto.Registration{Type: computeproto.WSRegister, WorkerID: w.cfg.WorkerID, WorkerName: &name,
		WorkerVersion: Version, Capabilities: w.Capabilities(ctx), SystemInfo: &si}
	if err := w.send(ctx, ws, reg); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, w.cfg.RegistrationTimeout)
	defer cancel()
	for {
		_, b, err := ws.Read(rctx)
		if err != nil {
			return fmt.Errorf("registration not acknowledged: %w", err)
		}
		if t, _ := computeproto.MessageType(b); t == computeproto.WSRegistrationAck {
			return nil
		}
	}
}

func (w *Worker) send(ctx context.Context, ws *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, b)
}

func (w *Worker) heartbeats(ctx context.Context, ws *websocket.Conn) {
	t := time.NewTicker(w.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		if err := w.send(ctx, ws, w.Heartbeat(ctx)); err != nil {
			return
		}
		w.metrics.heartbeats.Inc()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Heartbeat is the heartbeat message the worker sends now.
func (w *Worker) Heartbeat(ctx context.Context) computeproto.WorkerHeartbeat {
	si := w.inv.SystemInfo(ctx)
	w.mu.Lock()
	active := w.active
	w.mu.Unlock()
	status := computeproto.StatusOnline
	if active > 0 {
		status = computeproto.StatusBusy
	}
	gpu, _ := json.Marshal(map[string]any{"gpu_available": len(si.GPUPlugin) > 0, "gpu_count": len(si.GPUPlugin), "gpu_details": si.GPUPlugin})
	return computeproto.WorkerHeartbeat{Type: computeproto.WSHeartbeat, Data: computeproto.WorkerHeartbeatData{
		Status: status, ActiveTasks: int64(active), SystemInfo: &si, GPUInfo: gpu, Capabilities: w.Capabilities(ctx)}}
}

func (w *Worker) handle(ctx context.Context, ws *websocket.Conn, b []byte) {
	typ, err := computeproto.MessageType(b)
	if err != nil {
		w.metrics.dropped.Inc()
		return
	}
	switch typ {
	case computeproto.WSTaskAssignment:
		a, err := computeproto.DecodeTaskAssignment(b)
		if err != nil {
			w.metrics.dropped.Inc()
			w.log.Warn("invalid task assignment", "err", err)
			return
		}
		go w.runTask(ctx, ws, a.Data)
	case computeproto.WSProofRequest:
		m, err := computeproto.DecodeProofRequestMessage(b)
		if err != nil {
			w.metrics.dropped.Inc()
			w.log.Warn("invalid proof request", "err", err)
			return
		}
		go w.answerProof(ctx, ws, m)
	case computeproto.WSHeartbeatAck, computeproto.WSRegistrationAck:
	case "heartbeat_request": // the reference worker answers it; no miner sends it
		var req struct {
			MessageID any `json:"message_id"`
		}
		_ = json.Unmarshal(b, &req)
		_ = w.send(ctx, ws, map[string]any{"type": "heartbeat_response", "worker_id": w.cfg.WorkerID,
			"timestamp": computeproto.PyFloat(float64(time.Now().UnixMicro()) / 1e6), "message_id": req.MessageID})
	default:
		w.metrics.dropped.Inc()
	}
}

// errBusy is a task refused because the worker is at its limit.
var errBusy = errors.New("worker at its task limit")

// runTask computes a task and reports it; a failure is reported too, so
// the miner frees the worker at once instead of waiting for it.
func (w *Worker) runTask(ctx context.Context, ws *websocket.Conn, t computeproto.TaskAssignmentData) {
	received := time.Now()
	res, err := w.compute(ctx, t)
	completed := time.Now()
	data := computeproto.TaskResultData{Timestamps: map[string]int64{
		"worker_task_received_ts": received.UnixMilli(), "worker_task_completed_ts": completed.UnixMilli()},
		Extra: map[string]json.RawMessage{"challenge_id": mustJSON(t.ChallengeID)}}
	ok := err == nil
	code := int64(computeproto.CodeSuccess)
	if err != nil {
		code = computeproto.CodeChallengeProcessingFailed
		data.Error, data.ErrorMessage = err.Error(), err.Error()
		data.Result = &computeproto.ChallengeResult{Commitments: []computeproto.Commitment{}}
		w.metrics.tasks.WithLabelValues("failed").Inc()
		w.log.Warn("task failed", "task", t.TaskID, "type", t.TaskType, "err", err)
	} else {
		data.Result = res
		w.metrics.tasks.WithLabelValues("computed").Inc()
		w.metrics.computeSeconds.WithLabelValues(t.TaskType).Observe(completed.Sub(received).Seconds())
		w.log.Info("task computed", "task", t.TaskID, "type", t.TaskType, "size", res.MatrixSize, "ms", int64(res.ComputationTimeMS))
	}
	data.Success, data.ErrorCode = &ok, &code
	msg := computeproto.TaskResult{Type: computeproto.WSTaskResult, WorkerID: w.cfg.WorkerID, TaskID: t.TaskID,
		Timestamp: computeproto.PyFloat(float64(completed.UnixMicro()) / 1e6), Data: data}
	if err := w.send(ctx, ws, msg); err != nil {
		w.log.Warn("task result not sent", "task", t.TaskID, "err", err)
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// compute runs one task within its timeout: one CPU and one GPU
// computation at a time; a task over its timeout is reported failed and
// its result, when it comes, is dropped.
func (w *Worker) compute(ctx context.Context, t computeproto.TaskAssignmentData) (*computeproto.ChallengeResult, error) {
	work, err := compute.WorkFrom(t.TaskType, t.Data)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if w.active >= w.cfg.MaxConcurrentTasks {
		w.mu.Unlock()
		return nil, errBusy
	}
	w.active++
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.active--
		w.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(t.Timeout)*time.Second)
	defer cancel()
	slot := w.cpuSlot
	if work.Type == computeproto.ChallengeGPUMatrix {
		if w.cfg.GPU == nil {
			return nil, errors.New("no GPU backend")
		}
		slot = w.gpuSlot
	}
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the %s slot: %w", work.Type, ctx.Err())
	}
	defer func() { <-slot }()

	type outcome struct {
		res   *computeproto.ChallengeResult
		units map[string]unit
		err   error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.res, o.units, o.err = w.run(ctx, work)
		done <- o
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return nil, o.err
		}
		w.mu.Lock()
		w.cache[t.ValidatorHotkey] = o.units
		w.mu.Unlock()
		return o.res, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s of size %d: %w", work.Type, work.Size, ctx.Err())
	}
}

// run computes the work and returns its report and the units to keep.
func (w *Worker) run(ctx context.Context, work compute.Work) (*computeproto.ChallengeResult, map[string]unit, error) {
	start := time.Now()
	if work.Type == computeproto.ChallengeCPUMatrix {
		r, err := w.cfg.CPU(work.Seed, work.Size, work.Iterations)
		if err != nil {
			return nil, nil, err
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return &computeproto.ChallengeResult{ComputationTimeMS: ms(time.Since(start)), MatrixSize: int64(work.Size),
				Commitments: []computeproto.Commitment{{UUID: challenge.CPUUnit, MerkleRoot: r.Root(), SigVer: 0, SigVal: ""}}},
			map[string]unit{challenge.CPUUnit: {cpu: r}}, nil
	}
	results, err := w.cfg.GPU.Submit(ctx, compute.Task{SeedHex: work.SeedHex, Size: work.Size, Iterations: work.Iterations})
	if err != nil {
		return nil, nil, err
	}
	res := &computeproto.ChallengeResult{ComputationTimeMS: ms(time.Since(start)), MatrixSize: int64(work.Size)}
	units := map[string]unit{}
	for _, r := range results {
		c, err := compute.Commit(r)
		if err != nil {
			return nil, nil, err
		}
		units[r.UUID] = unit{gpu: c}
		res.Commitments = append(res.Commitments, computeproto.Commitment{UUID: r.UUID, MerkleRoot: r.MerkleRoot, SigVer: int64(r.SigVer), SigVal: r.SigVal})
	}
	return res, units, nil
}

func ms(d time.Duration) computeproto.PyFloat {
	return computeproto.PyFloat(float64(d.Microseconds()) / 1000)
}

// answerProof answers from the validator's kept result and then forgets
// it, whatever was asked: a result is proved once.
func (w *Worker) answerProof(ctx context.Context, ws *websocket.Conn, m computeproto.ProofRequestMessage) {
	received := time.Now()
	validator := m.Data.ValidatorHotkey
	w.mu.Lock()
	units := w.cache[validator]
	delete(w.cache, validator)
	w.mu.Unlock()
	body := computeproto.ProofResponseBody{}
	var errs []string
	for _, req := range m.Data.Requests {
		p, err := w.prove(ctx, units, req)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", req.UUID, err))
			continue
		}
		body.Proofs = append(body.Proofs, p)
	}
	body.Success = len(body.Proofs) > 0
	if !body.Success {
		body.Error = "no proof could be made: " + strings.Join(errs, "; ")
		if len(errs) == 0 {
			body.Error = "no proof requested"
		}
	}
	body.Debug = mustJSON(map[string]any{"phase2_timestamps": map[string]int64{
		"worker_proof_request_received_ts": received.UnixMilli(), "worker_proof_completed_ts": time.Now().UnixMilli()}})
	w.metrics.proofs.WithLabelValues(map[bool]string{true: "answered", false: "failed"}[body.Success]).Inc()
	if err := w.send(ctx, ws, computeproto.ProofResponseMessage{Type: computeproto.WSProofResponse, MessageID: m.MessageID, Data: body}); err != nil {
		w.log.Warn("proof response not sent", "err", err)
	}
}

func (w *Worker) prove(ctx context.Context, units map[string]unit, req computeproto.ProofRequest) (computeproto.ProofResponse, error) {
	u, ok := units[req.UUID]
	if !ok {
		return computeproto.ProofResponse{}, errors.New("no result kept for it")
	}
	rows := make([]int, len(req.Rows))
	for i, r := range req.Rows {
		rows[i] = int(r)
	}
	out := computeproto.ProofResponse{UUID: req.UUID, CoordinateValues: []computeproto.PyFloat{}}
	var hashes []string
	var proofs []challenge.Proof
	if u.cpu != nil {
		p, err := u.cpu.Prove(rows)
		if err != nil {
			return out, err
		}
		hashes, proofs = p.RowHashes, p.Proofs
	} else {
		cells := make([]challenge.Cell, len(req.Coordinates))
		for i, c := range req.Coordinates {
			cells[i] = challenge.Cell{Row: int(c[0]), Col: int(c[1])}
		}
		p, err := u.gpu.Prove(ctx, w.cfg.GPU, cells, rows)
		if _, cerr := w.cfg.GPU.Clear(ctx, req.UUID); cerr != nil {
			w.log.Warn("GPU result not cleared", "gpu", req.UUID, "err", cerr)
		}
		if err != nil {
			return out, err
		}
		hashes, proofs = p.RowHashes, p.Proofs
		for _, v := range p.Values {
			out.CoordinateValues = append(out.CoordinateValues, computeproto.PyFloat(v))
		}
	}
	out.RowHashes = append([]string{}, hashes...)
	out.MerkleProofs = compute.MerkleProofs(proofs)
	return out, nil
}
