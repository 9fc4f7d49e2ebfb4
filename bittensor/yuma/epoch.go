// Package yuma computes one Yuma Consensus epoch of a Bittensor subnet as a
// pure function, the way subtensor's runtime does it (the sparse path
// epoch_mechanism in pallets/subtensor/src/epoch/run_epoch.rs, with the
// helpers of epoch/math.rs).
//
// Given what the chain holds before an epoch (stakes, stored u16 weights and
// bonds, last updates, registration blocks, previous validator permits, the
// subnet hyperparameters), Epoch returns what the chain writes after it:
// consensus, incentive, dividends, validator trust, permits, new bonds and
// the rao emission split between miners and validators. A validator uses it
// to predict its dividends and the effect of its weights before the chain
// runs the epoch.
//
// The arithmetic is subtensor's fixed point (I32F32, I64F64 for stake
// normalization and the moving-average rate, I96F32 for emission), with the
// same rounding, so the u16 values the chain stores (floor(x·65535)) and the
// rao amounts match exactly. The exp used by liquid alpha is a port of
// substrate_fixed's series. Float64 outputs are the exact values of the
// fixed-point results.
package yuma

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
)

// Entry is one cell of a stored sparse row: a weight or bond of the row's uid
// towards UID, as the u16 the chain stores (weights are max-upscaled so the
// row's largest is 65535; Yuma 2 bonds are column max-upscaled, Yuma 3 bonds
// are proportions times 65535).
type Entry struct {
	UID   uint16
	Value uint16
}

// NoCommit marks a validator without a live commit in Inputs.CommitBlocks.
const NoCommit = math.MaxUint64

// Params are the subnet hyperparameters the epoch reads, in the units the
// chain stores them. The zero value is not the runtime default; see
// DefaultParams.
type Params struct {
	// Kappa is the consensus majority as a u16 proportion (32767 ≈ 0.5).
	Kappa uint16
	// BondsPenalty is the u16 proportion β in [0, 65535]: bonds are built
	// from W + β(W̄ − W), W̄ being the weights clipped at consensus.
	BondsPenalty uint16
	// BondsMovingAverage is the EMA memory in parts per million (900000
	// keeps 90% of the old bonds; the EMA rate is 1 − this/10^6).
	BondsMovingAverage uint64
	// Yuma3 selects the Yuma 3 bonds (Yuma3On); otherwise Yuma 2.
	Yuma3 bool
	// LiquidAlpha enables per-cell EMA rates (LiquidAlphaOn; Yuma 3 only).
	LiquidAlpha bool
	// AlphaLow and AlphaHigh bound the liquid-alpha rate, u16 proportions
	// (AlphaValues).
	AlphaLow, AlphaHigh uint16
	// AlphaSigmoidSteepness shapes the liquid-alpha sigmoid.
	AlphaSigmoidSteepness int16
	// MaxAllowedValidators is how many top-stake uids get a permit.
	MaxAllowedValidators uint16
	// ActivityCutoff is in blocks: a uid whose last update is more than
	// this many blocks old is inactive. At subtensor HEAD the chain derives
	// it as max(1, ActivityCutoffFactorMilli·Tempo/1000).
	ActivityCutoff uint64
	// StakeThreshold is the minimum total stake (rao, integer part) for a
	// uid other than the subnet owner to count at all.
	StakeThreshold uint64
	// Tempo is the subnet tempo in blocks; it dates the last epoch when
	// Inputs.LastMechanismStepBlock is 0.
	Tempo uint16
	// TaoWeight is the stored u64 weight of root TAO stake; the weight is
	// TaoWeight / (2^64 − 1).
	TaoWeight uint64
}

// DefaultParams returns the runtime defaults (subtensor runtime/src/lib.rs):
// tempo 360, Kappa 32767, BondsMovingAverage 900000, BondsPenalty 65535,
// AlphaValues (45875, 58982), steepness 1000, 128 validators, Yuma 2 without
// liquid alpha, activity cutoff 13889‰ of tempo = 5000 blocks, no stake
// threshold and no TAO weight. Live subnets override most of these.
func DefaultParams() Params {
	return Params{
		Kappa:                 32767,
		BondsPenalty:          65535,
		BondsMovingAverage:    900_000,
		AlphaLow:              45875,
		AlphaHigh:             58982,
		AlphaSigmoidSteepness: 1000,
		MaxAllowedValidators:  128,
		ActivityCutoff:        5000,
		Tempo:                 360,
	}
}

