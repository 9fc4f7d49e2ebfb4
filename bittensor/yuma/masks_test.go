package yuma

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// replace is replace_neuron + clear_neuron at the current block: the uid's
// own weights and bonds go, weights towards it become explicit zeros, its
// permit is cleared and its registration and last update are this block.
// The new hotkey has no stake.
func (c *chain) replace(uid int) {
	c.in.Weights[uid] = nil
	c.in.Bonds[uid] = nil
	for i, row := range c.in.Weights {
		for k := range row {
			if int(row[k].UID) == uid {
				c.in.Weights[i][k].Value = 0
			}
		}
	}
	c.in.ValidatorPermit[uid] = false
	c.in.BlockAtRegistration[uid] = c.block
	c.in.LastUpdate[uid] = c.block
	c.in.AlphaStake[uid] = 0
}

func dividendU16(t *testing.T, r Result, uid int, want uint16) {
	t.Helper()
	if got := r.DividendsU16[uid]; got != want {
		t.Errorf("dividends[%d] = %d, want %d", uid, got, want)
	}
}

func emissionIs(t *testing.T, r Result, uid int, want uint64) {
	t.Helper()
	if got := r.Emission[uid]; got != want {
		t.Errorf("emission[%d] = %d, want %d", uid, got, want)
	}
}

func (c *chain) bondIs(t *testing.T, i, j int, want uint16) {
	t.Helper()
	if got := c.bond(i, j); got != want {
		t.Errorf("bonds[%d][%d] = %d, want %d", i, j, got, want)
	}
}

// TestActiveStake replays test_active_stake: two validators and two servers
// with stake 1 each, tempo 1; after ~5000 blocks only the validators that
// re-set weights stay active, and the inactive one's dividends and bonds
// decay.
func TestActiveStake(t *testing.T) {
	p := mockParams(1)
	p.MaxAllowedValidators = 4
	c := newChain(p, 0, []uint64{1, 1, 1, 1})
	c.epoch(t)
	c.nextBlock()

	half := MaxUpscale([]uint16{65535 / 2, 65535 / 2})
	srv := []uint16{2, 3}
	c.setWeightsDense(0, srv, half)
	c.setWeightsDense(1, srv, half)
	r := c.epoch(t)
	for uid := range 4 {
		if uid < 2 {
			dividendU16(t, r, uid, 32767)
		}
		emissionIs(t, r, uid, 250_000_000)
	}
	for v := range 2 {
		c.bondIs(t, v, 0, 0)
		c.bondIs(t, v, 1, 0)
		c.bondIs(t, v, 2, 65535)
		c.bondIs(t, v, 3, 65535)
	}

	// Run to block 5002 (legacy ActivityCutoff + 2): uid 1's weights are now
	// beyond the cutoff.
	c.block = 5000 + 2
	c.setWeightsDense(0, srv, half)
	r = c.epoch(t)
	if !r.Active[0] || r.Active[1] {
		t.Errorf("active = %v, want uid 0 active and uid 1 inactive", r.Active)
	}
	dividendU16(t, r, 0, 36044)
	emissionIs(t, r, 0, 274_999_999)
	c.bondIs(t, 0, 2, 65535)
	c.bondIs(t, 0, 3, 65535)
	dividendU16(t, r, 1, 29490)
	emissionIs(t, r, 1, 224_999_999)
	c.bondIs(t, 1, 2, 53619)
	c.bondIs(t, 1, 3, 53619)

	c.setWeightsDense(1, srv, half)
	c.nextBlock()
	r = c.epoch(t)
	dividendU16(t, r, 0, 35716)
	emissionIs(t, r, 0, 272_501_132)
	c.bondIs(t, 0, 2, 65535)
	c.bondIs(t, 0, 3, 65535)
	dividendU16(t, r, 1, 29818)
	emissionIs(t, r, 1, 227_498_866)
	c.bondIs(t, 1, 2, 54712)
	c.bondIs(t, 1, 3, 54712)
}

