package subtensor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

// txNode answers the calls Submit makes; got receives each extrinsic,
// and onSubmit decides the answer: nil for "in block", or an RPC error.
type txNode struct {
	md       string
	events   []byte
	got      chan []byte
	onSubmit func(ext []byte) *rpcFailure
}

const (
	testGenesis = "0x2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f"
	testFinal   = "0x7777777777777777777777777777777777777777777777777777777777777777"
	testBlock   = "0x8888888888888888888888888888888888888888888888888888888888888888"
)

func (n *txNode) serve(t *testing.T) string {
	var lastExt atomic.Value // the extrinsic last submitted, as hex
	srv := substratetest.StartServer(t, func(c *substratetest.Conn, req substratetest.Request) {
		switch req.Method {
		case "state_getRuntimeVersion":
			_ = c.Reply(req, map[string]any{"specName": "node-subtensor", "specVersion": 329, "transactionVersion": 1})
		case "state_getMetadata":
			_ = c.Reply(req, n.md)
		case "chain_getBlockHash":
			_ = c.Reply(req, testGenesis)
		case "chain_getFinalizedHead":
			_ = c.Reply(req, testFinal)
		case "chain_getHeader":
			_ = c.Reply(req, map[string]any{"number": "0x689052"}) // 6852690
		case "system_accountNextIndex":
			_ = c.Reply(req, 7)
		case "author_submitAndWatchExtrinsic":
			var x string
			if a := req.Args(); len(a) > 0 {
				_ = json.Unmarshal(a[0], &x)
			}
			lastExt.Store(x)
			b, _ := hex.DecodeString(strings.TrimPrefix(x, "0x"))
			n.got <- b
			if e := n.onSubmit(b); e != nil {
				_ = c.Fail(req, e.code, e.message, e.data)
				return
			}
			_ = c.Reply(req, "w")
			_ = c.Notify("author_extrinsicUpdate", "w", map[string]any{"inBlock": testBlock})
		case "author_unwatchExtrinsic":
			_ = c.Reply(req, true)
		case "chain_getBlock":
			_ = c.Reply(req, map[string]any{"block": map[string]any{"extrinsics": []any{"0x0400", lastExt.Load()}}})
		case "state_getStorageAt":
			_ = c.Reply(req, "0x"+hex.EncodeToString(n.events))
		default:
			_ = c.NotFound(req)
		}
	})
	return srv.URL()
}

// rpcFailure is a JSON-RPC error a txNode answers a submission with.
type rpcFailure struct {
	code          int
	message, data string
}

func TestSubmitSignsWithChainValues(t *testing.T) {
	raw, err := os.ReadFile(substratetest.Fixture(t, "chain", "mainnet_metadata_v14.hex"))
	if err != nil {
		t.Fatal(err)
	}
	md, err := substrate.DecodeMetadataHex(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := md.TxExtensions()
	sys, _ := md.Pallet("System")
	// One record: ApplyExtrinsic(1) System.ExtrinsicSuccess(dispatch info), no topics.
	var success uint8
	for _, v := range md.Types[*sys.Events].Variants {
		if v.Name == "ExtrinsicSuccess" {
			success = v.Index
		}
	}
	e := scale.NewEncoder(0)
	e.VecLen(1)
	e.U8(0)
	e.U32(1)
	e.U8(sys.Index)
	e.U8(success)
	e.Fixed([]byte{0, 0, 0, 0})
	e.VecLen(0)

	hotkey, _ := keys.FromURI("//Alice")
	n := &txNode{md: strings.TrimSpace(string(raw)), events: e.Bytes(), got: make(chan []byte, 4)}
	var rejectNext atomic.Bool
	n.onSubmit = func([]byte) *rpcFailure {
		if rejectNext.Load() {
			return &rpcFailure{1010, "Invalid Transaction", "Custom error: 6"}
		}
		return nil
	}
	c := dialClient(t, n.serve(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, _ := SetWeights(1, []uint16{0, 5}, []uint16{65535, 32768}, 10002000)
	res, err := c.Submit(ctx, hotkey, call, SubmitOptions{})
	if err != nil || !res.Succeeded() || res.ExtrinsicIndex != 1 || res.BlockHash != testBlock {
		t.Fatalf("submit: %+v %v", res, err)
	}
	// The extrinsic the node got is signed over the chain's values: spec
	// 329, genesis, a 64-block era born at the finalized head, nonce 7.
	ext, err := x.DecodeExtrinsic(<-n.got)
	if err != nil {
		t.Fatal(err)
	}
	var genesis, birth [32]byte
	hex.Decode(genesis[:], []byte(testGenesis[2:]))
	hex.Decode(birth[:], []byte(testFinal[2:]))
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
	<-n.got
	var pe *PoolError
	if !errors.As(err, &pe) || pe.Name != "RateLimitExceeded" {
		t.Fatalf("rejection: %v", err)
	}
}