// Inputs is the subnet state before the epoch, indexed by uid 0..N−1.
// Every per-uid slice must have length N, except TaoStake, Weights, Bonds
// and CommitBlocks, which may be nil.
type Inputs struct {
	// N is the number of uids (SubnetworkN).
	N int
	// CurrentBlock is the block the epoch runs in.
	CurrentBlock uint64
	// LastUpdate is the block of each uid's last weights (LastUpdate).
	LastUpdate []uint64
	// BlockAtRegistration is each uid's registration block, 0 for empty
	// slots.
	BlockAtRegistration []uint64
	// AlphaStake is each hotkey's alpha stake in rao, after child/parent
	// inheritance (get_stake_weights_for_network).
	AlphaStake []uint64
	// TaoStake is each hotkey's inherited root TAO stake in rao; it counts
	// with weight Params.TaoWeight. Nil means none.
	TaoStake []uint64
	// OwnerUID is the uid of the subnet owner's hotkey, or −1 if it has none
	// (a uid ≥ N has no effect either, as on chain). The owner always keeps
	// a permit, escapes the stake threshold and may weight itself.
	OwnerUID int
	// ValidatorPermit holds the permits from the previous epoch.
	ValidatorPermit []bool
	// Weights are the stored weight rows (Weights[i] of uid i).
	Weights [][]Entry
	// Bonds are the stored bond rows.
	Bonds [][]Entry
	// LastMechanismStepBlock is the block of the previous epoch
	// (LastMechansimStepBlock), 0 if unknown.
	LastMechanismStepBlock uint64
	// CommitBlocks, when commit-reveal is enabled, holds per uid the
	// smallest block among its non-expired weight commits, or NoCommit.
	// Weights towards uids registered after that block are ignored. Nil
	// means commit-reveal is off (or no live commits).
	CommitBlocks []uint64
	// RaoEmission is the alpha, in rao, this epoch distributes.
	RaoEmission uint64
}

// Result is what the epoch produces, indexed by uid. Proportions are given
// both as float64 (the exact fixed-point value) and as the u16 the chain
// stores, floor(x·65535).
type Result struct {
	// Active is false for uids whose last update is older than the cutoff.
	Active []bool
	// ValidatorPermit holds the new permits.
	ValidatorPermit []bool
	// StakeWeight is the normalized stake S (after the stake threshold).
	StakeWeight []float64
	// ActiveStake is S restricted to active uids with a previous permit,
	// renormalized: the voting stake of this epoch.
	ActiveStake []float64
	// Consensus is the stake-weighted median weight each uid received.
	Consensus []float64
	// ValidatorTrust is the sum of a validator's weights clipped at
	// consensus.
	ValidatorTrust []float64
	// Incentive is the miners' normalized rank.
	Incentive []float64
	// Dividends is the validators' normalized bond return.
	Dividends []float64

	StakeWeightU16, ConsensusU16, ValidatorTrustU16, IncentiveU16, DividendsU16 []uint16

	// ServerEmission and ValidatorEmission split RaoEmission (rao,
	// truncated) into the miner part (incentive) and the validator part
	// (dividends); these are what the coinbase pays out.
	ServerEmission, ValidatorEmission []uint64
	// Emission is the stored Emission vector, normalize(I + D)·RaoEmission.
	Emission []uint64

	// Bonds are the bond rows the chain stores after the epoch: the
	// computed row for uids with a new permit, empty otherwise. Values may
	// be 0 where a tiny bond floors to 0, as on chain.
	Bonds [][]Entry
}

// ErrInput reports inputs Epoch cannot use: negative or oversized N, or
// per-uid slices whose length is not N.
var ErrInput = errors.New("yuma: invalid input")

