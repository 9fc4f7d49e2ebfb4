package subtensor

import (
	"context"
	"fmt"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// SubnetParams are the storage values a validator checks before setting
// weights. Items the chain has never written take the runtime's defaults.
type SubnetParams struct {
	Tempo               uint16
	WeightsSetRateLimit uint64
	CommitRevealEnabled bool
	MinAllowedWeights   uint16
	MaxWeightsLimit     uint16
	WeightsVersionKey   uint64
	RevealPeriodEpochs  uint64
}

// The runtime's defaults for unset (ValueQuery) items.
var defaultSubnetParams = SubnetParams{
	Tempo:               360,
	WeightsSetRateLimit: 100,
	CommitRevealEnabled: true,
	MinAllowedWeights:   1024,
	MaxWeightsLimit:     65535,
	WeightsVersionKey:   0,
	RevealPeriodEpochs:  1,
}

type storageItem struct {
	item   string
	hasher substrate.Hasher
	read   func(r *scale.Reader, p *SubnetParams) error
}

var subnetParamItems = []storageItem{
	{"Tempo", substrate.Identity, func(r *scale.Reader, p *SubnetParams) (err error) { p.Tempo, err = r.U16(); return }},
	{"WeightsSetRateLimit", substrate.Identity, func(r *scale.Reader, p *SubnetParams) (err error) { p.WeightsSetRateLimit, err = r.U64(); return }},
	{"CommitRevealWeightsEnabled", substrate.Identity, func(r *scale.Reader, p *SubnetParams) (err error) { p.CommitRevealEnabled, err = r.Bool(); return }},
	{"MinAllowedWeights", substrate.Identity, func(r *scale.Reader, p *SubnetParams) (err error) { p.MinAllowedWeights, err = r.U16(); return }},
	{"MaxWeightsLimit", substrate.Identity, func(r *scale.Reader, p *SubnetParams) (err error) { p.MaxWeightsLimit, err = r.U16(); return }},
	{"WeightsVersionKey", substrate.Identity, func(r *scale.Reader, p *SubnetParams) (err error) { p.WeightsVersionKey, err = r.U64(); return }},
	{"RevealPeriodEpochs", substrate.Twox64Concat, func(r *scale.Reader, p *SubnetParams) (err error) { p.RevealPeriodEpochs, err = r.U64(); return }},
}

// SubnetParams reads the weight-setting storage values of a subnet at a
// block ("" for the head).
func (c *Client) SubnetParams(ctx context.Context, netuid uint16, hash string) (SubnetParams, error) {
	p := defaultSubnetParams
	for _, it := range subnetParamItems {
		key, err := substrate.StorageKey("SubtensorModule", it.item, substrate.MapKey{Hasher: it.hasher, Key: netuidKey(netuid)})
		if err != nil {
			return p, err
		}
		b, ok, err := c.Storage(ctx, key, hash)
		if err != nil {
			return p, fmt.Errorf("read %s(%d): %w", it.item, netuid, err)
		}
		if !ok {
			continue
		}
		if err := scale.Decode(b, func(r *scale.Reader) error { return it.read(r, &p) }); err != nil {
			return p, fmt.Errorf("decode %s(%d): %w", it.item, netuid, err)
		}
	}
	return p, nil
}

// LastUpdate reads the block at which each uid last set weights.
func (c *Client) LastUpdate(ctx context.Context, netuid uint16, hash string) ([]uint64, error) {
	key, err := substrate.StorageKey("SubtensorModule", "LastUpdate", substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)})
	if err != nil {
		return nil, err
	}
	b, ok, err := c.Storage(ctx, key, hash)
	if err != nil || !ok {
		return nil, err
	}
	var out []uint64
	err = scale.Decode(b, func(r *scale.Reader) (err error) {
		out, err = scale.DecodeVec(r, 8, func(r *scale.Reader) (uint64, error) { return r.U64() })
		return
	})
	if err != nil {
		return nil, fmt.Errorf("decode LastUpdate(%d): %w", netuid, err)
	}
	return out, nil
}