// TestOutdatedWeights replays test_outdated_weights: tempo 0; after server
// uid 3 is replaced, the weights validator 1 set before the registration are
// masked while validator 0's fresh weights count.
func TestOutdatedWeights(t *testing.T) {
	p := mockParams(0)
	p.MaxAllowedValidators = 4
	c := newChain(p, 1, []uint64{1, 1, 1, 1})
	c.epoch(t)
	c.nextBlock()

	w := MaxUpscale([]uint16{2 * (65535 / 3), 65535 / 3})
	if !slices.Equal(w, []uint16{65535, 32768}) {
		t.Fatalf("MaxUpscale = %v, want [65535 32768] (trace)", w)
	}
	for v := range 2 {
		c.setWeightsDense(v, []uint16{2, 3}, w)
	}
	for s := 2; s < 4; s++ {
		c.setWeights(s, Entry{uint16(s), 65535})
	}
	r := c.epoch(t)
	// Trace values of the first epoch.
	assertClose(t, "dividends", r.Dividends, []float64{0.5, 0.5, 0, 0}, 1e-9)
	assertEqualU64(t, "emission", r.Emission, []uint64{250000000, 250000000, 333331637, 166668361})

	// Replace uid 3 in the same block, then only uid 0 re-sets weights.
	c.replace(3)
	c.nextBlock()
	c.setWeightsDense(0, []uint16{2, 3}, w)
	r = c.epoch(t)
	dividendU16(t, r, 0, 32767)
	emissionIs(t, r, 0, 250_000_000)
	c.bondIs(t, 0, 2, 65535)
	c.bondIs(t, 0, 3, 65535)
	// Trace: C = [0, 0, 0.6666632756, 0], I = [0, 0, 1, 0].
	assertClose(t, "consensus", r.Consensus, []float64{0, 0, 0.6666632756, 0}, 1e-9)
	assertClose(t, "incentive", r.Incentive, []float64{0, 0, 1, 0}, 1e-9)
}

// TestZeroWeights replays test_zero_weights: with no usable weights the
// emission falls back to (active) stake; weights older than the target's
// registration do not count; fresh ones split emission 50/50.
func TestZeroWeights(t *testing.T) {
	p := mockParams(65534)
	c := newChain(p, 1, []uint64{1, 0})
	want := func(e0, e1 uint64) {
		t.Helper()
		r := c.epoch(t)
		emissionIs(t, r, 0, e0)
		emissionIs(t, r, 1, e1)
	}
	want(1_000_000_000, 0) // no weights

	c.setWeights(1, Entry{1, 65535}) // server self-weight only
	want(1_000_000_000, 0)

	c.nextBlock()
	c.setWeights(0, Entry{1, 65535})
	c.replace(1) // server re-registered in the same block: weights outdated
	want(1_000_000_000, 0)

	c.nextBlock()
	c.setWeights(0, Entry{1, 65535})
	want(500_000_000, 500_000_000)
}

// distributeNodes is distribute_nodes: blockwise, regular or (seeded)
// random interleaving of validators among the uids.
func distributeNodes(validatorsN, n, interleave int) (validators, servers []int) {
	switch interleave {
	case 0:
		for i := range n {
			if i < validatorsN {
				validators = append(validators, i)
			} else {
				servers = append(servers, i)
			}
		}
	case 1:
		for i := range n {
			if i%(n/validatorsN) == 0 {
				validators = append(validators, i)
			} else {
				servers = append(servers, i)
			}
		}
	default:
		perm := rand.New(rand.NewPCG(uint64(n), uint64(validatorsN))).Perm(n)
		validators, servers = perm[:validatorsN], perm[validatorsN:]
	}
	return validators, servers
}

