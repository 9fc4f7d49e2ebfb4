package validator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vigil-validator/vigil/bittensor/yuma"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/logthrottle"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// fixedScores is a mechanism that rates hotkeys from a table, counting its
// calls.
type fixedScores struct {
	mu     sync.Mutex
	scores map[subtensor.AccountID]float64
	calls  int
}

func (f *fixedScores) Name() string { return "fixed" }

func (f *fixedScores) Scores(context.Context, *subtensor.Metagraph) (map[subtensor.AccountID]float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.scores, nil
}

type net struct {
	chain  *localnet.Chain
	client *subtensor.Client
	rpc    *substrate.Client
	clk    *clock.Fake // the chain's clock: 12 s a block
}

// startChain runs a localnet (blocks produced by the test) with the given
// subnet-1 hyperparameters on loopback.
func startChain(t *testing.T, hp map[string]any) *net {
	t.Helper()
	return startChainAt(t, hp, time.Unix(1_763_800_000, 0))
}

// startChainAt is startChain with the chain's clock starting at start (the
// genesis hash depends on it).
func startChainAt(t *testing.T, hp map[string]any, start time.Time) *net {
	t.Helper()
	g := localnet.DefaultGenesis()
	g.Subnets[0].Hyperparameters = hp
	return startGenesis(t, g, start)
}

// startGenesis runs a localnet from g, its clock starting at start.
func startGenesis(t *testing.T, g localnet.Genesis, start time.Time) *net {
	t.Helper()
	st, err := g.State()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(start)
	ch, err := localnet.New(localnet.Config{Now: clk.Now}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(localnet.NewServer(ch))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rpc, err := substrate.Dial(ctx, substrate.Options{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), CallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rpc.Close() })
	c, _ := subtensor.New(rpc)
	n := &net{chain: ch, client: c, rpc: rpc, clk: clk}
	n.blocks(t, 2)
	return n
}

func (n *net) blocks(t *testing.T, k int) {
	t.Helper()
	for range k {
		n.clk.Advance(12 * time.Second)
		if _, err := n.chain.Produce(); err != nil {
			t.Fatal(err)
		}
	}
}

