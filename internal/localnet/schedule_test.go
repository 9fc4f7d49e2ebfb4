package localnet

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/localnet/meta"
)

// TestClientPredictsTheLocalnetScheduler holds the client's reveal
// predictor (subtensor.EpochSchedule, the SDK's algorithm) to the
// localnet's block pipeline over thousands of random schedules: tempos,
// netuids, anchors, owner-set pending epochs, tempo changes (a cycle
// reset) and several subnets firing together. A commit sent at the head
// lands in the next block under the epoch the predictor names, and the
// chain takes it for reveal in the block the predictor names — exactly,
// unless the per-block cap of two epochs pushes the epoch later, which the
// predictor (like the SDK's) does not model; then only a block or two
// later, inside the reveal margin.
func TestClientPredictsTheLocalnetScheduler(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 423))
	c, err := newChain(Config{Log: slog.New(slog.DiscardHandler)}, true)
	if err != nil {
		t.Fatal(err)
	}
	exact, late, capped := 0, 0, 0
	const trials = 3000
	for trial := range trials {
		st := newState()
		st.StatefulEpochs = true
		nSubnets := 1 + r.IntN(2)
		if trial%4 == 0 {
			nSubnets = 3 + r.IntN(3) // enough to hit the cap
		}
		start := uint64(1 + r.IntN(5000))
		for i := range nSubnets {
			netuid := uint16(1 + i*(1+r.IntN(20)))
			if _, dup := st.Subnets[netuid]; dup {
				continue
			}
			s := &Subnet{Netuid: netuid, Params: defaultParams()}
			s.Params.Tempo = []uint16{1, 2, 3, 5, 10, 12, 99, 100, 360}[r.IntN(9)]
			if r.IntN(5) == 0 {
				s.Params.Tempo = uint16(1 + r.IntN(400))
			}
			if nSubnets > 2 {
				// Subnets of tempo 1 or 2 would take both slots of every
				// block and starve the others, which no real network does.
				s.Params.Tempo = max(s.Params.Tempo, 10)
			}
			s.Params.CommitRevealPeriod = uint64(1 + r.IntN(2))
			s.LastEpochBlock = start - min(start, uint64(r.IntN(2*int(s.Params.Tempo)+1)))
			s.EpochIndex = uint64(r.IntN(1000))
			s.BlocksSinceLastStep = uint64(r.IntN(int(s.Params.Tempo) + 1))
			if r.IntN(6) == 0 {
				s.PendingEpochAt = start + uint64(1+r.IntN(3*int(s.Params.Tempo)+2))
			}
			st.Subnets[netuid] = s
		}
		st.syncSchedulers()
		step := func() {
			st.Number++
			c.blockStep(st, &eventLog{md: meta.Decoded(), phase: -1})
		}
		st.Number = start
		for range r.IntN(300) {
			step()
		}
		netuids := make([]uint16, 0, len(st.Subnets))
		for n := range st.Subnets {
			netuids = append(netuids, n)
		}
		s := st.Subnets[netuids[r.IntN(len(netuids))]]
		if r.IntN(8) == 0 { // the owner changed the tempo in the head block
			s.Params.Tempo = uint16(10 + r.IntN(50))
			s.LastEpochBlock = st.Number
		}
		rp := s.Params.CommitRevealPeriod
		head := st.Number
		sch := subtensor.EpochSchedule{Block: head, Tempo: s.Params.Tempo, LastEpochBlock: s.LastEpochBlock,
			PendingEpochAt: s.PendingEpochAt, EpochIndex: s.EpochIndex, BlocksSinceLastStep: s.BlocksSinceLastStep}
		wantEpoch, wantBlock, err := sch.PredictReveal(rp)
		if err != nil {
			t.Fatal(err)
		}
		// The commit lands in head+1, after that block's epoch step, filed
		// under the epoch the chain gives it then; its pulse is on chain
		// and its ciphertext garbage, so the reveal takes it from the queue
		// (and drops it) in the block the chain reveals its epoch.
		step()
		commitEpoch := s.epoch(st.Number)
		if s.Timelocked == nil {
			s.Timelocked = map[uint64][]TimelockCommit{}
		}
		s.Timelocked[commitEpoch] = append(s.Timelocked[commitEpoch], TimelockCommit{Round: 7, Ciphertext: []byte{1}})
		st.Pulses[7] = []byte{1}
		var got uint64
		for range (rp + 2) * 2 * uint64(s.Params.Tempo+2) {
			step()
			if _, left := s.Timelocked[commitEpoch]; !left {
				got = st.Number
				break
			}
		}
		switch {
		case commitEpoch != wantEpoch && nSubnets <= 2:
			t.Fatalf("trial %d: commit filed under epoch %d, predicted %d (%+v)", trial, commitEpoch, wantEpoch, sch)
		case got == 0:
			t.Fatalf("trial %d: the commit of epoch %d was never taken (%+v, rp %d)", trial, commitEpoch, sch, rp)
		case got == wantBlock:
			exact++
		case nSubnets <= 2:
			t.Fatalf("trial %d: revealed at %d, predicted %d (%+v, rp %d)", trial, got, wantBlock, sch, rp)
		case got > wantBlock && got <= wantBlock+3:
			late++ // deferred by the cap
		default:
			t.Fatalf("trial %d (%d subnets): revealed at %d, predicted %d", trial, nSubnets, got, wantBlock)
		}
		if nSubnets > 2 {
			capped++
		}
	}
	t.Logf("%d schedules: %d revealed at the predicted block, %d a block or two later under the cap (%d had more than two subnets)",
		trials, exact, late, capped)
}

