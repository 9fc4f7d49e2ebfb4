package subtensor

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
	"github.com/vigil-validator/vigil/bittensor/subtensor/subtensortest"
	"github.com/vigil-validator/vigil/bittensor/timelock"
)

func u16le(v uint16) []byte                   { return subtensortest.U16(v) }
func u64vec(v ...uint64) []byte               { return subtensortest.VecU64(v...) }
func byNetuid(netuid uint16) substrate.MapKey { return subtensortest.ByNetuid(netuid) }

func skey(t *testing.T, pallet, item string, k ...substrate.MapKey) []byte {
	t.Helper()
	key, err := substrate.StorageKey(pallet, item, k...)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// weightsFixture is subnet 1 at block 1000 on a scripted chain: 8 uids,
// //Alice registered as uid 3 and last updated at 950, a 100-block rate
// limit, tempo 99, version key 7, commit-reveal off.
type weightsFixture struct {
	chain  *substratetest.Chain
	md     *substrate.Metadata
	client *Client
	alice  *keys.KeyPair
	stamp  time.Time
}

func newWeightsFixture(t *testing.T) *weightsFixture {
	t.Helper()
	alice, _ := keys.FromURI("//Alice")
	f := &weightsFixture{alice: alice, stamp: time.UnixMilli(1_763_800_000_000)}
	f.chain, f.md = subtensortest.NewChain(t, 1000)
	subtensortest.Subnet{
		Netuid: 1, N: 8, Tempo: 99, RateLimit: 100, MinAllowedWeights: 1, VersionKey: 7,
		Hotkeys: map[[32]byte]uint16{alice.PublicKey(): 3}, LastUpdate: []uint64{0, 0, 0, 950, 0, 0, 0, 0},
		Timestamp: f.stamp, LastStoredRound: 100,
	}.Install(t, f.chain)
	f.client = dialClient(t, f.chain.Start(t))
	return f
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// submittedCall decodes the i-th submitted extrinsic, checks it is signed
// by signer, and returns its call name and argument bytes.
func (f *weightsFixture) submittedCall(t *testing.T, i int, signer *keys.KeyPair) (string, []byte) {
	t.Helper()
	c := subtensortest.Submitted(t, f.chain, f.md, i)
	if c.Signer != signer.PublicKey() {
		t.Fatalf("extrinsic signed by %x", c.Signer)
	}
	return c.Name, c.Args
}

func TestWeightStateReadsTheChain(t *testing.T) {
	f := newWeightsFixture(t)
	s, err := f.client.WeightState(ctxT(t), 1, AccountID(f.alice.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Registered || s.UID != 3 || s.N != 8 || s.Block != 1000 || s.LastUpdate != 950 || s.LastStoredRound != 100 ||
		s.CommitRevealVersion != 4 || !s.Timestamp.Equal(f.stamp) {
		t.Fatalf("state %+v", s)
	}
	if s.Params.Tempo != 99 || s.Params.WeightsSetRateLimit != 100 || s.Params.WeightsVersionKey != 7 || s.Params.MaxWeightsLimit != 65535 {
		t.Fatalf("params %+v", s.Params)
	}
	if s.Mode() != ModeSet {
		t.Fatalf("mode %v with commit-reveal off", s.Mode())
	}
	// 50 blocks since the last update, 100 required.
	var rl *RateLimitError
	if err := s.Ready(); !errors.As(err, &rl) || rl.Blocks != 50 {
		t.Fatalf("ready: %v", err)
	}
	plan, err := s.Plan([]uint16{0, 1, 2}, []float64{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.SubmitWeights(ctxT(t), f.alice, s, plan, WeightOptions{}); !errors.As(err, &rl) {
		t.Fatalf("submit inside the rate limit: %v", err)
	}
	if n := len(f.chain.Submitted()); n != 0 {
		t.Fatalf("%d extrinsics submitted inside the rate limit", n)
	}

	// Another hotkey is not registered; another subnet does not exist.
	bob, _ := keys.FromURI("//Bob")
	s2, err := f.client.WeightState(ctxT(t), 1, AccountID(bob.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Ready(); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("unregistered hotkey: %v", err)
	}
	if _, err := f.client.WeightState(ctxT(t), 2, AccountID(f.alice.PublicKey())); !errors.Is(err, ErrSubnetNotFound) {
		t.Fatalf("missing subnet: %v", err)
	}
	// The signer must be the hotkey the state was read for.
	if _, err := f.client.SubmitWeights(ctxT(t), bob, s, plan, WeightOptions{}); err == nil {
		t.Fatal("a state read for Alice submitted with Bob's key")
	}
}

func TestPlanValidatesAndProcesses(t *testing.T) {
	s := &WeightState{Netuid: 1, N: 8, Params: defaultSubnetParams}
	s.Params.MinAllowedWeights = 1
	s.Params.WeightsVersionKey = 9
	plan, err := s.Plan([]uint16{4, 1, 2}, []float64{1, 0, 4})
	if err != nil {
		t.Fatal(err)
	}
	// Zero weights are dropped, the largest becomes 65535.
	if !slices.Equal(plan.UIDs, []uint16{4, 2}) || !slices.Equal(plan.Values, []uint16{16384, 65535}) || plan.VersionKey != 9 || plan.Mode != ModeTimelock {
		t.Fatalf("plan %+v", plan)
	}
	for _, bad := range []struct {
		uids    []uint16
		weights []float64
	}{
		{[]uint16{8}, []float64{1}},           // uid outside the subnet
		{[]uint16{1, 1}, []float64{1, 2}},     // duplicate
		{[]uint16{1}, []float64{-1}},          // negative
		{[]uint16{1, 2}, []float64{1}},        // lengths
		{[]uint16{1}, []float64{nan()}},       // NaN
		{[]uint16{1, 2}, []float64{inf(), 1}}, // infinite
	} {
		if _, err := s.Plan(bad.uids, bad.weights); !errors.Is(err, ErrBadWeights) {
			t.Errorf("Plan(%v, %v): %v", bad.uids, bad.weights, err)
		}
	}
	if _, err := (&WeightState{Netuid: 1}).Plan([]uint16{0}, []float64{1}); !errors.Is(err, ErrBadWeights) {
		t.Errorf("empty subnet: %v", err)
	}
}

func TestSubmitWeightsSetMode(t *testing.T) {
	f := newWeightsFixture(t)
	f.chain.Set(skey(t, Pallet, "LastUpdate", byNetuid(1)), u64vec(0, 0, 0, 900, 0, 0, 0, 0)) // 100 blocks ago
	s, err := f.client.WeightState(ctxT(t), 1, AccountID(f.alice.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := s.Plan([]uint16{0, 5}, []float64{2, 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.client.SubmitWeights(ctxT(t), f.alice, s, plan, WeightOptions{})
	if err != nil || !res.Succeeded() || res.Mode != ModeSet {
		t.Fatalf("submit: %+v %v", res, err)
	}
	name, args := f.submittedCall(t, 0, f.alice)
	want, _ := SetWeights(1, []uint16{0, 5}, []uint16{65535, 32768}, 7)
	if name != "set_weights" || string(args) != string(want.Args) {
		t.Fatalf("%s(%x), want set_weights(%x)", name, args, want.Args)
	}
}

func TestSubmitWeightsTimelockMode(t *testing.T) {
	f := newWeightsFixture(t)
	f.chain.Set(skey(t, Pallet, "CommitRevealWeightsEnabled", byNetuid(1)), []byte{1})
	f.chain.Set(skey(t, Pallet, "LastUpdate", byNetuid(1)), u64vec()) // never set
	dev, err := timelock.NewDevKey([]byte("test beacon"), time.Unix(1_700_000_000, 0), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	beacon := dev.Beacon()
	s, err := f.client.WeightState(ctxT(t), 1, AccountID(f.alice.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode() != ModeTimelock || s.Ready() != nil {
		t.Fatalf("mode %v, ready %v", s.Mode(), s.Ready())
	}
	plan, _ := s.Plan([]uint16{0, 5, 6}, []float64{3, 1, 2})
	res, err := f.client.SubmitWeights(ctxT(t), f.alice, s, plan, WeightOptions{Beacon: &beacon})
	if err != nil || !res.Succeeded() {
		t.Fatalf("submit: %+v %v", res, err)
	}
	// Block 1000 of netuid 1 with tempo 99 is in epoch 10; the reveal
	// epoch 11 starts at block 1098; three blocks later is 101 blocks
	// (1212 s) after the chain's timestamp.
	wantRound := uint64((f.stamp.Unix() + 1212 - 1_700_000_000) / 3) // the SDK's floor
	if res.RevealRound != wantRound {
		t.Fatalf("reveal round %d, want %d", res.RevealRound, wantRound)
	}
	name, args := f.submittedCall(t, 0, f.alice)
	if name != "commit_timelocked_weights" {
		t.Fatalf("call %s", name)
	}
	var netuid, version uint16
	var ct []byte
	var round uint64
	err = scale.Decode(args, func(r *scale.Reader) (err error) {
		if netuid, err = r.U16(); err != nil {
			return
		}
		if ct, err = r.ByteSlice(); err != nil {
			return
		}
		if round, err = r.U64(); err != nil {
			return
		}
		version, err = r.U16()
		return
	})
	if err != nil || netuid != 1 || round != wantRound || version != 4 {
		t.Fatalf("args netuid %d round %d version %d: %v", netuid, round, version, err)
	}
	// What the chain does at the reveal: decrypt with the round's pulse
	// and decode the payload.
	sig, _ := dev.Sign(round)
	pt, err := timelock.Decrypt(beacon, ct, round, sig)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := TimelockPayload(AccountID(f.alice.PublicKey()), plan.UIDs, plan.Values, 7)
	if string(pt) != string(want) {
		t.Fatalf("payload %x, want %x", pt, want)
	}
	if !slices.Equal(plan.Values, []uint16{65535, 21845, 43690}) {
		t.Fatalf("values %v", plan.Values)
	}
	other, _ := dev.Sign(round + 1)
	if _, err := timelock.Decrypt(beacon, ct, round+1, other); err == nil {
		t.Fatal("decrypted with the next round's pulse")
	}
}

func TestTimelockPayloadOverTheLimitIsRefused(t *testing.T) {
	f := newWeightsFixture(t)
	f.chain.Set(skey(t, Pallet, "CommitRevealWeightsEnabled", byNetuid(1)), []byte{1})
	f.chain.Set(skey(t, Pallet, "SubnetworkN", byNetuid(1)), u16le(2000))
	f.chain.Set(skey(t, Pallet, "LastUpdate", byNetuid(1)), u64vec())
	s, err := f.client.WeightState(ctxT(t), 1, AccountID(f.alice.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	fits := (timelock.MaxPayloadSize - 45) / 4
	for _, n := range []int{fits, fits + 1} {
		uids := make([]uint16, n)
		w := make([]float64, n)
		for i := range uids {
			uids[i], w[i] = uint16(i), 1
		}
		plan, err := s.Plan(uids, w)
		if err != nil || len(plan.UIDs) != n {
			t.Fatalf("plan of %d: %v", n, err)
		}
		before := len(f.chain.Submitted())
		_, err = f.client.SubmitWeights(ctxT(t), f.alice, s, plan, WeightOptions{})
		sent := len(f.chain.Submitted()) - before
		if n == fits && (err != nil || sent != 1) {
			t.Fatalf("%d uids (fits): %v, %d sent", n, err, sent)
		}
		if n > fits && (err == nil || sent != 0 || !strings.Contains(err.Error(), "over the chain's")) {
			t.Fatalf("%d uids (too many): %v, %d sent", n, err, sent)
		}
	}
}

func TestRevealRound(t *testing.T) {
	b := timelock.Quicknet
	now := time.Unix(1_763_800_000, 0)
	// netuid 1, tempo 360, legacy schedule, head 6_000_000: the commit
	// lands in 6_000_001, epoch 16620; reveal epoch 16621 starts at
	// 16621·361 − 2 = 6_000_179; +3 → 182 blocks ahead.
	st := &WeightState{Netuid: 1, Block: 6_000_000, Params: SubnetParams{Tempo: 360, RevealPeriodEpochs: 1}}
	target, err := st.RevealTarget()
	if err != nil || target != (RevealTarget{Scheduler: "legacy", CommitBlock: 6_000_001, CommitEpoch: 16620, RevealEpoch: 16621, RevealBlock: 6_000_179}) {
		t.Fatalf("legacy target %+v %v", target, err)
	}
	got, err := RevealRound(b, now, 12*time.Second, 6_000_000, target.RevealBlock, 0)
	want := uint64((1_763_800_000 + 182*12 - 1692803367) / 3)
	if err != nil || got != want {
		t.Fatalf("round %d (%v), want %d", got, err, want)
	}
	// Two reveal epochs later.
	st.Params.RevealPeriodEpochs = 3
	target, _ = st.RevealTarget()
	got, _ = RevealRound(b, now, 12*time.Second, 6_000_000, target.RevealBlock, 0)
	want = uint64((1_763_800_000 + (182+2*361)*12 - 1692803367) / 3)
	if got != want {
		t.Fatalf("reveal period 3: round %d, want %d", got, want)
	}
	// A commit built on an epoch's last block lands in the next epoch.
	last := EpochStart(16621, 1, 360) - 1
	st = &WeightState{Netuid: 1, Block: last, Params: SubnetParams{Tempo: 360, RevealPeriodEpochs: 1}}
	if target, _ := st.RevealTarget(); target.CommitEpoch != 16621 || target.RevealBlock != EpochStart(16622, 1, 360) {
		t.Fatalf("commit built on the last block of epoch 16620: %+v", target)
	}
	// The stateful scheduler, when the chain has it.
	st.Schedule = &EpochSchedule{Block: last, Tempo: 360, LastEpochBlock: last - 100, EpochIndex: 40}
	if target, _ := st.RevealTarget(); target.Scheduler != "stateful" || target.CommitEpoch != 40 || target.RevealBlock != last+260 {
		t.Fatalf("stateful target %+v", target)
	}
	// Never below the chain's last stored round.
	if got, _ := RevealRound(b, now, 12*time.Second, 6_000_000, 6_000_179, 1<<40); got != 1<<40 {
		t.Fatalf("under LastStoredRound: %d", got)
	}
	// Before the beacon's genesis: round 1.
	if got, _ := RevealRound(b, time.Unix(0, 0), time.Second, 0, 10, 0); got != 1 {
		t.Fatalf("before genesis: %d", got)
	}
	st.Schedule, st.Params.Tempo = nil, 0
	if _, err := st.RevealTarget(); !errors.Is(err, ErrNoEpochs) {
		t.Fatalf("tempo 0: %v", err)
	}
	if EpochOf(6_000_000, 1, 360) != 16620 || EpochStart(16621, 1, 360) != 6_000_179 || EpochStart(0, 5, 10) != 0 {
		t.Fatal("epoch arithmetic")
	}
}

func nan() float64  { return zero() / zero() }
func inf() float64  { return 1 / zero() }
func zero() float64 { return 0 }

// BenchmarkPlanAndTimelockedCommit is a validator's weight pass for 1024
// uids in commit-reveal mode: SDK processing, payload, encryption, call.
func BenchmarkPlanAndTimelockedCommit(b *testing.B) {
	s := &WeightState{Netuid: 1, N: 1024, Block: 6_000_000, Timestamp: time.Unix(1_763_800_000, 0), CommitRevealVersion: 4, Params: defaultSubnetParams}
	s.Params.MinAllowedWeights = 8
	s.Params.MaxWeightsLimit = 65535
	uids := make([]uint16, 1024)
	scores := make([]float64, 1024)
	for i := range uids {
		uids[i], scores[i] = uint16(i), float64(i%97)+0.5
	}
	b.ReportAllocs()
	for b.Loop() {
		plan, err := s.Plan(uids, scores)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, _, err := timelockCall(s, plan, WeightOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlanDirect: the reference compute validator's submission is its
// float64 weights converted as they are, in the order given; that differs
// in the last u16 from the SDK's processed vector often enough to matter,
// and where the chain would refuse it (too few uids, a weight over the
// limit) the processed vector goes instead.
func TestPlanDirect(t *testing.T) {
	s := &WeightState{Netuid: 1, N: 300, Params: defaultSubnetParams}
	s.Params.MinAllowedWeights, s.Params.MaxWeightsLimit = 1, U16Max
	rng := rand.New(rand.NewPCG(7, 9))
	differ := 0
	for range 200 {
		uids := make([]uint16, 256)
		ws := make([]float64, 256)
		for i := range uids {
			uids[i] = uint16(255 - i) // hotkey order is not uid order
			if rng.IntN(4) > 0 {
				ws[i] = rng.Float64()
			}
		}
		direct, err := s.PlanDirect(uids, ws)
		if err != nil {
			t.Fatal(err)
		}
		cu, cv, _ := ConvertWeights(uids, ws)
		if !slices.Equal(direct.UIDs, cu) || !slices.Equal(direct.Values, cv) {
			t.Fatalf("PlanDirect is not the direct conversion")
		}
		sdk, err := s.Plan(uids, ws)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sdk.Values, direct.Values) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("the SDK's processing never changed a u16 in 200 vectors: the direct path would not matter")
	}
	t.Logf("%d of 200 vectors differ in some u16 between the SDK's processing and the direct conversion", differ)

	few := &WeightState{Netuid: 1, N: 300, Params: defaultSubnetParams}
	few.Params.MinAllowedWeights, few.Params.MaxWeightsLimit = 8, U16Max
	uids, ws := []uint16{3, 1, 2}, []float64{0.5, 0.25, 1}
	want, err := few.Plan(uids, ws)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := few.PlanDirect(uids, ws); err != nil || !slices.Equal(got.UIDs, want.UIDs) || !slices.Equal(got.Values, want.Values) {
		t.Errorf("under min_allowed_weights: %+v %v, want Plan's %+v", got, err, want)
	}
	capped := &WeightState{Netuid: 1, N: 300, Params: defaultSubnetParams}
	capped.Params.MinAllowedWeights, capped.Params.MaxWeightsLimit = 1, 30000
	want, _ = capped.Plan([]uint16{0, 1, 2}, []float64{10, 1, 1})
	if got, _ := capped.PlanDirect([]uint16{0, 1, 2}, []float64{10, 1, 1}); !slices.Equal(got.Values, want.Values) {
		t.Errorf("over max_weights_limit: %v, want Plan's %v", got.Values, want.Values)
	}
	if _, err := s.PlanDirect([]uint16{1, 1}, []float64{1, 1}); !errors.Is(err, ErrBadWeights) {
		t.Errorf("a uid twice: %v", err)
	}
	if _, err := s.PlanDirect([]uint16{300}, []float64{1}); !errors.Is(err, ErrBadWeights) {
		t.Errorf("a uid outside the subnet: %v", err)
	}
}
