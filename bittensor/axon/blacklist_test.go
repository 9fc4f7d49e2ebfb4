package axon_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

const tao = 1_000_000_000 // rao

func neuron(kp *keys.KeyPair, uid uint16, permit bool, stake uint64) subtensor.Neuron {
	return subtensor.Neuron{UID: uid, Hotkey: subtensor.AccountID(kp.PublicKey()), ValidatorPermit: permit, Stake: stake}
}

// TestStandardBlacklists serves an axon guarded by the three standard
// blacklists over loopback and calls it from hotkeys in every situation.
func TestStandardBlacklists(t *testing.T) {
	bob, charlie, dave, eve := key(t, "//Bob"), key(t, "//Charlie"), key(t, "//Dave"), key(t, "//Eve")
	var current atomic.Pointer[subtensor.Metagraph]
	mg := func() *subtensor.Metagraph { return current.Load() }
	_, target := server(t, func(c *axon.Config) {
		c.Blacklist = axon.AnyOf(axon.NotInMetagraph(mg), axon.NoValidatorPermit(mg), axon.StakeBelow(mg, 1000*tao))
	})
	call := func(kp *keys.KeyPair) (int, string) {
		t.Helper()
		d, err := dendrite.New(kp)
		if err != nil {
			t.Fatal(err)
		}
		p := &Ping{Text: "hello"}
		if err := d.Call(context.Background(), target, p); err != nil {
			t.Fatal(err)
		}
		return *p.Dendrite.StatusCode, *p.Dendrite.StatusMessage
	}
	expect := func(kp *keys.KeyPair, who string, wantCode int, wantReason string) {
		t.Helper()
		code, msg := call(kp)
		if code != wantCode || !strings.Contains(msg, wantReason) {
			t.Errorf("%s: %d %q, want %d with %q", who, code, msg, wantCode, wantReason)
		}
	}

	// Before the first metagraph every caller is refused.
	expect(bob, "no metagraph yet", 403, "metagraph not loaded yet")

	current.Store(&subtensor.Metagraph{Neurons: []subtensor.Neuron{
		neuron(bob, 0, true, 5000*tao),
		neuron(charlie, 1, false, 5000*tao),
		neuron(dave, 2, true, 999*tao),
	}})
	expect(bob, "permit and stake", 200, "Success")
	expect(charlie, "no permit", 403, "no validator permit")
	expect(dave, "too little stake", 403, "below the minimum")
	expect(eve, "not on the subnet", 403, "not registered on the subnet")

	// A new metagraph is picked up at once: Eve registers with a permit,
	// Bob loses his.
	current.Store(&subtensor.Metagraph{Neurons: []subtensor.Neuron{
		neuron(bob, 0, false, 5000*tao),
		neuron(eve, 3, true, 1000*tao),
	}})
	expect(eve, "newly registered", 200, "Success")
	expect(bob, "permit lost", 403, "no validator permit")
}

func TestBlacklistRefusesMalformedHotkeys(t *testing.T) {
	mg := func() *subtensor.Metagraph { return &subtensor.Metagraph{} }
	// The last: //Alice's address (…KutQY) with its checksum broken.
	for _, hk := range []string{"", "not-an-address", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"} {
		blocked, reason := axon.NotInMetagraph(mg)(context.Background(), axon.Request{Hotkey: hk})
		if !blocked || !strings.Contains(reason, "not a valid SS58") {
			t.Errorf("hotkey %q: blocked=%v reason=%q", hk, blocked, reason)
		}
	}
}