// TestClientPredictsTheLegacySchedule: the same on the legacy schedule,
// which the localnet keeps behind epoch_scheduler: legacy. A commit built
// on the last block of an epoch lands in the next one and is revealed an
// epoch later, as predicted.
func TestClientPredictsTheLegacySchedule(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 343))
	c, err := newChain(Config{Log: slog.New(slog.DiscardHandler)}, false)
	if err != nil {
		t.Fatal(err)
	}
	lastBlockCases := 0
	for trial := range 2000 {
		st := newState()
		s := &Subnet{Netuid: uint16(1 + r.IntN(64)), Params: defaultParams()}
		s.Params.Tempo = []uint16{1, 2, 3, 10, 99, 360}[r.IntN(6)]
		s.Params.CommitRevealPeriod = uint64(1 + r.IntN(2))
		st.Subnets[s.Netuid] = s
		st.syncSchedulers()
		st.Number = uint64(r.IntN(20000))
		step := func() {
			st.Number++
			c.blockStep(st, &eventLog{md: meta.DecodedFor(false), phase: -1})
		}
		head := st.Number
		ws := &subtensor.WeightState{Netuid: s.Netuid, Block: head,
			Params: subtensor.SubnetParams{Tempo: s.Params.Tempo, RevealPeriodEpochs: s.Params.CommitRevealPeriod}}
		target, err := ws.RevealTarget()
		if err != nil || target.Scheduler != "legacy" {
			t.Fatalf("%+v %v", target, err)
		}
		if s.epoch(head+1) != s.epoch(head) {
			lastBlockCases++
		}
		step()
		commitEpoch := s.epoch(st.Number)
		if commitEpoch != target.CommitEpoch {
			t.Fatalf("trial %d: commit epoch %d, predicted %d", trial, commitEpoch, target.CommitEpoch)
		}
		if s.Timelocked == nil {
			s.Timelocked = map[uint64][]TimelockCommit{}
		}
		s.Timelocked[commitEpoch] = []TimelockCommit{{Round: 7, Ciphertext: []byte{1}}}
		st.Pulses[7] = []byte{1}
		var got uint64
		for range (s.Params.CommitRevealPeriod + 2) * uint64(s.Params.Tempo+2) {
			step()
			if _, left := s.Timelocked[commitEpoch]; !left {
				got = st.Number
				break
			}
		}
		if got != target.RevealBlock {
			t.Fatalf("trial %d: revealed at %d, predicted %d (%+v)", trial, got, target.RevealBlock, target)
		}
	}
	if lastBlockCases == 0 {
		t.Error("no commit was built on an epoch's last block")
	}
	t.Logf("2000 schedules, %d commits built on an epoch's last block", lastBlockCases)
}

