package substrate

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// WaitFor says when SubmitAndWatch returns.
type WaitFor int

const (
	// WaitInBlock returns once the extrinsic is in a best block.
	WaitInBlock WaitFor = iota
	// WaitFinalized returns once that block is finalized.
	WaitFinalized
)

// Errors of SubmitAndWatch. Pool rejections arrive as *RPCError (JSON-RPC
// code 1010 "Invalid Transaction" and the like, before any status).
var (
	// ErrTxDropped matches a transaction the pool dropped, found invalid
	// later, or replaced (usurped) before inclusion.
	ErrTxDropped = errors.New("transaction left the pool without being included")
	// ErrTxNotFound matches a block reported to include the transaction
	// that does not hold it.
	ErrTxNotFound = errors.New("transaction not found in the reported block")
)

// SubmitResult is where a transaction landed and what it did.
type SubmitResult struct {
	TxHash         [32]byte
	BlockHash      string
	ExtrinsicIndex uint32
	Finalized      bool
	// Events are the records of this extrinsic in its block.
	Events []EventRecord
}

// Succeeded reports whether the block recorded System.ExtrinsicSuccess.
func (r *SubmitResult) Succeeded() bool {
	for _, e := range r.Events {
		if e.Pallet == "System" && e.Name == "ExtrinsicSuccess" {
			return true
		}
	}
	return false
}

// txStatus is one author_extrinsicUpdate notification: a bare string
// ("ready", "future", "dropped", "invalid") or an object with one key
// ("inBlock", "finalized", "retracted", "broadcast", "usurped",
// "finalityTimeout").
type txStatus struct {
	kind string
	hash string
}

func parseTxStatus(raw json.RawMessage) (txStatus, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return txStatus{kind: s}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return txStatus{}, fmt.Errorf("transaction status %.100s: not a status", raw)
	}
	for k, v := range m {
		st := txStatus{kind: k}
		_ = json.Unmarshal(v, &st.hash) // only block-hash statuses carry a string
		return st, nil
	}
	return txStatus{}, nil
}

// SubmitAndWatch submits a signed extrinsic with author_submitAndWatchExtrinsic
// and follows it until it is in a block (or finalized, per wait), then reads
// the block's System.Events through md and returns this extrinsic's records.
// A dispatch failure (System.ExtrinsicFailed) is returned as err, a
// *DispatchError, together with the result. ctx bounds the whole wait: a
// transaction that never lands ends with ctx's error, never a hang. The
// watch is not renewed after a dropped socket (that would submit again);
// the error then matches ErrConnectionLost, and the caller should check the
// chain (nonce, storage) before resubmitting.
func (c *Client) SubmitAndWatch(ctx context.Context, md *Metadata, ext []byte, wait WaitFor) (*SubmitResult, error) {
	res := &SubmitResult{TxHash: ExtrinsicHash(ext)}
	sub, err := c.SubscribeOnce(ctx, "author_submitAndWatchExtrinsic", "author_unwatchExtrinsic", []any{"0x" + hex.EncodeToString(ext)})
	if err != nil {
		return nil, fmt.Errorf("submitting extrinsic %x: %w", res.TxHash, err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CallTimeout)
		defer cancel()
		_ = sub.Unsubscribe(uctx)
	}()
	inBlock := ""
	for {
		select {
		case <-ctx.Done():
			where := "waiting for inclusion"
			if inBlock != "" {
				where = "in block " + inBlock + ", waiting for finality"
			}
			return nil, fmt.Errorf("extrinsic %x: %s: %w", res.TxHash, where, ctx.Err())
		case <-sub.Done():
			return nil, fmt.Errorf("extrinsic %x: watch ended: %w", res.TxHash, sub.Err())
		case raw := <-sub.C():
			st, err := parseTxStatus(raw)
			if err != nil {
				return nil, fmt.Errorf("extrinsic %x: %w", res.TxHash, err)
			}
			switch st.kind {
			case "ready", "future", "broadcast", "retracted":
				// Still in the pool (a retracted block puts it back).
				if st.kind == "retracted" {
					inBlock = ""
				}
			case "inBlock":
				inBlock = st.hash
				if wait == WaitInBlock {
					return c.outcome(ctx, md, ext, res, st.hash, false)
				}
			case "finalized":
				return c.outcome(ctx, md, ext, res, st.hash, true)
			case "dropped", "invalid", "usurped":
				return nil, fmt.Errorf("extrinsic %x: %w (%s)", res.TxHash, ErrTxDropped, st.kind)
			case "finalityTimeout":
				return nil, fmt.Errorf("extrinsic %x: in block %s, but the block was not finalized in time", res.TxHash, st.hash)
			default:
				return nil, fmt.Errorf("extrinsic %x: unknown transaction status %q", res.TxHash, st.kind)
			}
		}
	}
}

// outcome finds the extrinsic in its block and reads its events.
func (c *Client) outcome(ctx context.Context, md *Metadata, ext []byte, res *SubmitResult, blockHash string, finalized bool) (*SubmitResult, error) {
	res.BlockHash, res.Finalized = blockHash, finalized
	var blk struct {
		Block struct {
			Extrinsics []string `json:"extrinsics"`
		} `json:"block"`
	}
	if err := c.CallIdempotent(ctx, "chain_getBlock", []any{blockHash}, &blk); err != nil {
		return nil, fmt.Errorf("extrinsic %x in block %s: %w", res.TxHash, blockHash, err)
	}
	idx := -1
	for i, x := range blk.Block.Extrinsics {
		b, err := hex.DecodeString(strings.TrimPrefix(x, "0x"))
		if err == nil && bytes.Equal(b, ext) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("extrinsic %x: %w %s", res.TxHash, ErrTxNotFound, blockHash)
	}
	res.ExtrinsicIndex = uint32(idx)
	var raw *string
	if err := c.CallIdempotent(ctx, "state_getStorageAt", []any{HexKey(EventsKey()), blockHash}, &raw); err != nil {
		return nil, fmt.Errorf("events of block %s: %w", blockHash, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("events of block %s: System.Events is empty", blockHash)
	}
	b, err := hex.DecodeString(strings.TrimPrefix(*raw, "0x"))
	if err != nil {
		return nil, fmt.Errorf("events of block %s: not hex: %w", blockHash, err)
	}
	all, err := md.DecodeEvents(b)
	if err != nil {
		return nil, fmt.Errorf("events of block %s: %w", blockHash, err)
	}
	res.Events = ExtrinsicEvents(all, res.ExtrinsicIndex)
	for _, e := range res.Events {
		if e.DispatchError != nil {
			return res, e.DispatchError
		}
	}
	if !res.Succeeded() {
		return res, fmt.Errorf("extrinsic %x in block %s: no ExtrinsicSuccess or ExtrinsicFailed event", res.TxHash, blockHash)
	}
	return res, nil
}
