// Package compute is the compute subnet's validator mechanism
// (SN128-compatible): the synapses miners call on the validator's axon
// (heartbeats, task pulls, commitments, proofs), the issuance of
// challenges to eligible workers, the verification of proofs on every
// core from a queue kept in the store, and the weight pass. Its parts are
// in scoring (the weight cycle), phases (one challenge's way) and meshhub
// (the lease feed).
package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/meshhub"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/phases"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/promreg"
	"github.com/vigil-validator/vigil/internal/securesession"
	"github.com/vigil-validator/vigil/internal/store"
)

// Factory registers the mechanism as "compute".
var Factory = mechanism.Factory{
	Name: "compute",
	New: func(settings any, deps mechanism.Deps) (mechanism.Mechanism, error) {
		s, ok := settings.(Settings)
		if !ok {
			return nil, fmt.Errorf("compute: settings of type %T", settings)
		}
		return New(s, deps)
	},
	Tools: []command.Tool{meshhub.SimTool()},
}

// Timings the reference fixes.
const (
	// MinerOnline is how recently a miner must have heartbeated to be
	// challenged (5 min); a worker, to count as online (2 min).
	MinerOnline  = 5 * time.Minute
	WorkerOnline = 2 * time.Minute
	// Stale is how long a committed or verifying challenge may wait.
	Stale = time.Hour
)

// Mechanism is the compute mechanism of one subnet.
type Mechanism struct {
	deps mechanism.Deps
	log  *slog.Logger
	hub  *meshhub.Client // nil without meshhub.ws_url

	mu       sync.RWMutex
	settings active // MeshHub's config updates replace it

	wake chan struct{} // a proof was queued

	// lastPass is the latest stored weight pass with its workers, for the
	// console.
	lastPass atomic.Pointer[consolePass]

	refused  *prometheus.CounterVec   // by synapse and reason
	outcomes *prometheus.CounterVec   // challenges by outcome
	latency  *prometheus.HistogramVec // requests by protocol
}

// active is the settings in force with what derives from them.
type active struct {
	s         Settings
	trusted   challenge.TrustedKeys
	sampling  challenge.Sampling
	tolerance challenge.Tolerance
	allowlist []string
}

func activate(s Settings) (active, error) {
	if err := s.Validate(); err != nil {
		return active{}, err
	}
	trusted, err := s.trusted()
	if err != nil {
		return active{}, err
	}
	return active{s: s, trusted: trusted, sampling: s.sampling(), tolerance: s.tolerance(), allowlist: s.allowlist()}, nil
}

// cfg is the settings in force now.
func (m *Mechanism) cfg() active {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.settings
}

// applyOverrides merges a MeshHub config update's roots (validation,
// weight_management) into the settings, as the reference deep-merges
// them, and puts them in force if they are valid.
func (m *Mechanism) applyOverrides(roots map[string]json.RawMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.settings.s
	if raw, ok := roots["validation"]; ok {
		if err := json.Unmarshal(raw, &next.Validation); err != nil {
			return fmt.Errorf("validation: %w", err)
		}
	}
	if raw, ok := roots["weight_management"]; ok {
		if err := json.Unmarshal(raw, &next.WeightManagement); err != nil {
			return fmt.Errorf("weight_management: %w", err)
		}
	}
	a, err := activate(next)
	if err != nil {
		return err
	}
	m.settings = a
	m.log.Info("settings updated by MeshHub")
	return nil
}

