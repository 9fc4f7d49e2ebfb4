package localnet

import (
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// FuzzSubmit feeds arbitrary bytes to the transaction pool and dispatches
// them as calls of a signed extrinsic would be: peer input must give an
// error or an outcome, never a panic.
func FuzzSubmit(f *testing.F) {
	st, err := DefaultGenesis().State()
	if err != nil {
		f.Fatal(err)
	}
	// A fixed clock: no new pulses to sign, which instrumented pairing
	// code makes slow.
	now := time.Unix(1_763_800_000, 0)
	ch, err := New(Config{Now: func() time.Time { return now }}, st)
	if err != nil {
		f.Fatal(err)
	}
	alice, _ := keys.FromURI("//Alice")
	x := ch.ext
	for _, c := range []subtensor.Call{
		must(subtensor.SetWeights(1, []uint16{1}, []uint16{1}, 0)),
		subtensor.CommitWeights(1, [32]byte{}),
		must(subtensor.CommitTimelockedWeights(1, []byte{1, 2}, 5, 4)),
	} {
		cb, err := ch.md.EncodeCall(subtensor.Pallet, c.Name, c.Args)
		if err != nil {
			f.Fatal(err)
		}
		p := substrate.TxParams{SpecVersion: SpecVersion, TransactionVersion: TransactionVersion, GenesisHash: ch.Genesis(), Era: substrate.ImmortalEra}
		ext, err := x.Sign(cb, p, alice)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ext)
		f.Add(cb)
	}
	who := AccountID(alice.PublicKey())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = ch.Submit(b, false)
		// The bytes as a call, dispatched on a copy of the head's state.
		st := ch.Head().State.Clone()
		st.Number++
		if cl, err := ch.decodeCall(b); err == nil {
			ch.dispatch(st, who, cl, &eventLog{md: ch.md})
			ch.blockStep(st, &eventLog{md: ch.md, phase: -1})
		}
	})
}
