package subtensor

import (
	"encoding/hex"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
	"github.com/vigil-validator/vigil/bittensor/subtensor/subtensortest"
)

func TestSubmitSignsWithChainValues(t *testing.T) {
	n, md := subtensortest.NewChain(t, 6852690)
	n.Nonce = 7
	x, _ := md.TxExtensions()
	hotkey, _ := keys.FromURI("//Alice")
	var rejectNext atomic.Bool
	n.OnSubmit = func([]byte) *substratetest.Failure {
		if rejectNext.Load() {
			return &substratetest.Failure{Code: 1010, Message: "Invalid Transaction", Data: "Custom error: 6"}
		}
		return nil
	}
	c := dialClient(t, n.Start(t))
	ctx := ctxT(t)
	call, _ := SetWeights(1, []uint16{0, 5}, []uint16{65535, 32768}, 10002000)
	res, err := c.Submit(ctx, hotkey, call, SubmitOptions{})
	if err != nil || !res.Succeeded() || res.ExtrinsicIndex != 1 || res.BlockHash != substratetest.ChainInBlock {
		t.Fatalf("submit: %+v %v", res, err)
	}
	// The extrinsic the node got is signed over the chain's values: spec
	// 329, genesis, a 64-block era born at the finalized head, nonce 7.
	ext, err := x.DecodeExtrinsic(n.Submitted()[0])
	if err != nil {
		t.Fatal(err)
	}
	var genesis, birth [32]byte
	hex.Decode(genesis[:], []byte(substratetest.ChainGenesis[2:]))
	hex.Decode(birth[:], []byte(substratetest.ChainFinalized[2:]))
	p := substrate.TxParams{SpecVersion: 329, TransactionVersion: 1, GenesisHash: genesis, BirthHash: birth}
	if ext.Nonce != 7 || ext.Era != substrate.MortalEra(6852690, 64) || ext.Signer != hotkey.PublicKey() || !x.Verify(ext, p) {
		t.Fatalf("extrinsic %+v (verifies: %v)", ext, x.Verify(ext, p))
	}
	wantCall, _ := md.EncodeCall(Pallet, "set_weights", call.Args)
	if string(ext.Call) != string(wantCall) {
		t.Errorf("call %x, want %x", ext.Call, wantCall)
	}
	// A pool rejection names subtensor's error.
	rejectNext.Store(true)
	_, err = c.Submit(ctx, hotkey, call, SubmitOptions{})
	var pe *PoolError
	if !errors.As(err, &pe) || pe.Name != "RateLimitExceeded" {
		t.Fatalf("rejection: %v", err)
	}
	// An era longer than Submit signs is refused before anything is sent.
	before := len(n.Submitted())
	if _, err := c.Submit(ctx, hotkey, call, SubmitOptions{EraPeriod: MaxEraPeriod + 1}); err == nil || len(n.Submitted()) != before {
		t.Fatalf("era of %d blocks: %v", MaxEraPeriod+1, err)
	}
}
