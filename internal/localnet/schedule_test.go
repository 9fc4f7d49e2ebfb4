package localnet

import (
	"log/slog"
	"math/rand/v2"
	"testing"

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
