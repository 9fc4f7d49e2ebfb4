package subtensor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// SubmitOptions tune how a call is signed and followed.
type SubmitOptions struct {
	// EraPeriod is the transaction's validity in blocks from the finalized
	// head (default 64, at most MaxEraPeriod).
	EraPeriod uint64
	// Wait is when Submit returns (default: in a block).
	Wait substrate.WaitFor
	// Tip in rao (default 0).
	Tip uint64
}

// MaxEraPeriod is the longest validity Submit signs a transaction for.
const MaxEraPeriod = 4096

// txContext is what signing needs from the chain, kept per runtime and
// connection: after a reconnection the node may be another chain (a
// development chain restarted), so the genesis hash is read again.
type txContext struct {
	spec    RuntimeVersion
	conn    uint64
	genesis [32]byte
	md      *substrate.Metadata
	ext     *substrate.Extensions
}

// HasCall reports whether the chain's current runtime has a call of
// SubtensorModule (register_limit, set_mechanism_weights, ...), from its
// metadata.
func (c *Client) HasCall(ctx context.Context, name string) (bool, error) {
	tc, err := c.txContext(ctx)
	if err != nil {
		return false, err
	}
	_, _, err = tc.md.Call(Pallet, name)
	return err == nil, nil
}

func (c *Client) txContext(ctx context.Context) (*txContext, error) {
	rv, err := c.RuntimeVersion(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("runtime version: %w", err)
	}
	// Read after a call, so that a reconnection that call waited for counts.
	conn := c.rpc.Connections()
	c.mu.Lock()
	tc := c.tx
	c.mu.Unlock()
	if tc != nil && tc.spec == rv && tc.conn == conn {
		return tc, nil
	}
	var mdHex string
	if err := c.rpc.CallIdempotent(ctx, "state_getMetadata", nil, &mdHex); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	md, err := substrate.DecodeMetadataHex(mdHex)
	if err != nil {
		return nil, err
	}
	x, err := md.TxExtensions()
	if err != nil {
		return nil, err
	}
	var gh string
	if err := c.rpc.CallIdempotent(ctx, "chain_getBlockHash", []any{0}, &gh); err != nil {
		return nil, fmt.Errorf("genesis hash: %w", err)
	}
	genesis, err := substrate.ParseHash(gh)
	if err != nil {
		return nil, fmt.Errorf("genesis hash: %w", err)
	}
	tc = &txContext{spec: rv, conn: conn, genesis: genesis, md: md, ext: x}
	c.mu.Lock()
	c.tx = tc
	c.mu.Unlock()
	return tc, nil
}

// Submit signs call with signer (nonce from system_accountNextIndex, a
// mortal era from the finalized head) and submits it, following it as
// opts say. Pool rejections come back as *PoolError, dispatch failures as
// *substrate.DispatchError (with the result). Run one Submit per key at a
// time: concurrent ones would take the same nonce.
func (c *Client) Submit(ctx context.Context, signer substrate.Signer, call Call, opts SubmitOptions) (*substrate.SubmitResult, error) {
	if opts.EraPeriod > MaxEraPeriod {
		return nil, fmt.Errorf("era period %d blocks is over the %d Submit allows", opts.EraPeriod, MaxEraPeriod)
	}
	tc, err := c.txContext(ctx)
	if err != nil {
		return nil, err
	}
	callBytes, err := tc.md.EncodeCall(Pallet, call.Name, call.Args)
	if err != nil {
		return nil, err
	}
	var fin string
	if err := c.rpc.CallIdempotent(ctx, "chain_getFinalizedHead", nil, &fin); err != nil {
		return nil, fmt.Errorf("finalized head: %w", err)
	}
	blk, err := c.Head(ctx, fin)
	if err != nil {
		return nil, fmt.Errorf("finalized head: %w", err)
	}
	birth, err := substrate.ParseHash(fin)
	if err != nil {
		return nil, err
	}
	pub := signer.PublicKey()
	addr, err := keys.SS58Encode(pub[:], keys.SS58PrefixBittensor)
	if err != nil {
		return nil, err
	}
	var nonce uint32
	if err := c.rpc.CallIdempotent(ctx, "system_accountNextIndex", []any{addr}, &nonce); err != nil {
		return nil, fmt.Errorf("nonce of %s: %w", addr, err)
	}
	period := opts.EraPeriod
	if period == 0 {
		period = 64
	}
	p := substrate.TxParams{
		SpecVersion: tc.spec.SpecVersion, TransactionVersion: tc.spec.TransactionVersion, GenesisHash: tc.genesis,
		Era: substrate.MortalEra(blk.Number, period), BirthHash: birth, Nonce: nonce, Tip: opts.Tip,
	}
	ext, err := tc.ext.Sign(callBytes, p, signer)
	if err != nil {
		return nil, err
	}
	res, err := c.rpc.SubmitAndWatch(ctx, tc.md, ext, opts.Wait)
	err = ExplainTxError(err)
	if pe := (*PoolError)(nil); errors.As(err, &pe) && strings.Contains(pe.Reason, "bad signature") {
		// Signed for another chain or runtime: read them again next time.
		c.mu.Lock()
		if c.tx == tc {
			c.tx = nil
		}
		c.mu.Unlock()
	}
	return res, err
}

// Genesis returns the chain's genesis hash, read again after every
// reconnection (the node may be another chain by then).
func (c *Client) Genesis(ctx context.Context) ([32]byte, error) {
	tc, err := c.txContext(ctx)
	if err != nil {
		return [32]byte{}, err
	}
	return tc.genesis, nil
}
