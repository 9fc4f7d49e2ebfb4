package subtensor

import (
	"context"
	"encoding/binary"
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
		if _, err := c.readValue(ctx, Pallet, it.item, hash, func(r *scale.Reader) error { return it.read(r, &p) },
			substrate.MapKey{Hasher: it.hasher, Key: netuidKey(netuid)}); err != nil {
			return p, fmt.Errorf("netuid %d: %w", netuid, err)
		}
	}
	return p, nil
}

// LastUpdate reads the block at which each uid last set weights; netuid
// is the storage index (StorageIndex for a mechanism other than 0).
func (c *Client) LastUpdate(ctx context.Context, netuid uint16, hash string) ([]uint64, error) {
	var out []uint64
	_, err := c.readValue(ctx, Pallet, "LastUpdate", hash, func(r *scale.Reader) (err error) {
		out, err = scale.DecodeVec(r, 8, func(r *scale.Reader) (uint64, error) { return r.U64() })
		return
	}, substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)})
	return out, err
}

// WeightEntry is one weight a neuron has set: the target uid and its
// u16-normalised value.
type WeightEntry struct {
	UID   uint16
	Value uint16
}

// Weights reads the weights the neuron at uid has set on a subnet
// (mechanism 0), as stored: the largest value upscaled to 65535. A neuron
// that has set none reads as an empty row.
func (c *Client) Weights(ctx context.Context, netuid, uid uint16, hash string) ([]WeightEntry, error) {
	return c.sparseRow(ctx, "Weights", netuid, uid, hash)
}

// MechanismWeights is Weights on incentive mechanism mecid.
func (c *Client) MechanismWeights(ctx context.Context, netuid uint16, mecid uint8, uid uint16, hash string) ([]WeightEntry, error) {
	return c.sparseRow(ctx, "Weights", StorageIndex(netuid, mecid), uid, hash)
}

// Bonds reads the bonds the neuron at uid holds on a subnet (mechanism 0),
// as stored (u16 fractions). A neuron without bonds reads as an empty row.
func (c *Client) Bonds(ctx context.Context, netuid, uid uint16, hash string) ([]WeightEntry, error) {
	return c.sparseRow(ctx, "Bonds", netuid, uid, hash)
}

// sparseRow reads one row of a (netuid, uid) → Vec<(u16, u16)> map.
func (c *Client) sparseRow(ctx context.Context, item string, netuid, uid uint16, hash string) ([]WeightEntry, error) {
	var out []WeightEntry
	_, err := c.readValue(ctx, Pallet, item, hash, func(r *scale.Reader) (err error) {
		out, err = scale.DecodeVec(r, 4, func(r *scale.Reader) (WeightEntry, error) {
			var w WeightEntry
			var err error
			if w.UID, err = r.U16(); err != nil {
				return w, err
			}
			w.Value, err = r.U16()
			return w, err
		})
		return
	}, substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)},
		substrate.MapKey{Hasher: substrate.Identity, Key: binary.LittleEndian.AppendUint16(nil, uid)})
	return out, err
}

func (c *Client) readValue(ctx context.Context, pallet, item, hash string, read func(r *scale.Reader) error, keys ...substrate.MapKey) (bool, error) {
	key, err := substrate.StorageKey(pallet, item, keys...)
	if err != nil {
		return false, err
	}
	b, ok, err := c.Storage(ctx, key, hash)
	if err != nil {
		return false, fmt.Errorf("read %s.%s: %w", pallet, item, err)
	}
	if !ok {
		return false, nil
	}
	if err := scale.Decode(b, read); err != nil {
		return false, fmt.Errorf("decode %s.%s: %w", pallet, item, err)
	}
	return true, nil
}

// UID reads the uid of hotkey on netuid at a block ("" for the head); ok
// is false when the hotkey is not registered there.
func (c *Client) UID(ctx context.Context, netuid uint16, hotkey AccountID, hash string) (uid uint16, ok bool, err error) {
	ok, err = c.readValue(ctx, Pallet, "Uids", hash, func(r *scale.Reader) (err error) { uid, err = r.U16(); return },
		substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)},
		substrate.MapKey{Hasher: substrate.Blake2_128Concat, Key: hotkey[:]})
	return uid, ok, err
}

// Burn reads the rao burned_register currently costs on netuid.
func (c *Client) Burn(ctx context.Context, netuid uint16, hash string) (uint64, error) {
	burn := uint64(100_000_000) // the runtime's default
	_, err := c.readValue(ctx, Pallet, "Burn", hash, func(r *scale.Reader) (err error) { burn, err = r.U64(); return },
		substrate.MapKey{Hasher: substrate.Identity, Key: netuidKey(netuid)})
	return burn, err
}
