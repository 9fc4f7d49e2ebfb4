package validator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// fakeChain is a Chain held in memory: the weight loop's decisions are
// tested against it with a fake clock, no chain and no network.
type fakeChain struct {
	mu sync.Mutex
	st subtensor.WeightState
	mg subtensor.Metagraph
	// errs are returned by successive SubmitWeights calls; past its end a
	// call succeeds.
	errs  []error
	plans []subtensor.WeightPlan
	// revealed is the block of each mechanism's reveal event, if any.
	revealed map[uint8]uint64
}

func (f *fakeChain) WeightState(_ context.Context, netuid uint16, hotkey subtensor.AccountID) (*subtensor.WeightState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st
	st.Netuid, st.Hotkey = netuid, hotkey
	st.LastUpdates = slices.Clone(f.st.LastUpdates)
	return &st, nil
}

func (f *fakeChain) Metagraph(context.Context, uint16, string) (*subtensor.Metagraph, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mg := f.mg
	mg.Neurons = slices.Clone(f.mg.Neurons)
	return &mg, nil
}

func (f *fakeChain) SubmitWeights(_ context.Context, _ substrate.Signer, st *subtensor.WeightState, plan *subtensor.WeightPlan, _ subtensor.WeightOptions) (*subtensor.WeightResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := st.ReadyOn(plan.Mechanism); err != nil {
		return nil, err
	}
	f.plans = append(f.plans, *plan)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return nil, err
		}
	}
	return &subtensor.WeightResult{SubmitResult: &substrate.SubmitResult{TxHash: [32]byte{1}, BlockHash: "0xb1"}, Mode: plan.Mode, RevealRound: 7}, nil
}

func (f *fakeChain) Head(context.Context, string) (subtensor.Block, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return subtensor.Block{Number: f.st.Block + 1, Hash: "0xb1"}, nil
}

func (f *fakeChain) TimelockRevealedIn(_ context.Context, _ uint16, mecid uint8, _ subtensor.AccountID, from, to uint64) (uint64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.revealed[mecid]; ok && b >= from && b <= to {
		return b, true, nil
	}
	return 0, false, nil
}

// setup edits a fresh fakeChain and validator before the step.
type setup func(t *testing.T, f *fakeChain, v *Validator, j *store.Store)

// loopChain is validator //Alice (uid 0, permit, 1000 TAO of stake) and
// three miners on netuid 1, tempo 10, at block 100, weights never set.
func loopChain(t *testing.T) *fakeChain {
	alice := subtensor.AccountID(dev(t, "//Alice").PublicKey())
	f := &fakeChain{revealed: map[uint8]uint64{}}
	f.st = subtensor.WeightState{
		Block: 100, BlockHash: "0xa0", Registered: true, UID: 0, N: 4, MechanismCount: 1, LastUpdates: []uint64{0},
		Params: subtensor.SubnetParams{Tempo: 10, WeightsSetRateLimit: 5, MinAllowedWeights: 1, MaxWeightsLimit: 65535, RevealPeriodEpochs: 1},
	}
	f.mg = subtensor.Metagraph{Netuid: 1, Block: 100, BlockHash: "0xa0", MaxValidators: 64}
	f.mg.Neurons = append(f.mg.Neurons, subtensor.Neuron{UID: 0, Hotkey: alice, ValidatorPermit: true, Stake: 1e12})
	for i, uri := range []string{"//Bob", "//Charlie", "//Dave"} {
		f.mg.Neurons = append(f.mg.Neurons, subtensor.Neuron{UID: uint16(i + 1), Hotkey: subtensor.AccountID(dev(t, uri).PublicKey())})
	}
	return f
}

