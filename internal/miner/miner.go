// Package miner is the compute subnet's miner: it keeps its workers on a
// workerhub, picks validators from the metagraph, sends them its workers'
// heartbeats, polls them for challenges, hands each challenge to its
// worker, and runs the two phases of every computed challenge (commit,
// proof from the worker, proof to the validator), freeing the worker
// whatever happens.
package miner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/workerhub"
)

// Config is a miner's settings; DefaultConfig has the reference's.
type Config struct {
	Netuid    uint16
	Hotkey    *keys.KeyPair
	Selection Selection
	Hub       workerhub.Config

	BlacklistThreshold int           // 5 consecutive failures...
	BlacklistTTL       time.Duration // ...block an endpoint 600 s
	SyncInterval       time.Duration // metagraph, 60 s
	HeartbeatInterval  time.Duration // to validators, 60 s
	PollInterval       time.Duration // task polls, 30 s after each round
	// Polling waits for IdleThreshold of the workers to be idle, checking
	// every IdleCheck, for at most IdleWait.
	IdleThreshold float64
	IdleCheck     time.Duration
	IdleWait      time.Duration

	HeartbeatTimeout time.Duration // 30 s
	TaskTimeout      time.Duration // a poll, 10 s
	CommitTimeout    time.Duration // phase 1, 15 s
	ProofTimeout     time.Duration // phase 2, 40 s

	QueueMax     int           // worker heartbeats held, 1000
	QueueMaxAge  time.Duration // 300 s
	MinerVersion string

	// DrainGrace is how long challenges in flight are seen through after
	// the miner is told to stop, 5 s: a commitment under way lands, but a
	// worker that is stopping too is not waited for.
	DrainGrace time.Duration
}

// DefaultConfig is the reference miner's.
func DefaultConfig() Config {
	return Config{Selection: Selection{MinStakeRao: 10_000 * 1_000_000_000}, Hub: workerhub.DefaultConfig(),
		BlacklistThreshold: 5, BlacklistTTL: 600 * time.Second, SyncInterval: time.Minute, HeartbeatInterval: time.Minute,
		PollInterval: 30 * time.Second, IdleThreshold: 0.75, IdleCheck: time.Second, IdleWait: 90 * time.Second,
		HeartbeatTimeout: 30 * time.Second, TaskTimeout: 10 * time.Second, CommitTimeout: 15 * time.Second, ProofTimeout: 40 * time.Second,
		QueueMax: 1000, QueueMaxAge: 300 * time.Second, MinerVersion: "vigil-1", DrainGrace: 5 * time.Second}
}

// Chain is the metagraph the validators are picked from.
type Chain interface {
	Metagraph(ctx context.Context, netuid uint16, hash string) (*subtensor.Metagraph, error)
}

// RPC is the encrypted synapse client (computerpc.Client).
type RPC interface {
	Heartbeat(ctx context.Context, t dendrite.Target, hb computeproto.HeartbeatData) (computeproto.HeartbeatResponse, error)
	Task(ctx context.Context, t dendrite.Target, req computeproto.TaskRequest) (computeproto.TaskResponse, error)
	Commit(ctx context.Context, t dendrite.Target, cd computeproto.CommitmentData) (computeproto.CommitmentResponse, error)
	Prove(ctx context.Context, t dendrite.Target, pd computeproto.ProofData) (computeproto.ProofDataResponse, error)
}

// Miner is one miner process.
type Miner struct {
	cfg     Config
	log     *slog.Logger
	chain   Chain
	rpc     RPC
	hub     *workerhub.Hub
	bl      *Blacklist
	queue   *heartbeatQueue
	metrics *Metrics

	mu         sync.Mutex
	validators []Validator
	lastSync   time.Time
	pollStart  int
	inflight   map[string]*inflight // challenge id
	wg         sync.WaitGroup
	// drain is what challenges in flight run under: it ends DrainGrace
	// after the miner's context.
	drain     context.Context
	stopDrain context.CancelFunc
}

