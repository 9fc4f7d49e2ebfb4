package substrate

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

// watchNode is a node that accepts one extrinsic and reports the scripted
// statuses for it, then serves the block and its events.
type watchNode struct {
	srv       *substratetest.Server
	statuses  []any // notifications after the subscription id
	reject    bool  // refuse at submission: 1010 Custom error 6
	drop      bool  // close the socket after the statuses
	blockExts []string
	events    []byte
	submitted atomic.Int32
}

func newWatchNode(t *testing.T, n *watchNode) *watchNode {
	n.srv = substratetest.StartServer(t, func(c *substratetest.Conn, req substratetest.Request) {
		switch req.Method {
		case "author_submitAndWatchExtrinsic":
			n.submitted.Add(1)
			if n.reject {
				_ = c.Fail(req, 1010, "Invalid Transaction", "Custom error: 6")
				return
			}
			_ = c.Reply(req, "w1")
			for _, st := range n.statuses {
				_ = c.Notify("author_extrinsicUpdate", "w1", st)
			}
			if n.drop {
				c.Close()
			}
		case "author_unwatchExtrinsic":
			_ = c.Reply(req, true)
		case "chain_getBlock":
			_ = c.Reply(req, map[string]any{"block": map[string]any{"extrinsics": n.blockExts}})
		case "state_getStorageAt":
			_ = c.Reply(req, "0x"+hex.EncodeToString(n.events))
		default:
			_ = c.NotFound(req)
		}
	})
	return n
}

// testEvent is one record to encode by hand from the metadata.
type testEvent struct {
	apply         bool
	index         uint32
	pallet, event string
	data          []byte
}

func eventIndex(t *testing.T, md *Metadata, pallet, event string) (uint8, uint8) {
	t.Helper()
	p, ok := md.Pallet(pallet)
	if !ok || p.Events == nil {
		t.Fatalf("no events of %s", pallet)
	}
	for _, v := range md.Types[*p.Events].Variants {
		if v.Name == event {
			return p.Index, v.Index
		}
	}
	t.Fatalf("no event %s.%s", pallet, event)
	return 0, 0
}

func encodeEvents(t *testing.T, md *Metadata, evs []testEvent) []byte {
	t.Helper()
	e := scale.NewEncoder(0)
	e.VecLen(len(evs))
	for _, ev := range evs {
		if ev.apply {
			e.U8(0)
			e.U32(ev.index)
		} else {
			e.U8(1) // Finalization
		}
		pi, ei := eventIndex(t, md, ev.pallet, ev.event)
		e.U8(pi)
		e.U8(ei)
		e.Fixed(ev.data)
		e.VecLen(0) // topics
	}
	return e.Bytes()
}

// dispatchInfo is a DispatchInfo{weight{ref_time, proof_size}, class, pays_fee}.
var dispatchInfo = []byte{0x04, 0x08, 0, 0}

// moduleError is DispatchError::Module{index, error[0..4]}.
func moduleError(t *testing.T, md *Metadata, pallet, name string) []byte {
	t.Helper()
	p, _ := md.Pallet(pallet)
	var idx uint8
	found := false
	for _, v := range md.Types[*p.Errors].Variants {
		if v.Name == name {
			idx, found = v.Index, true
		}
	}
	if !found {
		t.Fatalf("no error %s.%s", pallet, name)
	}
	return []byte{3, p.Index, idx, 0, 0, 0}
}