func checkLen(name string, got, n int, nilOK bool) error {
	if nilOK && got == 0 {
		return nil
	}
	if got != n {
		return fmt.Errorf("%w: len(%s) = %d, N = %d", ErrInput, name, got, n)
	}
	return nil
}

func (in *Inputs) validate() error {
	if in.N < 0 || in.N > u16Max {
		return fmt.Errorf("%w: N = %d out of range [0, 65535]", ErrInput, in.N)
	}
	if in.OwnerUID < -1 {
		return fmt.Errorf("%w: OwnerUID = %d", ErrInput, in.OwnerUID)
	}
	n := in.N
	return errors.Join(
		checkLen("LastUpdate", len(in.LastUpdate), n, false),
		checkLen("BlockAtRegistration", len(in.BlockAtRegistration), n, false),
		checkLen("AlphaStake", len(in.AlphaStake), n, false),
		checkLen("TaoStake", len(in.TaoStake), n, true),
		checkLen("ValidatorPermit", len(in.ValidatorPermit), n, false),
		checkLen("Weights", len(in.Weights), n, true),
		checkLen("Bonds", len(in.Bonds), n, true),
		checkLen("CommitBlocks", len(in.CommitBlocks), n, true),
	)
}

// Epoch runs one epoch. It never panics; it returns an error wrapping
// ErrInput for malformed inputs. Cells pointing at uids ≥ N are ignored, as
// the chain ignores them.
func Epoch(p Params, in Inputs) (Result, error) {
	if err := in.validate(); err != nil {
		return Result{}, err
	}
	n := in.N
	owner := -1
	if in.OwnerUID >= 0 && in.OwnerUID < n {
		owner = in.OwnerUID
	}

	// 1. Activity: inactive once last_update + cutoff < current block.
	active := make([]bool, n)
	for i, lu := range in.LastUpdate {
		active[i] = !(satAddU64(lu, p.ActivityCutoff) < in.CurrentBlock)
	}

	// 2. Stake: threshold filter, then normalization in I64F64.
	stake := stakeWeights(p, &in, owner)

	// 3. Permits: the previous ones decide this epoch's voters; the new
	// ones go to the top-k non-zero stakes.
	oldPermit := slices.Clone(in.ValidatorPermit)
	if owner >= 0 {
		oldPermit[owner] = true
	}
	newPermit := topKNonzero(stake, int(p.MaxAllowedValidators))
	if owner >= 0 {
		newPermit[owner] = true
	}

	// 4. Active stake: active uids with a previous permit.
	activeStake := make([]fx, n)
	for i := range activeStake {
		if active[i] && oldPermit[i] {
			activeStake[i] = stake[i]
		}
	}
	normalize(activeStake)

	// 5. Weights: masks, then row normalization.
	weights := maskedWeights(&in, oldPermit, owner)
	rowNormalize(weights)

	// 6.–9. Consensus, clipping, validator trust, incentive.
	kappa := safeDiv(fxFromU16(p.Kappa), fxU16Max)
	consensus := weightedMedianColSparse(activeStake, weights, n, kappa)
	clipped := colClip(weights, consensus)
	trust := make([]fx, n)
	incentive := make([]fx, n)
	for i, row := range clipped {
		for _, e := range row {
			trust[i] += e.v
			incentive[e.j] = satAdd(incentive[e.j], satMul(activeStake[i], e.v))
		}
	}
	normalize(incentive)

	// 10. Weights for bonds, with the bonds penalty.
	penalty := safeDiv(fxFromU16(p.BondsPenalty), fxU16Max)
	wb := interpolate(weights, clipped, n, penalty)

	// 11. Bonds and dividends.
	lastTempo := satSubU64(in.CurrentBlock, uint64(p.Tempo))
	if in.LastMechanismStepBlock != 0 {
		lastTempo = satAddU64(in.LastMechanismStepBlock, 1)
	}
	var bonds [][]entry
	var dividends []fx
	if p.Yuma3 {
		bonds, dividends = yuma3Bonds(p, &in, lastTempo, wb, consensus, incentive, activeStake)
	} else {
		bonds, dividends = yuma2Bonds(p, &in, lastTempo, wb, incentive, activeStake)
	}

	// 12. Emission.
	res := Result{
		Active:            active,
		ValidatorPermit:   newPermit,
		StakeWeight:       floats(stake),
		ActiveStake:       floats(activeStake),
		Consensus:         floats(consensus),
		ValidatorTrust:    floats(trust),
		Incentive:         floats(incentive),
		Dividends:         floats(dividends),
		StakeWeightU16:    u16s(stake),
		ConsensusU16:      u16s(consensus),
		ValidatorTrustU16: u16s(trust),
		IncentiveU16:      u16s(incentive),
		DividendsU16:      u16s(dividends),
	}
	res.ServerEmission, res.ValidatorEmission, res.Emission = emission(incentive, dividends, stake, activeStake, in.RaoEmission)

	// 13. Stored bond rows: only uids holding a permit after this epoch keep
	// bonds; the chain writes an empty row for everyone else.
	res.Bonds = make([][]Entry, n)
	stored := make([]Entry, 0, cells(bonds))
	for i := range n {
		if !newPermit[i] || i >= len(bonds) {
			continue
		}
		start := len(stored)
		for _, e := range bonds[i] {
			stored = append(stored, Entry{UID: e.j, Value: proportionToU16(e.v)})
		}
		res.Bonds[i] = stored[start:len(stored):len(stored)]
	}
	return res, nil
}

