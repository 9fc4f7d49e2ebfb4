// Package workerhub is the miner's side of the WebSocket its workers dial:
// registration within a deadline, the reference's close codes and message
// limit, heartbeats, task assignment, proof requests answered by message
// id, and a worker's state (online, busy) kept until the miner finalises
// its task. A worker can only disturb itself: a bad message is dropped and
// counted, never closes another worker's connection.
package workerhub

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/internal/computeproto"
)

// Config is the hub's timing and limits; the defaults are the reference
// miner's.
type Config struct {
	RegistrationTimeout time.Duration // first message deadline (30 s)
	PingInterval        time.Duration // WebSocket ping (20 s)
	PingTimeout         time.Duration // pong deadline (30 s)
	HeartbeatTimeout    time.Duration // a silent worker is dropped after this (90 s)
	MonitorInterval     time.Duration // how often silence is checked (30 s)
	ProofTimeout        time.Duration // a worker's proof answer (30 s)
	WriteTimeout        time.Duration // one message out (10 s)
	// MinHeartbeatGap drops heartbeats closer together than this (1 s), so
	// a flooding worker costs one decode per message and nothing more.
	MinHeartbeatGap time.Duration
	// Token, when set, must come as "Authorization: Bearer <token>" on the
	// upgrade. Off by default: the reference's workers send none.
	Token string
}

// DefaultConfig is the reference miner's.
func DefaultConfig() Config {
	return Config{RegistrationTimeout: 30 * time.Second, PingInterval: 20 * time.Second, PingTimeout: 30 * time.Second,
		HeartbeatTimeout: 90 * time.Second, MonitorInterval: 30 * time.Second, ProofTimeout: 30 * time.Second,
		WriteTimeout: 10 * time.Second, MinHeartbeatGap: time.Second}
}

// Worker is what the hub knows of a connected worker.
type Worker struct {
	ID            string
	Name          string
	Version       string
	Capabilities  []string
	Status        string // computeproto.StatusOnline or StatusBusy
	SystemInfo    computeproto.SystemInfo
	ConnectedAt   time.Time
	LastHeartbeat time.Time
	Tasks         []string // assigned and not finalised
}

// Events are the hub's callbacks; each runs on the worker's reader, so it
// must not block for long.
type Events struct {
	// Heartbeat fires on every accepted worker heartbeat.
	Heartbeat func(w Worker)
	// TaskResult fires for a result of a task the worker was assigned.
	TaskResult func(workerID string, r computeproto.TaskResult)
	// Disconnected fires when a worker's connection ends, with the tasks
	// it still held.
	Disconnected func(workerID string, tasks []string)
}

// Hub serves the worker WebSocket.
type Hub struct {
	cfg     Config
	log     *slog.Logger
	events  Events
	metrics *Metrics

	mu      sync.Mutex
	workers map[string]*conn
	pending map[string]*pendingProof // message id → waiter
	closed  bool
	wg      sync.WaitGroup
	stop    chan struct{}
}

type pendingProof struct {
	worker string
	ch     chan computeproto.ProofResponseBody
}

type conn struct {
	ws            *websocket.Conn
	info          Worker
	tasks         map[string]bool
	lastHeartbeat time.Time // of the last one processed
	cancel        context.CancelFunc
}

// New returns a hub; Close stops it.
func New(cfg Config, log *slog.Logger, events Events, metrics *Metrics) *Hub {
	if metrics == nil {
		metrics = NewMetrics()
	}
	h := &Hub{cfg: cfg, log: log, events: events, metrics: metrics, workers: map[string]*conn{},
		pending: map[string]*pendingProof{}, stop: make(chan struct{})}
	h.wg.Add(1)
	go h.monitor()
	return h
}

// Errors of the hub's operations.
var (
	ErrNoWorker   = errors.New("worker not connected")
	ErrWorkerBusy = errors.New("worker not idle")
	ErrClosed     = errors.New("hub closed")
)