func submitSetup(t *testing.T) (*Metadata, *Extensions, []byte, string) {
	t.Helper()
	md, _ := mainnetMetadata(t)
	x, err := md.TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	kp, _ := keys.FromURI("//Alice")
	call, err := md.EncodeCall("SubtensorModule", "set_weights", []byte{1, 0, 4, 0, 0, 4, 255, 255, 1, 0, 0, 0, 0, 0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := x.Sign(call, TxParams{Era: MortalEra(100, 64), Nonce: 1}, kp)
	if err != nil {
		t.Fatal(err)
	}
	return md, x, ext, "0x" + hex.EncodeToString(ext)
}

func dialWatch(t *testing.T, n *watchNode) *Client {
	t.Helper()
	c, err := Dial(context.Background(), Options{URL: n.srv.URL(), CallTimeout: 5 * time.Second,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSubmitAndWatch(t *testing.T) {
	md, _, ext, extHex := submitSetup(t)
	const blockHash = "0x1111111111111111111111111111111111111111111111111111111111111111"
	weightsSet := []byte{1, 0, 7, 0} // (netuid index 1, uid 7)
	okEvents := encodeEvents(t, md, []testEvent{
		{apply: true, index: 0, pallet: "System", event: "ExtrinsicSuccess", data: dispatchInfo},
		{apply: true, index: 1, pallet: "SubtensorModule", event: "WeightsSet", data: weightsSet},
		{apply: true, index: 1, pallet: "System", event: "ExtrinsicSuccess", data: dispatchInfo},
		{pallet: "System", event: "ExtrinsicSuccess", data: dispatchInfo},
	})
	failEvents := encodeEvents(t, md, []testEvent{
		{apply: true, index: 1, pallet: "System", event: "ExtrinsicFailed", data: append(moduleError(t, md, "SubtensorModule", "SettingWeightsTooFast"), dispatchInfo...)},
	})
	inBlock := map[string]any{"inBlock": blockHash}
	finalized := map[string]any{"finalized": blockHash}
	block := []string{"0x0400", extHex}

	t.Run("in block, success", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{statuses: []any{"ready", map[string]any{"broadcast": []string{"peer"}}, inBlock}, blockExts: block, events: okEvents})
		res, err := dialWatch(t, n).SubmitAndWatch(testCtx(t), md, ext, WaitInBlock)
		if err != nil {
			t.Fatal(err)
		}
		if res.BlockHash != blockHash || res.ExtrinsicIndex != 1 || res.Finalized || !res.Succeeded() || len(res.Events) != 2 ||
			res.Events[0].Name != "WeightsSet" || string(res.Events[0].Data) != string(weightsSet) || res.TxHash != ExtrinsicHash(ext) {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("finalized", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{statuses: []any{"ready", inBlock, finalized}, blockExts: block, events: okEvents})
		res, err := dialWatch(t, n).SubmitAndWatch(testCtx(t), md, ext, WaitFinalized)
		if err != nil || !res.Finalized {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("dispatch error by name", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{statuses: []any{inBlock}, blockExts: block, events: failEvents})
		res, err := dialWatch(t, n).SubmitAndWatch(testCtx(t), md, ext, WaitInBlock)
		var de *DispatchError
		if !errors.As(err, &de) || de.Pallet != "SubtensorModule" || de.Name != "SettingWeightsTooFast" || res == nil || res.Succeeded() {
			t.Fatalf("%+v %v", res, err)
		}
		if !strings.Contains(err.Error(), "SubtensorModule.SettingWeightsTooFast") {
			t.Errorf("message %q", err)
		}
	})
	t.Run("pool rejection", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{reject: true})
		_, err := dialWatch(t, n).SubmitAndWatch(testCtx(t), md, ext, WaitInBlock)
		var rpcErr *RPCError
		if !errors.As(err, &rpcErr) || rpcErr.Code != 1010 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("dropped from the pool", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{statuses: []any{"ready", "dropped"}})
		if _, err := dialWatch(t, n).SubmitAndWatch(testCtx(t), md, ext, WaitInBlock); !errors.Is(err, ErrTxDropped) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("never included: the deadline ends the wait", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{statuses: []any{"ready"}})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := dialWatch(t, n).SubmitAndWatch(ctx, md, ext, WaitInBlock)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for inclusion") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("socket dropped during the watch", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{statuses: []any{"ready"}, drop: true})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := dialWatch(t, n).SubmitAndWatch(ctx, md, ext, WaitInBlock)
		if !errors.Is(err, ErrConnectionLost) {
			t.Fatalf("%v", err)
		}
		if s := n.submitted.Load(); s != 1 {
			t.Errorf("submitted %d times, want 1", s)
		}
	})
	t.Run("block without the extrinsic", func(t *testing.T) {
		n := newWatchNode(t, &watchNode{statuses: []any{inBlock}, blockExts: []string{"0x0400"}, events: okEvents})
		if _, err := dialWatch(t, n).SubmitAndWatch(testCtx(t), md, ext, WaitInBlock); !errors.Is(err, ErrTxNotFound) {
			t.Fatalf("%v", err)
		}
	})
}