// New builds the mechanism.
func New(s Settings, deps mechanism.Deps) (*Mechanism, error) {
	a, err := activate(s)
	if err != nil {
		return nil, err
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real()
	}
	m := &Mechanism{deps: deps, log: log.With("mechanism", "compute"), settings: a, wake: make(chan struct{}, 1)}
	m.refused, err = promreg.Register(deps.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_compute_refused_total",
		Help: "Miner requests refused by the compute mechanism, by synapse and reason."}, []string{"synapse", "reason"}))
	if err != nil {
		return nil, err
	}
	m.outcomes, err = promreg.Register(deps.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_compute_challenges_total",
		Help: "Compute challenges by outcome: issued, committed, verified, failed."}, []string{"outcome"}))
	if err != nil {
		return nil, err
	}
	m.latency, err = promreg.Register(deps.Registerer, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_compute_request_seconds",
		Help:    "Time the axon took over each encrypted miner request (decryption, checks, storage, the sealed answer), by protocol.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5}}, []string{"protocol"}))
	if err != nil {
		return nil, err
	}
	if h := s.MeshHub; h.WSURL != "" {
		self, err := keys.SS58Encode(deps.Self[:], keys.SS58PrefixBittensor)
		if err != nil {
			return nil, err
		}
		cfg := meshhub.DefaultConfig()
		cfg.URL, cfg.ValidatorHotkey, cfg.AccessToken, cfg.Capabilities = h.WSURL, self, h.AccessToken, splitList(h.Capabilities)
		cfg.ReconnectDelay = time.Duration(h.ReconnectDelaySeconds) * time.Second
		cfg.HeartbeatInterval = time.Duration(h.HeartbeatIntervalSeconds) * time.Second
		cfg.ReportInterval = time.Duration(h.ResourceReportIntervalSeconds) * time.Second
		m.hub = meshhub.New(cfg, meshhub.Handlers{Leases: m.storeLeases, Config: func(_ context.Context, roots map[string]json.RawMessage) error {
			return m.applyOverrides(roots)
		}, Stats: m.stats, Resources: m.resources}, m.log.With("component", "meshhub"))
	}
	return m, nil
}

// Name is "compute".
func (m *Mechanism) Name() string { return "compute" }

// Handler: the compute mechanism has no public API of its own.
func (m *Mechanism) Handler() (string, http.Handler) { return "", nil }

var _ mechanism.Mechanism = (*Mechanism)(nil)

func (m *Mechanism) now() time.Time { return m.deps.Clock.Now().UTC() }

func (m *Mechanism) interval() time.Duration {
	return time.Duration(m.cfg().s.Validation.ChallengeInterval) * time.Second
}

// Axon is where miners call the mechanism: the compute synapses on an
// axon signed for the validator, behind the metagraph blacklist the node
// adds, with encrypted sessions and the reference's rate limit.
func (m *Mechanism) Axon() (string, func(ax *axon.Axon) error) {
	return m.cfg().s.Listen, func(ax *axon.Axon) error {
		return computerpc.Serve(ax, computerpc.ServerConfig{Sessions: securesession.NewServer(ax.Hotkey()), Log: m.log,
			Observe: func(protocol string, took time.Duration) { m.latency.WithLabelValues(protocol).Observe(took.Seconds()) },
			Refused: func(protocol string, code int) {
				m.refused.WithLabelValues(protocol, fmt.Sprintf("code %d", code)).Inc()
			}}, m.Handlers())
	}
}

var _ mechanism.AxonHandlers = (*Mechanism)(nil)

// Handlers are the synapses' processors for computerpc.Serve.
func (m *Mechanism) Handlers() computerpc.Handlers {
	return computerpc.Handlers{Heartbeat: m.heartbeat, Task: m.task, Commitment: m.commitment, Proof: m.proof}
}

func errorBody(format string, args ...any) map[string]any {
	return map[string]any{"error": fmt.Sprintf(format, args...)}
}

// refuse counts a refused request and answers it as the reference does.
func (m *Mechanism) refuse(synapse, reason string, code int, format string, args ...any) (any, int) {
	m.refused.WithLabelValues(synapse, reason).Inc()
	return errorBody(format, args...), code
}

// Refused is how many requests were refused for a synapse and reason.
func (m *Mechanism) Refused(synapse, reason string) float64 {
	var out dto.Metric
	if err := m.refused.WithLabelValues(synapse, reason).Write(&out); err != nil {
		return 0
	}
	return out.GetCounter().GetValue()
}

