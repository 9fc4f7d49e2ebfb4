// Package validator is the host every mechanism plugs into: it keeps a
// fresh metagraph, asks the mechanism for scores at the subnet's cadence,
// and puts weights on chain the way the chain requires (set_weights or a
// timelocked commit), recording every attempt so that a restart never
// submits twice inside the rate limit.
package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/logthrottle"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/store"
)

// Mechanism is what the weight loop needs of a subnet mechanism (a
// mechanism.Mechanism is one): its name and its scores.
type Mechanism interface {
	// Name identifies the mechanism in logs and metrics.
	Name() string
	// Scores rates hotkeys of the metagraph on any non-negative scale;
	// hotkeys left out score 0. An empty or all-zero result means "nothing
	// to say yet": no weights are submitted.
	Scores(ctx context.Context, mg *subtensor.Metagraph) (map[subtensor.AccountID]float64, error)
}

// DirectWeights is implemented by a mechanism whose reference validator
// submits its weights without process_weights_for_netuid (the compute
// subnet's): when DirectWeights is true its scores go out converted as
// they are, in ascending hotkey order, as long as the chain takes that
// vector (subtensor.WeightState.PlanDirect).
type DirectWeights interface {
	DirectWeights() bool
}

// Chain is what the weight loop reads from and sends to the chain.
type Chain interface {
	WeightState(ctx context.Context, netuid uint16, hotkey subtensor.AccountID) (*subtensor.WeightState, error)
	Metagraph(ctx context.Context, netuid uint16, hash string) (*subtensor.Metagraph, error)
	SubmitWeights(ctx context.Context, signer substrate.Signer, st *subtensor.WeightState, plan *subtensor.WeightPlan, opts subtensor.WeightOptions) (*subtensor.WeightResult, error)
	Head(ctx context.Context, hash string) (subtensor.Block, error)
	TimelockRevealedIn(ctx context.Context, netuid uint16, mecid uint8, hotkey subtensor.AccountID, from, to uint64) (uint64, bool, error)
}

// Journal is where the weight loop records its submissions and their fate.
type Journal interface {
	RecordWeightSubmission(ctx context.Context, w *store.WeightSubmission) error
	UpdateWeightSubmission(ctx context.Context, id int64, r store.SubmissionResult) error
	WeightSubmissionsOn(ctx context.Context, genesis string, netuid uint16, limit int, outcomes ...store.Outcome) ([]store.WeightSubmission, error)
	MechanismSubmissionsOn(ctx context.Context, genesis string, netuid uint16, mecid uint8, limit int, outcomes ...store.Outcome) ([]store.WeightSubmission, error)
	SetWeightReveal(ctx context.Context, id int64, r store.Reveal, note string) error
}

var (
	_ Chain   = (*subtensor.Client)(nil)
	_ Journal = (*store.Store)(nil)
)

// Config wires a Validator.
type Config struct {
	Netuid    uint16
	Hotkey    *keys.KeyPair
	Client    Chain
	Store     Journal
	Mechanism Mechanism
	// Metagraph receives each metagraph the loop reads, for the mechanism
	// and blacklists (a holder of its own when nil).
	Metagraph *mechanism.Metagraph
	// Tick is how often the loop looks at the chain (default 12 s, a
	// block).
	Tick time.Duration
	// EveryBlocks is the weight cadence in blocks (default: the subnet's
	// tempo); the chain's rate limit is never beaten whatever it is.
	EveryBlocks uint64
	// VersionKey overrides the subnet's WeightsVersionKey when set.
	VersionKey *uint64
	// Mechanisms are the subnet's incentive mechanisms to set weights on
	// (weights.mechanisms), each with the scores of the one Mechanism; nil
	// means mechanism 0 of a subnet that has only that one.
	Mechanisms []uint8
	// Weights tunes submission (beacon, block time, era).
	Weights subtensor.WeightOptions
	// Attempts bounds tries per window on transient failures (default 3),
	// Backoff the first pause between them (default 2 s, doubling).
	Attempts int
	Backoff  time.Duration
	// MetagraphMaxAge is when /health calls the metagraph stale (default
	// 5 min).
	MetagraphMaxAge time.Duration
	Clock           clock.Clock
	Log             *slog.Logger
	Registerer      prometheus.Registerer
}