func satAddU64(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

func satSubU64(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func floats(x []fx) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v.float()
	}
	return out
}

func u16s(x []fx) []uint16 {
	out := make([]uint16, len(x))
	for i, v := range x {
		out[i] = proportionToU16(v)
	}
	return out
}

// topKNonzero is math.rs is_topk_nonzero: non-zero entries are marked, then
// if there are at least k entries the n−k smallest are cleared, by a stable
// ascending sort (so among equal stakes the lower uid loses).
func topKNonzero(v []fx, k int) []bool {
	out := make([]bool, len(v))
	for i, x := range v {
		out[i] = x != 0
	}
	if len(v) < k {
		return out
	}
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	for _, i := range idx[:len(v)-k] {
		out[i] = false
	}
	return out
}

// maskedWeights reads the stored weights as plain numbers (not divided by
// 65535) and applies the masks of step 5: rows of uids without a previous
// permit, self-weights except the owner's, weights set before the target
// registered (last_update ≤ reg) and, under commit-reveal, weights towards
// uids registered after the validator's earliest live commit.
func maskedWeights(in *Inputs, permit []bool, owner int) [][]entry {
	n := in.N
	w := make([][]entry, n)
	buf := newRowBuf(cells(in.Weights))
	for i := 0; i < n && i < len(in.Weights); i++ {
		if !permit[i] {
			continue
		}
		for _, c := range in.Weights[i] {
			j := int(c.UID)
			if j >= n {
				continue
			}
			if j == i && i != owner {
				continue
			}
			if in.LastUpdate[i] <= in.BlockAtRegistration[j] {
				continue
			}
			if in.CommitBlocks != nil && in.CommitBlocks[i] < in.BlockAtRegistration[j] {
				continue
			}
			buf.push(entry{c.UID, fxFromU16(c.Value)})
		}
		w[i] = buf.row()
	}
	return w
}

// readBonds loads the stored bonds, dropping cells towards uids ≥ N and,
// since those miners registered after the previous epoch, cells towards uids
// with lastTempo ≤ reg. conv turns the stored u16 into the working value.
func readBonds(in *Inputs, lastTempo uint64, conv func(uint16) fx) [][]entry {
	n := in.N
	b := make([][]entry, n)
	buf := newRowBuf(cells(in.Bonds))
	for i := 0; i < n && i < len(in.Bonds); i++ {
		for _, c := range in.Bonds[i] {
			j := int(c.UID)
			if j >= n || lastTempo <= in.BlockAtRegistration[j] {
				continue
			}
			buf.push(entry{c.UID, conv(c.Value)})
		}
		b[i] = buf.row()
	}
	return b
}

