package subtensor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/bittensor/yuma"
)

// WeightMode is how weights reach the chain.
type WeightMode int

const (
	// ModeSet is set_weights: the weights apply at once. Subnets with
	// commit-reveal off.
	ModeSet WeightMode = iota
	// ModeTimelock is commit_timelocked_weights: the weights are encrypted
	// to a drand round and the chain reveals them itself. Subnets with
	// commit-reveal on; what the SDK does there.
	ModeTimelock
	// ModeHashCommit is commit_weights now and reveal_weights one reveal
	// period later, with a salt the caller keeps (CommitStore).
	ModeHashCommit
)

var modeNames = [...]string{"set", "timelock", "hash-commit"}

func (m WeightMode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("WeightMode(%d)", int(m))
}

// ParseWeightMode reads "set", "timelock" or "hash-commit".
func ParseWeightMode(s string) (WeightMode, error) {
	for i, n := range modeNames {
		if s == n {
			return WeightMode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown weight mode %q (want set, timelock or hash-commit)", s)
}

// Errors of the checks made before submitting weights.
var (
	ErrSubnetNotFound = errors.New("subnet does not exist")
	// ErrBlockNotFound: the node has no header for the block hash asked.
	ErrBlockNotFound = errors.New("block not found")
	ErrNotRegistered = errors.New("hotkey is not registered on the subnet")
)

// RateLimitError says the uid set or committed weights too recently:
// Blocks more blocks must pass (WeightsSetRateLimit since LastUpdate).
type RateLimitError struct {
	Blocks, LastUpdate, Limit uint64
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("weights rate limit: last set at block %d, limit %d blocks; wait %d more", e.LastUpdate, e.Limit, e.Blocks)
}

// WeightState is what the chain says about one hotkey's weight setting on
// a subnet, read at one block.
type WeightState struct {
	Netuid    uint16
	Hotkey    AccountID
	Block     uint64
	BlockHash string
	// Timestamp is the block's Timestamp.Now; zero when the chain has none.
	Timestamp  time.Time
	Registered bool
	UID        uint16
	// N is the subnet's SubnetworkN, the number of uids.
	N      uint16
	Params SubnetParams
	// LastUpdate is the block at which the uid last set or committed
	// weights on mechanism 0; 0 means never.
	LastUpdate uint64
	// LastUpdates is LastUpdate per mechanism, indexed by mechanism id
	// (MechanismCount entries once registered): each mechanism has its own
	// rate limit.
	LastUpdates []uint64
	// CommitRevealVersion is the chain's CommitRevealWeightsVersion, which
	// a timelocked commit must carry.
	CommitRevealVersion uint16
	// LastStoredRound is Drand.LastStoredRound, the latest pulse on chain.
	LastStoredRound uint64
	// Schedule is the subnet's epoch scheduler state, on runtimes that
	// have the stateful scheduler; nil on those that run the legacy one.
	Schedule *EpochSchedule
	// StakeThreshold is SubtensorModule.StakeThreshold: the stake a hotkey
	// other than the subnet owner's needs for its weights to be taken.
	StakeThreshold uint64
	// MechanismCount is the subnet's MechanismCountCurrent: its incentive
	// mechanisms, each with weights of its own (1 on runtimes without it).
	MechanismCount uint8
	// Genesis is the chain's genesis hash, as signing uses it.
	Genesis [32]byte
}

// Mode is the mode the chain requires: timelocked commits when commit-reveal
// is on (set_weights then fails with CommitRevealEnabled), set_weights
// otherwise.
func (s *WeightState) Mode() WeightMode {
	if s.Params.CommitRevealEnabled {
		return ModeTimelock
	}
	return ModeSet
}

// BlocksUntilAllowed is how many blocks must pass before the rate limit
// lets the uid set or commit weights on mechanism 0; 0 means now.
func (s *WeightState) BlocksUntilAllowed() uint64 { return s.BlocksUntilAllowedOn(0) }

// LastUpdateOn is the uid's LastUpdate on mechanism mecid.
func (s *WeightState) LastUpdateOn(mecid uint8) uint64 {
	if mecid == 0 {
		return s.LastUpdate
	}
	if int(mecid) < len(s.LastUpdates) {
		return s.LastUpdates[mecid]
	}
	return 0
}

// BlocksUntilAllowedOn is BlocksUntilAllowed for mechanism mecid.
func (s *WeightState) BlocksUntilAllowedOn(mecid uint8) uint64 {
	limit, last := s.Params.WeightsSetRateLimit, s.LastUpdateOn(mecid)
	if last == 0 || s.Block < last {
		return 0
	}
	if since := s.Block - last; since < limit {
		return limit - since
	}
	return 0
}

// Ready reports whether the hotkey may submit weights on mechanism 0 now:
// it is registered and the rate limit has passed.
func (s *WeightState) Ready() error { return s.ReadyOn(0) }

// ReadyOn is Ready for mechanism mecid, which the subnet must have.
func (s *WeightState) ReadyOn(mecid uint8) error {
	if !s.Registered {
		return fmt.Errorf("%w: %s on netuid %d", ErrNotRegistered, s.Hotkey.Hex(), s.Netuid)
	}
	if mecid >= max(s.MechanismCount, 1) {
		return fmt.Errorf("%w: netuid %d has %d incentive mechanisms, no mechanism %d", ErrBadWeights, s.Netuid, max(s.MechanismCount, 1), mecid)
	}
	if b := s.BlocksUntilAllowedOn(mecid); b > 0 {
		return &RateLimitError{Blocks: b, LastUpdate: s.LastUpdateOn(mecid), Limit: s.Params.WeightsSetRateLimit}
	}
	return nil
}

// WeightState reads the weight-setting state of hotkey on netuid at the
// best block.
func (c *Client) WeightState(ctx context.Context, netuid uint16, hotkey AccountID) (*WeightState, error) {
	blk, err := c.Head(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	s := &WeightState{Netuid: netuid, Hotkey: hotkey, Block: blk.Number, BlockHash: blk.Hash, CommitRevealVersion: 4}
	at := blk.Hash
	nk := substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)}
	var added bool
	reads := []struct {
		pallet, item string
		keys         []substrate.MapKey
		read         func(r *scale.Reader) error
	}{
		{Pallet, "NetworksAdded", []substrate.MapKey{nk}, func(r *scale.Reader) (err error) { added, err = r.Bool(); return }},
		{Pallet, "SubnetworkN", []substrate.MapKey{nk}, func(r *scale.Reader) (err error) { s.N, err = r.U16(); return }},
		{Pallet, "CommitRevealWeightsVersion", nil, func(r *scale.Reader) (err error) { s.CommitRevealVersion, err = r.U16(); return }},
		{Pallet, "StakeThreshold", nil, func(r *scale.Reader) (err error) { s.StakeThreshold, err = r.U64(); return }},
		{"Drand", "LastStoredRound", nil, func(r *scale.Reader) (err error) { s.LastStoredRound, err = r.U64(); return }},
		{"Timestamp", "Now", nil, func(r *scale.Reader) error {
			ms, err := r.U64()
			if err == nil && ms > 0 && ms <= math.MaxInt64 {
				s.Timestamp = time.UnixMilli(int64(ms))
			}
			return err
		}},
	}
	for _, rd := range reads {
		if _, err := c.readValue(ctx, rd.pallet, rd.item, at, rd.read, rd.keys...); err != nil {
			return nil, err
		}
	}
	if !added {
		return nil, fmt.Errorf("%w: netuid %d", ErrSubnetNotFound, netuid)
	}
	if s.UID, s.Registered, err = c.UID(ctx, netuid, hotkey, at); err != nil {
		return nil, err
	}
	if s.Params, err = c.SubnetParams(ctx, netuid, at); err != nil {
		return nil, err
	}
	// What the runtime has is read from its metadata, fetched once per
	// runtime and connection.
	tc, err := c.txContext(ctx)
	if err != nil {
		return nil, err
	}
	s.Genesis = tc.genesis
	if s.Schedule, err = c.epochSchedule(ctx, tc.md, netuid, s.Params.Tempo, s.Block, at); err != nil {
		return nil, err
	}
	if s.MechanismCount, err = c.mechanismCount(ctx, tc.md, netuid, at); err != nil {
		return nil, err
	}
	if s.Registered {
		// LastUpdate is keyed by the storage index: the netuid for
		// mechanism 0, netuid + m·4096 for mechanism m.
		s.LastUpdates = make([]uint64, s.MechanismCount)
		for m := range s.MechanismCount {
			lu, err := c.LastUpdate(ctx, StorageIndex(netuid, m), at)
			if err != nil {
				return nil, err
			}
			if int(s.UID) < len(lu) {
				s.LastUpdates[m] = lu[s.UID]
			}
		}
		s.LastUpdate = s.LastUpdates[0]
	}
	return s, nil
}

// WeightPlan is a set of weights processed for the chain: the u16 vectors
// a weights extrinsic carries, and the mode that will carry them.
type WeightPlan struct {
	Netuid uint16
	// Mechanism is the incentive mechanism the weights are for (0 unless
	// set): mechanism 0 goes out with set_weights and
	// commit_timelocked_weights, others with their *_mechanism_* calls.
	Mechanism  uint8
	Mode       WeightMode
	UIDs       []uint16
	Values     []uint16
	VersionKey uint64
}

// Plan processes scores (any non-negative scale, one per uid) as the SDK
// does with the subnet's parameters — ProcessWeights with its
// MinAllowedWeights and MaxWeightsLimit, then ConvertWeights — and picks the
// mode the chain requires and the subnet's WeightsVersionKey. Set the
// plan's fields to override either.
func (s *WeightState) Plan(uids []uint16, scores []float64) (*WeightPlan, error) {
	if s.N == 0 {
		return nil, fmt.Errorf("%w: netuid %d has no neurons", ErrBadWeights, s.Netuid)
	}
	seen := make(map[uint16]bool, len(uids))
	for _, u := range uids {
		if u >= s.N {
			return nil, fmt.Errorf("%w: uid %d is not on netuid %d (%d uids)", ErrBadWeights, u, s.Netuid, s.N)
		}
		if seen[u] {
			return nil, fmt.Errorf("%w: uid %d given twice", ErrBadWeights, u)
		}
		seen[u] = true
	}
	pu, pw, err := ProcessWeights(uids, scores, int(s.N), int(s.Params.MinAllowedWeights), float64(s.Params.MaxWeightsLimit)/U16Max, 0)
	if err != nil {
		return nil, err
	}
	cu, cv, err := ConvertWeights(pu, pw)
	if err != nil {
		return nil, err
	}
	return &WeightPlan{Netuid: s.Netuid, Mode: s.Mode(), UIDs: cu, Values: cv, VersionKey: s.Params.WeightsVersionKey}, nil
}

// PlanDirect is how a validator that skips process_weights_for_netuid
// submits (the reference compute validator: its float64 weights go
// straight through convert_weights_and_uids_for_emit, in the order given):
// that vector when the chain takes it — at least MinAllowedWeights uids,
// no weight over MaxWeightsLimit — and otherwise Plan's, which it takes
// (where the reference's own submission fails).
func (s *WeightState) PlanDirect(uids []uint16, weights []float64) (*WeightPlan, error) {
	seen := make(map[uint16]bool, len(uids))
	for _, u := range uids {
		if seen[u] {
			return nil, fmt.Errorf("%w: uid %d given twice", ErrBadWeights, u)
		}
		seen[u] = true
	}
	cu, cv, err := ConvertWeights(uids, weights)
	if err != nil {
		return nil, err
	}
	for _, u := range cu {
		if u >= s.N {
			return nil, fmt.Errorf("%w: uid %d is not on netuid %d (%d uids)", ErrBadWeights, u, s.Netuid, s.N)
		}
	}
	var sum, top float64
	for _, v := range cv {
		sum += float64(v)
		top = max(top, float64(v))
	}
	limited := s.Params.MaxWeightsLimit != U16Max && sum > 0 && top/sum > float64(s.Params.MaxWeightsLimit)/U16Max
	if len(cu) == 0 || len(cu) < int(min(s.Params.MinAllowedWeights, s.N)) || limited {
		return s.Plan(uids, weights)
	}
	return &WeightPlan{Netuid: s.Netuid, Mode: s.Mode(), UIDs: cu, Values: cv, VersionKey: s.Params.WeightsVersionKey}, nil
}

// WeightOptions tune SubmitWeights.
type WeightOptions struct {
	Submit SubmitOptions
	// Beacon is the drand network the chain stores pulses from (default
	// Quicknet; a development chain names its own).
	Beacon *timelock.Beacon
	// BlockTime is the chain's block interval (default 12 s).
	BlockTime time.Duration
	// Rand supplies the encryption randomness and salts (default
	// crypto/rand).
	Rand io.Reader
	// Commits keeps hash commits until they are revealed; required for
	// ModeHashCommit.
	Commits CommitStore
}

func (o WeightOptions) beacon() timelock.Beacon {
	if o.Beacon != nil {
		return *o.Beacon
	}
	return timelock.Quicknet
}

func (o WeightOptions) blockTime() time.Duration {
	if o.BlockTime > 0 {
		return o.BlockTime
	}
	return 12 * time.Second
}

func (o WeightOptions) rand() io.Reader {
	if o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

// WeightResult is what SubmitWeights did.
type WeightResult struct {
	*substrate.SubmitResult
	Mode WeightMode
	// RevealRound is the drand round a timelocked commit opens at.
	RevealRound uint64
	// CommitHash is the hash committed in ModeHashCommit.
	CommitHash [32]byte
}

// SubmitWeights submits a plan signed by the hotkey the state was read
// for, after checking that the hotkey is registered and the rate limit has
// passed. In ModeTimelock the payload is encrypted to RevealRound's round;
// in ModeHashCommit the salt and vectors are saved in opts.Commits before
// the commit is sent, so a reveal survives a restart (see RevealCommits).
func (c *Client) SubmitWeights(ctx context.Context, signer substrate.Signer, s *WeightState, plan *WeightPlan, opts WeightOptions) (*WeightResult, error) {
	if pk := signer.PublicKey(); AccountID(pk) != s.Hotkey {
		return nil, fmt.Errorf("signer %x is not the hotkey %s the state was read for", pk, s.Hotkey.Hex())
	}
	if plan.Netuid != s.Netuid {
		return nil, fmt.Errorf("plan for netuid %d, state of netuid %d", plan.Netuid, s.Netuid)
	}
	if err := s.ReadyOn(plan.Mechanism); err != nil {
		return nil, err
	}
	if len(plan.UIDs) == 0 {
		return nil, fmt.Errorf("%w: no weights to submit", ErrBadWeights)
	}
	out := &WeightResult{Mode: plan.Mode}
	var call Call
	var err error
	switch plan.Mode {
	case ModeSet:
		if plan.Mechanism == 0 {
			call, err = SetWeights(plan.Netuid, plan.UIDs, plan.Values, plan.VersionKey)
		} else {
			call, err = SetMechanismWeights(plan.Netuid, plan.Mechanism, plan.UIDs, plan.Values, plan.VersionKey)
		}
	case ModeTimelock:
		call, out.RevealRound, _, err = timelockCall(s, plan, opts)
	case ModeHashCommit:
		if plan.Mechanism != 0 {
			return nil, fmt.Errorf("%w: hash commits are made on mechanism 0 only; mechanism %d takes set or timelocked weights", ErrBadWeights, plan.Mechanism)
		}
		return c.commitHashed(ctx, signer, s, plan, opts)
	default:
		err = fmt.Errorf("unknown weight mode %d", plan.Mode)
	}
	if err != nil {
		return nil, err
	}
	out.SubmitResult, err = c.Submit(ctx, signer, call, opts.Submit)
	return out, err
}

// PrepareTimelock builds, without submitting, the timelocked commit
// SubmitWeights would send for plan: its drand round and ciphertext.
func PrepareTimelock(s *WeightState, plan *WeightPlan, opts WeightOptions) (round uint64, ciphertext []byte, err error) {
	_, round, ciphertext, err = timelockCall(s, plan, opts)
	return round, ciphertext, err
}

func timelockCall(s *WeightState, plan *WeightPlan, opts WeightOptions) (Call, uint64, []byte, error) {
	payload, err := TimelockPayload(s.Hotkey, plan.UIDs, plan.Values, plan.VersionKey)
	if err != nil {
		return Call{}, 0, nil, err
	}
	if len(payload) > timelock.MaxPayloadSize {
		return Call{}, 0, nil, fmt.Errorf("timelocked commit: %d uids make a %d-byte payload, over the chain's %d (at most %d uids)",
			len(plan.UIDs), len(payload), timelock.MaxPayloadSize, (timelock.MaxPayloadSize-45)/4)
	}
	now := s.Timestamp
	if now.IsZero() {
		now = time.Now()
	}
	b := opts.beacon()
	target, err := s.RevealTarget()
	if err != nil {
		return Call{}, 0, nil, err
	}
	round, err := RevealRound(b, now, opts.blockTime(), s.Block, target.RevealBlock, s.LastStoredRound)
	if err != nil {
		return Call{}, 0, nil, err
	}
	ct, err := timelock.Encrypt(b, round, payload, opts.rand())
	if err != nil {
		return Call{}, 0, nil, err
	}
	var call Call
	if plan.Mechanism == 0 {
		call, err = CommitTimelockedWeights(plan.Netuid, ct, round, s.CommitRevealVersion)
	} else {
		call, err = CommitTimelockedMechanismWeights(plan.Netuid, plan.Mechanism, ct, round, s.CommitRevealVersion)
	}
	return call, round, ct, err
}

// Epoch arithmetic of the legacy schedule, the one finney runs: the epoch
// of block b on a subnet is (b + netuid + 1) / (tempo + 1). netuid is the
// storage index (the netuid for mechanism 0).

// EpochOf is the epoch index of a block.
func EpochOf(block uint64, netuid, tempo uint16) uint64 {
	return (block + uint64(netuid) + 1) / (uint64(tempo) + 1)
}

// EpochStart is the first block of an epoch (0 for epochs that began
// before block 0).
func EpochStart(epoch uint64, netuid, tempo uint16) uint64 {
	first := epoch * (uint64(tempo) + 1)
	if off := uint64(netuid) + 1; first > off {
		return first - off
	}
	return 0
}

// revealMargin is how many blocks into the reveal epoch the chosen round
// falls, so that the pulse is on chain when the reveal runs (the SDK's
// SECURITY_BLOCK_OFFSET).
const revealMargin = 3

// RevealTarget is where a commit made now lands and when the chain reveals
// it.
type RevealTarget struct {
	// Scheduler is "stateful" (subtensor's LastEpochBlock scheduler, read
	// from the chain) or "legacy" ((block + netuid + 1) / (tempo + 1)).
	Scheduler   string `json:"scheduler"`
	CommitBlock uint64 `json:"commit_block"` // the block the commit lands in: the head's next
	CommitEpoch uint64 `json:"commit_epoch"`
	RevealEpoch uint64 `json:"reveal_epoch"`
	RevealBlock uint64 `json:"reveal_block"`
}

// RevealTarget predicts, for a commit submitted at the state's block (so
// included in the next), its epoch and the first block of its reveal epoch,
// where the chain reveals it: by simulating the chain's stateful scheduler
// when the runtime has one (Schedule), else with the legacy formula.
func (s *WeightState) RevealTarget() (RevealTarget, error) {
	rp := s.Params.RevealPeriodEpochs
	t := RevealTarget{CommitBlock: s.Block + 1}
	if s.Schedule != nil {
		ce, rb, err := s.Schedule.PredictReveal(rp)
		if err != nil {
			return t, fmt.Errorf("netuid %d: %w", s.Netuid, err)
		}
		t.Scheduler, t.CommitEpoch, t.RevealEpoch, t.RevealBlock = "stateful", ce, ce+rp, rb
		return t, nil
	}
	tempo := s.Params.Tempo
	if tempo == 0 {
		return t, fmt.Errorf("netuid %d: %w", s.Netuid, ErrNoEpochs)
	}
	t.Scheduler = "legacy"
	t.CommitEpoch = EpochOf(t.CommitBlock, s.Netuid, tempo)
	t.RevealEpoch = t.CommitEpoch + rp
	t.RevealBlock = EpochStart(t.RevealEpoch, s.Netuid, tempo)
	return t, nil
}

// RevealRound chooses the drand round of a timelocked commit made at block
// (whose time is now) to be revealed at revealBlock: the round published
// revealMargin blocks after it, as the SDK computes it, but never below the
// chain's LastStoredRound, which the chain rejects.
func RevealRound(b timelock.Beacon, now time.Time, blockTime time.Duration, block, revealBlock, lastStored uint64) (uint64, error) {
	if b.Period <= 0 {
		return 0, errors.New("beacon period must be positive")
	}
	target := revealBlock + revealMargin
	ahead := time.Duration(0)
	if target > block {
		ahead = time.Duration(target-block) * blockTime
	}
	// The SDK floors (target − genesis)/period, one round earlier than the
	// round published at target, for a little more margin.
	round := max(b.RoundAt(now.Add(ahead))-1, 1)
	return max(round, lastStored), nil
}

// saltLen is the number of u16 in a hash commit's salt.
const saltLen = 8

func newSalt(r io.Reader) ([]uint16, error) {
	var b [2 * saltLen]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	salt := make([]uint16, saltLen)
	for i := range salt {
		salt[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return salt, nil
}

func (c *Client) commitHashed(ctx context.Context, signer substrate.Signer, s *WeightState, plan *WeightPlan, opts WeightOptions) (*WeightResult, error) {
	if opts.Commits == nil {
		return nil, errors.New("hash commit: no commit store to keep the salt for the reveal")
	}
	salt, err := newSalt(opts.rand())
	if err != nil {
		return nil, err
	}
	pc := PendingCommit{
		Hotkey: s.Hotkey, Netuid: plan.Netuid, UIDs: slices.Clone(plan.UIDs), Values: slices.Clone(plan.Values),
		Salt: salt, VersionKey: plan.VersionKey, SubmittedAt: s.Block,
	}
	pc.Hash = CommitHash(s.Hotkey, plan.Netuid, pc.UIDs, pc.Values, salt, plan.VersionKey)
	// Saved before sending: a commit on chain whose salt is lost can never
	// be revealed.
	if err := opts.Commits.Put(ctx, pc); err != nil {
		return nil, fmt.Errorf("hash commit: save salt: %w", err)
	}
	out := &WeightResult{Mode: ModeHashCommit, CommitHash: pc.Hash}
	out.SubmitResult, err = c.Submit(ctx, signer, CommitWeights(plan.Netuid, pc.Hash), opts.Submit)
	var pe *PoolError
	var de *substrate.DispatchError
	if errors.As(err, &pe) || errors.As(err, &de) {
		// Definitely not on chain: forget it.
		_ = opts.Commits.Delete(ctx, s.Hotkey, plan.Netuid, pc.Hash)
		return out, err
	}
	if err != nil {
		// Unknown outcome (a lost connection, a deadline): keep the salt;
		// RevealCommits finds out.
		return out, err
	}
	if blk, herr := c.Head(ctx, out.BlockHash); herr == nil {
		pc.CommitBlock = blk.Number
		if perr := opts.Commits.Put(ctx, pc); perr != nil {
			return out, fmt.Errorf("hash commit: record commit block: %w", perr)
		}
	}
	return out, nil
}

// FitMaxWeightLimit makes the plan's values pass the rule subtensor applied
// while it enforced MaxWeightsLimit (yuma.MaxWeightLimited on the
// max-upscaled vector). The SDK's clipping leaves only a 1e-7 margin, which
// the rounding to u16 can eat: about one clipped vector in twenty is then
// refused with MaxWeightExceeded. The fit raises entries below the maximum
// by one unit at a time, the largest first (those nearest to rounding up),
// until the rule passes, and reports how many units it added; a vector that
// already passes is left exactly as the SDK makes it. It does nothing when
// limit is 65535 or when no vector of this length can pass
// (len·limit ≤ 65535).
func (p *WeightPlan) FitMaxWeightLimit(limit uint16) int {
	v := p.Values
	if limit == U16Max || len(v)*int(limit) <= U16Max || yuma.MaxWeightLimited(yuma.MaxUpscale(v), limit) {
		return 0
	}
	order := make([]int, 0, len(v))
	for i, x := range v {
		if x < U16Max {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(v[b]) - int(v[a]) })
	added := 0
	for round := 0; round < U16Max && len(order) > 0; round++ {
		for _, i := range order {
			if v[i] < U16Max-1 {
				v[i]++
				added++
			}
			if yuma.MaxWeightLimited(yuma.MaxUpscale(v), limit) {
				return added
			}
		}
	}
	return added
}

// epochSchedule reads the stateful scheduler's storage at block hash at,
// when the runtime's metadata has it (nil, nil when it does not).
func (c *Client) epochSchedule(ctx context.Context, md *substrate.Metadata, netuid, tempo uint16, block uint64, at string) (*EpochSchedule, error) {
	if _, _, err := md.StorageEntry(Pallet, "LastEpochBlock"); err != nil {
		return nil, nil
	}
	sch := &EpochSchedule{Block: block, Tempo: tempo}
	nk := substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)}
	for _, rd := range []struct {
		item string
		dst  *uint64
	}{
		{"LastEpochBlock", &sch.LastEpochBlock},
		{"PendingEpochAt", &sch.PendingEpochAt},
		{"SubnetEpochIndex", &sch.EpochIndex},
		{"BlocksSinceLastStep", &sch.BlocksSinceLastStep},
	} {
		if _, err := c.readValue(ctx, Pallet, rd.item, at, func(r *scale.Reader) (err error) { *rd.dst, err = r.U64(); return }, nk); err != nil {
			return nil, err
		}
	}
	return sch, nil
}

// mechanismCount reads MechanismCountCurrent at at, 1 on runtimes whose
// metadata lacks it.
func (c *Client) mechanismCount(ctx context.Context, md *substrate.Metadata, netuid uint16, at string) (uint8, error) {
	if _, _, err := md.StorageEntry(Pallet, "MechanismCountCurrent"); err != nil {
		return 1, nil
	}
	n := uint8(1)
	_, err := c.readValue(ctx, Pallet, "MechanismCountCurrent", at, func(r *scale.Reader) (err error) { n, err = r.U8(); return },
		substrate.MapKey{Hasher: substrate.Twox64Concat, Key: netuidKey(netuid)})
	return max(n, 1), err
}