func (m *Mechanism) heartbeat(ctx context.Context, peer string, hb computeproto.HeartbeatData) (any, int) {
	var beats []store.ComputeWorkerBeat
	for _, w := range hb.Workers {
		b := store.ComputeWorkerBeat{WorkerID: w.WorkerID, Capabilities: w.Capabilities, Status: w.Status}
		if w.WorkerName != nil {
			b.Name = *w.WorkerName
		}
		if w.WorkerVersion != nil {
			b.Version = *w.WorkerVersion
		}
		if w.SystemInfo.PublicIP != nil {
			b.PublicIP = *w.SystemInfo.PublicIP
		}
		info, _ := json.Marshal(w.SystemInfo)
		b.SystemInfo = info
		for _, g := range append(append([]computeproto.GPUEntry{}, w.SystemInfo.GPUPlugin...), w.SystemInfo.GPUInfo...) {
			if g.UUID != "" {
				b.GPUs = append(b.GPUs, store.ComputeGPU{UUID: g.UUID, Model: g.Name})
			}
		}
		beats = append(beats, b)
	}
	version := ""
	if hb.MinerInfo != nil && hb.MinerInfo.MinerVersion != nil {
		version = *hb.MinerInfo.MinerVersion
	}
	if err := m.deps.Store.RecordComputeHeartbeat(ctx, m.deps.Netuid, peer, version, beats); err != nil {
		m.log.Error("heartbeat not stored", "miner", peer, "err", err)
		return computeproto.NewHeartbeatResponse(computeproto.CodeHeartbeatProcessingFailed, "heartbeat not stored", 0, m.now()), computeproto.CodeHeartbeatProcessingFailed
	}
	return computeproto.NewHeartbeatResponse(0, "ok", int64(len(beats)), m.now()), 0
}

func (m *Mechanism) task(ctx context.Context, peer string, _ computeproto.TaskRequest) (any, int) {
	timeout := m.cfg().s.Validation.ChallengeTimeout
	pulled, err := m.deps.Store.PullComputeChallenges(ctx, m.deps.Netuid, peer, time.Duration(timeout)*time.Second)
	if err != nil {
		m.log.Error("task pull failed", "miner", peer, "err", err)
		return errorBody("task processing failed"), computeproto.CodeTaskProcessingFailed
	}
	var out []computeproto.ComputeChallenge
	for _, c := range pulled {
		var data computeproto.ChallengeData
		if err := json.Unmarshal(c.Data, &data); err != nil {
			continue
		}
		worker := c.WorkerID
		out = append(out, computeproto.ComputeChallenge{ChallengeID: c.ID, ChallengeType: c.Kind, Data: data, Timeout: int64(timeout), TargetWorkerID: &worker})
	}
	return computeproto.NewTaskResponse(out, m.now()), 0
}

// targets is how a challenge's rows and cells are stored.
type targets struct {
	Rows  []int            `json:"rows"`
	Cells []challenge.Cell `json:"cells"`
}

func (m *Mechanism) stored(c store.ComputeChallenge) (phases.Challenge, error) {
	var data computeproto.ChallengeData
	if err := json.Unmarshal(c.Data, &data); err != nil {
		return phases.Challenge{}, err
	}
	ch := phases.Challenge{ID: c.ID, Hotkey: c.Hotkey, WorkerID: c.WorkerID, Kind: c.Kind, SeedHex: data.Seed, Size: int(data.MatrixSize),
		Iterations: int(data.Iterations), Status: phases.Status(c.Status), SentAt: c.SentAt, Roots: c.Commitments}
	var t targets
	if len(c.Targets) > 0 && json.Unmarshal(c.Targets, &t) == nil {
		ch.Rows, ch.Cells = t.Rows, t.Cells
	}
	return ch, nil
}

func (m *Mechanism) commitment(ctx context.Context, peer string, cd computeproto.CommitmentData) (any, int) {
	c, err := m.deps.Store.GetComputeChallenge(ctx, m.deps.Netuid, cd.ChallengeID, peer)
	if err != nil {
		return m.refuse("commitment", "unknown challenge", phases.CodeError, "Challenge %s not found or not accessible", cd.ChallengeID)
	}
	ch, err := m.stored(c)
	if err != nil {
		return errorBody("Commitment processing failed"), phases.CodeError
	}
	var inventory map[string]bool
	if ch.Kind == computeproto.ChallengeGPUMatrix {
		gpus, err := m.deps.Store.ComputeWorkerGPUs(ctx, m.deps.Netuid, peer, cd.WorkerID)
		if err != nil {
			return errorBody("Commitment processing failed"), phases.CodeError
		}
		inventory = map[string]bool{}
		for u := range gpus {
			inventory[u] = true
		}
	}
	a := m.cfg()
	out := phases.Commit(ch, cd, inventory, a.trusted, a.sampling, m.now())
	if out.Fail {
		if err := m.deps.Store.FailComputeChallenge(ctx, m.deps.Netuid, ch.ID, out.Notes); err != nil {
			m.log.Warn("challenge not failed", "challenge", ch.ID, "err", err)
		} else {
			m.outcomes.WithLabelValues("failed").Inc()
		}
		return m.refuse("commitment", "failed", out.Code, "%s", out.Error)
	}
	if out.Code != phases.CodeOK {
		return m.refuse("commitment", "refused", out.Code, "%s", out.Error)
	}
	t, _ := json.Marshal(targets{Rows: out.Rows, Cells: out.Cells})
	if err := m.deps.Store.CommitComputeChallenge(ctx, m.deps.Netuid, ch.ID, out.Roots, t, out.ComputationTimeMS); err != nil {
		return m.refuse("commitment", "state", phases.CodeError, "Challenge %s already processed", ch.ID)
	}
	m.outcomes.WithLabelValues("committed").Inc()
	return computeproto.CommitmentResponse{ProofRequests: out.ProofRequests}, phases.CodeOK
}