func dev(t *testing.T, uri string) *keys.KeyPair {
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func miners(t *testing.T) map[subtensor.AccountID]float64 {
	return map[subtensor.AccountID]float64{
		subtensor.AccountID(dev(t, "//Bob").PublicKey()):     1,
		subtensor.AccountID(dev(t, "//Charlie").PublicKey()): 2,
		subtensor.AccountID(dev(t, "//Dave").PublicKey()):    3,
	}
}

// step runs one Step while the chain produces blocks, so that a submission
// waiting for inclusion gets it.
func (n *net) step(t *testing.T, v *Validator) (StepResult, error) {
	t.Helper()
	type out struct {
		r   StepResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := v.Step(ctx)
		done <- out{r, err}
	}()
	for {
		select {
		case o := <-done:
			return o.r, o.err
		case <-time.After(20 * time.Millisecond):
			n.blocks(t, 1)
		}
	}
}

func newValidator(t *testing.T, n *net, st *store.Store, uri string, mech Mechanism, reg prometheus.Registerer) *Validator {
	t.Helper()
	beacon := n.chain.Beacon()
	v, err := New(Config{Netuid: 1, Hotkey: dev(t, uri), Client: n.client, Store: st, Mechanism: mech, Backoff: time.Millisecond,
		Weights: subtensor.WeightOptions{Beacon: &beacon}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidatorRefusesAnUnregisteredHotkey(t *testing.T) {
	n := startChain(t, nil)
	st := storetest.Open(t, "sqlite", clock.Real())
	v := newValidator(t, n, st, "//Ferdie", &fixedScores{}, nil)
	err := v.Check(context.Background())
	if !errors.Is(err, ErrNotRegistered) || !strings.Contains(err.Error(), "vigil chain register --netuid 1") {
		t.Fatalf("check: %v", err)
	}
	if err := newValidator(t, n, st, "//Alice", &fixedScores{}, nil).Check(context.Background()); err != nil {
		t.Fatalf("registered hotkey: %v", err)
	}
}

func TestValidatorSetsWeightsOncePerTempo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		n := startChain(t, map[string]any{"weights_rate_limit": 3})
		st := storetest.Open(t, engine, clock.Real())
		mech := &fixedScores{scores: miners(t)}
		reg := prometheus.NewRegistry()
		v := newValidator(t, n, st, "//Alice", mech, reg)
		r, err := n.step(t, v)
		if err != nil || !r.Submitted {
			t.Fatalf("first step: %+v %v", r, err)
		}
		w := n.chain.Head().State.Subnets[1].Neurons[0].Weights
		if len(w) != 3 || w[2].Value != 65535 || w[0].Value != 21845 {
			t.Fatalf("weights on chain %v", w)
		}
		// Not again inside the tempo (10 blocks).
		r, err = n.step(t, v)
		if err != nil || r.Submitted || !strings.Contains(r.Reason, "next weights at block") {
			t.Fatalf("second step: %+v %v", r, err)
		}
		// The console's view of the loop: the block, this uid's row and when
		// the next weights are due.
		s := v.Status()
		if s.Block != r.Block || !s.Registered || s.UID != 0 || !s.Permit || s.Stake == 0 || s.Hotkey != v.cfg.Hotkey.SS58() ||
			s.NextDue == 0 || s.NextDue <= s.Block || !strings.Contains(r.Reason, fmt.Sprint(s.NextDue)) || s.Mode != "set" || s.Genesis == "" {
			t.Errorf("status %+v after %+v", s, r)
		}
		// A restarted validator on the same journal does not submit either.
		v2 := newValidator(t, n, st, "//Alice", mech, nil)
		if r, err := n.step(t, v2); err != nil || r.Submitted {
			t.Fatalf("after restart: %+v %v", r, err)
		}
		n.blocks(t, 11)
		if r, err := n.step(t, v); err != nil || !r.Submitted {
			t.Fatalf("after a tempo: %+v %v", r, err)
		}
		rows, err := st.WeightSubmissions(context.Background(), 1, 10)
		if err != nil || len(rows) != 2 || rows[0].Outcome != store.OutcomeIncluded || rows[0].IncludedBlock == nil || rows[0].Mode != store.ModeSet {
			t.Fatalf("journal %+v %v", rows, err)
		}
		var mv dto.Metric
		if err := v.m.submissions.WithLabelValues("included").Write(&mv); err != nil || mv.GetCounter().GetValue() != 2 {
			got := mv.GetCounter().GetValue()
			t.Fatalf("included submissions metric %v", got)
		}
		for name, check := range v.HealthChecks() {
			if err := check(context.Background()); err != nil {
				t.Errorf("health %s: %v", name, err)
			}
		}
	})
}

func TestValidatorCommitsTimelockedWhenCommitRevealIsOn(t *testing.T) {
	n := startChain(t, map[string]any{"commit_reveal_weights_enabled": true, "weights_rate_limit": 0})
	st := storetest.Open(t, "sqlite", clock.Real())
	v := newValidator(t, n, st, "//Alice", &fixedScores{scores: miners(t)}, nil)
	r, err := n.step(t, v)
	if err != nil || !r.Submitted || r.Result.Mode != subtensor.ModeTimelock || r.Result.RevealRound == 0 {
		t.Fatalf("step: %+v %v", r, err)
	}
	for range 40 {
		if len(n.chain.Head().State.Subnets[1].Neurons[0].Weights) == 3 {
			rows, _ := st.WeightSubmissions(context.Background(), 1, 1)
			if len(rows) != 1 || rows[0].Mode != store.ModeTimelock {
				t.Fatalf("journal %+v", rows)
			}
			return
		}
		n.blocks(t, 1)
	}
	t.Fatal("the timelocked commit was not revealed")
}

func TestValidatorWaitsForScores(t *testing.T) {
	n := startChain(t, nil)
	st := storetest.Open(t, "sqlite", clock.Real())
	mech := &fixedScores{}
	v := newValidator(t, n, st, "//Alice", mech, nil)
	r, err := n.step(t, v)
	if err != nil || r.Submitted || r.Reason != "no scores yet" || mech.calls != 1 {
		t.Fatalf("step without scores: %+v %v", r, err)
	}
	if err := v.HealthChecks()["metagraph"](context.Background()); err != nil {
		t.Fatalf("metagraph health: %v", err)
	}
}

// TestValidatorFitsToAnEnforcedMaxWeightLimit: on a chain that enforces
// MaxWeightsLimit (the localnet applies subtensor's check_vec_max_limited
// when the limit is below 65535), the SDK's vector for these scores is
// refused with MaxWeightExceeded; the validator says so, fits the next
// vector to the chain's rule, and that one is accepted.
func TestValidatorFitsToAnEnforcedMaxWeightLimit(t *testing.T) {
	const limit = 45370
	// The legacy runtime, which still enforces the limit.
	g := localnet.DefaultGenesis()
	g.EpochScheduler = "legacy"
	g.Subnets[0].Hyperparameters = map[string]any{"weights_rate_limit": 0, "max_weights_limit": limit}
	n := startGenesis(t, g, time.Unix(1_763_800_000, 0))
	st := storetest.Open(t, "sqlite", clock.Real())
	// The SDK turns these into [19418 65535 9709], whose largest share
	// (0.69234…) is above 45370/65535 (0.69230…) in I32F32.
	mech := &fixedScores{scores: map[subtensor.AccountID]float64{
		subtensor.AccountID(dev(t, "//Bob").PublicKey()):     2,
		subtensor.AccountID(dev(t, "//Charlie").PublicKey()): 17,
		subtensor.AccountID(dev(t, "//Dave").PublicKey()):    1,
	}}
	var logs bytes.Buffer
	v := newValidator(t, n, st, "//Alice", mech, nil)
	v.cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	r, err := n.step(t, v)
	if err == nil || !strings.Contains(err.Error(), "MaxWeightExceeded") || r.Submitted {
		t.Fatalf("first step: %+v %v; want MaxWeightExceeded", r, err)
	}
	if !strings.Contains(logs.String(), "the chain enforces MaxWeightsLimit") {
		t.Errorf("no warning that the chain enforces the limit:\n%s", logs.String())
	}
	n.blocks(t, 11)
	r, err = n.step(t, v)
	if err != nil || !r.Submitted {
		t.Fatalf("fitted step: %+v %v", r, err)
	}
	w := n.chain.Head().State.Subnets[1].Neurons[0].Weights
	got := make([]uint16, len(w))
	for i, e := range w {
		got[i] = e.Value
	}
	if !yuma.MaxWeightLimited(got, limit) || len(got) != 3 || got[1] != 65535 {
		t.Fatalf("weights on chain %v", got)
	}
	if !strings.Contains(logs.String(), "weights fitted to the chain's max weight limit") {
		t.Errorf("the fit was not logged:\n%s", logs.String())
	}
}

// TestJournalIsBoundToItsChain: after a chain reset (a new genesis, the
// same database), the last submission of the old chain — at a block the new
// chain has not reached — does not hold the validator back, and the skipped
// windows say why and until when.
func TestJournalIsBoundToItsChain(t *testing.T) {
	st := storetest.Open(t, "sqlite", clock.Real())
	mech := &fixedScores{scores: miners(t)}
	old := startChain(t, map[string]any{"weights_rate_limit": 0})
	old.blocks(t, 200)
	v := newValidator(t, old, st, "//Alice", mech, nil)
	if r, err := old.step(t, v); err != nil || !r.Submitted || r.Block < 200 || r.Block > 203 {
		t.Fatalf("on the old chain: %+v %v", r, err)
	}
	var logs bytes.Buffer
	fresh := startChainAt(t, map[string]any{"weights_rate_limit": 0}, time.Unix(1_763_900_000, 0)) // another genesis
	// Past the old chain's submission, inside what would be its window:
	// only the genesis tells the two apart.
	fresh.blocks(t, 201)
	v2 := newValidator(t, fresh, st, "//Alice", mech, nil)
	v2.cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	r, err := fresh.step(t, v2)
	if err != nil || !r.Submitted {
		t.Fatalf("on the new chain at block %d: %+v %v; the old chain's journal held it back", r.Block, r, err)
	}
	rows, _ := st.WeightSubmissions(context.Background(), 1, 10)
	if len(rows) != 2 || rows[0].Genesis == rows[1].Genesis || rows[0].Genesis == "" {
		t.Fatalf("journal rows do not name their chains: %+v", rows)
	}
	r, err = fresh.step(t, v2)
	if err != nil || r.Submitted || !strings.Contains(r.Reason, "next weights at block") {
		t.Fatalf("second step: %+v %v", r, err)
	}
	if !strings.Contains(logs.String(), "weights not due") || !strings.Contains(logs.String(), "next_block=") {
		t.Errorf("a skipped window was not logged with its next block:\n%s", logs.String())
	}
}

// TestHealthFollowsTheWeightCadence: with weights.every_blocks far above
// the tempo, a validator between two windows is healthy, not failing after
// two tempos.
func TestHealthFollowsTheWeightCadence(t *testing.T) {
	n := startChain(t, map[string]any{"weights_rate_limit": 0})
	st := storetest.Open(t, "sqlite", clock.Real())
	beacon := n.chain.Beacon()
	v, err := New(Config{Netuid: 1, Hotkey: dev(t, "//Alice"), Client: n.client, Store: st, Mechanism: &fixedScores{scores: miners(t)},
		EveryBlocks: 4000, Weights: subtensor.WeightOptions{Beacon: &beacon}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := n.step(t, v); err != nil || !r.Submitted {
		t.Fatalf("first step: %+v %v", r, err)
	}
	n.blocks(t, 100) // ten tempos
	if r, err := n.step(t, v); err != nil || r.Submitted {
		t.Fatalf("inside the window: %+v %v", r, err)
	}
	if err := v.HealthChecks()["weights"](context.Background()); err != nil {
		t.Errorf("health 100 blocks into a 4000-block window: %v", err)
	}
}

// TestPendingRowsAreSettledFromTheChain: rows a killed validator left
// pending are settled by reading the chain — included when our LastUpdate
// moved past them, failed once their era has passed — and a failed one no
// longer holds the next submission back.
func TestPendingRowsAreSettledFromTheChain(t *testing.T) {
	n := startChain(t, map[string]any{"weights_rate_limit": 0})
	st := storetest.Open(t, "sqlite", clock.Real())
	mech := &fixedScores{scores: miners(t)}
	v := newValidator(t, n, st, "//Alice", mech, nil)
	ctx := context.Background()
	gh, err := n.client.Genesis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	genesis := fmt.Sprintf("%#x", gh)
	head := n.chain.Head().Number
	lost := &store.WeightSubmission{Genesis: genesis, Netuid: 1, Block: head, Mode: store.ModeSet, UIDs: []uint16{1}, Weights: []uint16{65535}}
	if err := st.RecordWeightSubmission(ctx, lost); err != nil {
		t.Fatal(err)
	}
	// Nothing landed, and the era (64 blocks) has not passed: it may
	// still land, so the validator waits.
	n.blocks(t, 5)
	if r, err := n.step(t, v); err != nil || r.Submitted {
		t.Fatalf("with a pending attempt in its era: %+v %v", r, err)
	}
	n.blocks(t, 70)
	r, err := n.step(t, v)
	if err != nil || !r.Submitted {
		t.Fatalf("after the lost attempt's era: %+v %v", r, err)
	}
	rows, _ := st.WeightSubmissions(ctx, 1, 10)
	var settled store.WeightSubmission
	for _, w := range rows {
		if w.ID == lost.ID {
			settled = w
		}
	}
	if settled.Outcome != store.OutcomeFailed || !strings.Contains(settled.Error, "era has passed") {
		t.Fatalf("lost attempt settled as %+v", settled)
	}
	// An attempt the chain did take (LastUpdate moved past it) is settled
	// as included.
	taken := &store.WeightSubmission{Genesis: genesis, Netuid: 1, Block: r.Block - 1, Mode: store.ModeSet, UIDs: []uint16{1}, Weights: []uint16{65535}}
	if err := st.RecordWeightSubmission(ctx, taken); err != nil {
		t.Fatal(err)
	}
	n.blocks(t, 1)
	if _, err := n.step(t, v); err != nil {
		t.Fatal(err)
	}
	rows, _ = st.WeightSubmissions(ctx, 1, 10)
	for _, w := range rows {
		if w.ID == taken.ID && (w.Outcome != store.OutcomeIncluded || w.IncludedBlock == nil) {
			t.Fatalf("taken attempt settled as %+v", w)
		}
	}
}

// TestRepeatedFailuresBackOff: a step that fails every tick (here a hotkey
// the subnet does not know) is logged at backing-off intervals with the
// count held back, not once a tick.
func TestRepeatedFailuresBackOff(t *testing.T) {
	n := startChain(t, nil)
	st := storetest.Open(t, "sqlite", clock.Real())
	var logs lockedBuffer
	beacon := n.chain.Beacon()
	v, err := New(Config{Netuid: 1, Hotkey: dev(t, "//Ferdie"), Client: n.client, Store: st, Mechanism: &fixedScores{},
		Tick: 2 * time.Millisecond, Weights: subtensor.WeightOptions{Beacon: &beacon}, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := v.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "weight loop") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 || len(lines) > 3 {
		t.Fatalf("%d weight-loop lines in 1.5 s of failing 2 ms ticks, want 2 or 3:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], "hotkey not registered") || !strings.Contains(lines[1], "suppressed=") {
		t.Errorf("lines %q: want the reason, then the count held back", lines)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWeightGate: before anything is sent, a hotkey without a validator
// permit, or with less stake than the chain's StakeThreshold, is refused
// with the reason (and /health says it), not left to the chain to refuse —
// or, for a timelocked commit, to drop at its reveal. The subnet owner's
// hotkey is exempt from both.
func TestWeightGate(t *testing.T) {
	g := localnet.DefaultGenesis()
	g.Subnets[0].Owner = "//Eve" // //Alice validates but does not own the subnet
	g.Subnets[0].Validators = []localnet.GenesisNeuron{{Hotkey: "//Alice", Stake: 1e12}}
	g.Subnets[0].Hyperparameters = map[string]any{"weights_rate_limit": 0, "commit_reveal_weights_enabled": true}
	n := startGenesis(t, g, time.Unix(1_763_800_000, 0))
	st := storetest.Open(t, "sqlite", clock.Real())
	mech := &fixedScores{scores: miners(t)}

	// //Bob is a miner: registered, no permit.
	bob := newValidator(t, n, st, "//Bob", mech, nil)
	r, err := n.step(t, bob)
	if !errors.Is(err, ErrWeightsRefused) || !strings.Contains(err.Error(), "no validator permit") || r.Submitted {
		t.Fatalf("without a permit: %+v %v", r, err)
	}
	if herr := bob.HealthChecks()["weights"](context.Background()); herr == nil || !strings.Contains(herr.Error(), "validator permit") {
		t.Errorf("health without a permit: %v", herr)
	}

	// //Alice has a permit; with the threshold above her stake she is
	// refused too, by the stake.
	if err := n.chain.SetHyperparameter(1, "stake_threshold", json.RawMessage("2000000000000")); err != nil {
		t.Fatal(err)
	}
	n.blocks(t, 1)
	alice := newValidator(t, n, st, "//Alice", mech, nil)
	r, err = n.step(t, alice)
	if !errors.Is(err, ErrWeightsRefused) || !strings.Contains(err.Error(), "StakeThreshold") || r.Submitted {
		t.Fatalf("below the stake threshold: %+v %v", r, err)
	}
	if rows, _ := st.WeightSubmissions(context.Background(), 1, 10); len(rows) != 0 {
		t.Fatalf("a refused hotkey submitted: %+v", rows)
	}
	// Back under the threshold: Alice commits.
	if err := n.chain.SetHyperparameter(1, "stake_threshold", json.RawMessage("0")); err != nil {
		t.Fatal(err)
	}
	n.blocks(t, 1)
	if r, err := n.step(t, alice); err != nil || !r.Submitted {
		t.Fatalf("within the rules: %+v %v", r, err)
	}
	if herr := alice.HealthChecks()["weights"](context.Background()); herr != nil {
		t.Errorf("health after submitting: %v", herr)
	}

	// The owner's hotkey is exempt: //Alice owning the subnet, with a
	// threshold far above her stake, still submits.
	n2 := startChain(t, map[string]any{"weights_rate_limit": 0, "stake_threshold": uint64(1e18)})
	owner := newValidator(t, n2, storetest.Open(t, "sqlite", clock.Real()), "//Alice", mech, nil)
	if r, err := n2.step(t, owner); err != nil || !r.Submitted {
		t.Fatalf("the owner under a high threshold: %+v %v", r, err)
	}
}

// TestRevealsAreConfirmed: a timelocked commit is recorded as revealed once
// the chain's reveal event for it is seen; one the chain drops (here
// because the stake threshold rose above the validator's stake between
// commit and reveal) is recorded as dropped after its reveal epoch, and
// /health says so.
func TestRevealsAreConfirmed(t *testing.T) {
	g := localnet.DefaultGenesis()
	g.Subnets[0].Owner = "//Eve"
	g.Subnets[0].Validators = []localnet.GenesisNeuron{{Hotkey: "//Alice", Stake: 1e12}}
	g.Subnets[0].Hyperparameters = map[string]any{"weights_rate_limit": 0, "commit_reveal_weights_enabled": true}
	n := startGenesis(t, g, time.Unix(1_763_800_000, 0))
	st := storetest.Open(t, "sqlite", clock.Real())
	reg := prometheus.NewRegistry()
	v := newValidator(t, n, st, "//Alice", &fixedScores{scores: miners(t)}, reg)
	ctx := context.Background()
	row := func() store.WeightSubmission {
		t.Helper()
		rows, err := st.WeightSubmissions(ctx, 1, 10)
		if err != nil || len(rows) == 0 {
			t.Fatalf("journal %v %v", rows, err)
		}
		return rows[0]
	}
	if r, err := n.step(t, v); err != nil || !r.Submitted {
		t.Fatalf("commit: %+v %v", r, err)
	}
	first := row()
	if first.RevealEpoch == nil || first.RevealBlock == nil || first.Reveal != store.RevealUnknown {
		t.Fatalf("commit row %+v", first)
	}
	for range 40 {
		n.blocks(t, 1)
		if _, err := n.step(t, v); err != nil {
			t.Fatal(err)
		}
		if row().ID == first.ID && row().Reveal != store.RevealUnknown {
			break
		}
	}
	rows, _ := st.WeightSubmissions(ctx, 1, 10)
	var got store.WeightSubmission
	for _, w := range rows {
		if w.ID == first.ID {
			got = w
		}
	}
	if got.Reveal != store.RevealRevealed {
		t.Fatalf("first commit: reveal %q (%+v)", got.Reveal, got)
	}

	// The next commit, then a stake threshold above //Alice's stake before
	// its reveal: the chain drops it.
	var second store.WeightSubmission
	for range 40 {
		n.blocks(t, 1)
		if r, err := n.step(t, v); err == nil && r.Submitted {
			second = row()
			break
		}
	}
	if second.ID == 0 || second.ID == first.ID {
		t.Fatal("no second commit")
	}
	if err := n.chain.SetHyperparameter(1, "stake_threshold", json.RawMessage("2000000000000")); err != nil {
		t.Fatal(err)
	}
	for range 60 {
		n.blocks(t, 1)
		_, _ = n.step(t, v) // refused by the gate now, but it still confirms reveals
		rows, _ := st.WeightSubmissions(ctx, 1, 10)
		for _, w := range rows {
			if w.ID == second.ID {
				second = w
			}
		}
		if second.Reveal != store.RevealUnknown {
			break
		}
	}
	if second.Reveal != store.RevealDropped || !strings.Contains(second.Error, "passed without a reveal") {
		t.Fatalf("second commit: %+v", second)
	}
	// The gate speaks first while the threshold stands; with it lifted,
	// /health names the dropped reveal.
	if err := n.chain.SetHyperparameter(1, "stake_threshold", json.RawMessage("0")); err != nil {
		t.Fatal(err)
	}
	n.blocks(t, 1)
	v.mu.Lock()
	v.gateErr = nil
	v.mu.Unlock()
	if herr := v.HealthChecks()["weights"](ctx); herr == nil || !strings.Contains(herr.Error(), "dropped the last timelocked commit") {
		t.Errorf("health after a dropped reveal: %v", herr)
	}
	// Commits made while earlier ones awaited their reveal may be dropped
	// too: the metric counts exactly the rows the journal calls dropped.
	dropped := 0
	all, _ := st.WeightSubmissions(ctx, 1, 100)
	for _, w := range all {
		if w.Reveal == store.RevealDropped {
			dropped++
		}
	}
	var mv dto.Metric
	if err := v.m.reveals.WithLabelValues("dropped").Write(&mv); err != nil || dropped == 0 || mv.GetCounter().GetValue() != float64(dropped) {
		t.Errorf("dropped reveals metric %v, journal %d dropped", mv.GetCounter().GetValue(), dropped)
	}
}

// TestPrunedRevealBlocksDoNotStopWeights: when the blocks of a reveal are
// gone from the node (pruned while the validator was away), confirming it
// fails with a warning, and weights are still set.
func TestPrunedRevealBlocksDoNotStopWeights(t *testing.T) {
	n := startChain(t, map[string]any{"commit_reveal_weights_enabled": true, "weights_rate_limit": 0})
	st := storetest.Open(t, "sqlite", clock.Real())
	var logs lockedBuffer
	v := newValidator(t, n, st, "//Alice", &fixedScores{scores: miners(t)}, nil)
	v.cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	v.warns = logthrottle.New(v.cfg.Log, v.cfg.Clock, 0, 0)
	if r, err := n.step(t, v); err != nil || !r.Submitted {
		t.Fatalf("commit: %+v %v", r, err)
	}
	n.blocks(t, 300) // the localnet keeps 256 blocks of state
	r, err := n.step(t, v)
	if err != nil || !r.Submitted {
		t.Fatalf("after the reveal's blocks were pruned: %+v %v", r, err)
	}
	if !strings.Contains(logs.String(), "cannot confirm timelocked reveals") {
		t.Errorf("no warning about the pruned reveal blocks:\n%s", logs.String())
	}
}

// TestSeveralMechanismsNeedAConfiguration: on a subnet with two incentive
// mechanisms, the validator refuses to start until weights.mechanisms says
// to set mechanism 0 only, naming the subnet, the count and the key.
func TestSeveralMechanismsNeedAConfiguration(t *testing.T) {
	n := startChain(t, map[string]any{"mechanism_count": 2})
	st := storetest.Open(t, "sqlite", clock.Real())
	v := newValidator(t, n, st, "//Alice", &fixedScores{}, nil)
	err := v.Check(context.Background())
	if !errors.Is(err, ErrMechanisms) || !strings.Contains(err.Error(), "netuid 1 has 2 incentive mechanisms") || !strings.Contains(err.Error(), "weights.mechanisms") {
		t.Fatalf("check on a two-mechanism subnet: %v", err)
	}
	v.cfg.Mechanisms = []uint8{0}
	if err := v.Check(context.Background()); err != nil {
		t.Fatalf("with weights.mechanisms 0: %v", err)
	}
	// One mechanism: nothing to say.
	one := startChain(t, nil)
	if err := newValidator(t, one, st, "//Alice", &fixedScores{}, nil).Check(context.Background()); err != nil {
		t.Fatalf("one mechanism: %v", err)
	}
}

// TestTwoMechanismsGetWeights: on a subnet with two incentive mechanisms
// and weights.mechanisms "0,1", one validator sets weights on both (plain,
// then timelocked), each under its own rate limit and journal rows, and
// each reveal is confirmed for its own mechanism.
func TestTwoMechanismsGetWeights(t *testing.T) {
	for _, timelocked := range []bool{false, true} {
		t.Run(fmt.Sprintf("timelocked=%v", timelocked), func(t *testing.T) {
			n := startChain(t, map[string]any{"mechanism_count": 2, "weights_rate_limit": 5, "commit_reveal_weights_enabled": timelocked})
			st := storetest.Open(t, "sqlite", clock.Real())
			v := newValidator(t, n, st, "//Alice", &fixedScores{scores: miners(t)}, nil)
			ctx := context.Background()
			v.cfg.Mechanisms = []uint8{0, 2}
			if err := v.Check(ctx); !errors.Is(err, ErrMechanisms) || !strings.Contains(err.Error(), "names mechanism 2, but netuid 1 has 2") {
				t.Fatalf("a mechanism the subnet lacks: %v", err)
			}
			v.cfg.Mechanisms = []uint8{0, 1}
			if err := v.Check(ctx); err != nil {
				t.Fatal(err)
			}
			r, err := n.step(t, v)
			if err != nil || !r.Submitted || fmt.Sprint(r.Mechanisms) != "[0 1]" {
				t.Fatalf("step: %+v %v", r, err)
			}
			rows, err := st.WeightSubmissions(ctx, 1, 10)
			if err != nil || len(rows) != 2 || rows[0].Mechanism == rows[1].Mechanism {
				t.Fatalf("journal %+v %v", rows, err)
			}
			for _, w := range rows {
				if w.Outcome != store.OutcomeIncluded && w.Outcome != store.OutcomeFinalized {
					t.Errorf("mechanism %d: %s %s", w.Mechanism, w.Outcome, w.Error)
				}
			}
			// Both rows of weights, read back through the storage index.
			want := []subtensor.WeightEntry{{UID: 1, Value: 21845}, {UID: 2, Value: 43690}, {UID: 3, Value: 65535}}
			for range 60 {
				head, err := n.client.Head(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				w0, err0 := n.client.MechanismWeights(ctx, 1, 0, 0, head.Hash)
				w1, err1 := n.client.MechanismWeights(ctx, 1, 1, 0, head.Hash)
				if err0 != nil || err1 != nil {
					t.Fatal(err0, err1)
				}
				if fmt.Sprint(w0) == fmt.Sprint(want) && fmt.Sprint(w1) == fmt.Sprint(want) {
					break
				}
				if !timelocked {
					t.Fatalf("weights on mechanism 0 %v, on 1 %v; want %v on both", w0, w1, want)
				}
				n.blocks(t, 1)
				if _, err := n.step(t, v); err != nil {
					t.Fatal(err)
				}
			}
			s := n.chain.Head().State.Subnets[1]
			if len(s.Neurons[0].Weights) != 3 || len(s.Neurons[0].Mechanisms) != 1 || len(s.Neurons[0].Mechanisms[0].Weights) != 3 {
				t.Fatalf("chain rows: %+v / %+v", s.Neurons[0].Weights, s.Neurons[0].Mechanisms)
			}
			if timelocked {
				// Each mechanism's reveal is confirmed from its own event.
				for range 40 {
					rows, _ = st.WeightSubmissions(ctx, 1, 10)
					done := 0
					for _, w := range rows {
						if w.Reveal == store.RevealRevealed {
							done++
						}
					}
					if done >= 2 {
						break
					}
					n.blocks(t, 1)
					if _, err := n.step(t, v); err != nil {
						t.Fatal(err)
					}
				}
				seen := map[uint8]bool{}
				for _, w := range rows {
					if w.Reveal == store.RevealRevealed {
						seen[w.Mechanism] = true
					}
					if w.Reveal == store.RevealDropped {
						t.Errorf("mechanism %d: dropped: %s", w.Mechanism, w.Error)
					}
				}
				if !seen[0] || !seen[1] {
					t.Fatalf("reveals confirmed for %v; rows %+v", seen, rows)
				}
			}
			// A mechanism just set waits for its own cadence: the next step
			// does not set it again (the other may be due by now).
			for range 40 {
				n.blocks(t, 1)
				if r, err = n.step(t, v); err != nil {
					t.Fatal(err)
				}
				if r.Submitted {
					break
				}
			}
			just := r.Mechanisms
			if len(just) == 0 {
				t.Fatal("no weights set again within 40 steps")
			}
			if r, err = n.step(t, v); err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Mechanisms {
				if slices.Contains(just, m) {
					t.Fatalf("mechanism %d set twice in a row (%v, then %+v)", m, just, r)
				}
			}
		})
	}
}
