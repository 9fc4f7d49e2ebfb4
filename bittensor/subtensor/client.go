package subtensor

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// Networks are the named endpoints operators use.
var Networks = map[string]string{
	"finney": "wss://entrypoint-finney.opentensor.ai:443",
	"test":   "wss://test.finney.opentensor.ai:443",
	"local":  "ws://127.0.0.1:9944",
}

// Endpoint resolves a network name or a ws:// / wss:// URL.
func Endpoint(network string) (string, error) {
	if u, ok := Networks[network]; ok {
		return u, nil
	}
	if strings.HasPrefix(network, "ws://") || strings.HasPrefix(network, "wss://") {
		return network, nil
	}
	return "", fmt.Errorf("unknown network %q (want finney, test, local, or a ws:// or wss:// URL)", network)
}

// Client reads the chain through a substrate client.
type Client struct {
	rpc *substrate.Client

	mu   sync.Mutex
	apis *runtimeAPIs // of the last runtime seen; one runtime at a time
	tx   *txContext   // signing context of the current runtime
}

// runtimeAPIs is the set of runtime methods ("<API>_<method>") one runtime
// version offers, from its V15 metadata.
type runtimeAPIs struct {
	spec    uint32
	methods map[string]bool
}

// New wraps a connected substrate client.
func New(rpc *substrate.Client) (*Client, error) {
	if rpc == nil {
		return nil, errors.New("subtensor: no RPC client specified")
	}
	return &Client{rpc: rpc}, nil
}

// Block is a block number with its hash.
type Block struct {
	Number uint64
	Hash   string
}

// Head returns the best block, or the block with the given hash.
func (c *Client) Head(ctx context.Context, hash string) (Block, error) {
	if hash == "" {
		if err := c.rpc.CallIdempotent(ctx, "chain_getHead", nil, &hash); err != nil {
			return Block{}, err
		}
	}
	var hdr *struct {
		Number string `json:"number"`
	}
	if err := c.rpc.CallIdempotent(ctx, "chain_getHeader", []any{hash}, &hdr); err != nil {
		return Block{}, err
	}
	if hdr == nil {
		return Block{}, fmt.Errorf("%w: %s: the node does not know it, or no longer keeps it (a pruned node keeps only its latest blocks; an archive node keeps all)",
			ErrBlockNotFound, hash)
	}
	n, err := substrate.HexNumber(hdr.Number)
	if err != nil {
		return Block{}, fmt.Errorf("chain_getHeader %s: %w", hash, err)
	}
	return Block{Number: n, Hash: hash}, nil
}

// RuntimeVersion is what signing needs from state_getRuntimeVersion.
type RuntimeVersion struct {
	SpecName           string `json:"specName"`
	SpecVersion        uint32 `json:"specVersion"`
	TransactionVersion uint32 `json:"transactionVersion"`
}

// RuntimeVersion reads the runtime version at a block ("" for the head).
func (c *Client) RuntimeVersion(ctx context.Context, hash string) (RuntimeVersion, error) {
	var v RuntimeVersion
	var params []any
	if hash != "" {
		params = []any{hash}
	}
	err := c.rpc.CallIdempotent(ctx, "state_getRuntimeVersion", params, &v)
	return v, err
}

// StateCall invokes a runtime API at a block and returns its SCALE answer.
func (c *Client) StateCall(ctx context.Context, method string, args []byte, hash string) ([]byte, error) {
	var out string
	params := []any{method, "0x" + hex.EncodeToString(args)}
	if hash != "" {
		params = append(params, hash)
	}
	if err := c.rpc.CallIdempotent(ctx, "state_call", params, &out); err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(strings.TrimPrefix(out, "0x"))
	if err != nil {
		return nil, fmt.Errorf("state_call %s: answer is not hex: %w", method, err)
	}
	return b, nil
}