func (m *Mechanism) proof(ctx context.Context, peer string, pd computeproto.ProofData) (any, int) {
	c, err := m.deps.Store.GetComputeChallenge(ctx, m.deps.Netuid, pd.ChallengeID, peer)
	if err != nil {
		return m.refuse("proof", "unknown challenge", phases.CodeError, "Challenge %s not found or not accessible", pd.ChallengeID)
	}
	ch, err := m.stored(c)
	if err != nil {
		return errorBody("Proof processing failed"), phases.CodeError
	}
	if err := phases.CheckProofs(ch, pd); err != nil {
		return m.refuse("proof", "shape", phases.CodeError, "%v", err)
	}
	proof, _ := json.Marshal(pd)
	if err := m.deps.Store.QueueComputeProof(ctx, m.deps.Netuid, ch.ID, proof, pd.DebugInfo); err != nil {
		return m.refuse("proof", "state", phases.CodeError, "Challenge %s is not awaiting a proof", ch.ID)
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return computeproto.ProofDataResponse{ChallengeStatus: "queued", Message: "Proof received and queued for verification", ChallengeID: ch.ID}, phases.CodeOK
}

// Run issues challenges every challenge_interval, verifies queued proofs
// (on wake-up or every verification_interval) and sweeps expired and stale
// challenges, until ctx ends.
func (m *Mechanism) Run(ctx context.Context) error {
	if n, err := m.deps.Store.RebuildComputeAvailability(ctx, m.deps.Netuid); err != nil {
		return fmt.Errorf("availability rings: %w", err)
	} else if n > 0 {
		m.log.Info("availability rings built from the stored heartbeat buckets", "rings", n)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); m.issueLoop(ctx) }()
	go func() { defer wg.Done(); m.verifyLoop(ctx) }()
	if m.hub != nil {
		wg.Add(1)
		go func() { defer wg.Done(); _ = m.hub.Run(ctx) }()
	}
	wg.Wait()
	return nil
}

// Retention is how long finished challenges and weight passes are kept
// (at least the ranking window); heartbeat history is kept for the
// availability window.
const Retention = 7 * 24 * time.Hour

// PruneEvery is how often the history is pruned.
const PruneEvery = time.Hour