// yuma2Bonds is the original Yuma bonds path: column-normalized stored
// bonds, the stake-weighted bond purchase ΔB = Wb·A column-normalized, an EMA
// at rate 1 − BondsMovingAverage/10^6, column normalization, dividends
// D = normalize(B·I), and column max-upscaling for storage.
func yuma2Bonds(p Params, in *Inputs, lastTempo uint64, wb [][]entry, incentive, activeStake []fx) ([][]entry, []fx) {
	n := in.N
	scratch := make([]fx, n)
	bonds := readBonds(in, lastTempo, fxFromU16)
	colNormalize(bonds, scratch)

	delta := make([][]entry, len(wb))
	buf := newRowBuf(cells(wb))
	for i, row := range wb {
		for _, e := range row {
			buf.push(entry{e.j, satMul(e.v, activeStake[i])})
		}
		delta[i] = buf.row()
	}
	colNormalize(delta, scratch)

	ema := emaSparse(delta, bonds, ppmComplement(p.BondsMovingAverage), scratch)
	colNormalize(ema, scratch)

	dividends := make([]fx, n)
	for i, row := range ema {
		var acc fx
		for _, e := range row {
			acc = satAdd(acc, satMul(incentive[e.j], e.v))
		}
		dividends[i] = acc
	}
	normalize(dividends)

	colMaxUpscale(ema, scratch)
	return ema, dividends
}

// yuma3Bonds is the Yuma 3 path: stored bonds are proportions; the EMA moves
// each bond towards the validator's current weight (per-cell liquid-alpha
// rates when enabled and some consensus is non-zero); dividends are the
// column-normalized bonds times incentive, scaled by active stake. The
// returned bonds are the un-normalized EMA, which the chain stores.
func yuma3Bonds(p Params, in *Inputs, lastTempo uint64, wb [][]entry, consensus, incentive, activeStake []fx) ([][]entry, []fx) {
	n := in.N
	bonds := readBonds(in, lastTempo, u16Proportion)

	var ema [][]entry
	if p.LiquidAlpha && slices.ContainsFunc(consensus, func(c fx) bool { return c != 0 }) {
		ema = emaLiquidAlpha(p, wb, bonds, consensus)
	} else {
		ema = emaSparse(wb, bonds, ppmComplement(p.BondsMovingAverage), make([]fx, n))
	}

	norm := make([][]entry, len(ema))
	buf := newRowBuf(cells(ema))
	for i, row := range ema {
		for _, e := range row {
			buf.push(e)
		}
		norm[i] = buf.row()
	}
	colNormalize(norm, make([]fx, n))

	dividends := make([]fx, n)
	for i, row := range norm {
		var acc fx
		for _, e := range row {
			acc += satMul(e.v, incentive[e.j])
		}
		dividends[i] = checkedMul(acc, activeStake[i])
	}
	normalize(dividends)
	return ema, dividends
}

// emaLiquidAlpha is compute_liquid_alpha_values_sparse + mat_ema_alpha_sparse:
// for every cell of a validator's bond-weight row (explicit zeros included),
// B' = min(1, (1−α)·B + max(0, α·W)) with a per-cell α from alphaSigmoid;
// cells with B' ≤ 0 are dropped, and so are bonds to uids absent from the
// row.
func emaLiquidAlpha(p Params, wb, bonds [][]entry, consensus []fx) [][]entry {
	n := len(consensus)
	low := u16Proportion(p.AlphaLow)
	high := u16Proportion(p.AlphaHigh)
	steep := satDiv(fxFromInt(int64(p.AlphaSigmoidSteepness)), fxFromInt(-100))

	wDense := make([]fx, n)
	bDense := make([]fx, n)
	decayed := make([]fx, n)
	alphas := make([]fx, n)
	out := make([][]entry, len(wb))
	buf := newRowBuf(cells(wb))
	for i, wrow := range wb {
		var brow []entry
		if i < len(bonds) {
			brow = bonds[i]
		}
		// The chain looks cells up by walking each row in step with the
		// column index, which assumes rows sorted by uid; replicate the walk
		// so that unsorted stored rows give the chain's result too.
		walkRow(wrow, wDense)
		walkRow(brow, bDense)
		// Rates are never negative (clamped to at least low ≥ 0), so −1
		// marks a cell whose rate is not computed yet.
		for j := range alphas {
			alphas[j] = -1
		}
		alpha := func(j uint16) fx {
			if alphas[j] < 0 {
				alphas[j] = alphaSigmoid(consensus[j], wDense[j], bDense[j], low, high, steep)
			}
			return alphas[j]
		}

		clear(decayed)
		for _, e := range brow {
			if int(e.j) < n {
				decayed[e.j] = satMul(satSub(fxOne, alpha(e.j)), e.v)
			}
		}
		for _, e := range wrow {
			if int(e.j) >= n {
				continue
			}
			inc := maxFx(satMul(alpha(e.j), e.v), 0)
			v := minFx(satAdd(decayed[e.j], inc), fxOne)
			if v > 0 {
				buf.push(entry{e.j, v})
			}
		}
		out[i] = buf.row()
	}
	return out
}