// ServeHTTP upgrades a worker's connection and serves it until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Token != "" {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.Token)) != 1 {
			h.metrics.refused.WithLabelValues("token").Inc()
			http.Error(w, "worker token required", http.StatusUnauthorized)
			return
		}
	}
	// Workers are programs, not browsers: the Origin check is for pages.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ws.SetReadLimit(computeproto.MaxWSMessage)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = ws.Close(websocket.StatusGoingAway, "miner stopping")
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	h.serve(r.Context(), ws, r.RemoteAddr)
}

func (h *Hub) serve(parent context.Context, ws *websocket.Conn, remote string) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() {
		select {
		case <-h.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	c, ok := h.register(ctx, cancel, ws, remote)
	if !ok {
		return
	}
	defer h.drop(c)
	go h.pinger(ctx, c)
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusMessageTooBig {
				h.metrics.dropped.WithLabelValues("too_big").Inc()
			}
			return
		}
		if typ != websocket.MessageText {
			h.metrics.dropped.WithLabelValues("binary").Inc()
			continue
		}
		h.handle(ctx, c, b)
	}
}

// register reads the first message within the deadline and answers it as
// the reference does: a close code for a bad one, registration_ack for a
// good one, and a worker id already connected replaced (1001).
func (h *Hub) register(ctx context.Context, cancelConn context.CancelFunc, ws *websocket.Conn, remote string) (*conn, bool) {
	// A cancelled read would drop the connection without a close frame, so
	// the deadline closes it from beside the read instead.
	late := time.AfterFunc(h.cfg.RegistrationTimeout, func() {
		h.metrics.refused.WithLabelValues("no_registration").Inc()
		_ = ws.Close(websocket.StatusNormalClosure, "registration timeout")
	})
	_, b, err := ws.Read(ctx)
	if !late.Stop() || err != nil {
		_ = ws.CloseNow()
		return nil, false
	}
	reg, code, err := computeproto.DecodeRegistration(b)
	if err != nil {
		h.metrics.refused.WithLabelValues(fmt.Sprint(code)).Inc()
		h.log.Warn("worker registration refused", "remote", remote, "code", code, "err", err)
		reason := map[int]string{computeproto.CloseMissingWorkerID: "Invalid or missing worker_id",
			computeproto.CloseMissingVersion: "Missing worker_version"}[code]
		if reason == "" {
			reason = "Invalid registration"
		}
		_ = ws.Close(websocket.StatusCode(code), reason)
		return nil, false
	}
	now := time.Now()
	c := &conn{ws: ws, tasks: map[string]bool{}, cancel: cancelConn, info: Worker{
		ID: reg.WorkerID, Name: reg.WorkerID, Version: reg.WorkerVersion, Capabilities: reg.Capabilities,
		Status: computeproto.StatusOnline, ConnectedAt: now, LastHeartbeat: now}}
	if reg.WorkerName != nil && *reg.WorkerName != "" {
		c.info.Name = *reg.WorkerName
	}
	if reg.SystemInfo != nil {
		c.info.SystemInfo = *reg.SystemInfo
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = ws.Close(websocket.StatusGoingAway, "miner stopping")
		return nil, false
	}
	old := h.workers[reg.WorkerID]
	if old != nil {
		// The worker reconnected before its old connection ended: its
		// tasks (and their results, which may come on the new one) move.
		for t := range old.tasks {
			c.tasks[t] = true
		}
		if len(c.tasks) > 0 {
			c.info.Status = computeproto.StatusBusy
		}
	}
	h.workers[reg.WorkerID] = c
	h.metrics.connected.Set(float64(len(h.workers)))
	h.mu.Unlock()
	if old != nil {
		h.metrics.replaced.Inc()
		// Close waits for the peer's answer; the new worker does not.
		go func() {
			_ = old.ws.Close(websocket.StatusCode(computeproto.CloseReplaced), "Connection replaced")
			old.cancel()
		}()
	}
	if err := h.send(ctx, c, map[string]any{"type": computeproto.WSRegistrationAck, "data": map[string]string{"status": "registered"}}); err != nil {
		h.drop(c)
		return nil, false
	}
	h.log.Info("worker registered", "worker", c.info.ID, "name", c.info.Name, "version", c.info.Version, "remote", remote)
	return c, true
}

