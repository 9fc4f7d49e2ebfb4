package miner

import (
	"net"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// Validator is a validator the miner talks to.
type Validator struct {
	UID    uint16
	Hotkey string
	Target dendrite.Target
}

// Endpoint is the blacklist's key, as the reference keys it: "ip:port".
func (v Validator) Endpoint() string {
	return net.JoinHostPort(v.Target.IP, strconv.Itoa(v.Target.Port))
}

// Selection is the reference miner's validator filter: whitelisted
// hotkeys pass without permit or stake (and may override the address),
// others need a validator permit and MinStakeRao; none with an unset or
// 0.0.0.0 address, none blacklisted.
type Selection struct {
	MinStakeRao uint64
	Whitelist   map[string]string // hotkey → "ip:port" override, or ""
}

// Select picks the validators of a metagraph, by uid.
func (s Selection) Select(mg *subtensor.Metagraph, bl *Blacklist, now time.Time) []Validator {
	var out []Validator
	for _, n := range mg.Neurons {
		hotkey, err := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
		if err != nil {
			continue
		}
		override, listed := s.Whitelist[hotkey]
		if !listed && (!n.ValidatorPermit || n.Stake < s.MinStakeRao) {
			continue
		}
		var addr netip.AddrPort
		if override != "" {
			ap, err := netip.ParseAddrPort(override)
			if err != nil {
				continue
			}
			addr = ap
		} else {
			ap, ok := n.Axon.Addr()
			if !ok {
				continue
			}
			addr = ap
		}
		if !addr.Addr().IsValid() || addr.Addr().IsUnspecified() || addr.Port() == 0 {
			continue
		}
		v := Validator{UID: n.UID, Hotkey: hotkey, Target: dendrite.Target{IP: addr.Addr().String(), Port: int(addr.Port()), Hotkey: hotkey}}
		if bl.Blocked(v.Endpoint(), now) {
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out
}

// Blacklist is the reference's passive blacklist: Threshold consecutive
// failures of an endpoint block it for TTL; any success clears it.
type Blacklist struct {
	Threshold int
	TTL       time.Duration

	mu       sync.Mutex
	failures map[string]int
	until    map[string]time.Time
}

// NewBlacklist returns the reference's: 5 failures, 600 s.
func NewBlacklist(threshold int, ttl time.Duration) *Blacklist {
	return &Blacklist{Threshold: threshold, TTL: ttl, failures: map[string]int{}, until: map[string]time.Time{}}
}

// Failure counts a failed call; it reports whether the endpoint is now
// blocked.
func (b *Blacklist) Failure(endpoint string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures[endpoint]++
	if b.failures[endpoint] >= b.Threshold {
		b.until[endpoint] = now.Add(b.TTL)
		b.failures[endpoint] = 0
		return true
	}
	return false
}

// Success clears an endpoint.
func (b *Blacklist) Success(endpoint string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.failures, endpoint)
	delete(b.until, endpoint)
}

// Blocked reports whether an endpoint is blacklisted now; expired entries
// go.
func (b *Blacklist) Blocked(endpoint string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.until[endpoint]
	if ok && !now.Before(t) {
		delete(b.until, endpoint)
		return false
	}
	return ok
}