// TestTimelockedCommitsRevealInTheirEpoch runs vigil's weight submission
// against the localnet on both schedulers, tempos 10, 17 and 40, reveal
// periods 1 and 2, with commits sent mid-epoch and from the last block
// before an epoch fires: each commit lands in the block after the head,
// under the predicted epoch, and is revealed — never dropped — in its
// reveal epoch, no earlier than the predicted first block and at most the
// reveal margin (the pulse's wait) later.
func TestTimelockedCommitsRevealInTheirEpoch(t *testing.T) {
	alice := dev(t, "//Alice")
	for _, scheduler := range []string{"stateful", "legacy"} {
		// Tempos above the SDK's margin: with its round chosen three blocks
		// into the reveal epoch, an epoch of three blocks would end before
		// the pulse arrives, on subtensor as here.
		for _, tempo := range []int{10, 17, 40} {
			for _, rp := range []int{1, 2} {
				for _, atLastBlock := range []bool{false, true} {
					g := DefaultGenesis()
					g.EpochScheduler = scheduler
					g.Subnets[0].Hyperparameters = map[string]any{"tempo": tempo, "commit_reveal_weights_enabled": true,
						"weights_rate_limit": 0, "commit_reveal_period": rp}
					n := startNet(t, g)
					name := fmt.Sprintf("%s tempo %d rp %d last-block %v", scheduler, tempo, rp, atLastBlock)
					// Move the head to the last block before an epoch fires, or
					// to a block inside an epoch.
					for i := 0; i < 4*tempo; i++ {
						head := n.chain.Head()
						s := head.State.Subnets[1]
						last := s.epoch(head.Number+1) != s.epoch(head.Number)
						if scheduler == "stateful" {
							last = s.epochDue(head.Number + 1)
						}
						if last == atLastBlock && i > tempo {
							break
						}
						n.blocks(t, 1)
					}
					ctx := context.Background()
					ws, err := n.client.WeightState(ctx, 1, subtensor.AccountID(alice.PublicKey()))
					if err != nil {
						t.Fatal(err)
					}
					if (ws.Schedule != nil) != (scheduler == "stateful") {
						t.Fatalf("%s: the client read schedule %+v from a %s runtime", name, ws.Schedule, scheduler)
					}
					target, err := ws.RevealTarget()
					if err != nil || target.Scheduler != scheduler {
						t.Fatalf("%s: target %+v %v", name, target, err)
					}
					plan, err := ws.Plan([]uint16{1, 2, 3}, []float64{1, 2, 3})
					if err != nil {
						t.Fatal(err)
					}
					beacon := n.chain.Beacon()
					done := make(chan error, 1)
					go func() {
						_, err := n.client.SubmitWeights(ctx, alice, ws, plan, subtensor.WeightOptions{Beacon: &beacon})
						done <- err
					}()
					// The block after the head takes the commit: wait for it
					// to reach the pool first.
					for deadline := time.Now().Add(10 * time.Second); ; {
						n.chain.mu.RLock()
						pooled := len(n.chain.pool)
						n.chain.mu.RUnlock()
						if pooled > 0 {
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("%s: the commit never reached the pool", name)
						}
						time.Sleep(2 * time.Millisecond)
					}
					n.blocks(t, 1)
					if err := <-done; err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					s := n.chain.Head().State.Subnets[1]
					if qs, ok := s.Timelocked[target.CommitEpoch]; !ok || len(qs) != 1 || qs[0].Block != target.CommitBlock {
						t.Fatalf("%s: commit not filed under epoch %d at block %d: %+v", name, target.CommitEpoch, target.CommitBlock, s.Timelocked)
					}
					revealed := uint64(0)
					for range (rp + 2) * (tempo + 2) * 2 {
						n.blocks(t, 1)
						head := n.chain.Head()
						if len(head.State.Subnets[1].Neurons[0].Weights) == 3 {
							revealed = head.Number
							break
						}
					}
					switch {
					case revealed == 0:
						t.Fatalf("%s: never revealed (target %+v)", name, target)
					case revealed < target.RevealBlock || revealed > target.RevealBlock+revealMarginBlocks:
						t.Fatalf("%s: revealed at %d; predicted first block %d (+%d)", name, revealed, target.RevealBlock, revealMarginBlocks)
					}
					st := n.chain.Head().State.Subnets[1]
					epoch := st.EpochIndex // the epoch that fired at or before the reveal
					if scheduler == "legacy" {
						epoch = st.epoch(revealed)
					}
					if epoch != target.RevealEpoch {
						t.Fatalf("%s: revealed in epoch %d, want %d", name, epoch, target.RevealEpoch)
					}
				}
			}
		}
	}
}