func (h *Hub) pinger(ctx context.Context, c *conn) {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, h.cfg.PingTimeout)
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				h.metrics.dropped.WithLabelValues("ping_timeout").Inc()
				_ = c.ws.CloseNow()
				c.cancel()
				return
			}
		}
	}
}

// drop forgets a connection, if it is still the worker's current one, and
// reports the tasks it held.
func (h *Hub) drop(c *conn) {
	h.mu.Lock()
	var tasks []string
	current := h.workers[c.info.ID] == c
	if current {
		delete(h.workers, c.info.ID)
		for t := range c.tasks {
			tasks = append(tasks, t)
		}
		h.metrics.connected.Set(float64(len(h.workers)))
	}
	h.mu.Unlock()
	_ = c.ws.CloseNow()
	if current {
		sort.Strings(tasks)
		h.log.Info("worker disconnected", "worker", c.info.ID, "tasks", len(tasks))
		if h.events.Disconnected != nil {
			h.events.Disconnected(c.info.ID, tasks)
		}
	}
}

func (h *Hub) send(ctx context.Context, c *conn, v any) error {
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(wctx, websocket.MessageText, b)
}

func (h *Hub) handle(ctx context.Context, c *conn, b []byte) {
	typ, err := computeproto.MessageType(b)
	if err != nil {
		h.metrics.dropped.WithLabelValues("malformed").Inc()
		h.log.Warn("worker message dropped", "worker", c.info.ID, "err", err)
		return
	}
	switch typ {
	case computeproto.WSHeartbeat:
		h.heartbeat(ctx, c, b)
	case computeproto.WSTaskResult:
		h.taskResult(c, b)
	case computeproto.WSProofResponse:
		h.proofResponse(c, b)
	default:
		h.metrics.dropped.WithLabelValues("unknown_type").Inc()
		h.log.Warn("unknown worker message", "worker", c.info.ID, "type", printable(typ))
	}
}

func (h *Hub) heartbeat(ctx context.Context, c *conn, b []byte) {
	now := time.Now()
	h.mu.Lock()
	flooding := now.Sub(c.lastHeartbeat) < h.cfg.MinHeartbeatGap
	h.mu.Unlock()
	if flooding {
		h.metrics.dropped.WithLabelValues("heartbeat_flood").Inc()
		return
	}
	hb, err := computeproto.DecodeWorkerHeartbeat(b)
	if err != nil {
		h.metrics.dropped.WithLabelValues("malformed").Inc()
		h.log.Warn("invalid worker heartbeat", "worker", c.info.ID, "err", err)
		return
	}
	h.mu.Lock()
	c.lastHeartbeat = now
	c.info.LastHeartbeat = now
	if c.info.Status != computeproto.StatusBusy {
		c.info.Status = computeproto.StatusOnline
	}
	if hb.Data.SystemInfo != nil {
		c.info.SystemInfo = *hb.Data.SystemInfo
	}
	if hb.Data.Capabilities != nil {
		c.info.Capabilities = hb.Data.Capabilities
	}
	snapshot := c.snapshot()
	h.mu.Unlock()
	h.metrics.heartbeats.Inc()
	if h.events.Heartbeat != nil {
		h.events.Heartbeat(snapshot)
	}
	_ = h.send(ctx, c, map[string]string{"type": computeproto.WSHeartbeatAck})
}

func (h *Hub) taskResult(c *conn, b []byte) {
	r, err := computeproto.DecodeTaskResult(b)
	if err != nil {
		h.metrics.dropped.WithLabelValues("malformed").Inc()
		h.log.Warn("invalid task result", "worker", c.info.ID, "err", err)
		return
	}
	h.mu.Lock()
	assigned := c.tasks[r.TaskID]
	h.mu.Unlock()
	if !assigned {
		h.metrics.dropped.WithLabelValues("unknown_task").Inc()
		h.log.Warn("task result for a task the worker was not given", "worker", c.info.ID, "task", printable(r.TaskID))
		return
	}
	h.metrics.results.Inc()
	if h.events.TaskResult != nil {
		h.events.TaskResult(c.info.ID, r)
	}
}