// Storage reads a raw storage value; ok is false when the key is unset.
func (c *Client) Storage(ctx context.Context, key []byte, hash string) (value []byte, ok bool, err error) {
	var out *string
	params := []any{substrate.HexKey(key), nil}
	if hash != "" {
		params[1] = hash
	}
	if err := c.rpc.CallIdempotent(ctx, "state_getStorageAt", params, &out); err != nil {
		return nil, false, err
	}
	if out == nil {
		return nil, false, nil
	}
	b, err := hex.DecodeString(strings.TrimPrefix(*out, "0x"))
	if err != nil {
		return nil, false, fmt.Errorf("state_getStorageAt: value is not hex: %w", err)
	}
	return b, true, nil
}

func netuidKey(netuid uint16) []byte { return binary.LittleEndian.AppendUint16(nil, netuid) }

// Metagraph reads the metagraph of a subnet at a block ("" for the head),
// from get_selective_mechagraph (mechanism 0, every field), or from
// get_neurons_lite when the runtime predates it.
func (c *Client) Metagraph(ctx context.Context, netuid uint16, hash string) (*Metagraph, error) {
	blk, err := c.Head(ctx, hash)
	if err != nil {
		return nil, err
	}
	has, known, err := c.HasRuntimeMethod(ctx, selectiveMechagraph, blk.Hash)
	if err != nil {
		return nil, err
	}
	if known && !has {
		return c.legacyMetagraph(ctx, netuid, blk)
	}
	b, err := c.StateCall(ctx, selectiveMechagraph, selectiveArgs(netuid), blk.Hash)
	var rpcErr *substrate.RPCError
	switch {
	case err == nil:
		m, err := DecodeSelectiveMetagraph(b)
		if err != nil {
			return nil, fmt.Errorf("metagraph of netuid %d at %s: %w", netuid, blk.Hash, err)
		}
		m.BlockHash = blk.Hash
		if m.Block == 0 {
			m.Block = blk.Number
		}
		// The selective metagraph has no validator trust; it is a storage
		// vector of mechanism 0, keyed by the netuid.
		vt, err := c.validatorTrust(ctx, netuid, blk.Hash)
		switch {
		case err == nil:
			for i := range m.Neurons {
				if i < len(vt) {
					m.Neurons[i].ValidatorTrust = Proportion(vt[i])
				}
			}
		case errors.As(err, &rpcErr):
			// A node that cannot serve the read leaves validator trust at 0.
		default:
			return nil, fmt.Errorf("validator trust of netuid %d at %s: %w", netuid, blk.Hash, err)
		}
		return m, nil
	case errors.As(err, &rpcErr):
		// The runtime lacks the call: fall back to the older API.
		return c.legacyMetagraph(ctx, netuid, blk)
	default:
		return nil, err
	}
}

const selectiveMechagraph = "SubnetInfoRuntimeApi_get_selective_mechagraph"

// HasRuntimeMethod reports whether the runtime at a block ("" for the head)
// offers a runtime API method, named as state_call names it
// ("SubnetInfoRuntimeApi_get_selective_mechagraph"), from the runtime's V15
// metadata (Metadata_metadata_at_version(15)). known is false when the
// runtime cannot tell: it serves no V15 metadata, or the metadata call fails
// with an RPC error; callers then try the method and fall back on an error.
// The method set is kept for the last runtime version seen, so that a
// validator asking every epoch fetches the metadata once per runtime upgrade.
// Connection errors and cancellation are returned as err.
func (c *Client) HasRuntimeMethod(ctx context.Context, method, hash string) (has, known bool, err error) {
	var rpcErr *substrate.RPCError
	spec, verr := c.RuntimeVersion(ctx, hash)
	switch {
	case verr == nil:
		c.mu.Lock()
		apis := c.apis
		c.mu.Unlock()
		if apis != nil && apis.spec == spec.SpecVersion {
			return apis.methods[method], true, nil
		}
	case errors.As(verr, &rpcErr):
		// No version to key a cache on; still ask for the metadata.
	default:
		return false, false, verr
	}
	b, err := c.StateCall(ctx, "Metadata_metadata_at_version", binary.LittleEndian.AppendUint32(nil, 15), hash)
	if errors.As(err, &rpcErr) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	md, err := substrate.DecodeMetadataAtVersion(b)
	if err != nil {
		// A runtime without V15 (None) or metadata this decoder cannot read:
		// unknown, not fatal.
		return false, false, nil
	}
	methods := make(map[string]bool)
	for _, a := range md.APIs {
		for _, m := range a.Methods {
			methods[a.Name+"_"+m.Name] = true
		}
	}
	if verr == nil {
		c.mu.Lock()
		c.apis = &runtimeAPIs{spec: spec.SpecVersion, methods: methods}
		c.mu.Unlock()
	}
	return methods[method], true, nil
}