// TestValidatorPermits replays test_validator_permits: permits go to the
// top-k stakes above the stake threshold and move to the servers once their
// stake exceeds the validators'.
func TestValidatorPermits(t *testing.T) {
	for interleave := range 3 {
		for _, nv := range [][2]int{{2, 1}, {4, 2}, {8, 4}} {
			n, vn := nv[0], nv[1]
			minStake := uint64(vn)
			for assignment := range 2 {
				t.Run(fmt.Sprintf("i%d_n%d_a%d", interleave, n, assignment), func(t *testing.T) {
					validators, servers := distributeNodes(vn, n, interleave)
					stake := make([]uint64, n)
					for _, v := range validators {
						stake[v] = 1
						if assignment == 1 {
							stake[v] = uint64(v + n)
						}
					}
					for _, s := range servers {
						if assignment == 1 {
							stake[s] = uint64(s)
						}
					}
					p := mockParams(65534)
					p.StakeThreshold = minStake
					p.MaxAllowedValidators = uint16(vn)
					c := newChain(p, 1, stake)
					r := c.epoch(t)
					for _, v := range validators {
						if want := stake[v] >= minStake; r.ValidatorPermit[v] != want {
							t.Errorf("validator %d (stake %d): permit %v, want %v", v, stake[v], r.ValidatorPermit[v], want)
						}
					}
					for _, s := range servers {
						if r.ValidatorPermit[s] {
							t.Errorf("server %d: permit before stake increase", s)
						}
					}

					for _, s := range servers {
						c.in.AlphaStake[s] += uint64(2 * n)
					}
					r = c.epoch(t)
					for _, v := range validators {
						if r.ValidatorPermit[v] {
							t.Errorf("validator %d kept its permit", v)
						}
					}
					for _, s := range servers {
						if want := stake[s]+uint64(2*n) >= minStake; r.ValidatorPermit[s] != want {
							t.Errorf("server %d: permit %v, want %v", s, r.ValidatorPermit[s], want)
						}
					}
				})
			}
		}
	}
}

// TestGraph1 replays test_1_graph: a lone uid weighting itself gets no
// consensus, incentive or dividends; its stake takes the whole emission.
func TestGraph1(t *testing.T) {
	c := newChain(mockParams(65534), 1, []uint64{1_000_000_000})
	c.setWeights(0, Entry{0, 65535})
	r := c.epoch(t)
	if r.ConsensusU16[0] != 0 || r.IncentiveU16[0] != 0 || r.DividendsU16[0] != 0 {
		t.Errorf("consensus/incentive/dividends = %d/%d/%d, want 0", r.ConsensusU16[0], r.IncentiveU16[0], r.DividendsU16[0])
	}
	emissionIs(t, r, 0, 1_000_000_000)
}

// TestGraph10 replays test_10_graph: ten uids with stake 1 and self-weights
// only, no permits yet; emission falls back to stake, 1e9/10 floored in
// fixed point.
func TestGraph10(t *testing.T) {
	stakes := make([]uint64, 10)
	for i := range stakes {
		stakes[i] = 1
	}
	c := newChain(mockParams(65534), 0, stakes)
	c.block = 1
	for i := range 10 {
		c.setWeights(i, Entry{uint16(i), 65535})
	}
	r := c.epoch(t)
	for i := range 10 {
		if r.ConsensusU16[i] != 0 || r.IncentiveU16[i] != 0 || r.DividendsU16[i] != 0 {
			t.Errorf("uid %d: consensus/incentive/dividends = %d/%d/%d, want 0", i, r.ConsensusU16[i], r.IncentiveU16[i], r.DividendsU16[i])
		}
		emissionIs(t, r, i, 99_999_999)
	}
}