func (h *Hub) proofResponse(c *conn, b []byte) {
	m, err := computeproto.DecodeProofResponseMessage(b)
	if err != nil {
		h.metrics.dropped.WithLabelValues("malformed").Inc()
		h.log.Warn("invalid proof response", "worker", c.info.ID, "err", err)
		return
	}
	h.mu.Lock()
	p, ok := h.pending[m.MessageID]
	if ok && p.worker == c.info.ID {
		delete(h.pending, m.MessageID)
	}
	h.mu.Unlock()
	if !ok || p.worker != c.info.ID {
		h.metrics.dropped.WithLabelValues("unknown_proof").Inc()
		h.log.Warn("proof response nobody asked this worker for", "worker", c.info.ID, "message", printable(m.MessageID))
		return
	}
	p.ch <- m.Data // buffered: never blocks
}

func (c *conn) snapshot() Worker {
	w := c.info
	w.Capabilities = append([]string(nil), c.info.Capabilities...)
	for t := range c.tasks {
		w.Tasks = append(w.Tasks, t)
	}
	sort.Strings(w.Tasks)
	return w
}

// Workers lists the connected workers.
func (h *Hub) Workers() []Worker {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Worker, 0, len(h.workers))
	for _, c := range h.workers {
		out = append(out, c.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IdleFraction is the share of connected workers that are online (0 with
// none connected).
func (h *Hub) IdleFraction() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.workers) == 0 {
		return 0
	}
	idle := 0
	for _, c := range h.workers {
		if c.info.Status == computeproto.StatusOnline {
			idle++
		}
	}
	return float64(idle) / float64(len(h.workers))
}

// Assign sends a task to a worker that is online, and marks it busy until
// Finalize.
func (h *Hub) Assign(ctx context.Context, workerID string, task computeproto.TaskAssignmentData) error {
	h.mu.Lock()
	c, ok := h.workers[workerID]
	switch {
	case !ok:
		h.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNoWorker, workerID)
	case c.info.Status != computeproto.StatusOnline:
		h.mu.Unlock()
		return fmt.Errorf("%w: %s is %s", ErrWorkerBusy, workerID, c.info.Status)
	}
	c.info.Status = computeproto.StatusBusy
	c.tasks[task.TaskID] = true
	h.mu.Unlock()
	msg := computeproto.TaskAssignment{Type: computeproto.WSTaskAssignment, Data: task}
	if err := h.send(ctx, c, msg); err != nil {
		h.Finalize(workerID, task.TaskID)
		return fmt.Errorf("task to %s: %w", workerID, err)
	}
	h.metrics.assigned.Inc()
	return nil
}

// AssignIdle sends a task to any online worker and returns its id.
func (h *Hub) AssignIdle(ctx context.Context, task computeproto.TaskAssignmentData) (string, error) {
	for _, w := range h.Workers() {
		if w.Status == computeproto.StatusOnline {
			if err := h.Assign(ctx, w.ID, task); err == nil {
				return w.ID, nil
			}
		}
	}
	return "", ErrWorkerBusy
}

// Finalize ends a worker's task: it goes back online when it holds no
// other.
func (h *Hub) Finalize(workerID, taskID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.workers[workerID]
	if !ok {
		return
	}
	delete(c.tasks, taskID)
	if len(c.tasks) == 0 {
		c.info.Status = computeproto.StatusOnline
	}
}