// inflight is a challenge handed to a worker: where it came from and the
// timestamps of its way through the miner.
type inflight struct {
	validator Validator
	worker    string
	ts        map[string]int64
}

// New returns a miner; its hub serves the workers (Hub).
func New(cfg Config, log *slog.Logger, chain Chain, rpc RPC, metrics *Metrics) *Miner {
	if metrics == nil {
		metrics = NewMetrics()
	}
	m := &Miner{cfg: cfg, log: log, chain: chain, rpc: rpc, metrics: metrics, bl: NewBlacklist(cfg.BlacklistThreshold, cfg.BlacklistTTL),
		queue: &heartbeatQueue{max: cfg.QueueMax, maxAge: cfg.QueueMaxAge}, inflight: map[string]*inflight{}}
	m.drain, m.stopDrain = context.WithCancel(context.Background())
	m.hub = workerhub.New(cfg.Hub, log.With("component", "workerhub"), workerhub.Events{
		Heartbeat: m.workerHeartbeat, TaskResult: m.taskResult, Disconnected: m.workerGone}, metrics.Hub)
	return m
}

// Hub is the workers' WebSocket handler.
func (m *Miner) Hub() *workerhub.Hub { return m.hub }

// LastSync is when the metagraph was last read (zero before the first).
func (m *Miner) LastSync() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastSync
}

// Validators are the validators selected at the last sync.
func (m *Miner) Validators() []Validator {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Validator(nil), m.validators...)
}

// Run runs the sync, heartbeat and polling loops until ctx ends, then
// waits for the challenges in flight and closes the hub.
func (m *Miner) Run(ctx context.Context) error {
	if err := m.SyncValidators(ctx); err != nil {
		m.log.Warn("first metagraph sync failed; retrying", "err", err)
	}
	var wg sync.WaitGroup
	loop := func(every time.Duration, fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(every):
				}
				fn(ctx)
			}
		}()
	}
	loop(m.cfg.SyncInterval, func(ctx context.Context) {
		if err := m.SyncValidators(ctx); err != nil {
			m.log.Warn("metagraph sync failed", "err", err)
		}
	})
	loop(m.cfg.HeartbeatInterval, m.SendHeartbeats)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			m.PollOnce(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(m.cfg.PollInterval):
			}
		}
	}()
	<-ctx.Done()
	wg.Wait()
	grace := time.AfterFunc(m.cfg.DrainGrace, m.stopDrain)
	m.wg.Wait()
	grace.Stop()
	m.stopDrain()
	m.hub.Close()
	return nil
}

// SyncValidators reads the metagraph and selects the validators.
func (m *Miner) SyncValidators(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	mg, err := m.chain.Metagraph(ctx, m.cfg.Netuid, "")
	if err != nil {
		return err
	}
	vs := m.cfg.Selection.Select(mg, m.bl, time.Now())
	m.mu.Lock()
	m.validators = vs
	m.lastSync = time.Now()
	m.mu.Unlock()
	m.metrics.validators.Set(float64(len(vs)))
	return nil
}

// call runs one synapse call against a validator, keeping the blacklist.
func (m *Miner) call(ctx context.Context, v Validator, what string, timeout time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	m.metrics.latency.WithLabelValues(what).Observe(time.Since(start).Seconds())
	if err != nil {
		m.metrics.failures.WithLabelValues(what).Inc()
		if m.bl.Failure(v.Endpoint(), time.Now()) {
			m.log.Warn("validator blacklisted", "uid", v.UID, "endpoint", v.Endpoint(), "for", m.cfg.BlacklistTTL)
		}
		return fmt.Errorf("%s to validator %d: %w", what, v.UID, err)
	}
	m.bl.Success(v.Endpoint())
	return nil
}

func (m *Miner) workerHeartbeat(w workerhub.Worker) {
	name, version := w.Name, w.Version
	m.queue.push(computeproto.WorkerInfo{WorkerID: w.ID, WorkerName: &name, WorkerVersion: &version,
		Capabilities: append([]string{}, w.Capabilities...), Status: w.Status, SystemInfo: w.SystemInfo,
		ConnectedAt: epoch(w.ConnectedAt), LastHeartbeat: epoch(w.LastHeartbeat)}, time.Now())
}