func (m *Mechanism) issueLoop(ctx context.Context) {
	var pruned time.Time
	for {
		if err := m.Issue(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("challenge issuance failed", "err", err)
		}
		if _, err := m.deps.Store.SweepComputeChallenges(ctx, m.deps.Netuid, 2*m.interval(), Stale); err != nil && ctx.Err() == nil {
			m.log.Warn("challenge sweep failed", "err", err)
		}
		if now := m.now(); now.Sub(pruned) >= PruneEvery {
			pruned = now
			if err := m.Prune(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("history pruning failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-m.deps.Clock.After(m.interval()):
		}
	}
}

// Prune deletes the history no pass reads any more: heartbeat buckets,
// rings and IP runs before the availability window, finished challenges
// and weight passes older than Retention (or the ranking window, if
// longer).
func (m *Mechanism) Prune(ctx context.Context) error {
	cfg := m.cfg().s.Scoring()
	now := m.now()
	n, err := m.deps.Store.PruneCompute(ctx, m.deps.Netuid, store.ComputeRetention{
		AvailabilityStart: now.Add(-time.Duration(cfg.AvailabilityHours) * time.Hour),
		Before:            now.Add(-max(Retention, cfg.RankingWindow))})
	if err == nil {
		m.log.Debug("history pruned", "rows", n)
	}
	return err
}

// Issue creates a challenge for every eligible worker of every miner heard
// from within 5 minutes that is in the metagraph.
func (m *Mechanism) Issue(ctx context.Context) error {
	now := m.now()
	start, issued := time.Now(), 0
	defer func() { m.log.Debug("challenge round", "issued", issued, "took", time.Since(start)) }()
	registered := m.registered()
	round := fmt.Sprintf("round_%d", now.Unix())
	a := m.cfg()
	// A miner at a time, each in its own transaction: a round of a large
	// subnet at once would hold its workers in memory and SQLite's write
	// lock, and every heartbeat, for seconds.
	return m.deps.Store.ComputeIssuanceWorkers(ctx, m.deps.Netuid, now.Add(-MinerOnline), func(hotkey string, ws []store.ComputeIssuanceWorker) error {
		if registered != nil && !registered[hotkey] {
			return nil
		}
		workers := make([]phases.Worker, len(ws))
		for i, w := range ws {
			workers[i] = phases.Worker{Hotkey: w.Hotkey, WorkerID: w.WorkerID,
				Online: now.Sub(w.LastHeartbeat) <= WorkerOnline, Deleted: w.Deleted, LastHeartbeat: w.LastHeartbeat, LeaseScore: w.LeaseScore,
				Capabilities: w.Capabilities, Pending: w.Pending, GPUModels: w.GPUModels}
		}
		var cs []store.ComputeChallenge
		for _, w := range phases.Eligible(workers, a.s.Validation.ChallengeType, a.allowlist) {
			d, err := phases.NewChallengeData(a.s.Validation.ChallengeType, a.s.shape())
			if err != nil {
				return err
			}
			id := uuid.NewString()
			d.ChallengeID, d.WorkerID, d.MinerHotkey, d.RoundID = id, w.WorkerID, hotkey, round
			data, _ := json.Marshal(d)
			cs = append(cs, store.ComputeChallenge{Netuid: m.deps.Netuid, ID: id, Hotkey: hotkey, WorkerID: w.WorkerID, Kind: a.s.Validation.ChallengeType, Data: data})
		}
		if len(cs) == 0 {
			return nil
		}
		if err := m.deps.Store.CreateComputeChallenges(ctx, cs); err != nil {
			return err
		}
		m.outcomes.WithLabelValues("issued").Add(float64(len(cs)))
		issued += len(cs)
		return nil
	})
}

// registered is the metagraph's hotkeys, nil before the first metagraph.
func (m *Mechanism) registered() map[string]bool {
	if m.deps.Metagraph == nil {
		return nil
	}
	mg := m.deps.Metagraph.Load()
	if mg == nil {
		return nil
	}
	out := map[string]bool{}
	for _, n := range mg.Neurons {
		if hk, err := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor); err == nil {
			out[hk] = true
		}
	}
	return out
}

func (m *Mechanism) concurrency() int {
	if n := m.cfg().s.Validation.VerificationConcurrent; n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

func (m *Mechanism) verifyLoop(ctx context.Context) {
	for {
		n, err := m.VerifyQueued(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("verification failed", "err", err)
		}
		if n > 0 {
			continue // a backlog: go on at once
		}
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		case <-m.deps.Clock.After(time.Duration(m.cfg().s.Validation.VerificationInterval) * time.Second):
		}
	}
}

// VerifyQueued verifies up to one batch of queued proofs, in parallel, and
// returns how many it decided.
func (m *Mechanism) VerifyQueued(ctx context.Context) (int, error) {
	batch, err := m.deps.Store.ComputeVerifications(ctx, m.deps.Netuid, m.concurrency())
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(batch))
	for i, c := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.verify(ctx, c)
		}()
	}
	wg.Wait()
	return len(batch), errors.Join(errs...)
}

func (m *Mechanism) verify(ctx context.Context, c store.ComputeChallenge) error {
	start := time.Now()
	ch, err := m.stored(c)
	if err != nil {
		return m.deps.Store.FailComputeChallenge(ctx, m.deps.Netuid, c.ID, "unreadable challenge")
	}
	var pd computeproto.ProofData
	if err := json.Unmarshal(c.Proof, &pd); err != nil {
		return m.deps.Store.FailComputeChallenge(ctx, m.deps.Netuid, c.ID, "unreadable proof")
	}
	a := m.cfg()
	o := phases.Verify(ch, pd, a.tolerance, a.s.Fixes.AllGPUsMustPass)
	notes := ""
	for _, v := range o.Verdicts {
		if !v.Passed {
			notes += fmt.Sprintf("%s: %s; ", v.UUID, v.Error())
		}
	}
	if err := m.deps.Store.FinishComputeVerification(ctx, m.deps.Netuid, c.ID, o.Passed, o.SuccessCount, notes, time.Since(start)); err != nil {
		return err
	}
	m.outcomes.WithLabelValues(map[bool]string{true: "verified", false: "failed"}[o.Passed]).Inc()
	return nil
}