// TestGraph512 replays test_512_graph: 64 validators with equal stake weight
// all 448 servers equally, with and without server self-weights, three
// epochs in one block (so bonds are re-masked each time).
func TestGraph512(t *testing.T) {
	const n, vn = 512, 64
	for interleave := range 3 {
		for _, serverSelf := range []bool{false, true} {
			t.Run(fmt.Sprintf("i%d_self%v", interleave, serverSelf), func(t *testing.T) {
				validators, servers := distributeNodes(vn, n, interleave)
				stakes := make([]uint64, n)
				for _, v := range validators {
					stakes[v] = 328_125_000_000_000
				}
				p := mockParams(65534)
				p.MaxAllowedValidators = vn
				c := newChain(p, 1, stakes)
				clear(c.in.BlockAtRegistration) // append_neuron at block 0
				c.epoch(t)

				srv := make([]uint16, len(servers))
				for k, s := range servers {
					srv[k] = uint16(s)
				}
				vals := make([]uint16, len(servers))
				for k := range vals {
					vals[k] = 65535 / n
				}
				vals = MaxUpscale(vals)
				for _, v := range validators {
					c.setWeightsDense(v, srv, vals)
				}
				if serverSelf {
					for _, s := range servers {
						c.setWeights(s, Entry{uint16(s), 65535})
					}
				}
				var r Result
				for range 3 {
					r = c.epoch(t)
				}
				server, validator := servers[0], validators[0]
				for _, v := range validators {
					if r.ConsensusU16[v] != 0 || r.IncentiveU16[v] != 0 {
						t.Errorf("validator %d: consensus %d incentive %d", v, r.ConsensusU16[v], r.IncentiveU16[v])
					}
					dividendU16(t, r, v, 1023)
					emissionIs(t, r, v, 7_812_500)
					c.bondIs(t, v, validator, 0)
					c.bondIs(t, v, server, 65535)
				}
				for _, s := range servers {
					if r.ConsensusU16[s] != 146 || r.IncentiveU16[s] != 146 {
						t.Errorf("server %d: consensus %d incentive %d, want 146", s, r.ConsensusU16[s], r.IncentiveU16[s])
					}
					dividendU16(t, r, s, 0)
					emissionIs(t, r, s, 1_116_071)
					c.bondIs(t, s, validator, 0)
					c.bondIs(t, s, server, 0)
				}
			})
		}
	}
}

// TestOwnerSelfWeight follows test_can_set_self_weight_as_subnet_owner: the
// owner's self-weight survives the diagonal mask, so owner and the other
// uid get equal incentive.
func TestOwnerSelfWeight(t *testing.T) {
	c := newChain(mockParams(360), 1, []uint64{5_000_000_000_000, 0})
	c.in.OwnerUID = 0
	c.in.ValidatorPermit = []bool{true, false}
	c.in.Weights[0] = []Entry{{0, 65535 / 2}, {1, 65535 / 2}}
	c.block = 2
	c.in.LastUpdate = []uint64{2, 0}
	r := c.epoch(t)
	if r.ServerEmission[0] == 0 || r.ServerEmission[0] != r.ServerEmission[1] {
		t.Errorf("server emission = %v, want equal and positive", r.ServerEmission)
	}

	// Without an owner the self-weight is masked: only uid 1 is paid.
	c = newChain(mockParams(360), 1, []uint64{5_000_000_000_000, 0})
	c.in.ValidatorPermit = []bool{true, false}
	c.in.Weights[0] = []Entry{{0, 65535 / 2}, {1, 65535 / 2}}
	c.block = 2
	c.in.LastUpdate = []uint64{2, 0}
	r = c.epoch(t)
	if r.ServerEmission[0] != 0 || r.ServerEmission[1] == 0 {
		t.Errorf("server emission without owner = %v", r.ServerEmission)
	}
}