// Validator runs the weight loop of one subnet.
type Validator struct {
	cfg Config
	m   *metrics

	mu        sync.Mutex
	mgAt      time.Time // when cfg.Metagraph was last stored
	chainErr  error
	chainAt   time.Time
	lastState *subtensor.WeightState
	started   time.Time

	// fitMaxWeight is set once the chain refused a vector with
	// MaxWeightExceeded: it enforces MaxWeightsLimit (today's subtensor does
	// not), so vectors are fitted to its rule from then on.
	fitMaxWeight atomic.Bool

	// genesis is the chain the journal is read for (0x-hex); skipLogged
	// the due block last logged as skipped.
	genesis    string
	skipLogged uint64
	// gateErr is why the chain would not take weights now, or nil;
	// lastDropped the latest confirmed reveal, when the chain dropped it.
	gateErr     error
	lastDropped *store.WeightSubmission
	// revealCursor is, per journal row, the next block whose events to read.
	revealCursor map[int64]uint64
	warns        *logthrottle.Logger
	// nextDue is the block the next weights are due at, 0 when due now
	// or unknown; skipReason why the last step submitted nothing.
	nextDue    uint64
	skipReason string
}

// ErrNotRegistered is wrapped by Check when the hotkey has no uid.
var ErrNotRegistered = errors.New("hotkey not registered")

// ErrWeightsRefused is wrapped when the chain would refuse this hotkey's
// weights now — for a timelocked commit, drop them silently at the reveal
// — so nothing is submitted.
var ErrWeightsRefused = errors.New("the chain would not take weights from this hotkey")

// weightGate is subtensor's check of a weight setter, made before anything
// is sent: a validator permit (check_validator_permit) and stake of at
// least StakeThreshold (check_weights_min_stake), the subnet owner's hotkey
// exempt from both.
func weightGate(st *subtensor.WeightState, mg *subtensor.Metagraph) error {
	if mg.OwnerHotkey == st.Hotkey {
		return nil
	}
	for _, n := range mg.Neurons {
		if n.UID != st.UID || n.Hotkey != st.Hotkey {
			continue
		}
		if !n.ValidatorPermit {
			return fmt.Errorf("%w: uid %d has no validator permit on netuid %d (each epoch gives permits to the top %d by stake); a timelocked commit would be dropped at its reveal",
				ErrWeightsRefused, n.UID, st.Netuid, mg.MaxValidators)
		}
		if n.Stake < st.StakeThreshold {
			return fmt.Errorf("%w: uid %d has %.9f of stake on netuid %d, below the chain's StakeThreshold of %.9f",
				ErrWeightsRefused, n.UID, float64(n.Stake)/1e9, st.Netuid, float64(st.StakeThreshold)/1e9)
		}
		return nil
	}
	return nil // not in this metagraph: the registration check speaks
}

