package localnet

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// outcome names how a submission ended: "ok", the pool's subtensor name
// ("pool:RateLimitExceeded") or the dispatch error ("SettingWeightsTooFast").
func (n *testNet) outcome(t *testing.T, uri string, call subtensor.Call) string {
	t.Helper()
	_, err := n.submit(t, dev(t, uri), call)
	var pe *subtensor.PoolError
	var de *substrate.DispatchError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &pe):
		return "pool:" + pe.Name
	case errors.As(err, &de):
		return de.Name
	}
	t.Fatalf("submit: %v", err)
	return ""
}

// rulesGenesis: subnet 1 (commit-reveal off) with //Alice validating and
// //Bob, //Charlie, //Dave mining; subnet 2 with commit-reveal on.
func rulesGenesis() Genesis {
	g := DefaultGenesis()
	g.Subnets[0].Hyperparameters = map[string]any{"weights_rate_limit": 0}
	g.Subnets = append(g.Subnets, GenesisSubnet{
		Netuid: 2, Owner: "//Eve",
		Hyperparameters: map[string]any{"commit_reveal_weights_enabled": true, "weights_rate_limit": 0},
		Validators:      []GenesisNeuron{{Hotkey: "//Alice", Stake: 1e12}},
		Miners:          []GenesisNeuron{{Hotkey: "//Bob"}},
	})
	return g
}

func must(c subtensor.Call, err error) subtensor.Call {
	if err != nil {
		panic(err)
	}
	return c
}

func setHP(t *testing.T, n *testNet, netuid uint16, name string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := n.chain.SetHyperparameter(netuid, name, b); err != nil {
		t.Fatal(err)
	}
	n.blocks(t, 1)
}