// TestOwnerPermitAndThreshold: the owner keeps a permit and its stake below
// the threshold, others below it are zeroed.
func TestOwnerPermitAndThreshold(t *testing.T) {
	p := mockParams(360)
	p.StakeThreshold = 1000
	p.MaxAllowedValidators = 1
	c := newChain(p, 1, []uint64{10, 500, 5000})
	c.in.OwnerUID = 0
	r := c.epoch(t)
	if !slices.Equal(r.ValidatorPermit, []bool{true, false, true}) {
		t.Errorf("permits = %v, want [true false true]", r.ValidatorPermit)
	}
	if r.StakeWeight[1] != 0 || r.StakeWeight[0] == 0 {
		t.Errorf("stake weight = %v, want uid 1 filtered, owner kept", r.StakeWeight)
	}
}

// TestSingleStakerNoWeights follows
// test_epoch_outputs_single_staker_registered_no_weights: everything goes
// to the only staker as validator emission.
func TestSingleStakerNoWeights(t *testing.T) {
	c := newChain(mockParams(65534), 1, []uint64{1})
	r := c.epoch(t)
	if got := r.ServerEmission[0] + r.ValidatorEmission[0]; got+1000 < c.in.RaoEmission {
		t.Errorf("paid %d of %d", got, c.in.RaoEmission)
	}
}

// commitRevealChain is the shape of the commit-reveal mask tests: validator
// uid 0 (stake 10000, permit) weights uids 1…n−1 equally.
func commitRevealChain(t *testing.T, reg []uint64) *chain {
	t.Helper()
	stakes := make([]uint64, len(reg))
	stakes[0] = 10_000
	for i := 1; i < len(stakes); i++ {
		stakes[i] = 1000
	}
	p := mockParams(8)
	p.MaxAllowedValidators = 1
	c := newChain(p, 1, stakes)
	copy(c.in.BlockAtRegistration, reg)
	c.in.ValidatorPermit[0] = true
	c.block = slices.Max(reg) + 1
	var uids, vals []uint16
	for j := 1; j < len(reg); j++ {
		uids = append(uids, uint16(j))
		vals = append(vals, 65535/uint16(len(reg)-1))
	}
	c.setWeightsDense(0, uids, MaxUpscale(vals))
	return c
}

// TestCommitRevealMask mirrors test_epoch_does_not_mask_outside_window_but_
// masks_inside and test_epoch_no_mask_when_commit_reveal_disabled: with the
// validator's earliest live commit at block 40, uid 1 (registered at 9,
// before it; the older commit at 8 has expired and is not passed) is paid
// while uids 2 and 3 (registered at 41) are not. Without commit-reveal
// nothing is masked.
func TestCommitRevealMask(t *testing.T) {
	reg := []uint64{1, 9, 41, 41}
	c := commitRevealChain(t, reg)
	c.in.CommitBlocks = []uint64{40, NoCommit, NoCommit, NoCommit}
	r := c.epoch(t)
	if r.IncentiveU16[1] == 0 || r.IncentiveU16[2] != 0 || r.IncentiveU16[3] != 0 {
		t.Errorf("incentive with commit at 40 = %v, want only uid 1 > 0", r.IncentiveU16)
	}

	c = commitRevealChain(t, reg)
	r = c.epoch(t)
	for j := 1; j < 4; j++ {
		if r.IncentiveU16[j] == 0 {
			t.Errorf("incentive without commit-reveal = %v, want all miners > 0", r.IncentiveU16)
		}
	}

	// The mask is commit_block < registration: a commit in the
	// registration block itself does not mask.
	c = commitRevealChain(t, reg)
	c.in.CommitBlocks = []uint64{41, NoCommit, NoCommit, NoCommit}
	r = c.epoch(t)
	if r.IncentiveU16[2] == 0 || r.IncentiveU16[3] == 0 {
		t.Errorf("incentive with commit at 41 = %v, want uids 2, 3 > 0", r.IncentiveU16)
	}
}