// step runs one Step, advancing the fake clock whenever the loop waits on
// it (a retry's backoff), so that nothing sleeps.
func step(t *testing.T, v *Validator, clk *clock.Fake) (StepResult, error) {
	t.Helper()
	type out struct {
		r   StepResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		r, err := v.Step(context.Background())
		done <- out{r, err}
	}()
	for {
		select {
		case o := <-done:
			return o.r, o.err
		case <-time.After(time.Millisecond):
			if clk.Waiters() > 0 {
				clk.Advance(time.Minute)
			}
		}
	}
}

// TestWeightLoopDecisions covers each reason the loop gives for not
// submitting, each submission mode, and retries, with no chain.
func TestWeightLoopDecisions(t *testing.T) {
	lost := fmt.Errorf("node gone: %w", substrate.ErrConnectionLost)
	refused := &substrate.DispatchError{Kind: "Module", Pallet: "SubtensorModule", Name: "IncorrectWeightVersionKey"}
	cases := []struct {
		name  string
		setup setup
		// want is the outcome: the reason given ("" when submitted), the
		// error wrapped, the modes submitted and the journal's outcomes.
		reason   string
		err      error
		errText  string
		plans    []subtensor.WeightMode
		outcomes []store.Outcome
	}{
		{name: "set_weights when commit-reveal is off", plans: []subtensor.WeightMode{subtensor.ModeSet}, outcomes: []store.Outcome{store.OutcomeIncluded}},
		{name: "a timelocked commit when it is on", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.st.Params.CommitRevealEnabled = true
		}, plans: []subtensor.WeightMode{subtensor.ModeTimelock}, outcomes: []store.Outcome{store.OutcomeIncluded}},
		{name: "not registered", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.st.Registered = false
		}, reason: "hotkey not registered", err: ErrNotRegistered},
		{name: "no validator permit", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.mg.Neurons[0].ValidatorPermit = false
		}, reason: "has no validator permit", err: ErrWeightsRefused},
		{name: "the subnet owner needs no permit", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.mg.Neurons[0].ValidatorPermit = false
			f.mg.OwnerHotkey = f.mg.Neurons[0].Hotkey
		}, plans: []subtensor.WeightMode{subtensor.ModeSet}, outcomes: []store.Outcome{store.OutcomeIncluded}},
		{name: "stake below StakeThreshold", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.st.StakeThreshold = 2e12
		}, reason: "below the chain's StakeThreshold", err: ErrWeightsRefused},
		{name: "the chain's LastUpdate within the cadence", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.st.LastUpdates[0], f.st.LastUpdate = 95, 95
		}, reason: "next weights at block 105"},
		{name: "weights.every_blocks longer than the tempo", setup: func(_ *testing.T, f *fakeChain, v *Validator, _ *store.Store) {
			f.st.LastUpdates[0], f.st.LastUpdate = 85, 85
			v.cfg.EveryBlocks = 50
		}, reason: "next weights at block 135"},
		{name: "a pending journal row holds the next submission back", setup: func(t *testing.T, f *fakeChain, _ *Validator, j *store.Store) {
			genesis := fmt.Sprintf("%#x", f.st.Genesis)
			if err := j.RecordWeightSubmission(context.Background(), &store.WeightSubmission{Genesis: genesis, Netuid: 1, Block: 98, Mode: store.ModeSet}); err != nil {
				t.Fatal(err)
			}
		}, reason: "next weights at block 108", outcomes: []store.Outcome{store.OutcomePending}},
		{name: "no scores yet", setup: func(_ *testing.T, _ *fakeChain, v *Validator, _ *store.Store) {
			v.cfg.Mechanism = &fixedScores{}
		}, reason: "no scores yet"},
		{name: "a configured mechanism the subnet no longer has", setup: func(_ *testing.T, _ *fakeChain, v *Validator, _ *store.Store) {
			v.cfg.Mechanisms = []uint8{1}
		}, reason: "no mechanism to set weights on"},
		{name: "a lost connection is retried", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.errs = []error{lost, lost}
		}, plans: []subtensor.WeightMode{subtensor.ModeSet, subtensor.ModeSet, subtensor.ModeSet}, outcomes: []store.Outcome{store.OutcomeIncluded}},
		{name: "still lost after every attempt: left pending", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.errs = []error{lost, lost, lost}
		}, err: substrate.ErrConnectionLost, plans: []subtensor.WeightMode{subtensor.ModeSet, subtensor.ModeSet, subtensor.ModeSet},
			outcomes: []store.Outcome{store.OutcomePending}},
		{name: "a refusal is not retried", setup: func(_ *testing.T, f *fakeChain, _ *Validator, _ *store.Store) {
			f.errs = []error{refused}
		}, errText: "IncorrectWeightVersionKey", plans: []subtensor.WeightMode{subtensor.ModeSet}, outcomes: []store.Outcome{store.OutcomeFailed}},
		{name: "two mechanisms, one of them due", setup: func(_ *testing.T, f *fakeChain, v *Validator, _ *store.Store) {
			f.st.MechanismCount, f.st.LastUpdates = 2, []uint64{0, 96}
			v.cfg.Mechanisms = []uint8{0, 1}
		}, plans: []subtensor.WeightMode{subtensor.ModeSet}, outcomes: []store.Outcome{store.OutcomeIncluded}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(time.Unix(1_763_800_000, 0))
			f := loopChain(t)
			j := storetest.Open(t, "sqlite", clk)
			v, err := New(Config{Netuid: 1, Hotkey: dev(t, "//Alice"), Client: f, Store: j, Mechanism: &fixedScores{scores: miners(t)},
				Clock: clk, Backoff: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if c.setup != nil {
				c.setup(t, f, v, j)
			}
			r, err := step(t, v, clk)
			switch {
			case c.err != nil && !errors.Is(err, c.err):
				t.Fatalf("error %v, want %v", err, c.err)
			case c.errText != "" && (err == nil || !strings.Contains(err.Error(), c.errText)):
				t.Fatalf("error %v, want %q", err, c.errText)
			case c.err == nil && c.errText == "" && err != nil:
				t.Fatalf("error %v", err)
			}
			if c.reason != "" && !strings.Contains(r.Reason, c.reason) || c.reason == "" && r.Reason != "" {
				t.Errorf("reason %q, want %q", r.Reason, c.reason)
			}
			var modes []subtensor.WeightMode
			for _, p := range f.plans {
				modes = append(modes, p.Mode)
			}
			if fmt.Sprint(modes) != fmt.Sprint(c.plans) {
				t.Errorf("submitted %v, want %v", modes, c.plans)
			}
			rows, err := j.WeightSubmissions(context.Background(), 1, 10)
			if err != nil {
				t.Fatal(err)
			}
			var outcomes []store.Outcome
			for i, w := range rows {
				outcomes = append(outcomes, w.Outcome)
				if i < len(c.plans) && w.Mode != map[subtensor.WeightMode]store.SubmissionMode{subtensor.ModeSet: store.ModeSet, subtensor.ModeTimelock: store.ModeTimelock}[c.plans[0]] {
					t.Errorf("journal mode %q for a %s submission", w.Mode, c.plans[0])
				}
				if w.Mode == store.ModeTimelock && (w.RevealEpoch == nil || w.RevealBlock == nil) {
					t.Errorf("a timelocked commit's row lacks its reveal: %+v", w)
				}
			}
			if fmt.Sprint(outcomes) != fmt.Sprint(c.outcomes) {
				t.Errorf("journal %v, want %v", outcomes, c.outcomes)
			}
			if r.Submitted != (len(c.plans) > 0 && c.err == nil && c.errText == "") {
				t.Errorf("submitted %v (%+v)", r.Submitted, r)
			}
		})
	}
}