// walkRow fills dense[j] with the value the chain's peekable walk finds for
// column j: for increasing j it skips cells with a smaller uid and takes the
// next cell if its uid equals j.
func walkRow(row []entry, dense []fx) {
	clear(dense)
	k := 0
	for j := range dense {
		for k < len(row) && int(row[k].j) < j {
			k++
		}
		if k < len(row) && int(row[k].j) == j {
			dense[j] = row[k].v
		}
	}
}

// alphaSigmoid is run_epoch.rs alpha_sigmoid: the EMA rate of one bond. The
// further a weight runs ahead of consensus (buying) or a bond exceeds the
// weight (selling), the closer the rate gets to high.
func alphaSigmoid(consensus, weight, bond, low, high, steep fx) fx {
	diffBuy := clampFx(satSub(weight, consensus), 0, fxOne)
	diffSell := clampFx(satSub(bond, weight), 0, fxOne)
	d := diffSell
	if weight >= bond {
		d = diffBuy
	}
	x := satMul(steep, satSub(d, fxHalf))
	sigmoid := satDiv(fxOne, satAdd(fxOne, expSafe(x)))
	alpha := satAdd(low, satMul(sigmoid, satSub(high, low)))
	return clampFx(alpha, low, high)
}

// emission splits raoEmission: miners get I/Σ(I+D), validators D/Σ(I+D);
// with nothing to pay (Σ = 0) validators get the active stake, or the stake
// if no stake is active. Amounts are floor(share·rao) in I96F32.
func emission(incentive, dividends, stake, activeStake []fx, rao uint64) (server, validator, combined []uint64) {
	n := len(incentive)
	comb := make([]fx, n)
	for i := range comb {
		comb[i] = satAdd(incentive[i], dividends[i])
	}
	total := sum(comb)
	srv := slices.Clone(incentive)
	val := slices.Clone(dividends)
	if total != 0 {
		for i := range srv {
			srv[i] = safeDiv(srv[i], total)
			val[i] = safeDiv(val[i], total)
		}
	}
	normalize(comb)
	if total == 0 {
		fallback := activeStake
		if sum(activeStake) == 0 {
			fallback = stake
		}
		copy(val, fallback)
		copy(comb, fallback)
	}
	return raoShares(srv, rao), raoShares(val, rao), raoShares(comb, rao)
}

// raoShares returns floor(x·rao) for each proportion, saturating at u64.
func raoShares(x []fx, rao uint64) []uint64 {
	out := make([]uint64, len(x))
	for i, v := range x {
		if v <= 0 {
			continue
		}
		hi, lo := bits.Mul64(uint64(v), rao)
		if hi>>fxFracBits != 0 {
			out[i] = math.MaxUint64
			continue
		}
		out[i] = hi<<(64-fxFracBits) | lo>>fxFracBits
	}
	return out
}

