package axon

import (
	"context"
	"fmt"
	"sync"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// MetagraphFunc returns the latest metagraph, or nil before the first is
// read.
type MetagraphFunc func() *subtensor.Metagraph

// The standard blacklists refuse callers by what the metagraph says of
// their hotkey. Unlike the reference validator's, they fail closed: with
// no metagraph yet, every caller is refused.

// NotInMetagraph refuses hotkeys that hold no uid on the subnet.
func NotInMetagraph(mg MetagraphFunc) Blacklist {
	ix := &neuronIndex{source: mg}
	return func(_ context.Context, r Request) (bool, string) {
		_, reason := ix.lookup(r.Hotkey)
		return reason != "", reason
	}
}

// NoValidatorPermit refuses hotkeys without a validator permit (and those
// not on the subnet).
func NoValidatorPermit(mg MetagraphFunc) Blacklist {
	ix := &neuronIndex{source: mg}
	return func(_ context.Context, r Request) (bool, string) {
		n, reason := ix.lookup(r.Hotkey)
		if reason != "" {
			return true, reason
		}
		if !n.ValidatorPermit {
			return true, "hotkey has no validator permit"
		}
		return false, ""
	}
}

// StakeBelow refuses hotkeys whose stake (the total the epoch uses, in
// rao) is under minRao, and those not on the subnet.
func StakeBelow(mg MetagraphFunc, minRao uint64) Blacklist {
	ix := &neuronIndex{source: mg}
	return func(_ context.Context, r Request) (bool, string) {
		n, reason := ix.lookup(r.Hotkey)
		if reason != "" {
			return true, reason
		}
		if n.Stake < minRao {
			return true, fmt.Sprintf("stake %d rao is below the minimum %d rao", n.Stake, minRao)
		}
		return false, ""
	}
}

// AnyOf refuses a caller that any of the blacklists refuses, with the
// first one's reason.
func AnyOf(bls ...Blacklist) Blacklist {
	return func(ctx context.Context, r Request) (bool, string) {
		for _, bl := range bls {
			if bl == nil {
				continue
			}
			if blocked, reason := bl(ctx, r); blocked {
				return true, reason
			}
		}
		return false, ""
	}
}

// neuronIndex maps hotkeys to neurons for the metagraph last seen, rebuilt
// when the source hands out a new one.
type neuronIndex struct {
	source MetagraphFunc

	mu    sync.Mutex
	built *subtensor.Metagraph
	by    map[subtensor.AccountID]*subtensor.Neuron
}

// lookup finds hotkey's neuron, or says why it cannot.
func (ix *neuronIndex) lookup(hotkey string) (*subtensor.Neuron, string) {
	pk, err := keys.ParsePublicKey(hotkey)
	if err != nil {
		return nil, "hotkey is not a valid SS58 address"
	}
	mg := ix.source()
	if mg == nil {
		return nil, "metagraph not loaded yet"
	}
	ix.mu.Lock()
	if ix.built != mg {
		by := make(map[subtensor.AccountID]*subtensor.Neuron, len(mg.Neurons))
		for i := range mg.Neurons {
			by[mg.Neurons[i].Hotkey] = &mg.Neurons[i]
		}
		ix.built, ix.by = mg, by
	}
	n := ix.by[subtensor.AccountID(pk)]
	ix.mu.Unlock()
	if n == nil {
		return nil, "hotkey is not registered on the subnet"
	}
	return n, ""
}