// DirectWeights: the reference compute validator submits its weights
// without process_weights_for_netuid, so the weight loop converts these
// scores as they are (validator.DirectWeights).
func (m *Mechanism) DirectWeights() bool { return true }

// pass scores the metagraph's miners as of the mechanism's clock, storing
// and sending nothing: the result, and each hotkey's account.
func (m *Mechanism) pass(ctx context.Context, mg *subtensor.Metagraph) (scoring.Result, map[string]subtensor.AccountID, error) {
	cfg := m.cfg().s.Scoring()
	now, passStart := m.now(), time.Now()
	var leaseSince time.Time
	if m.cfg().s.Fixes.LeaseCurrentWorkers {
		leaseSince = now.Add(-time.Duration(cfg.AvailabilityHours) * time.Hour)
	}
	rows, err := m.deps.Store.ComputeScoringRows(ctx, m.deps.Netuid, now.Add(-cfg.RankingWindow), leaseSince)
	if err != nil {
		return scoring.Result{}, nil, err
	}
	uids := map[string]uint16{}
	accounts := map[string]subtensor.AccountID{}
	for _, n := range mg.Neurons {
		if hk, err := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor); err == nil {
			uids[hk], accounts[hk] = n.UID, n.Hotkey
		}
	}
	availStart := now.Add(-time.Duration(cfg.AvailabilityHours) * time.Hour)
	var actErr error
	in := scoring.FromRows(cfg, now, rows, uids, func(hotkey string) *scoring.Activity {
		rows, err := m.deps.Store.ComputeMinerActivity(ctx, m.deps.Netuid, hotkey, availStart)
		if err != nil && actErr == nil {
			actErr = err
		}
		return scoring.MinerActivity(cfg, now, rows)
	})
	rowsTook := time.Since(passStart)
	if err := m.deps.Store.ComputeScoredChallenges(ctx, m.deps.Netuid, now.Add(-cfg.RankingWindow), in.Tallies.AddRow); err != nil {
		return scoring.Result{}, nil, err
	}
	challengesTook := time.Since(passStart) - rowsTook
	res := scoring.Score(cfg, in)
	if actErr != nil {
		return scoring.Result{}, nil, actErr
	}
	m.log.Info("weight pass", "miners", len(res.Miners), "took", time.Since(passStart), "rows", rowsTook, "challenges", challengesTook)
	return res, accounts, nil
}

// Preview is a weight pass that is neither stored nor reported: per miner
// its weight and factors (mechanism.Previewer).
func (m *Mechanism) Preview(ctx context.Context, mg *subtensor.Metagraph) ([]mechanism.MinerPreview, error) {
	res, _, err := m.pass(ctx, mg)
	if err != nil {
		return nil, err
	}
	out := make([]mechanism.MinerPreview, len(res.Miners))
	for i, ms := range res.Miners {
		w := ms.Weight
		if !ms.Online {
			w = 0
		}
		online := 0.0
		if ms.Online {
			online = 1
		}
		out[i] = mechanism.MinerPreview{Hotkey: ms.Hotkey, UID: ms.UID, Score: w, Factors: map[string]float64{
			"online": online, "raw": ms.Raw, "challenge_norm": ms.ChallengeNorm, "challenge": ms.Challenge, "lease": ms.Lease,
			"availability": ms.Availability, "scored_workers": float64(ms.Scored), "score": ms.Score, "weight": ms.Weight}}
		for _, w := range ms.Workers {
			out[i].Parts = append(out[i].Parts, mechanism.PreviewPart{Name: w.Key.WorkerID, Factors: map[string]float64{
				"successes": float64(w.Successes), "avg_time_ms": w.AvgTimeMS, "base": w.Base, "participation": w.Participation,
				"availability": w.Availability, "perf": w.Perf}})
		}
	}
	return out, nil
}