// TestSnipedUID mirrors test_epoch_masks_incoming_to_sniped_uid_prevents_
// inheritance: a uid re-registered after the validator's commit gets no
// incentive from that validator's weights.
func TestSnipedUID(t *testing.T) {
	c := commitRevealChain(t, []uint64{1, 1, 1})
	c.in.CommitBlocks = []uint64{21, NoCommit, NoCommit}
	c.block = 22
	c.setWeights(0, Entry{1, 65535})
	r := c.epoch(t)
	if r.IncentiveU16[1] == 0 {
		t.Fatalf("uid 1 before sniping: incentive 0")
	}
	c.block = 23
	c.replace(1)
	c.in.AlphaStake[1] = 10_000
	c.nextBlock()
	c.setWeights(0, Entry{0, 32767}, Entry{1, 32767})
	r = c.epoch(t)
	if r.IncentiveU16[1] != 0 {
		t.Errorf("sniped uid 1 incentive = %d, want 0", r.IncentiveU16[1])
	}
}

// TestDeregisteredMinerBonds replays test_deregistered_miner_bonds: bonds
// towards a miner re-registered after the last epoch are dropped before the
// EMA, while bonds to the other miner keep growing.
func TestDeregisteredMinerBonds(t *testing.T) {
	p := mockParams(65534)
	p.MaxAllowedValidators = 4
	c := newChain(p, 1, []uint64{1, 1, 1, 1})
	c.epoch(t)
	c.nextBlock()
	w := MaxUpscale([]uint16{2 * (65535 / 3), 65535 / 3})
	for v := range 2 {
		c.setWeightsDense(v, []uint16{2, 3}, w)
	}
	c.block += 2
	c.p.Tempo, c.p.ActivityCutoff = 2, activityCutoff(2)
	c.epoch(t)
	b02, b03 := c.bond(0, 2), c.bond(0, 3)
	if b02 == 0 || b03 == 0 {
		t.Fatalf("bonds before re-registration: %d, %d, want > 0", b02, b03)
	}

	c.nextBlock()
	c.replace(3)
	for v := range 2 {
		c.setWeightsDense(v, []uint16{2, 3}, w)
	}
	c.nextBlock()
	c.epoch(t)
	if got := c.bond(0, 2); got < b02 {
		t.Errorf("bond[0][2] = %d, want >= %d", got, b02)
	}
	if got := c.bond(0, 3); got > b03 || got != 0 {
		t.Errorf("bond[0][3] = %d, want 0 (<= %d)", got, b03)
	}
}

// TestLastMechanismStepMask: with a known previous epoch block the bonds
// mask uses LMS + 1, so a miner registered in the block right after the
// previous epoch loses its bonds and one registered in that epoch's block
// keeps them.
func TestLastMechanismStepMask(t *testing.T) {
	in := validInputs(3)
	in.BlockAtRegistration = []uint64{0, 100, 101}
	in.Bonds = [][]Entry{{{1, 65535}, {2, 65535}}, nil, nil}
	in.LastMechanismStepBlock = 100
	b := readBonds(&in, 101, fxFromU16)
	if len(b[0]) != 1 || b[0][0].j != 1 {
		t.Errorf("bonds after mask = %v, want only uid 1", b[0])
	}
	// Through Epoch: validator 0 keeps weighting both, so only uid 1's bond
	// carries history.
	in.CurrentBlock = 460
	in.AlphaStake = []uint64{1, 0, 0}
	in.ValidatorPermit = []bool{true, false, false}
	in.LastUpdate = []uint64{450, 0, 0}
	in.Weights = [][]Entry{{{1, 65535}, {2, 65535}}, nil, nil}
	p := DefaultParams()
	p.Yuma3, p.BondsPenalty = true, 0
	r, err := Epoch(p, in)
	if err != nil {
		t.Fatal(err)
	}
	// Yuma 3 without liquid alpha: B' = 0.9·B + 0.1·W with W = 0.5 each:
	// floor(0.95·65535) and floor(0.05·65535).
	want := []Entry{{1, 62258}, {2, 3276}}
	if !slices.Equal(r.Bonds[0], want) {
		t.Errorf("bonds = %v, want %v", r.Bonds[0], want)
	}
}