// selectiveArgs encodes (netuid u16, mechanism u8 = 0, every field index).
func selectiveArgs(netuid uint16) []byte {
	e := scale.NewEncoder(8 + 2*SelectiveMetagraphFields)
	e.U16(netuid)
	e.U8(0)
	e.VecLen(SelectiveMetagraphFields)
	for i := range SelectiveMetagraphFields {
		e.U16(uint16(i))
	}
	return e.Bytes()
}

func (c *Client) legacyMetagraph(ctx context.Context, netuid uint16, blk Block) (*Metagraph, error) {
	b, err := c.StateCall(ctx, "NeuronInfoRuntimeApi_get_neurons_lite", netuidKey(netuid), blk.Hash)
	if err != nil {
		return nil, err
	}
	neurons, err := DecodeNeuronsLite(b)
	if err != nil {
		return nil, fmt.Errorf("neurons of netuid %d at %s: %w", netuid, blk.Hash, err)
	}
	m := &Metagraph{Netuid: netuid, Block: blk.Number, BlockHash: blk.Hash, Neurons: neurons, NumUIDs: uint16(len(neurons))}
	if tempo, ok, err := c.storageU16(ctx, "Tempo", netuid, blk.Hash); err == nil && ok {
		m.Tempo = tempo
	}
	return m, nil
}

// validatorTrust reads SubtensorModule.ValidatorTrust(netuid): Vec<u16>,
// indexed by uid; unset means empty.
func (c *Client) validatorTrust(ctx context.Context, netuid uint16, hash string) ([]uint16, error) {
	var v []uint16
	_, err := c.readValue(ctx, Pallet, "ValidatorTrust", hash, func(r *scale.Reader) (err error) {
		v, err = scale.DecodeVec(r, 2, func(r *scale.Reader) (uint16, error) { return r.U16() })
		return
	}, substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)})
	return v, err
}

func (c *Client) storageU16(ctx context.Context, item string, netuid uint16, hash string) (uint16, bool, error) {
	var v uint16
	ok, err := c.readValue(ctx, Pallet, item, hash, func(r *scale.Reader) (err error) { v, err = r.U16(); return },
		substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)})
	return v, ok, err
}

// Hyperparameters reads a subnet's hyperparameters through the v3 runtime
// API (named entries), falling back to v2 and then v1 on runtimes without
// it, or when v3 carries a value type this client does not know.
func (c *Client) Hyperparameters(ctx context.Context, netuid uint16, hash string) (Hyperparameters, error) {
	var rpcErr *substrate.RPCError
	for _, api := range []struct {
		method  string
		version int
	}{
		{"SubnetInfoRuntimeApi_get_subnet_hyperparams_v3", 3},
		{"SubnetInfoRuntimeApi_get_subnet_hyperparams_v2", 2},
		{"SubnetInfoRuntimeApi_get_subnet_hyperparams", 1},
	} {
		b, err := c.StateCall(ctx, api.method, netuidKey(netuid), hash)
		if errors.As(err, &rpcErr) && api.version > 1 {
			continue
		}
		if err != nil {
			return Hyperparameters{}, err
		}
		h, err := DecodeHyperparameters(b, api.version)
		if err != nil && api.version == 3 && !errors.Is(err, errNoMetagraph) {
			continue
		}
		if err != nil {
			return h, fmt.Errorf("hyperparameters of netuid %d: %w", netuid, err)
		}
		return h, nil
	}
	return Hyperparameters{}, fmt.Errorf("hyperparameters of netuid %d: no runtime API answered", netuid)
}