func epoch(t time.Time) computeproto.PyFloat {
	return computeproto.PyFloat(float64(t.UnixMicro()) / 1e6)
}

// SendHeartbeats sends the queued worker heartbeats, one per worker, to
// every selected validator at once; nothing when none is queued.
func (m *Miner) SendHeartbeats(ctx context.Context) {
	workers := m.queue.drain(time.Now())
	if len(workers) == 0 {
		return
	}
	hb := computeproto.NewHeartbeatData(m.cfg.Hotkey.SS58(), time.Now())
	hb.Workers = workers
	version := m.cfg.MinerVersion
	info := computeproto.SystemInfo{GPUInfo: []computeproto.GPUEntry{}, GPUPlugin: []computeproto.GPUEntry{}, MinerVersion: &version}
	hb.MinerInfo = &info
	var wg sync.WaitGroup
	for _, v := range m.Validators() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := m.call(ctx, v, "heartbeat", m.cfg.HeartbeatTimeout, func(ctx context.Context) error {
				_, err := m.rpc.Heartbeat(ctx, v.Target, hb)
				return err
			})
			if err != nil {
				m.log.Debug("heartbeat not delivered", "err", err)
			}
		}()
	}
	wg.Wait()
}

// PollOnce is one polling round: when workers are idle enough, every
// validator in turn (the first one rotating), each challenge handed to
// its target worker, or to any idle one.
func (m *Miner) PollOnce(ctx context.Context) {
	vs := m.Validators()
	if len(vs) == 0 || m.hub.IdleFraction() == 0 {
		return
	}
	if !m.waitIdle(ctx) {
		return
	}
	m.mu.Lock()
	start := m.pollStart % len(vs)
	m.pollStart = (start + 1) % len(vs)
	m.mu.Unlock()
	for i := range vs {
		v := vs[(start+i)%len(vs)]
		var resp computeproto.TaskResponse
		err := m.call(ctx, v, "task", m.cfg.TaskTimeout, func(ctx context.Context) (err error) {
			resp, err = m.rpc.Task(ctx, v.Target, computeproto.NewTaskRequest(m.cfg.Hotkey.SS58(), time.Now()))
			return err
		})
		if err != nil {
			m.log.Debug("task poll failed", "err", err)
			continue
		}
		if resp.TaskType != computeproto.TaskTypeChallengeBatch || resp.TaskData == nil {
			continue
		}
		for _, c := range resp.TaskData.Challenges {
			m.distribute(ctx, v, c)
		}
	}
}

func (m *Miner) waitIdle(ctx context.Context) bool {
	deadline := time.Now().Add(m.cfg.IdleWait)
	for m.hub.IdleFraction() < m.cfg.IdleThreshold {
		if time.Now().After(deadline) {
			m.log.Warn("workers stayed busy; polling anyway", "idle", m.hub.IdleFraction())
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(m.cfg.IdleCheck):
		}
	}
	return true
}

func (m *Miner) distribute(ctx context.Context, v Validator, c computeproto.ComputeChallenge) {
	task := computeproto.TaskAssignmentData{TaskID: c.ChallengeID, TaskType: c.ChallengeType, ChallengeID: c.ChallengeID,
		Data: c.Data, Timeout: c.Timeout, ValidatorHotkey: v.Hotkey}
	candidates := []string{}
	if c.TargetWorkerID != nil {
		candidates = append(candidates, *c.TargetWorkerID)
	} else {
		for _, w := range m.hub.Workers() {
			if w.Status == computeproto.StatusOnline {
				candidates = append(candidates, w.ID)
			}
		}
	}
	received := time.Now().UnixMilli()
	var err error = workerhub.ErrWorkerBusy
	for _, worker := range candidates {
		// Recorded before the task goes out, so its result cannot overtake it.
		m.mu.Lock()
		m.inflight[c.ChallengeID] = &inflight{validator: v, worker: worker, ts: map[string]int64{"miner_task_received_ts": received}}
		m.mu.Unlock()
		if err = m.hub.Assign(ctx, worker, task); err == nil {
			m.metrics.challenges.WithLabelValues("distributed").Inc()
			return
		}
		m.mu.Lock()
		delete(m.inflight, c.ChallengeID)
		m.mu.Unlock()
	}
	m.metrics.failures.WithLabelValues("distribute").Inc()
	m.log.Warn("challenge not distributed", "challenge", c.ChallengeID, "err", err)
}

