package registry

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
)

// TestClientAgainstHandler drives the routes through the miner's client:
// its signatures and bodies are what the handler accepts, and refusals come
// back as APIErrors carrying the handler's detail.
func TestClientAgainstHandler(t *testing.T) {
	n := newNode(t, "sqlite", clock.NewFake(t0))
	alice := key(t, "//Alice")
	worker := alice.SS58() + "-rig1"
	c := &Client{BaseURL: n.srv.URL + "/", Now: n.clock.Now}
	ctx := context.Background()

	n.checks.set(func(c *checks) { c.missingWorkers[worker] = true })
	err := c.Register(ctx, alice, worker)
	if !IsStatus(err, http.StatusBadRequest) || err.(*APIError).Detail != MsgWorkerNotFound+testWallet {
		t.Fatalf("unknown worker: %v", err)
	}
	n.checks.set(func(c *checks) { delete(c.missingWorkers, worker) })
	if err := c.Register(ctx, alice, worker); err != nil {
		t.Fatalf("register: %v", err)
	}
	if got := n.mappings(); got[worker] != alice.SS58() {
		t.Fatalf("/mappings after register: %v", got)
	}
	if err := c.Register(ctx, alice, worker); !IsAlreadyRegistered(err) || !IsStatus(err, http.StatusBadRequest) || err.(*APIError).Detail != MsgAlreadyRegistered {
		t.Fatalf("second register: %v", err)
	}
	if err := c.Unbind(ctx, alice, worker); err != nil {
		t.Fatalf("unbind: %v", err)
	}
	if got := n.mappings(); len(got) != 0 {
		t.Fatalf("/mappings after unbind: %v", got)
	}
	// A stamp outside the tolerance is refused by the server, not the client.
	late := &Client{BaseURL: n.srv.URL, Now: func() time.Time { return n.clock.Now().Add(-2 * time.Minute) }}
	if err := late.Register(ctx, alice, worker); !IsStatus(err, http.StatusBadRequest) || err.(*APIError).Detail != MsgTimeTooFar {
		t.Fatalf("stale stamp: %v", err)
	}
	// Nothing listening: a transport error, not an APIError.
	down := &Client{BaseURL: "http://127.0.0.1:1"}
	if err := down.Register(ctx, alice, worker); err == nil || IsStatus(err, 0) {
		t.Fatalf("no server: %v", err)
	}
}