// Scores runs a weight pass over the metagraph's miners and stores it; the
// weights are the scores the node's weight loop submits.
func (m *Mechanism) Scores(ctx context.Context, mg *subtensor.Metagraph) (map[subtensor.AccountID]float64, error) {
	res, accounts, err := m.pass(ctx, mg)
	if err != nil {
		return nil, err
	}
	// The pass is stored with each miner's factors; its workers' (a
	// subnet's worth each pass) go to MeshHub's score report only.
	stored := make([]scoring.MinerScore, len(res.Miners))
	for i, ms := range res.Miners {
		ms.Workers = nil
		stored[i] = ms
	}
	pass, _ := json.Marshal(stored)
	if err := m.deps.Store.SaveComputeWeightPass(ctx, m.deps.Netuid, pass); err != nil {
		return nil, err
	}
	m.lastPass.Store(&consolePass{at: m.now(), miners: res.Miners})
	out := map[subtensor.AccountID]float64{}
	for _, ms := range res.Miners {
		if ms.Online && ms.Weight > 0 {
			out[accounts[ms.Hotkey]] = ms.Weight
		}
	}
	if m.hub != nil && m.hub.Connected() {
		var weights []meshhub.MinerWeight
		var workers []json.RawMessage
		for _, ms := range res.Miners {
			weights = append(weights, meshhub.MinerWeight{Hotkey: ms.Hotkey, Weight: ms.Weight})
			for _, w := range ms.Workers {
				b, _ := json.Marshal(map[string]any{"workerKey": w.Key.Hotkey + ":" + w.Key.WorkerID, "performance": w.Perf,
					"availability": w.Availability, "successes": w.Successes, "avgTimeMs": w.AvgTimeMS})
				workers = append(workers, b)
			}
		}
		if err := m.hub.ReportScores(ctx, weights, workers); err != nil {
			m.log.Warn("score report to MeshHub failed", "err", err)
		}
	}
	return out, nil
}

// storeLeases keeps the lease scores MeshHub published, for known workers.
func (m *Mechanism) storeLeases(ctx context.Context, leases []meshhub.Lease) error {
	byWorker := make(map[[2]string]float64, len(leases))
	for _, l := range leases {
		byWorker[[2]string{l.Hotkey, l.WorkerID}] = l.Score
	}
	n, err := m.deps.Store.SetComputeLeases(ctx, m.deps.Netuid, byWorker, m.cfg().s.Fixes.LeasePublishReplaces)
	if err == nil {
		m.log.Info("lease scores stored", "published", len(leases), "known", n)
	}
	return err
}

// stats is the heartbeat's view of the validator.
func (m *Mechanism) stats() meshhub.Statistics {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st meshhub.Statistics
	now := m.now()
	_ = m.deps.Store.ComputeIssuanceWorkers(ctx, m.deps.Netuid, now.Add(-MinerOnline), func(_ string, ws []store.ComputeIssuanceWorker) error {
		st.ActiveMiners++
		for _, w := range ws {
			if now.Sub(w.LastHeartbeat) <= WorkerOnline {
				st.ActiveWorkers++
			}
		}
		return nil
	})
	if q, err := m.deps.Store.ComputeVerifications(ctx, m.deps.Netuid, 10_000); err == nil {
		st.PendingVerifications = len(q)
	}
	return st
}

// resources lists the miners heard from within a day and their workers.
func (m *Mechanism) resources(ctx context.Context) []meshhub.ResourceMiner {
	now := m.now()
	var out []meshhub.ResourceMiner
	err := m.deps.Store.ComputeIssuanceWorkers(ctx, m.deps.Netuid, now.Add(-24*time.Hour), func(hotkey string, ws []store.ComputeIssuanceWorker) error {
		r := meshhub.ResourceMiner{Hotkey: hotkey, Status: "OFFLINE"}
		for _, w := range ws {
			status := "offline"
			if now.Sub(w.LastHeartbeat) <= WorkerOnline {
				status, r.Status = "online", "ACTIVE"
			}
			r.Workers = append(r.Workers, meshhub.ResourceWorker{WorkerKey: w.Hotkey + ":" + w.WorkerID, WorkerID: w.WorkerID, Status: status,
				Capabilities: w.Capabilities, LeaseScore: w.LeaseScore, LastSeenAt: w.LastHeartbeat.Format(time.RFC3339)})
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil
	}
	return out
}

// HealthChecks: the store answers.
func (m *Mechanism) HealthChecks() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{"compute store": func(ctx context.Context) error {
		_, err := m.deps.Store.ComputeVerifications(ctx, m.deps.Netuid, 1)
		return err
	}}
}