// TestWeightLoopConfirmsReveals: a timelocked commit's row becomes
// revealed when the chain's event is found in its reveal epoch, dropped
// when the epoch passes without one; with no chain.
func TestWeightLoopConfirmsReveals(t *testing.T) {
	for _, revealed := range []bool{true, false} {
		t.Run(fmt.Sprintf("revealed=%v", revealed), func(t *testing.T) {
			clk := clock.NewFake(time.Unix(1_763_800_000, 0))
			f := loopChain(t)
			f.st.Params.CommitRevealEnabled = true
			j := storetest.Open(t, "sqlite", clk)
			v, err := New(Config{Netuid: 1, Hotkey: dev(t, "//Alice"), Client: f, Store: j, Mechanism: &fixedScores{scores: miners(t)}, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			if r, err := step(t, v, clk); err != nil || !r.Submitted {
				t.Fatalf("commit: %+v %v", r, err)
			}
			rows, _ := j.WeightSubmissions(context.Background(), 1, 1)
			revealBlock := *rows[0].RevealBlock
			if revealed {
				f.revealed[0] = revealBlock + 1
			}
			// Two epochs later the reveal epoch has passed either way.
			f.mu.Lock()
			f.st.Block = revealBlock + 2*11
			f.mu.Unlock()
			if _, err := step(t, v, clk); err != nil {
				t.Fatal(err)
			}
			rows, _ = j.WeightSubmissions(context.Background(), 1, 10)
			want := map[bool]store.Reveal{true: store.RevealRevealed, false: store.RevealDropped}[revealed]
			if got := rows[len(rows)-1].Reveal; got != want {
				t.Fatalf("reveal %q, want %q (%+v)", got, want, rows)
			}
		})
	}
}

// directScores is a mechanism that submits as the reference compute
// validator does (DirectWeights).
type directScores struct{ fixedScores }

func (*directScores) DirectWeights() bool { return true }

// TestDirectWeights: a DirectWeights mechanism's scores go out converted
// as they are, uids in ascending hotkey order; others go through the
// SDK's processing in uid order.
func TestDirectWeights(t *testing.T) {
	scores := map[subtensor.AccountID]float64{}
	for i, uri := range []string{"//Bob", "//Charlie", "//Dave"} {
		scores[subtensor.AccountID(dev(t, uri).PublicKey())] = []float64{0.1234567, 0.7654321, 0.3333333}[i]
	}
	for _, mech := range []Mechanism{&directScores{fixedScores{scores: scores}}, &fixedScores{scores: scores}} {
		clk := clock.NewFake(time.Unix(1_763_800_000, 0))
		f := loopChain(t)
		v, err := New(Config{Netuid: 1, Hotkey: dev(t, "//Alice"), Client: f, Store: storetest.Open(t, "sqlite", clk), Mechanism: mech, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := step(t, v, clk); err != nil || len(f.plans) != 1 {
			t.Fatalf("step: %v, %d plans", err, len(f.plans))
		}
		type entry struct {
			hotkey string
			uid    uint16
			w      float64
		}
		var es []entry
		for _, n := range f.mg.Neurons {
			hk, _ := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
			es = append(es, entry{hk, n.UID, scores[n.Hotkey]})
		}
		_, direct := mech.(*directScores)
		if direct {
			sort.Slice(es, func(i, j int) bool { return es[i].hotkey < es[j].hotkey })
		}
		uids, ws := make([]uint16, len(es)), make([]float64, len(es))
		for i, e := range es {
			uids[i], ws[i] = e.uid, e.w
		}
		wantU, wantV, _ := subtensor.ConvertWeights(uids, ws)
		if !direct {
			p, err := f.st.Plan(uids, ws)
			if err != nil {
				t.Fatal(err)
			}
			wantU, wantV = p.UIDs, p.Values
		}
		if got := f.plans[0]; !slices.Equal(got.UIDs, wantU) || !slices.Equal(got.Values, wantV) {
			t.Errorf("direct %v: submitted %v %v, want %v %v", direct, got.UIDs, got.Values, wantU, wantV)
		}
	}
}