func (m *Miner) workerGone(workerID string, tasks []string) {
	m.mu.Lock()
	for _, t := range tasks {
		if f := m.inflight[t]; f != nil && f.worker == workerID {
			delete(m.inflight, t)
		}
	}
	m.mu.Unlock()
	if len(tasks) > 0 {
		m.metrics.challenges.WithLabelValues("worker_lost").Add(float64(len(tasks)))
		m.log.Warn("worker left with challenges in flight", "worker", workerID, "challenges", len(tasks))
	}
}

func (m *Miner) taskResult(workerID string, r computeproto.TaskResult) {
	m.mu.Lock()
	f := m.inflight[r.TaskID]
	if f != nil && f.worker == workerID {
		delete(m.inflight, r.TaskID)
	} else {
		f = nil
	}
	m.mu.Unlock()
	if f == nil {
		m.hub.Finalize(workerID, r.TaskID)
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer m.hub.Finalize(workerID, r.TaskID)
		outcome := m.pipeline(workerID, f, r)
		m.metrics.challenges.WithLabelValues(outcome).Inc()
	}()
}

// pipeline runs both phases of a computed challenge and names the outcome.
// It does not stop with the miner's context: a commitment under way is
// seen through within its timeouts, for DrainGrace after the miner stops.
func (m *Miner) pipeline(workerID string, f *inflight, r computeproto.TaskResult) string {
	ctx := m.drain
	v, id := f.validator, r.TaskID
	if !r.Data.Succeeded() || r.Data.Result == nil || len(r.Data.Result.Commitments) == 0 {
		m.log.Warn("worker failed the challenge", "challenge", id, "worker", workerID, "err", r.Data.Error)
		return "worker_failed"
	}
	for k, t := range r.Data.Timestamps {
		f.ts[k] = t
	}
	var resp computeproto.CommitmentResponse
	cd := computeproto.NewCommitmentData(id, workerID, r.Data.Result.Commitments)
	if err := m.call(ctx, v, "commit", m.cfg.CommitTimeout, func(ctx context.Context) (err error) {
		resp, err = m.rpc.Commit(ctx, v.Target, cd)
		return err
	}); err != nil {
		m.log.Warn("commitment failed", "challenge", id, "err", err)
		return "commit_failed"
	}
	f.ts["miner_task_response_ts"] = time.Now().UnixMilli()
	if len(resp.ProofRequests) == 0 {
		return "committed"
	}
	pctx, cancel := context.WithTimeout(ctx, m.cfg.Hub.ProofTimeout)
	body, err := m.hub.RequestProof(pctx, workerID, v.Hotkey, id, resp.ProofRequests)
	cancel()
	if err != nil || !body.Success {
		m.log.Warn("worker gave no proof", "challenge", id, "worker", workerID, "err", err, "reason", body.Error)
		return "proof_failed"
	}
	f.ts["worker_proof_response_ts"] = time.Now().UnixMilli()
	for k, t := range body.Phase2Timestamps() {
		f.ts[k] = t
	}
	pd := computeproto.NewProofData(id, body.Proofs)
	pd.DebugInfo, _ = json.Marshal(map[string]any{"timestamps": f.ts})
	if err := m.call(ctx, v, "proof", m.cfg.ProofTimeout, func(ctx context.Context) error {
		_, err := m.rpc.Prove(ctx, v.Target, pd)
		return err
	}); err != nil {
		m.log.Warn("proof not delivered", "challenge", id, "err", err)
		return "proof_failed"
	}
	m.log.Info("challenge proved", "challenge", id, "worker", workerID, "validator", v.UID)
	return "proved"
}