func TestLocalnetWeightRules(t *testing.T) {
	n := startNet(t, rulesGenesis())
	sw := func(netuid uint16, uids, vals []uint16, vk uint64) subtensor.Call {
		return must(subtensor.SetWeights(netuid, uids, vals, vk))
	}
	steps := []struct {
		name  string
		setup func()
		uri   string
		call  subtensor.Call
		want  string
	}{
		{"unknown subnet", nil, "//Alice", sw(9, []uint16{1}, []uint16{1}, 0), "SubnetNotExists"},
		{"commit-reveal on", nil, "//Alice", sw(2, []uint16{1}, []uint16{1}, 0), "CommitRevealEnabled"},
		{"lengths differ", nil, "//Alice", subtensor.Call{Name: "set_weights", Args: append(append(append(u16b(1), vecU16([]uint16{1, 2})...), vecU16([]uint16{1})...), u64b(0)...)}, "WeightVecNotEqualSize"},
		{"more uids than the subnet", nil, "//Alice", sw(1, []uint16{0, 1, 2, 3, 4}, []uint16{1, 1, 1, 1, 1}, 0), "UidsLengthExceedUidsInSubNet"},
		{"unregistered hotkey", nil, "//Ferdie", sw(1, []uint16{1}, []uint16{1}, 0), "HotKeyNotRegisteredInSubNet"},
		{"no validator permit", nil, "//Bob", sw(1, []uint16{2}, []uint16{1}, 0), "NeuronNoValidatorPermit"},
		{"duplicate uids", nil, "//Alice", sw(1, []uint16{1, 1}, []uint16{1, 2}, 0), "DuplicateUids"},
		{"uid outside the subnet", nil, "//Alice", sw(1, []uint16{1, 7}, []uint16{1, 2}, 0), "UidVecContainInvalidOne"},
		{"fewer than min allowed", func() { setHP(t, n, 1, "min_allowed_weights", 3) }, "//Alice", sw(1, []uint16{1, 2}, []uint16{1, 2}, 0), "WeightVecLengthIsLow"},
		// Today's runtime no longer enforces MaxWeightsLimit (the legacy one
		// does: TestLegacyRuntimeEnforcesMaxWeight).
		{"over the stored max weight", func() { setHP(t, n, 1, "max_weights_limit", 40000) }, "//Alice", sw(1, []uint16{1, 2, 3}, []uint16{1, 1, 65535}, 0), "ok"},
		{"old version key", func() { setHP(t, n, 1, "weights_version", 5) }, "//Alice", sw(1, []uint16{1, 2, 3}, []uint16{1, 1, 1}, 4), "IncorrectWeightVersionKey"},
		{"accepted", nil, "//Alice", sw(1, []uint16{1, 2, 3}, []uint16{1, 1, 1}, 5), "ok"},
		{"self-weight without permit", nil, "//Bob", sw(1, []uint16{1}, []uint16{1}, 5), "ok"},
		{"commit with commit-reveal off", nil, "//Alice", subtensor.CommitWeights(1, [32]byte{1}), "CommitRevealDisabled"},
		{"rate limit (pool)", func() { setHP(t, n, 1, "weights_rate_limit", 100) }, "//Alice", sw(1, []uint16{1, 2, 3}, []uint16{1, 1, 1}, 5), "pool:RateLimitExceeded"},
		{"stake threshold (pool)", func() { setHP(t, n, 1, "stake_threshold", uint64(1e15)) }, "//Charlie", sw(1, []uint16{2}, []uint16{1}, 5), "pool:StakeAmountTooLow"},
		// The threshold is the chain's one value: back to 0 for subnet 2.
		{"timelocked with the wrong version", func() { setHP(t, n, 1, "stake_threshold", 0) }, "//Alice", must(subtensor.CommitTimelockedWeights(2, []byte{1}, n.chain.Head().State.LastStoredRound+100, 3)), "IncorrectCommitRevealVersion"},
		{"timelocked for a past round (pool)", nil, "//Alice", must(subtensor.CommitTimelockedWeights(2, []byte{1}, 1, 4)), "pool:InvalidRevealRound"},
		{"reveal without a commit (pool)", nil, "//Alice", must(subtensor.RevealWeights(2, []uint16{1}, []uint16{1}, []uint16{1}, 0)), "pool:CommitNotFound"},
	}
	for _, s := range steps {
		if s.setup != nil {
			s.setup()
		}
		if got := n.outcome(t, s.uri, s.call); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
}

func TestLocalnetHashCommitReveal(t *testing.T) {
	n := startNet(t, rulesGenesis())
	alice := dev(t, "//Alice")
	hk := AccountID(alice.PublicKey())
	uids, vals, salt := []uint16{1}, []uint16{65535}, []uint16{7, 8, 9}
	hash := subtensor.CommitHash(hk, 2, uids, vals, salt, 0)
	if got := n.outcome(t, "//Alice", subtensor.CommitWeights(2, hash)); got != "ok" {
		t.Fatalf("commit: %s", got)
	}
	// Too early: still the commit's epoch.
	if got := n.outcome(t, "//Alice", must(subtensor.RevealWeights(2, uids, vals, salt, 0))); got != "pool:CommitBlockNotInRevealRange" {
		t.Fatalf("early reveal: %s", got)
	}
	// Into the reveal epoch (tempo 10).
	s := n.chain.Head().State.Subnets[2]
	commitEpoch := s.HashCommits[hk][0].Epoch
	for s.epoch(n.chain.Head().Number+1) <= commitEpoch {
		n.blocks(t, 1)
	}
	if got := n.outcome(t, "//Alice", must(subtensor.RevealWeights(2, uids, vals, []uint16{7, 8, 10}, 0))); got != "pool:CommitNotFound" {
		t.Fatalf("wrong salt: %s", got)
	}
	if got := n.outcome(t, "//Alice", must(subtensor.RevealWeights(2, uids, vals, salt, 0))); got != "ok" {
		t.Fatalf("reveal: %s", got)
	}
	if w := n.chain.Head().State.Subnets[2].Neurons[0].Weights; len(w) != 1 || w[0] != (WeightEntry{1, 65535}) {
		t.Fatalf("revealed weights %v", w)
	}
	if len(n.chain.Head().State.Subnets[2].HashCommits[hk]) != 0 {
		t.Fatal("the revealed commit is still pending")
	}
}

func TestLocalnetAxonAndRegistrationRules(t *testing.T) {
	n := startNet(t, rulesGenesis())
	axon := func(ip string, port uint16) subtensor.Call {
		return must(subtensor.ServeAxon(1, 1, netip.AddrPortFrom(netip.MustParseAddr(ip), port), 4))
	}
	steps := []struct {
		name, uri string
		call      subtensor.Call
		want      string
	}{
		{"axon of an unregistered hotkey (pool)", "//Ferdie", axon("10.0.0.1", 8091), "pool:HotKeyNotRegisteredInNetwork"},
		{"axon with a bad ip type", "//Bob", subtensor.Call{Name: "serve_axon", Args: concat(u16b(1), u32b(1), make([]byte, 15), []byte{1}, u16b(80), []byte{5, 4, 0, 0})}, "pool:InvalidIpAddress"},
		{"axon served", "//Bob", axon("10.0.0.1", 8091), "ok"},
		{"register twice", "//Alice", subtensor.BurnedRegister(1, AccountID(dev(t, "//Bob").PublicKey())), "HotKeyAlreadyRegisteredInSubNet"},
		{"register on a missing subnet", "//Alice", subtensor.BurnedRegister(9, AccountID(dev(t, "//Ferdie").PublicKey())), "SubnetNotExists"},
		{"register without funds", "//Ferdie//poor", subtensor.BurnedRegister(1, AccountID(dev(t, "//Ferdie").PublicKey())), "NotEnoughBalanceToStake"},
		{"registered", "//Ferdie", subtensor.BurnedRegister(1, AccountID(dev(t, "//Ferdie").PublicKey())), "ok"},
	}
	for _, s := range steps {
		if got := n.outcome(t, s.uri, s.call); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
	s := n.chain.Head().State.Subnets[1]
	if ap, ok := s.Neurons[1].Axon.Addr(); !ok || ap.String() != "10.0.0.1:8091" {
		t.Fatalf("axon %v", s.Neurons[1].Axon)
	}
	if uid, ok := s.uid(AccountID(dev(t, "//Ferdie").PublicKey())); !ok || uid != 4 {
		t.Fatalf("Ferdie's uid %d %v", uid, ok)
	}
}

func TestLocalnetAdminRPCs(t *testing.T) {
	n := startNet(t, DefaultGenesis())
	ctx, rpc := t.Context(), n.rpc
	var ok bool
	if err := rpc.Call(ctx, "localnet_setHyperparameter", []any{1, "tempo", 20}, &ok); err != nil || !ok {
		t.Fatalf("set tempo: %v", err)
	}
	var re *substrate.RPCError
	for _, bad := range [][]any{{1, "no_such_param", 1}, {1, "tempo", "fast"}, {9, "tempo", 20}, {1, "tempo"}} {
		if err := rpc.Call(ctx, "localnet_setHyperparameter", bad, &ok); !errors.As(err, &re) || re.Code != -32602 {
			t.Errorf("setHyperparameter%v: %v", bad, err)
		}
	}
	n.blocks(t, 1)
	if tempo := n.chain.Head().State.Subnets[1].Params.Tempo; tempo != 20 {
		t.Fatalf("tempo %d after the change", tempo)
	}
	var beacon string
	if err := rpc.Call(ctx, "localnet_beacon", nil, &beacon); err != nil || beacon != n.chain.Beacon().String() {
		t.Fatalf("beacon %q %v", beacon, err)
	}
	if err := rpc.Call(ctx, "author_rotateKeys", nil, &beacon); !errors.As(err, &re) || re.Code != -32601 {
		t.Fatalf("unknown method: %v", err)
	}
}

func TestLocalnetDropsUndecryptableTimelockedCommits(t *testing.T) {
	n := startNet(t, crGenesis())
	round := n.chain.Head().State.LastStoredRound + 20 // blocks are 12 s (4 rounds) apart: room for a few blocks before inclusion
	call := must(subtensor.CommitTimelockedWeights(1, []byte("not a ciphertext"), round, 4))
	if got := n.outcome(t, "//Alice", call); got != "ok" {
		t.Fatalf("commit: %s", got)
	}
	md := n.chain.md
	key, _ := md.StorageKey("System", "Events")
	for range 60 {
		n.blocks(t, 1)
		recs, err := md.DecodeEvents(n.chain.Head().Storage[string(key)])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Name == "TimelockedWeightsDropped" {
				if len(n.chain.Head().State.Subnets[1].Timelocked) != 0 {
					t.Fatal("dropped commit still queued")
				}
				return
			}
		}
	}
	t.Fatal("no TimelockedWeightsDropped event within 60 blocks")
}

func TestLocalnetStorageQueries(t *testing.T) {
	n := startNet(t, DefaultGenesis())
	ctx, rpc := t.Context(), n.rpc
	prefix, err := substrate.StorageKey("SubtensorModule", "Uids")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := rpc.Call(ctx, "state_getKeysPaged", []any{substrate.HexKey(prefix), 3, nil}, &keys); err != nil || len(keys) != 3 {
		t.Fatalf("first page: %v %v", keys, err)
	}
	var more []string
	if err := rpc.Call(ctx, "state_getKeysPaged", []any{substrate.HexKey(prefix), 10, keys[2]}, &more); err != nil || len(more) != 1 || more[0] <= keys[2] {
		t.Fatalf("second page: %v %v", more, err)
	}
	var sets []struct {
		Block   string       `json:"block"`
		Changes [][2]*string `json:"changes"`
	}
	missing := substrate.HexKey(append(prefix, 0xff))
	if err := rpc.Call(ctx, "state_queryStorageAt", []any{[]string{keys[0], missing}}, &sets); err != nil || len(sets) != 1 || len(sets[0].Changes) != 2 {
		t.Fatalf("query: %+v %v", sets, err)
	}
	var one string
	if err := rpc.Call(ctx, "state_getStorage", []any{keys[0]}, &one); err != nil || sets[0].Changes[0][1] == nil || *sets[0].Changes[0][1] != one || sets[0].Changes[1][1] != nil {
		t.Fatalf("query answers %v, getStorage %q (%v)", sets[0].Changes, one, err)
	}
	var re *substrate.RPCError
	if err := rpc.Call(ctx, "state_queryStorageAt", []any{[]string{"0xzz"}}, &sets); !errors.As(err, &re) || re.Code != -32602 {
		t.Fatalf("bad key: %v", err)
	}
}

// TestLegacyRuntimeEnforcesMaxWeight: the legacy runtime refuses a vector
// whose largest share is above MaxWeightsLimit, by subtensor's rule.
func TestLegacyRuntimeEnforcesMaxWeight(t *testing.T) {
	g := rulesGenesis()
	g.EpochScheduler = "legacy"
	n := startNet(t, g)
	setHP(t, n, 1, "max_weights_limit", 40000)
	call := must(subtensor.SetWeights(1, []uint16{1, 2, 3}, []uint16{1, 1, 65535}, 0))
	if got := n.outcome(t, "//Alice", call); got != "MaxWeightExceeded" {
		t.Fatalf("over the max weight on the legacy runtime: %s", got)
	}
	if got := n.outcome(t, "//Alice", must(subtensor.SetWeights(1, []uint16{1, 2, 3}, []uint16{30000, 30000, 65535}, 0))); got != "ok" {
		t.Fatalf("within the max weight: %s", got)
	}
}

// TestLocalnetMechanisms: a subnet with two incentive mechanisms takes
// weights on each with its own call, storage index and rate limit, refuses
// a mechanism it lacks, and its epoch pays each mechanism's incentive from
// an even split of the emission.
func TestLocalnetMechanisms(t *testing.T) {
	g := DefaultGenesis()
	g.Subnets[0].Hyperparameters = map[string]any{"weights_rate_limit": 5, "mechanism_count": 2}
	n := startNet(t, g)
	smw := func(mecid uint8, uids, vals []uint16) subtensor.Call {
		return must(subtensor.SetMechanismWeights(1, mecid, uids, vals, 0))
	}
	for _, s := range []struct {
		name string
		call subtensor.Call
		want string
	}{
		{"a mechanism the subnet lacks", smw(2, []uint16{1}, []uint16{1}), "MechanismDoesNotExist"},
		{"mechanism 0 with set_weights", must(subtensor.SetWeights(1, []uint16{1, 2, 3}, []uint16{10, 20, 40}, 0)), "ok"},
		{"mechanism 1 in the same window", smw(1, []uint16{1, 2, 3}, []uint16{40, 20, 10}), "ok"},
		{"mechanism 1 again", smw(1, []uint16{1}, []uint16{1}), "pool:RateLimitExceeded"},
		{"mechanism 0 again", must(subtensor.SetWeights(1, []uint16{1}, []uint16{1}, 0)), "pool:RateLimitExceeded"},
	} {
		if got := n.outcome(t, "//Alice", s.call); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
	ctx := context.Background()
	w1, err := n.client.MechanismWeights(ctx, 1, 1, 0, "")
	if err != nil || len(w1) != 3 || w1[0].Value != 65535 {
		t.Fatalf("mechanism 1 weights %v %v", w1, err)
	}
	lu, err := n.client.LastUpdate(ctx, subtensor.StorageIndex(1, 1), "")
	if err != nil || len(lu) != 4 || lu[0] == 0 {
		t.Fatalf("mechanism 1 LastUpdate %v %v", lu, err)
	}
	s := n.chain.Head().State.Subnets[1]
	stake := func(s *Subnet) (sum uint64) {
		for _, nr := range s.Neurons {
			sum += nr.Stake
		}
		return
	}
	before, pending := stake(s), s.PendingEmission
	n.blocks(t, 12) // past the next epoch of a tempo-10 subnet
	s = n.chain.Head().State.Subnets[1]
	// Mechanism 0 favours uid 3, mechanism 1 uid 1; each keeps its own
	// incentive vector at its storage index.
	inc0, inc1 := s.Neurons[3].incentive(0), s.Neurons[1].incentive(1)
	if inc0 < 37000 || inc1 < 37000 || s.Neurons[1].incentive(0) > 10000 || s.Neurons[3].incentive(1) > 10000 {
		t.Fatalf("incentives: mechanism 0 %v, mechanism 1 %v", s.Neurons[3].incentive(0), s.Neurons[1].incentive(1))
	}
	// Both mechanisms' miners got paid from one emission: uid 1 and uid 3
	// earned alike (mirror-image weights), and nothing beyond the pending
	// emission was minted.
	e1, e3 := s.Neurons[1].Stake, s.Neurons[3].Stake
	if e1 == 0 || e3 == 0 || max(e1, e3)-min(e1, e3) > max(e1, e3)/100 {
		t.Errorf("miner stakes %d and %d, want alike", e1, e3)
	}
	if paid := stake(s) - before; paid == 0 || paid > pending+12*s.EmissionPerBlock {
		t.Errorf("epoch paid %d (pending %d + %d a block)", paid, pending, s.EmissionPerBlock)
	}
	// Fewer mechanisms drop the state of those removed.
	setHP(t, n, 1, "mechanism_count", 1)
	if nr := n.chain.Head().State.Subnets[1].Neurons[0]; len(nr.Mechanisms) != 0 {
		t.Errorf("mechanism 1 state kept: %+v", nr.Mechanisms)
	}
	if got := n.outcome(t, "//Alice", smw(1, []uint16{1}, []uint16{1})); got != "MechanismDoesNotExist" {
		t.Errorf("mechanism 1 after removal: %s", got)
	}
}

// TestLocalnetRegisterLimit: register_limit registers only while the burn
// is at most its limit price.
func TestLocalnetRegisterLimit(t *testing.T) {
	n := startNet(t, DefaultGenesis())
	burn := n.chain.Head().State.Subnets[1].Burn
	ferdie := subtensor.AccountID(dev(t, "//Ferdie").PublicKey())
	if got := n.outcome(t, "//Alice", subtensor.RegisterLimit(1, ferdie, burn/2)); got != "RegistrationPriceLimitExceeded" {
		t.Fatalf("limit below the burn: %s", got)
	}
	if got := n.outcome(t, "//Alice", subtensor.RegisterLimit(1, ferdie, burn)); got != "ok" {
		t.Fatalf("limit at the burn: %s", got)
	}
	if _, ok := n.chain.Head().State.Subnets[1].uid(ferdie); !ok {
		t.Fatal("not registered")
	}
}

// TestLocalnetBurnPrice: on today's runtime the burn halves every
// BurnHalfLife blocks (subtensor's Q32 per-block factor) and grows by
// BurnIncreaseMult with each registration, within MinBurn and MaxBurn.
func TestLocalnetBurnPrice(t *testing.T) {
	g := DefaultGenesis()
	g.Subnets[0].Hyperparameters = map[string]any{"burn_half_life": 20}
	n := startNet(t, g)
	s := n.chain.Head().State.Subnets[1]
	if s.Params.BurnIncreaseMult != defaultBurnIncreaseMult {
		t.Fatalf("multiplier %v", s.Params.BurnIncreaseMult)
	}
	// The factor, against float64 arithmetic: 0.5^(1/20) within a Q32 unit
	// or two of truncation.
	f := decayFactorQ32(20)
	if want := math.Pow(0.5, 1.0/20) * (1 << 32); math.Abs(float64(f)-want) > 2 {
		t.Fatalf("decay factor %d, float64 says %.1f", f, want)
	}
	if decayFactorQ32(0) != 1<<32 || powQ32(f, 20) > 1<<31 || powQ32(f+1, 20) <= 1<<31 {
		t.Fatalf("factor %d is not the largest with f^20 <= 1/2", f)
	}
	// The v3 runtime API shows them, and the client reads it.
	hp, err := n.client.Hyperparameters(context.Background(), 1, "")
	if err != nil || hp.Version != 3 || hp.BurnHalfLife != 20 || hp.BurnIncreaseMult != 1.26 || hp.Tempo != 10 || hp.MinBurn != 500_000 {
		t.Fatalf("hyperparameters %+v %v", hp, err)
	}
	before := s.Burn
	n.blocks(t, 20)
	after := n.chain.Head().State.Subnets[1].Burn
	if r := float64(after) / float64(before); r < 0.499 || r > 0.501 {
		t.Fatalf("burn %d after 20 blocks of half-life 20, was %d (ratio %.4f)", after, before, r)
	}
	// A registration multiplies the price of the next one by 1.26.
	ferdie := subtensor.AccountID(dev(t, "//Ferdie").PublicKey())
	if _, err := n.submit(t, dev(t, "//Alice"), subtensor.BurnedRegister(1, ferdie)); err != nil {
		t.Fatal(err)
	}
	// The including block and the one before it.
	var blk, pb *Block
	for num := n.chain.Head().Number; num > 0; num-- {
		h, _ := n.chain.BlockHash(num)
		b, _ := n.chain.BlockByHash(h)
		if _, ok := b.State.Subnets[1].uid(ferdie); !ok {
			pb = b
			break
		}
		blk = b
	}
	if blk == nil || pb == nil {
		t.Fatal("registration block not found")
	}
	paid := decayed(pb.State.Subnets[1].Burn, f)
	if got, want := blk.State.Subnets[1].Burn, uint64(float64(paid)*1.26); got < want-1 || got > want+1 {
		t.Fatalf("burn after a registration %d, want %d (1.26 × %d)", got, want, paid)
	}
	// Never below MinBurn.
	setHP(t, n, 1, "min_burn", 900_000_000)
	if b := n.chain.Head().State.Subnets[1].Burn; b < 900_000_000 {
		t.Fatalf("burn %d below MinBurn", b)
	}
}

func decayed(burn, f uint64) uint64 { return mulQ32(burn, f) }