// stakeWeights computes S: total_i = alpha_i + TaoWeight·tao_i in I64F64,
// zeroed below StakeThreshold (except the owner), normalized, and truncated
// to I32F32.
func stakeWeights(p Params, in *Inputs, owner int) []fx {
	n := in.N
	// TaoWeight passes through U96F32: floor(stored·2^32 / (2^64−1)) / 2^32.
	tw, _ := bits.Div64(p.TaoWeight>>32, p.TaoWeight<<32, math.MaxUint64)
	total := make([]u128, n)
	var s u128
	var carry uint64 // bits of the sum above 128
	for i := range total {
		t := i64f64FromU64(in.AlphaStake[i])
		if in.TaoStake != nil && in.TaoStake[i] != 0 && tw != 0 {
			t = t.satAdd(taoTimesWeight(in.TaoStake[i], tw))
		}
		if i != owner && t.hi < p.StakeThreshold {
			t = u128{}
		}
		total[i] = t
		var c uint64
		s.lo, c = bits.Add64(s.lo, t.lo, 0)
		s.hi, c = bits.Add64(s.hi, t.hi, c)
		carry += c
	}
	out := make([]fx, n)
	if s.isZero() && carry == 0 {
		return out
	}
	if carry != 0 || i64f64Max.less(s) {
		// The I64F64 sum would overflow, which needs more than 2^63 rao of
		// stake (the chain would wrap); divide by the exact sum instead so
		// the shares still add up to at most 1.
		return bigShares(total, s, carry)
	}
	for i, t := range total {
		out[i] = fx(fracTimes2p32(t, s))
	}
	return out
}

// bigShares returns floor(t_i·2^32 / S) with S = carry·2^128 + s.
func bigShares(total []u128, s u128, carry uint64) []fx {
	toBig := func(a u128) *big.Int {
		v := new(big.Int).SetUint64(a.hi)
		v.Lsh(v, 64)
		return v.Or(v, new(big.Int).SetUint64(a.lo))
	}
	sum := new(big.Int).SetUint64(carry)
	sum.Lsh(sum, 128)
	sum.Or(sum, toBig(s))
	out := make([]fx, len(total))
	for i, t := range total {
		q := toBig(t)
		q.Lsh(q, fxFracBits)
		out[i] = fx(q.Quo(q, sum).Int64())
	}
	return out
}

// u128 is a non-negative I64F64 bit pattern: hi holds the integer part, lo
// the 64 fractional bits. Values saturate at I64F64::MAX (2^63 − 2^-64).
type u128 struct{ hi, lo uint64 }

var i64f64Max = u128{hi: math.MaxInt64, lo: math.MaxUint64}

func i64f64FromU64(v uint64) u128 {
	if v > math.MaxInt64 {
		return i64f64Max
	}
	return u128{hi: v}
}

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) satAdd(b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, c2 := bits.Add64(a.hi, b.hi, c)
	r := u128{hi, lo}
	if c2 != 0 || i64f64Max.less(r) {
		return i64f64Max
	}
	return r
}

// taoTimesWeight is I64F64(tao)·I64F64(tw/2^32): exactly tao·tw/2^32.
func taoTimesWeight(tao, tw uint64) u128 {
	if tao > math.MaxInt64 {
		tao = math.MaxInt64 // I64F64::saturating_from_num
	}
	hi, lo := bits.Mul64(tao, tw) // tao·tw as a 128-bit integer
	// Shift left by 32 to put 64 fractional bits below the point.
	if hi>>32 != 0 {
		return i64f64Max
	}
	r := u128{hi: hi<<32 | lo>>32, lo: lo << 32}
	if i64f64Max.less(r) {
		return i64f64Max
	}
	return r
}

// fracTimes2p32 returns floor(a·2^32 / b) for 0 ≤ a ≤ b, b > 0: the I64F64
// quotient a/b floored to I32F32, by binary long division.
func fracTimes2p32(a, b u128) uint64 {
	if !a.less(b) {
		return 1 << fxFracBits
	}
	var q uint64
	r := a
	for range fxFracBits {
		// r < b < 2^127, so 2r fits in 128 bits.
		r = u128{hi: r.hi<<1 | r.lo>>63, lo: r.lo << 1}
		q <<= 1
		if !r.less(b) {
			lo, borrow := bits.Sub64(r.lo, b.lo, 0)
			hi, _ := bits.Sub64(r.hi, b.hi, borrow)
			r = u128{hi, lo}
			q |= 1
		}
	}
	return q
}