// New checks the configuration and builds a Validator.
func New(cfg Config) (*Validator, error) {
	switch {
	case cfg.Hotkey == nil || !cfg.Hotkey.CanSign():
		return nil, errors.New("validator: no signing hotkey specified")
	case cfg.Client == nil:
		return nil, errors.New("validator: no chain client specified")
	case cfg.Store == nil:
		return nil, errors.New("validator: no journal specified")
	case cfg.Mechanism == nil:
		return nil, errors.New("validator: no mechanism specified")
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 12 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.MetagraphMaxAge <= 0 {
		cfg.MetagraphMaxAge = 5 * time.Minute
	}
	if cfg.Metagraph == nil {
		cfg.Metagraph = &mechanism.Metagraph{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	v := &Validator{cfg: cfg, revealCursor: map[int64]uint64{}, warns: logthrottle.New(cfg.Log, cfg.Clock, 0, 0)}
	v.m = newMetrics(cfg.Registerer, cfg.Mechanism.Name(), v)
	v.started = cfg.Clock.Now()
	return v, nil
}

func (v *Validator) hotkey() subtensor.AccountID {
	return subtensor.AccountID(v.cfg.Hotkey.PublicKey())
}

// Check refuses to start a validator whose hotkey is not registered on the
// subnet, with the command that fixes it.
func (v *Validator) Check(ctx context.Context) error {
	st, err := v.cfg.Client.WeightState(ctx, v.cfg.Netuid, v.hotkey())
	if err != nil {
		return fmt.Errorf("read the chain: %w", err)
	}
	if !st.Registered {
		return fmt.Errorf("%w: %s has no uid on netuid %d; register it with 'vigil chain register --netuid %d' (it burns TAO from the coldkey)",
			ErrNotRegistered, v.cfg.Hotkey.SS58(), v.cfg.Netuid, v.cfg.Netuid)
	}
	count := max(st.MechanismCount, 1)
	if count > 1 && len(v.cfg.Mechanisms) == 0 {
		return fmt.Errorf("%w: netuid %d has %d incentive mechanisms, each paying dividends for its own weights; set weights.mechanisms to the ids to set (\"0,1\" for the first two), knowing that a mechanism left out pays this validator nothing",
			ErrMechanisms, v.cfg.Netuid, count)
	}
	for _, m := range v.cfg.Mechanisms {
		if m >= count {
			return fmt.Errorf("%w: weights.mechanisms names mechanism %d, but netuid %d has %d (ids 0 to %d)",
				ErrMechanisms, m, v.cfg.Netuid, count, count-1)
		}
	}
	if unset := count - uint8(len(v.mechanisms(st))); unset > 0 {
		v.cfg.Log.Warn("the subnet has incentive mechanisms this validator sets no weights on (weights.mechanisms)",
			"netuid", v.cfg.Netuid, "mechanisms", count, "set", v.mechanisms(st))
	}
	return nil
}

// mechanisms are the mechanisms to set weights on at st: the configured
// ones the subnet has (it may have fewer since Check), mechanism 0 when
// none are configured.
func (v *Validator) mechanisms(st *subtensor.WeightState) []uint8 {
	if len(v.cfg.Mechanisms) == 0 {
		return []uint8{0}
	}
	out := make([]uint8, 0, len(v.cfg.Mechanisms))
	for _, m := range v.cfg.Mechanisms {
		if m < max(st.MechanismCount, 1) {
			out = append(out, m)
		}
	}
	return out
}

// ErrMechanisms is wrapped by Check for a subnet with several incentive
// mechanisms when weights.mechanisms does not say which to set.
var ErrMechanisms = errors.New("weights.mechanisms is required")

// Metagraph is the latest metagraph read, nil before the first.
func (v *Validator) Metagraph() *subtensor.Metagraph { return v.cfg.Metagraph.Load() }

// Run loops every Tick until ctx ends: refresh the metagraph, then submit
// weights when due. Errors are logged and counted; the loop goes on.
func (v *Validator) Run(ctx context.Context) error {
	t := v.cfg.Clock.NewTicker(v.cfg.Tick)
	defer t.Stop()
	// A failure that repeats every tick (a node refusing our signature, a
	// Prometheus down) is logged at backing-off intervals, with the count.
	warns := logthrottle.New(v.cfg.Log, v.cfg.Clock, 0, 0)
	for {
		_, err := v.Step(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			warns.Warn("step", "weight loop", "err", err)
		case err == nil:
			if n := warns.Reset("step"); n > 0 {
				v.cfg.Log.Info("weight loop recovered", "failures_not_logged", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// StepResult says what one Step did.
type StepResult struct {
	Block     uint64
	Submitted bool
	// Reason is why nothing was submitted ("" when something was).
	Reason string
	// Result is the last submission's; Mechanisms are the mechanisms
	// weights went out for, in order.
	Result     *subtensor.WeightResult
	Mechanisms []uint8
	next       uint64 // when nothing was due: the block the next weights are
}

// Step runs one pass of the loop.
func (v *Validator) Step(ctx context.Context) (StepResult, error) {
	res, err := v.step(ctx)
	v.mu.Lock()
	v.nextDue, v.skipReason = res.next, res.Reason
	if err != nil && res.Reason == "" {
		v.skipReason = err.Error()
	}
	v.mu.Unlock()
	return res, err
}

func (v *Validator) step(ctx context.Context) (StepResult, error) {
	st, err := v.cfg.Client.WeightState(ctx, v.cfg.Netuid, v.hotkey())
	v.chainSeen(err)
	if err != nil {
		return StepResult{}, fmt.Errorf("weight state: %w", err)
	}
	genesis := fmt.Sprintf("%#x", st.Genesis)
	v.mu.Lock()
	if v.genesis != "" && v.genesis != genesis {
		v.cfg.Log.Warn("the chain's genesis hash changed (a new chain at this address): its weight journal starts afresh",
			"was", v.genesis, "now", genesis, "block", st.Block)
	}
	v.genesis, v.lastState = genesis, st
	v.mu.Unlock()
	res := StepResult{Block: st.Block}
	if err := v.resolvePending(ctx, st, genesis); err != nil {
		return res, err
	}
	// Confirming reveals reads old blocks' events, which a pruned node may
	// no longer have: a failure is reported, never a reason to stop setting
	// weights.
	if err := v.confirmReveals(ctx, st, genesis); err != nil {
		v.warns.Warn("reveals", "cannot confirm timelocked reveals", "err", err)
	} else {
		v.warns.Reset("reveals")
	}
	mg, err := v.cfg.Client.Metagraph(ctx, v.cfg.Netuid, st.BlockHash)
	v.chainSeen(err)
	if err != nil {
		return res, fmt.Errorf("metagraph: %w", err)
	}
	v.mu.Lock()
	v.mgAt = v.cfg.Clock.Now()
	v.cfg.Metagraph.Store(mg)
	v.mu.Unlock()
	if !st.Registered {
		res.Reason = "hotkey not registered"
		return res, fmt.Errorf("%w on netuid %d", ErrNotRegistered, v.cfg.Netuid)
	}
	gateErr := weightGate(st, mg)
	v.mu.Lock()
	v.gateErr = gateErr
	v.mu.Unlock()
	if gateErr != nil {
		res.Reason = gateErr.Error()
		return res, gateErr
	}
	// Each mechanism has its own LastUpdate and rate limit; the scores are
	// computed once, for those that are due.
	var due []uint8
	next := uint64(math.MaxUint64)
	for _, m := range v.mechanisms(st) {
		last, err := v.lastSubmissionBlock(ctx, st, genesis, m)
		if err != nil {
			return res, err
		}
		if m == 0 {
			v.m.blocksSince.Set(float64(st.Block - min(st.Block, last)))
		}
		// The cadence is at least the rate limit, and last at least the
		// chain's LastUpdate: a mechanism due here is past its rate limit.
		if at := last + v.cadence(st); last > 0 && st.Block < at {
			if at < next {
				next, res.Reason = at, fmt.Sprintf("next weights at block %d", at)
			}
			continue
		}
		due = append(due, m)
	}
	if len(due) == 0 {
		if next != math.MaxUint64 {
			res.next = next
		}
		if res.Reason == "" {
			res.Reason = "no mechanism to set weights on"
		}
		v.logSkip(res.Reason, next)
		return res, nil
	}
	res.Reason = ""
	started := v.cfg.Clock.Now()
	mech := v.cfg.Mechanism
	scores, err := mech.Scores(ctx, mg)
	v.m.scorePass.Observe(v.cfg.Clock.Since(started).Seconds())
	if err != nil {
		return res, fmt.Errorf("%s scores: %w", mech.Name(), err)
	}
	neurons := mg.Neurons
	direct := false
	if d, ok := mech.(DirectWeights); ok && d.DirectWeights() {
		direct = true
		neurons = slices.Clone(neurons)
		ss58 := func(n subtensor.Neuron) string {
			s, _ := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
			return s
		}
		sort.SliceStable(neurons, func(i, j int) bool { return ss58(neurons[i]) < ss58(neurons[j]) })
	}
	uids := make([]uint16, len(neurons))
	weights := make([]float64, len(neurons))
	var any bool
	for i, n := range neurons {
		uids[i], weights[i] = n.UID, scores[n.Hotkey]
		any = any || weights[i] > 0
	}
	if !any {
		res.Reason = "no scores yet"
		return res, nil
	}
	for _, m := range due {
		plan, err := st.Plan(uids, weights)
		if direct {
			plan, err = st.PlanDirect(uids, weights)
		}
		if err != nil {
			return res, err
		}
		plan.Mechanism = m
		if v.cfg.VersionKey != nil {
			plan.VersionKey = *v.cfg.VersionKey
		}
		// The SDK's vector, to the last u16, unless this chain has shown that it
		// refuses some of those: then the fitted one.
		if v.fitMaxWeight.Load() {
			if added := plan.FitMaxWeightLimit(st.Params.MaxWeightsLimit); added > 0 {
				v.cfg.Log.Info("weights fitted to the chain's max weight limit", "limit", st.Params.MaxWeightsLimit, "units_added", added)
			}
		}
		out, err := v.submit(ctx, st, plan)
		res.Result = out
		if err != nil {
			return res, err
		}
		res.Submitted = true
		res.Mechanisms = append(res.Mechanisms, m)
	}
	return res, nil
}

// cadence is the number of blocks between submissions.
func (v *Validator) cadence(st *subtensor.WeightState) uint64 {
	every := v.cfg.EveryBlocks
	if every == 0 {
		every = uint64(st.Params.Tempo)
	}
	return max(every, st.Params.WeightsSetRateLimit, 1)
}

// logSkip says once per due block why no weights go out now and when
// they will.
func (v *Validator) logSkip(reason string, due uint64) {
	v.mu.Lock()
	logged := v.skipLogged == due
	v.skipLogged = due
	v.mu.Unlock()
	if !logged {
		v.cfg.Log.Info("weights not due", "reason", reason, "next_block", due)
	}
}

// journalScan bounds the journal rows read to find the last submission of
// this chain.
const journalScan = 64

// lastSubmissionBlock is the latest of the chain's LastUpdate for our uid
// on mechanism m and the journal's last attempt for it on this chain that
// may have landed (pending or included), so that a restart during an
// unfinished submission waits. A row beyond the chain's head cannot be of
// this chain (a journal of unknown chain carried over a reset) and is
// passed over.
func (v *Validator) lastSubmissionBlock(ctx context.Context, st *subtensor.WeightState, genesis string, m uint8) (uint64, error) {
	last := st.LastUpdateOn(m)
	rows, err := v.cfg.Store.MechanismSubmissionsOn(ctx, genesis, v.cfg.Netuid, m, journalScan,
		store.OutcomePending, store.OutcomeIncluded, store.OutcomeFinalized)
	if err != nil {
		return 0, fmt.Errorf("weight journal: %w", err)
	}
	for _, ws := range rows {
		b := ws.Block
		if ws.IncludedBlock != nil {
			b = *ws.IncludedBlock
		}
		if b > st.Block {
			continue
		}
		return max(last, b), nil
	}
	return last, nil
}

// resolvePending settles journal rows left pending (a kill during a
// submission, a lost answer) from what the chain says: our LastUpdate
// after the attempt means it (or a later one) landed; an attempt older than
// its era can no longer land. Until then a row stays pending and holds the
// next submission back, as it may still be included.
func (v *Validator) resolvePending(ctx context.Context, st *subtensor.WeightState, genesis string) error {
	rows, err := v.cfg.Store.WeightSubmissionsOn(ctx, genesis, v.cfg.Netuid, journalScan, store.OutcomePending)
	if err != nil {
		return fmt.Errorf("weight journal: %w", err)
	}
	era := v.cfg.Weights.Submit.EraPeriod
	if era == 0 {
		era = 64
	}
	for _, ws := range rows {
		var r store.SubmissionResult
		switch {
		case ws.Genesis != genesis && ws.Block > st.Block:
			r = store.SubmissionResult{Outcome: store.OutcomeFailed, Error: "not on this chain: made at a block it has not reached"}
		case st.LastUpdateOn(ws.Mechanism) > ws.Block:
			lu := st.LastUpdateOn(ws.Mechanism)
			r = store.SubmissionResult{Outcome: store.OutcomeIncluded, IncludedBlock: &lu, TxHash: ws.TxHash,
				Error: "settled from the chain: LastUpdate is after the attempt"}
		case st.Block > ws.Block+era:
			r = store.SubmissionResult{Outcome: store.OutcomeFailed, TxHash: ws.TxHash,
				Error: fmt.Sprintf("never included: its %d-block era has passed", era)}
		default:
			continue
		}
		if err := v.cfg.Store.UpdateWeightSubmission(ctx, ws.ID, r); err != nil {
			return fmt.Errorf("weight journal: %w", err)
		}
		v.cfg.Log.Info("settled a pending weight submission", "id", ws.ID, "block", ws.Block, "outcome", r.Outcome, "why", r.Error)
	}
	return nil
}

func storeMode(m subtensor.WeightMode) store.SubmissionMode {
	switch m {
	case subtensor.ModeSet:
		return store.ModeSet
	case subtensor.ModeTimelock:
		return store.ModeTimelock
	default:
		return store.ModeCommit
	}
}

// submit records the attempt, submits with retries on transient failures
// inside the window, and records the outcome.
func (v *Validator) submit(ctx context.Context, st *subtensor.WeightState, plan *subtensor.WeightPlan) (*subtensor.WeightResult, error) {
	v.mu.Lock()
	genesis := v.genesis
	v.mu.Unlock()
	rec := &store.WeightSubmission{Genesis: genesis, Netuid: plan.Netuid, Mechanism: plan.Mechanism, Block: st.Block, Mode: storeMode(plan.Mode),
		UIDs: plan.UIDs, Weights: plan.Values, VersionKey: plan.VersionKey}
	if plan.Mode == subtensor.ModeTimelock {
		if target, err := st.RevealTarget(); err == nil {
			rec.RevealEpoch, rec.RevealBlock = &target.RevealEpoch, &target.RevealBlock
		}
	}
	if err := v.cfg.Store.RecordWeightSubmission(ctx, rec); err != nil {
		return nil, fmt.Errorf("weight journal: %w", err)
	}
	backoff := v.cfg.Backoff
	var out *subtensor.WeightResult
	var err error
	for attempt := 1; ; attempt++ {
		out, err = v.cfg.Client.SubmitWeights(ctx, v.cfg.Hotkey, st, plan, v.cfg.Weights)
		if err == nil || !substrate.IsRetriable(err) || attempt >= v.cfg.Attempts || ctx.Err() != nil {
			break
		}
		v.cfg.Log.Warn("weights submission failed; retrying", "attempt", attempt, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
		case <-v.cfg.Clock.After(backoff):
		}
		backoff *= 2
		// The chain may have moved on; sign against a fresh state.
		if fresh, serr := v.cfg.Client.WeightState(ctx, v.cfg.Netuid, v.hotkey()); serr == nil {
			st = fresh
		}
	}
	result := store.SubmissionResult{Outcome: store.OutcomeIncluded}
	if out != nil && out.SubmitResult != nil {
		result.TxHash = fmt.Sprintf("0x%x", out.TxHash)
		if blk, herr := v.cfg.Client.Head(ctx, out.BlockHash); herr == nil {
			result.IncludedBlock = &blk.Number
		}
		if out.Finalized {
			result.Outcome = store.OutcomeFinalized
		}
	}
	switch {
	case err == nil:
	case substrate.IsRetriable(err):
		// Unknown: it may still land. Left pending, which keeps the next
		// attempt after the cadence.
		result.Outcome = store.OutcomePending
		result.Error = err.Error()
	default:
		result.Outcome = store.OutcomeFailed
		result.Error = err.Error()
	}
	// The journal outlives a cancelled loop.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if uerr := v.cfg.Store.UpdateWeightSubmission(uctx, rec.ID, result); uerr != nil {
		v.cfg.Log.Error("weight journal", "err", uerr)
	}
	v.m.submissions.WithLabelValues(string(result.Outcome)).Inc()
	if de := (*substrate.DispatchError)(nil); errors.As(err, &de) && de.Name == "MaxWeightExceeded" && !v.fitMaxWeight.Swap(true) {
		v.cfg.Log.Warn("the chain enforces MaxWeightsLimit and refused the SDK's vector; vectors are fitted to its rule from now on",
			"limit", st.Params.MaxWeightsLimit)
	}
	if err != nil {
		return out, fmt.Errorf("submit weights (%s, mechanism %d): %w", plan.Mode, plan.Mechanism, err)
	}
	v.cfg.Log.Info("weights submitted", "mode", plan.Mode.String(), "mechanism", plan.Mechanism, "uids", len(plan.UIDs), "block", st.Block, "reveal_round", out.RevealRound)
	v.m.blocksSince.Set(0)
	return out, nil
}

func (v *Validator) chainSeen(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.chainErr = err
	if err == nil {
		v.chainAt = v.cfg.Clock.Now()
	}
}

// revealScan bounds the blocks whose events one step reads per commit.
const revealScan = 512

// confirmReveals settles the timelocked commits of this chain whose reveal
// epoch has come, from the blocks' events: revealed when the chain's
// TimelockedWeightsRevealed event for our hotkey is in a block from the
// predicted reveal block on; dropped when the reveal epoch has passed
// without it. Subtensor drops a reveal that fails (no permit, too little
// stake, a bad payload) without an event or an error, so this is the only
// way to know.
func (v *Validator) confirmReveals(ctx context.Context, st *subtensor.WeightState, genesis string) error {
	if !st.Registered {
		return nil
	}
	rows, err := v.cfg.Store.WeightSubmissionsOn(ctx, genesis, v.cfg.Netuid, journalScan, store.OutcomeIncluded, store.OutcomeFinalized)
	if err != nil {
		return fmt.Errorf("weight journal: %w", err)
	}
	now := currentEpoch(st)
	for _, w := range rows {
		if w.Mode != store.ModeTimelock || w.RevealEpoch == nil || w.RevealBlock == nil || w.Reveal != store.RevealUnknown ||
			now < *w.RevealEpoch || w.Genesis != genesis {
			continue
		}
		v.mu.Lock()
		from := max(v.revealCursor[w.ID], *w.RevealBlock)
		v.mu.Unlock()
		to := min(st.Block, from+revealScan-1)
		var at uint64
		found := false
		if from <= to {
			if at, found, err = v.cfg.Client.TimelockRevealedIn(ctx, v.cfg.Netuid, w.Mechanism, st.Hotkey, from, to); err != nil {
				return fmt.Errorf("reveal events: %w", err)
			}
		}
		v.mu.Lock()
		v.revealCursor[w.ID] = to + 1
		v.mu.Unlock()
		var outcome store.Reveal
		var note string
		switch {
		case found:
			outcome, note = store.RevealRevealed, fmt.Sprintf("revealed in block %d", at)
		case now > *w.RevealEpoch && to == st.Block:
			outcome, note = store.RevealDropped, fmt.Sprintf("reveal epoch %d passed without a reveal (blocks %d to %d read)", *w.RevealEpoch, *w.RevealBlock, to)
		default:
			continue
		}
		if err := v.cfg.Store.SetWeightReveal(ctx, w.ID, outcome, note); err != nil {
			return fmt.Errorf("weight journal: %w", err)
		}
		v.m.reveals.WithLabelValues(string(outcome)).Inc()
		v.mu.Lock()
		delete(v.revealCursor, w.ID)
		switch {
		case outcome == store.RevealDropped:
			v.cfg.Log.Warn("the chain dropped a timelocked commit at its reveal", "block", w.Block, "mechanism", w.Mechanism, "reveal_epoch", *w.RevealEpoch)
			if v.lastDropped == nil || w.Block >= v.lastDropped.Block {
				ws := w
				v.lastDropped = &ws
			}
		case v.lastDropped != nil && w.Block > v.lastDropped.Block:
			v.lastDropped = nil
		}
		v.mu.Unlock()
	}
	return nil
}

// currentEpoch is the epoch the chain is in at the state's block, by the
// scheduler it runs.
func currentEpoch(st *subtensor.WeightState) uint64 {
	if st.Schedule != nil {
		return st.Schedule.EpochIndex
	}
	return subtensor.EpochOf(st.Block, st.Netuid, st.Params.Tempo)
}

// Status is what the weight loop last saw of the chain and of this
// validator on it, for the operator's console.
type Status struct {
	Netuid  uint16
	Hotkey  string // SS58
	Genesis string // 0x-hex; "" before the first step
	Block   uint64
	// Registered and UID say whether (and as which uid) the hotkey is on
	// the subnet; the rest of this validator's row is from the metagraph.
	Registered bool
	UID        uint16
	Permit     bool
	Stake      uint64 // rao
	VTrust     float64
	Dividends  float64
	Emission   uint64 // rao, last epoch
	LastUpdate uint64
	// NextDue is the block the next weights are due at (0: due now, or not
	// known); Reason why the last step submitted nothing ("" if it did).
	NextDue   uint64
	Reason    string
	Mode      string // set or timelock, as the chain requires now
	Tempo     uint16
	RateLimit uint64
	// MetagraphAt is when the metagraph was last read (zero: never).
	MetagraphAt time.Time
}

// Status reports the loop's view; it reads nothing from the chain.
func (v *Validator) Status() Status {
	v.mu.Lock()
	defer v.mu.Unlock()
	hk := v.cfg.Hotkey.SS58()
	s := Status{Netuid: v.cfg.Netuid, Hotkey: hk, Genesis: v.genesis, NextDue: v.nextDue, Reason: v.skipReason, MetagraphAt: v.mgAt}
	if st := v.lastState; st != nil {
		s.Block, s.Registered, s.UID, s.LastUpdate = st.Block, st.Registered, st.UID, st.LastUpdate
		s.Mode, s.Tempo, s.RateLimit = st.Mode().String(), st.Params.Tempo, st.Params.WeightsSetRateLimit
	}
	if mg := v.cfg.Metagraph.Load(); mg != nil && s.Registered {
		for _, n := range mg.Neurons {
			if n.UID == s.UID && n.Hotkey == v.hotkey() {
				s.Permit, s.Stake, s.VTrust, s.Dividends, s.Emission = n.ValidatorPermit, n.Stake, n.ValidatorTrust.Float(), n.Dividends.Float(), n.Emission
			}
		}
	}
	return s
}