// revealMarginBlocks bounds how late in its epoch a commit is revealed:
// the SDK chooses the round published three blocks into the reveal epoch
// (less one round), and the chain stores a round pulseDelay rounds after
// drand publishes it — one block more at 12 s blocks and 3 s rounds.
const revealMarginBlocks = 4

// TestHashCommitsRevealInTheirEpoch: a salted hash commit made with vigil
// is revealed by RevealCommits in its reveal epoch and accepted, on both
// schedulers and reveal periods 1 and 2; before that epoch it waits.
func TestHashCommitsRevealInTheirEpoch(t *testing.T) {
	alice := dev(t, "//Alice")
	ctx := context.Background()
	for _, scheduler := range []string{"stateful", "legacy"} {
		for _, rp := range []int{1, 2} {
			g := DefaultGenesis()
			g.EpochScheduler = scheduler
			g.Subnets[0].Hyperparameters = map[string]any{"tempo": 12, "commit_reveal_weights_enabled": true,
				"weights_rate_limit": 0, "commit_reveal_period": rp}
			n := startNet(t, g)
			name := fmt.Sprintf("%s rp %d", scheduler, rp)
			ws, err := n.client.WeightState(ctx, 1, subtensor.AccountID(alice.PublicKey()))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := ws.Plan([]uint16{1, 2}, []float64{1, 3})
			if err != nil {
				t.Fatal(err)
			}
			plan.Mode = subtensor.ModeHashCommit
			opts := subtensor.WeightOptions{Commits: subtensor.FileCommitStore{Dir: t.TempDir()}}
			done := make(chan error, 1)
			go func() { _, err := n.client.SubmitWeights(ctx, alice, ws, plan, opts); done <- err }()
			for waiting := true; waiting; {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("%s: commit: %v", name, err)
					}
					waiting = false
				case <-time.After(20 * time.Millisecond):
					n.blocks(t, 1)
				}
			}
			revealed := false
			// whileProducing runs f while the chain makes blocks, as a
			// submission waits for one.
			whileProducing := func(f func()) {
				fin := make(chan struct{})
				go func() { defer close(fin); f() }()
				for {
					select {
					case <-fin:
						return
					case <-time.After(20 * time.Millisecond):
						n.blocks(t, 1)
					}
				}
			}
			for range (rp + 2) * 14 {
				var out []subtensor.RevealOutcome
				whileProducing(func() { out, err = n.client.RevealCommits(ctx, alice, 1, opts) })
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, o := range out {
					switch o.Status {
					case subtensor.Revealed:
						revealed = true
					case subtensor.Waiting, subtensor.Unseen:
					default:
						t.Fatalf("%s: commit %s: %v", name, o.Status, o.Err)
					}
				}
				if revealed {
					break
				}
				n.blocks(t, 1)
			}
			if !revealed {
				t.Fatalf("%s: never revealed", name)
			}
			// The reveal was accepted: the weights are on chain.
			for range 5 {
				if w := n.chain.Head().State.Subnets[1].Neurons[0].Weights; len(w) == 2 && w[1].Value == 65535 {
					break
				}
				n.blocks(t, 1)
			}
			if w := n.chain.Head().State.Subnets[1].Neurons[0].Weights; len(w) != 2 || w[1].Value != 65535 {
				t.Fatalf("%s: weights after the reveal: %v", name, w)
			}
		}
	}
}