// RequestProof asks a worker for the proofs of its result for a validator
// and waits for the answer, at most ProofTimeout.
func (h *Hub) RequestProof(ctx context.Context, workerID, validatorHotkey, challengeID string, reqs []computeproto.ProofRequest) (computeproto.ProofResponseBody, error) {
	h.mu.Lock()
	c, ok := h.workers[workerID]
	if !ok {
		h.mu.Unlock()
		return computeproto.ProofResponseBody{}, fmt.Errorf("%w: %s", ErrNoWorker, workerID)
	}
	id := uuid.NewString()
	p := &pendingProof{worker: workerID, ch: make(chan computeproto.ProofResponseBody, 1)}
	h.pending[id] = p
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.pending, id)
		h.mu.Unlock()
	}()
	msg := computeproto.ProofRequestMessage{Type: computeproto.WSProofRequest, MessageID: id,
		Data: computeproto.ProofRequestBody{ValidatorHotkey: validatorHotkey, ChallengeID: challengeID, Requests: reqs}}
	if err := h.send(ctx, c, msg); err != nil {
		return computeproto.ProofResponseBody{}, fmt.Errorf("proof request to %s: %w", workerID, err)
	}
	t := time.NewTimer(h.cfg.ProofTimeout)
	defer t.Stop()
	select {
	case r := <-p.ch:
		return r, nil
	case <-t.C:
		return computeproto.ProofResponseBody{}, fmt.Errorf("proof from %s: no answer within %v", workerID, h.cfg.ProofTimeout)
	case <-ctx.Done():
		return computeproto.ProofResponseBody{}, ctx.Err()
	}
}

// monitor drops workers silent for longer than HeartbeatTimeout.
func (h *Hub) monitor() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.MonitorInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		var stale []*conn
		h.mu.Lock()
		for _, c := range h.workers {
			if time.Since(c.info.LastHeartbeat) > h.cfg.HeartbeatTimeout {
				stale = append(stale, c)
			}
		}
		h.mu.Unlock()
		for _, c := range stale {
			h.metrics.dropped.WithLabelValues("heartbeat_timeout").Inc()
			h.log.Warn("worker silent, dropped", "worker", c.info.ID)
			go func() {
				_ = c.ws.Close(websocket.StatusCode(computeproto.CloseReplaced), "heartbeat timeout")
				c.cancel()
			}()
		}
	}
}

// Close ends every connection (1001, going away) and waits for them.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	conns := make([]*conn, 0, len(h.workers))
	for _, c := range h.workers {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.ws.Close(websocket.StatusGoingAway, "miner stopping")
		}()
	}
	wg.Wait()
	close(h.stop)
	h.wg.Wait()
}

// printable keeps peer text short and free of control characters for logs.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return s
}

// Metrics are the hub's Prometheus collectors.
type Metrics struct {
	connected  prometheus.Gauge
	heartbeats prometheus.Counter
	results    prometheus.Counter
	assigned   prometheus.Counter
	replaced   prometheus.Counter
	refused    *prometheus.CounterVec
	dropped    *prometheus.CounterVec
}

// NewMetrics makes unregistered collectors; Register adds them.
func NewMetrics() *Metrics {
	return &Metrics{
		connected:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_miner_workers_connected", Help: "Workers connected to the hub."}),
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_miner_worker_heartbeats_total", Help: "Worker heartbeats accepted."}),
		results:    prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_miner_task_results_total", Help: "Task results accepted from workers."}),
		assigned:   prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_miner_tasks_assigned_total", Help: "Tasks sent to workers."}),
		replaced:   prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_miner_worker_replaced_total", Help: "Connections replaced by a newer one of the same worker id."}),
		refused:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_miner_worker_refused_total", Help: "Worker connections refused, by reason (close code, no_registration, token)."}, []string{"reason"}),
		dropped:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_miner_worker_messages_dropped_total", Help: "Worker messages dropped, by reason."}, []string{"reason"}),
	}
}

// Collectors lists the collectors, for registering.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.connected, m.heartbeats, m.results, m.assigned, m.replaced, m.refused, m.dropped}
}

// Dropped is the count of messages dropped for reason.
func (m *Metrics) Dropped(reason string) float64 {
	return counterValue(m.dropped.WithLabelValues(reason))
}

// Refused is the count of connections refused for reason.
func (m *Metrics) Refused(reason string) float64 {
	return counterValue(m.refused.WithLabelValues(reason))
}
